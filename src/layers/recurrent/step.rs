//! The time loops of a recurrent layer ([`RnnCore::forward_steps`],
//! [`RnnCore::backward_steps`]), run on two halves of the batch's rows at once (see `halves`),
//! one time step's view of the buffers a cell's loop body reads and writes ([`Step`],
//! [`BackStep`]) and the products the layers run ([`product`]).

use std::ops::Range;

use super::super::embedded_input::step_rows;
use super::super::halves::{in_halves, rows_of, Seq};
use super::RnnCore;
use crate::tensor::{ops, Mat, Tensor};

impl RnnCore {
    /// The forward loop: for every step in order, `body(s, step, extra)` with this half's rows
    /// of step `s` ([`Step`]) and of `extra`, the layer's own buffers, each (steps, B, width).
    /// A folded Embedding's rows of `x·kernel` are gathered into the step's `z` just before.
    pub fn forward_steps<const N: usize>(
        &mut self,
        extra: [(&mut [f32], usize); N],
        body: impl Fn(usize, Step, &mut [Seq; N]) + Sync,
    ) {
        let ((t, b, _), u) = (self.dims, self.units);
        let w = self.recurrent_kernel.value.row_len();
        let rk = self.recurrent_kernel.value.data();
        let bias = if self.use_bias { self.bias.value.data() } else { &self.zero_bias };
        let mask = self.rec_masked.then_some(self.rec_mask.data());
        let folded = self.embedded.source();
        let own = [
            Seq::new(self.zs.data_mut(), b, w),
            Seq::new(self.hs.data_mut(), b, u),
            Seq::new(self.hd.data_mut(), b, u),
        ];
        in_halves(
            b,
            (own, extra.map(|(data, width)| Seq::new(data, b, width))),
            |([mut zs, mut hs, mut hd], mut extra)| {
                let (n, lo) = (zs.rows(), zs.first_row());
                for s in 0..t {
                    let (h_prev, h) = hs.pair(s);
                    let h_in = match mask {
                        Some(mask) => {
                            let hd = hd.step(s);
                            let mask = &mask[lo * u..(lo + n) * u];
                            hd.iter_mut().zip(&*h_prev).zip(mask).for_each(|((d, &v), &m)| *d = v * m);
                            &*hd
                        }
                        None => h_prev,
                    };
                    let z = zs.step(s);
                    if let Some(source) = folded {
                        step_rows(source, (s, b, lo), z); // x·kernel of this step's ids, while hot
                    }
                    body(s, Step { b: n, u, z, h_in, h_prev, h, rk, bias }, &mut extra);
                }
            },
        );
    }

    /// The backward loop: for every step from the last, dL/d(output) of the step added to the
    /// carried dL/dh, then `body(s, step, extra)` ([`BackStep`]), which writes the step's
    /// dL/d(pre-activations) and carries dL/dh to the step before ([`BackStep::carry`]).
    pub fn backward_steps<const N: usize>(
        &mut self,
        dout: &Tensor,
        extra: [(&mut [f32], usize); N],
        body: impl Fn(usize, BackStep, &mut [Seq; N]) + Sync,
    ) {
        let ((t, b, f), u) = (self.dims, self.units);
        let w = self.recurrent_kernel.value.row_len();
        let (gates, rk_t, dout, seqs) = (self.zs.data(), self.rk_t.data(), dout.data(), self.return_sequences);
        let hs = self.hs.data();
        let hin = if self.rec_masked { self.hd.data() } else { hs };
        let mask = self.rec_masked.then_some(self.rec_mask.data());
        let input = self.need_dinput.then(|| InputGrad {
            k_t: self.k_t.data(),
            w,
            f,
            mask: self.masked.then_some(self.in_mask.data()),
            backwards: self.go_backwards,
        });
        let own = [
            Seq::new(self.dzs.data_mut(), b, w),
            Seq::new(self.dh.data_mut(), b, u),
            Seq::new(self.dhr.data_mut(), b, u),
            Seq::new(self.dxs.data_mut(), b, f),
            Seq::new(self.dinput.data_mut(), b, t * f),
        ];
        in_halves(
            b,
            (own, extra.map(|(data, width)| Seq::new(data, b, width))),
            |([mut dzs, mut dh, mut dhr, mut dxs, mut dinput], mut extra)| {
                let rows = dzs.first_row()..dzs.first_row() + dzs.rows();
                let (dh, dhr) = (dh.step(0), dhr.step(0));
                for s in (0..t).rev() {
                    add_dout(dh, dout, (s, t, u), rows.clone(), seqs);
                    let st = BackStep {
                        b: rows.len(),
                        rows: rows.clone(),
                        u,
                        gates: rows_of(gates, b, w, s, rows.clone()),
                        dz: dzs.step(s),
                        h_in: rows_of(hin, b, u, s, rows.clone()),
                        h_prev: rows_of(hs, b, u, s, rows.clone()),
                        dh: &mut *dh,
                        dhr: &mut *dhr,
                        rk_t,
                        mask: mask.map(|m| &m[rows.start * u..rows.end * u]),
                    };
                    body(s, st, &mut extra);
                    if let Some(input) = &input {
                        input.step(dzs.step(s), dxs.step(0), dinput.step(0), (s, t, rows.start));
                    }
                }
            },
        );
    }
}

/// The input gradient, computed in the backward loop a step at a time while the step's dL/dz
/// is in cache: `dx = dz·kernelᵀ`, through the input dropout mask, into the (B, T, F) gradient.
struct InputGrad<'a> {
    /// (W, F): the kernel transposed, W = gates·U.
    k_t: &'a [f32],
    w: usize,
    f: usize,
    /// (B, F): the input dropout mask, when there is one.
    mask: Option<&'a [f32]>,
    backwards: bool,
}

