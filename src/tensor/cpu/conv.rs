//! 2-D convolutions on the CPU, channels-last: im2col and one matrix product per chunk of
//! samples, or, for 3×3, stride-1, "same" layers with channels in multiples of 16 (the CNN's
//! second convolution), Winograd's F(2×2, 3×3) (`winograd.rs`): 2.25× fewer multiplies.
//! x: (B, H, W, C), kernel: (KH, KW, C, F), out: (B, OH, OW, F).
//!
//! Work is split over fixed chunks of [`CHUNK`] samples, never over the thread count, so the
//! kernel gradient (a sum over the batch: one partial per chunk, added in chunk order) is
//! bit-identical whatever the number of threads.

use rayon::prelude::*;

use super::gemm::gemm;
use super::im2col::{col2im, im2col};
use super::scratch::Scratch;
use super::winograd::{
    winograd_conv, winograd_kernel, winograd_kernel_flipped, winograd_kernel_grad, winograd_kernel_grad_part,
    winograd_scratch_len,
};
use crate::tensor::ops::Conv2dGrads;
use crate::tensor::{Activation, Mat, Tensor, Window2d};

/// Samples per task; also the grouping of the kernel gradient's sum over the batch.
const CHUNK: usize = 4;
/// The forward pass keeps the whole batch's im2col rows for the kernel gradient when they are
/// at most this many values (4 MiB: the CNN's first layer, 32 × 784 × 9); larger ones are
/// rebuilt per chunk in backward, which costs less than bringing them back from memory (the
/// CNN's second layer through im2col: 1.8M values).
pub(crate) const KEEP_COLS_MAX: usize = 1 << 20;

/// A convolution's buffers, sized on the first batch and reused.
#[derive(Default)]
pub(crate) struct ConvWork {
    cols: Scratch,     // per thread: (CHUNK·OH·OW, KH·KW·C), im2col and then dcols; Winograd's blocks
    kept_cols: Tensor, // (B, OH·OW, KH·KW·C): the forward's im2col rows, when small (KEEP_COLS_MAX)
    wino_u: Tensor,    // (16, C·F): the kernel in Winograd's domain, when the layer uses it
    wino_ut: Tensor,   // (16, F·C): the same for the input gradient
    dz: Tensor,        // (B, OH, OW, F)
    dparts: Tensor,    // (chunks, KH·KW·C·F + F): per-chunk kernel and bias gradients
    kernel_t: Tensor,  // (F, KH·KW·C)
}

/// What a convolution computes: where its window lands and how many filters it has.
#[derive(Clone, Copy)]
pub(crate) struct Conv<'a> {
    pub g: Window2d,
    pub filters: usize,
    pub kernel: &'a [f32],
    /// One value per filter, or empty: none.
    pub bias: &'a [f32],
    pub act: Activation,
}

/// Whether a convolution runs through Winograd's F(2×2, 3×3): a 3×3 kernel, stride 1, "same"
/// padding, and input and output channels in multiples of 16, the transforms' vector width (a
/// first layer on 1 channel keeps im2col: so thin a product would not pay for the transforms).
pub(crate) fn uses_winograd(g: &Window2d, filters: usize) -> bool {
    let shape = (g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left, g.oh, g.ow);
    shape == (3, 3, 1, 1, 1, 1, g.h, g.w) && g.c.is_multiple_of(16) && filters.is_multiple_of(16)
}

/// Whether the forward pass keeps a batch of `b` samples' im2col rows for the kernel gradient.
fn keeps_cols(cv: &Conv, b: usize) -> bool {
    !uses_winograd(&cv.g, cv.filters) && b * cv.g.positions() * cv.g.patch_len() <= KEEP_COLS_MAX
}