impl InputGrad<'_> {
    /// Step `s` of `t` for rows `lo..lo + n`: `dz` (n, W) times kernelᵀ into `dx` (n, F), then
    /// into step `s`'s place (the sample's step `t - 1 - s` with `go_backwards`) of their
    /// samples in `dinput` (n, T·F).
    fn step(&self, dz: &[f32], dx: &mut [f32], dinput: &mut [f32], (s, t, lo): (usize, usize, usize)) {
        let (w, f) = (self.w, self.f);
        let n = dz.len() / w;
        product(Mat::new(dz, n, w), Mat::new(self.k_t, w, f), dx, 0.0);
        let tt = if self.backwards { t - 1 - s } else { s };
        for (r, (row, sample)) in dx.chunks_exact(f).zip(dinput.chunks_exact_mut(t * f)).enumerate() {
            let dst = &mut sample[tt * f..][..f];
            match self.mask {
                Some(mask) => {
                    let m = &mask[(lo + r) * f..][..f];
                    dst.iter_mut().zip(row).zip(m).for_each(|((d, &v), &m)| *d = v * m);
                }
                None => ops::copy_row(dst, row),
            }
        }
    }
}

/// Adds dL/d(output) of step `s` of `t` to the carried dL/dh of rows `rows`: every step's with
/// `return_sequences` (dout (B, T, U)), the last step's without (dout (B, U)).
fn add_dout(dh: &mut [f32], dout: &[f32], (s, t, u): (usize, usize, usize), rows: Range<usize>, seqs: bool) {
    if seqs {
        for (r, row) in rows.zip(dh.chunks_exact_mut(u)) {
            row.iter_mut().zip(&dout[(r * t + s) * u..]).for_each(|(d, &v)| *d += v);
        }
    } else if s == t - 1 {
        dh.iter_mut().zip(&dout[rows.start * u..rows.end * u]).for_each(|(d, &v)| *d += v);
    }
}

/// The recurrent layers' products, `c = a·b + beta·c`: inline on this thread when `b` (a
/// recurrent kernel, the kernel) or the result (a weight gradient) is small
/// (`ops::small_matmul`), else the GEMM. Which one depends on the shape alone, so the bits
/// never depend on the threads.
#[track_caller]
pub(crate) fn product(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    if b.len() <= ops::SMALL_MAX || a.rows() * b.cols() <= ops::SMALL_MAX {
        ops::small_matmul(a, b, c, beta)
    } else {
        ops::matmul(a, b, c, beta)
    }
}

/// One step's slices of some rows (`b` of them); `bias` is zeros without `use_bias`.
pub(crate) struct Step<'a> {
    pub b: usize,
    pub u: usize,
    /// (b, gates·U): `x·kernel` of this step on entry; the cell leaves its gates here.
    pub z: &'a mut [f32],
    /// (b, U): the state before, as the recurrent product reads it.
    pub h_in: &'a [f32],
    /// (b, U): the state before.
    pub h_prev: &'a [f32],
    /// (b, U): the state after.
    pub h: &'a mut [f32],
    /// (U, gates·U).
    pub rk: &'a [f32],
    pub bias: &'a [f32],
}

/// One step's slices of some rows (`b` of them) for backward.
pub(crate) struct BackStep<'a> {
    pub b: usize,
    /// Which rows of the batch these are.
    pub rows: Range<usize>,
    pub u: usize,
    /// (b, gates·U): the gates forward left.
    pub gates: &'a [f32],
    /// (b, gates·U): dL/d(pre-activations), to write.
    pub dz: &'a mut [f32],
    /// (b, U): the state before, as the recurrent product read it.
    pub h_in: &'a [f32],
    /// (b, U): the state before.
    pub h_prev: &'a [f32],
    /// (b, U): the carried dL/dh.
    pub dh: &'a mut [f32],
    /// (b, U): scratch for the recurrent product's part of dL/dh before the mask.
    dhr: &'a mut [f32],
    /// (gates·U, U): the recurrent kernel transposed, row-major.
    pub rk_t: &'a [f32],
    /// (b, U): the recurrent dropout mask, when there is one.
    mask: Option<&'a [f32]>,
}

impl BackStep<'_> {
    /// Sets the carried dL/dh to that of the state before this step: `dz_rec · recurrent_kernelᵀ`
    /// (times the recurrent dropout mask), `dz_rec` being `rec` or, if `None`, `dz`; `beta` 1
    /// adds it to what the cell left in `dh` (its direct path), 0 overwrites.
    pub fn carry(&mut self, rec: Option<&[f32]>, beta: f32) {
        let (b, u, w) = (self.b, self.u, self.rk_t.len() / self.u.max(1));
        let dz = Mat::new(rec.unwrap_or(&*self.dz), b, w);
        let rk_t = Mat::new(self.rk_t, w, u);
        let Some(mask) = self.mask else {
            return product(dz, rk_t, self.dh, beta);
        };
        if beta == 0.0 {
            self.dh.fill(0.0);
        }
        product(dz, rk_t, self.dhr, 0.0);
        self.dh.iter_mut().zip(&*self.dhr).zip(mask).for_each(|((d, &p), &m)| *d += p * m);
    }

    /// Adds `part` = dL/d(the state as the recurrent products read it) to the carried dL/dh,
    /// through the recurrent dropout mask.
    pub fn carry_add(&mut self, part: &[f32]) {
        match self.mask {
            Some(mask) => self.dh.iter_mut().zip(part).zip(mask).for_each(|((d, &p), &m)| *d += p * m),
            None => self.dh.iter_mut().zip(part).for_each(|(d, &p)| *d += p),
        }
    }
}