/// `out = act(conv(x, kernel) + bias)`, out: (B, OH, OW, F), sized here.
pub(crate) fn forward(cv: &Conv, x: &Tensor, out: &mut Tensor, work: &mut ConvWork) {
    let (b, g, f) = (x.rows(), cv.g, cv.filters);
    let (p, k, n_in) = (g.positions(), g.patch_len(), g.in_len());
    let built = [g.h, g.w, g.c];
    assert_eq!(x.row_len(), n_in, "Conv2D: input {} on a layer built for {built:?}", x.shape_str());
    out.ensure_shape(b, &[g.oh, g.ow, f]);
    let (bias, act) = (cv.bias, cv.act);
    let chunks = x.data().par_chunks(CHUNK * n_in).zip(out.data_mut().par_chunks_mut(CHUNK * p * f));
    if uses_winograd(&g, f) {
        let len = winograd_scratch_len(g.h, g.w, g.c, f);
        work.cols.ensure(len);
        work.wino_u.ensure_shape(16, &[g.c * f]);
        winograd_kernel(cv.kernel, g.c, f, work.wino_u.data_mut());
        let (u, buf) = (work.wino_u.data(), &work.cols);
        chunks.for_each(|(x, out)| {
            buf.with(len, |buf| winograd_conv(x, x.len() / n_in, g.h, g.w, g.c, f, u, buf, out));
            act.forward_in_place(out, bias, f);
        });
        return;
    }
    let w = cv.kernel;
    let conv = |x: &[f32], cols: &mut [f32], out: &mut [f32]| {
        for (x, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(p * k)) {
            im2col(&g, x, cols);
        }
        // out (rows, F) = activation(cols (rows, K) · kernel (K, F) + bias), the bias and
        // activation applied in place while the chunk is still in cache.
        gemm(1, Mat::new(cols, out.len() / f, k), Mat::new(w, k, f), out, 0.0);
        act.forward_in_place(out, bias, f);
    };
    if keeps_cols(cv, b) {
        work.kept_cols.ensure_shape(b, &[p, k]);
        let kept = work.kept_cols.data_mut().par_chunks_mut(CHUNK * p * k);
        chunks.zip(kept).for_each(|((x, out), cols)| conv(x, cols, out));
    } else {
        work.cols.ensure(CHUNK * p * k);
        let cols = &work.cols;
        chunks.for_each(|(x, out)| cols.with(x.len() / n_in * p * k, |cols| conv(x, cols, out)));
    }
}

/// Accumulates the kernel and bias gradients and, when asked, computes the input gradient: one
/// pass per chunk of samples, while its dz is in cache, through a buffer of the running thread's.
pub(crate) fn backward(cv: &Conv, x: &Tensor, grads: Conv2dGrads, work: &mut ConvWork) {
    let (b, g, f) = (x.rows(), cv.g, cv.filters);
    let winograd = uses_winograd(&g, f);
    // Each chunk's part of the kernel gradient: (K, F), or (16, C, F) in Winograd's domain.
    let dk_len = if winograd { 16 * g.c * f } else { g.patch_len() * f };
    work.dz.ensure_shape(b, &[g.oh, g.ow, f]);
    work.dparts.ensure_shape(b.div_ceil(CHUNK), &[dk_len + f]);
    let mut dinput = grads.dinput;
    if let Some(dx) = dinput.as_deref_mut() {
        dx.ensure_shape(b, &[g.h, g.w, g.c]);
        prepare_input_gradient(cv, winograd, work);
    }
    let len = if winograd {
        winograd_scratch_len(g.h, g.w, f, g.c).max(winograd_scratch_len(g.h, g.w, g.c, f))
    } else {
        CHUNK * g.positions() * g.patch_len()
    };
    work.cols.ensure(len);
    let kept = if keeps_cols(cv, b) { work.kept_cols.data() } else { &[][..] };
    let (work_cols, ut, kt, act_done) = (&work.cols, work.wino_ut.data(), work.kernel_t.data(), grads.activation_done);
    let shared = Shared { cv, winograd, dk_len, len, kept, work_cols, ut, kt, act_done };
    let (pf, n_in, part) = (CHUNK * g.positions() * f, CHUNK * g.in_len(), dk_len + f);
    let dz = work.dz.data_mut().par_chunks_mut(pf);
    let chunks = dz.zip(grads.out.data().par_chunks(pf)).zip(grads.dout.data().par_chunks(pf));
    let chunks = chunks.zip(x.data().par_chunks(n_in)).zip(work.dparts.data_mut().par_chunks_mut(part));
    match dinput {
        Some(dx) => chunks
            .zip(dx.data_mut().par_chunks_mut(n_in))
            .enumerate()
            .for_each(|(i, (((((dz, out), dout), x), dp), dx))| shared.chunk(i, dz, out, dout, x, dp, Some(dx))),
        None => {
            chunks.enumerate().for_each(|(i, ((((dz, out), dout), x), dp))| shared.chunk(i, dz, out, dout, x, dp, None))
        }
    }
    sum_parts(cv, winograd, dk_len, work.dparts.data_mut(), grads.dkernel, grads.dbias);
}

/// The kernel as the input gradient reads it: Winograd's flipped transform (the forward pass
/// left the transformed kernel in `wino_u`), or kernelᵀ (F, K), contiguous, so the GEMM copies
/// its rows rather than gathering.
fn prepare_input_gradient(cv: &Conv, winograd: bool, work: &mut ConvWork) {
    let (c, f, k) = (cv.g.c, cv.filters, cv.g.patch_len());
    if winograd {
        work.wino_ut.ensure_shape(16, &[f * c]);
        winograd_kernel_flipped(work.wino_u.data(), c, f, work.wino_ut.data_mut());
    } else {
        work.kernel_t.ensure_shape(f, &[k]);
        let wt = work.kernel_t.data_mut();
        for (kk, row) in cv.kernel.chunks_exact(f).enumerate() {
            row.iter().enumerate().for_each(|(ff, &v)| wt[ff * k + kk] = v);
        }
    }
}

/// What every chunk's backward reads.
#[derive(Clone, Copy)]
struct Shared<'a> {
    cv: &'a Conv<'a>,
    winograd: bool,
    dk_len: usize,
    /// Floats of a thread's buffer a chunk needs at most.
    len: usize,
    /// The forward pass's im2col rows, when it kept them.
    kept: &'a [f32],
    work_cols: &'a Scratch,
    ut: &'a [f32],
    kt: &'a [f32],
    act_done: bool,
}

impl Shared<'_> {
    /// Chunk `i`: dz, its im2col rows (kept or rebuilt), its part of the kernel and bias
    /// gradients, and when asked its input gradient, with dcols written over cols. Winograd
    /// layers go through their own transforms in the same buffer instead.
    #[allow(clippy::too_many_arguments)]
    fn chunk(
        &self,
        i: usize,
        dz: &mut [f32],
        out: &[f32],
        dout: &[f32],
        x: &[f32],
        dp: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let (g, f) = (self.cv.g, self.cv.filters);
        let (p, k, n_in) = (g.positions(), g.patch_len(), g.in_len());
        let dz: &[f32] = if self.act_done {
            dout // the layer above or the loss already did the activation's backward
        } else {
            self.cv.act.backward(out, dout, dz, f);
            dz
        };
        let rows = dz.len() / f;
        let samples = rows / p;
        self.work_cols.with(if self.winograd { self.len } else { rows * k }, |cols| {
            let (dk, db) = dp.split_at_mut(self.dk_len);
            if self.winograd {
                winograd_kernel_grad_part(x, dz, samples, g.h, g.w, g.c, f, cols, dk);
            } else {
                let cols: &[f32] = if self.kept.is_empty() {
                    for (x, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(p * k)) {
                        im2col(&g, x, cols);
                    }
                    cols
                } else {
                    &self.kept[i * CHUNK * p * k..][..rows * k]
                };
                // dkernel part (K, F) = cols^T (K, rows) · dz (rows, F), both read where they lie.
                gemm(1, Mat::new(cols, rows, k).t(), Mat::new(dz, rows, f), dk, 0.0);
            }
            // dbias part = column sums of dz.
            super::rows::col_sums(Mat::new(dz, rows, f), db, 0.0);
            let Some(dx) = dx else { return };
            if self.winograd {
                // The "same" convolution of dz with the rotated, channel-swapped kernel.
                winograd_conv(dz, samples, g.h, g.w, f, g.c, self.ut, cols, dx);
            } else {
                // dcols (rows, K) = dz (rows, F) · kernel^T (F, K)
                let dcols = &mut cols[..rows * k];
                gemm(1, Mat::new(dz, rows, f), Mat::new(self.kt, f, k), dcols, 0.0);
                for (dcols, dx) in dcols.chunks_exact(p * k).zip(dx.chunks_exact_mut(n_in)) {
                    col2im(&g, dcols, dx);
                }
            }
        });
    }
}

/// The batch sum: chunk partials added in chunk order, whatever thread computed them, into the
/// first chunk's; then into the gradients (from Winograd's domain when the layer uses it).
fn sum_parts(
    cv: &Conv,
    winograd: bool,
    dk_len: usize,
    parts: &mut [f32],
    dk: (&mut [f32], f32),
    db: (&mut [f32], f32),
) {
    let (sum, rest) = parts.split_at_mut(dk_len + cv.filters);
    for dp in rest.chunks_exact(dk_len + cv.filters) {
        sum.iter_mut().zip(dp).for_each(|(s, &v)| *s += v);
    }
    let ((dk, beta_k), (db, beta_b)) = (dk, db);
    if winograd {
        winograd_kernel_grad(&sum[..dk_len], cv.g.c, cv.filters, dk, beta_k);
    } else {
        add_into(dk, &sum[..dk_len], beta_k);
    }
    if !db.is_empty() {
        add_into(db, &sum[dk_len..], beta_b);
    }
}

/// `dst = src` (beta 0) or `dst += src`.
fn add_into(dst: &mut [f32], src: &[f32], beta: f32) {
    if beta == 0.0 {
        dst.copy_from_slice(src);
    } else {
        dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v);
    }
}
