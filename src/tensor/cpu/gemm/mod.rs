//! kiln's GEMM: `C = beta·C + op(A)·op(B)`, f32, a Goto-style blocked product with packed
//! panels and a register-tiled micro-kernel, compiled for AVX-512 and AVX2+FMA and chosen at run
//! time. Every product in kiln goes through it (`tensor::ops::matmul`, the convolutions).
//!
//! Why our own: the GEMM crates allocate their packing buffers on every call, and kiln's
//! training step must not allocate; ours keeps them per thread. Results are bit-identical for
//! any thread count and SIMD level: each output element is summed in the same order (p = 0..k
//! in blocks of `KC`), by exactly one thread, always with fused multiply-adds.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::tensor::Mat;

/// Depth of one packed block: the sum over k runs in chunks of this size.
const KC: usize = 256;
/// Rows of A packed per block: 48, the least common multiple of the kernels' MR (4, 6, 8, 16).
const MC: usize = 48;
/// Products smaller than this (multiply-adds, ~80 µs of work) run on one thread: below it
/// handing work to the pool costs more than it saves.
const PARALLEL_MIN: usize = 4_000_000;

thread_local! {
    /// Packing buffers kept per thread, grown once: no allocation per call. A B buffer is taken
    /// off its thread's stack for the whole product and pushed back after: while a parallel
    /// product waits for its rows, rayon may run another product on the same thread, which
    /// then takes (once, and keeps) a buffer of its own. A's is borrowed only while one block
    /// runs.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACK_B: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Whether a product of this shape is large enough for the GEMM to split its rows over the pool.
pub(crate) fn parallel_pays(m: usize, k: usize, n: usize) -> bool {
    m * n * k >= PARALLEL_MIN
}

/// A's buffer holds one partial sliver: at most KC steps of the widest MR (16).
const PACK_A_LEN: usize = KC * 16;
/// The largest B buffer any product has needed, in floats: every thread's buffer is grown to
/// it at once, whichever thread first needed it, so that work stealing cannot make a thread
/// grow its buffer later, on a step that must not allocate.
static PACK_B_HIGH: AtomicUsize = AtomicUsize::new(0);
/// Set when [`PACK_B_HIGH`] rose and not every thread has grown to it yet.
static PACK_B_ROSE: AtomicBool = AtomicBool::new(false);

/// Grows the packing buffers of every thread of the pool to the largest size any product has
/// needed so far, if that rose since the last call. The training step calls it after each step:
/// after the first, no product on any thread grows a buffer again (rayon picks which thread runs
/// which part of a product, so each thread growing its own buffer on demand would allocate, now
/// and then, on steps long after the first). Does nothing, and allocates nothing, when nothing
/// rose.
pub fn grow_pool_buffers() {
    if !PACK_B_ROSE.swap(false, Ordering::Relaxed) {
        return;
    }
    super::pool::wake_waiting_threads();
    rayon::broadcast(|_| {
        PACK_A.with(|cell| {
            let a = &mut *cell.borrow_mut();
            a.reserve_exact(PACK_A_LEN.saturating_sub(a.len()));
        });
        PACK_B.with(|cell| {
            let stack = &mut *cell.borrow_mut();
            if stack.is_empty() {
                stack.push(Vec::new());
            }
            let b = stack.last_mut().expect("pushed above");
            let high = PACK_B_HIGH.load(Ordering::Relaxed);
            if b.len() < high {
                b.resize(high, 0.0);
            }
        });
    });
}

/// A matrix operand: base slice and strides (row, column) in elements.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    fn of(m: Mat<'a>) -> View<'a> {
        View { data: m.data(), rs: m.strides().0, cs: m.strides().1 }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

/// `c = a · b + beta · c`, with `a`: (m, k), `b`: (k, n) read through their strides and `c`:
/// (m, n) row-major, on up to `threads` threads. `beta` is 0 (overwrite) or 1 (accumulate, as
/// gradients do); other values scale `c` first.
#[track_caller]
pub(crate) fn gemm(threads: usize, a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    assert!(
        b.rows() == k && c.len() >= m * n,
        "matmul: ({m}, {k}) x ({}, {n}) needs {} output values, got {}",
        b.rows(),
        m * n,
        c.len()
    );
    gemm_views(threads, m, k, n, View::of(a), View::of(b), c, beta);
}

#[allow(clippy::too_many_arguments)]
fn gemm_views(threads: usize, m: usize, k: usize, n: usize, a: View, b: View, c: &mut [f32], beta: f32) {
    let c = &mut c[..m * n];
    // beta = 0: the first KC block writes C instead of adding to zeros (0 + x is x).
    let overwrite = beta == 0.0;
    if beta == 0.0 && k == 0 {
        c.fill(0.0);
    } else if beta != 0.0 && beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    product(kernels::select(n), threads, m, k, n, a, b, c, overwrite);
}

/// C += A·B (C = A·B when `overwrite`) with a given kernel and thread count (the tests vary
/// both).
#[allow(clippy::too_many_arguments)]
fn product(
    kernel: kernels::Kernel,
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    a: View,
    b: View,
    c: &mut [f32],
    overwrite: bool,
) {
    // All of B is packed first (only the panels that cannot be read in place), so the rows of
    // C can then be split over the threads once, each thread running every KC block of its
    // rows: one fork-join per product rather than one per KC block.
    let panels = n.div_ceil(kernel.nr);
    let need = k * panels * kernel.nr;
    if need > PACK_B_HIGH.load(Ordering::Relaxed) && PACK_B_HIGH.fetch_max(need, Ordering::Relaxed) < need {
        PACK_B_ROSE.store(true, Ordering::Relaxed);
    }
    let mut bpack = PACK_B.with(|cell| cell.borrow_mut().pop().unwrap_or_default());
    if bpack.len() < need {
        bpack.resize(need.max(PACK_B_HIGH.load(Ordering::Relaxed)), 0.0);
    }
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        pack_b_into(b, p0, kc, n, kernel.nr, &mut bpack[p0 * panels * kernel.nr..]);
    }
    // Rows of C in blocks, one thread each: no sum is ever split, so the bits do not depend
    // on the block size or the thread count.
    let parallel = threads > 1 && m * n * k >= PARALLEL_MIN && m > kernel.mr;
    let rows = if parallel { m.div_ceil(threads).next_multiple_of(kernel.mr).min(MC) } else { MC };
    let bpack_ref = &bpack[..];
    let run = |(blk, c_blk): (usize, &mut [f32])| {
        PACK_A.with(|apack| {
            let apack = &mut apack.borrow_mut();
            let block_rows = c_blk.len() / n;
            for p0 in (0..k).step_by(KC) {
                let kc = KC.min(k - p0);
                let packed = &bpack_ref[p0 * panels * kernel.nr..];
                let first = overwrite && p0 == 0;
                block(kernel, a, blk * rows, block_rows, p0, kc, b, n, packed, c_blk, first, apack);
            }
        })
    };
    if parallel {
        c.par_chunks_mut(rows * n).enumerate().for_each(run);
    } else {
        c.chunks_mut(rows * n).enumerate().for_each(run);
    }
    PACK_B.with(|cell| cell.borrow_mut().push(bpack));
}

/// Whether panel `jp` (columns jp·nr..) of B can be read in place: rows contiguous and the
/// panel full width. Otherwise it is copied, zero-padded, into the packing buffer.
fn direct_panel(b: View, jp: usize, n: usize, nr: usize) -> bool {
    b.cs == 1 && (jp + 1) * nr <= n
}

/// Packs the panels of B[p0..p0+kc, 0..n] that cannot be read in place: panel jp goes to
/// `out[jp·kc·nr..]`, kc rows of nr values.
fn pack_b_into(b: View, p0: usize, kc: usize, n: usize, nr: usize, out: &mut [f32]) {
    let panels = n.div_ceil(nr);
    for (jp, panel) in out.chunks_exact_mut(kc * nr).take(panels).enumerate() {
        if direct_panel(b, jp, n, nr) {
            continue;
        }
        let j0 = jp * nr;
        let w = nr.min(n - j0);
        if b.cs == 1 {
            // A last, narrow panel (10 classes: 10 of 16 columns): an element loop, as a
            // `memcpy` and a `memset` call per row of a few values cost more than the copy.
            for (p, row) in panel.chunks_exact_mut(nr).enumerate() {
                let src = &b.data[(p0 + p) * b.rs + j0..][..w];
                for (j, v) in row.iter_mut().enumerate() {
                    *v = if j < w { src[j] } else { 0.0 };
                }
            }
        } else {
            // B stored transposed: each column is contiguous, so read it in one pass.
            for j in 0..nr {
                if j < w {
                    let col = &b.data[(j0 + j) * b.cs + p0 * b.rs..];
                    for p in 0..kc {
                        panel[p * nr + j] = col[p * b.rs];
                    }
                } else {
                    (0..kc).for_each(|p| panel[p * nr + j] = 0.0);
                }
            }
        }
    }
}

/// C[i0..i0+rows, :] += A[i0.., p0..p0+kc] · Bpanel, MR rows of A at a time. Full slivers
/// are read where they lie (the kernel broadcasts one value of A at a time, so any strides do);
/// a last, partial sliver is copied into a zero-padded buffer first.
#[allow(clippy::too_many_arguments)]
fn block(
    kernel: kernels::Kernel,
    a: View,
    i0: usize,
    rows: usize,
    p0: usize,
    kc: usize,
    b: View,
    n: usize,
    bpack: &[f32],
    c: &mut [f32],
    overwrite: bool,
    apack: &mut Vec<f32>,
) {
    let (mr, nr) = (kernel.mr, kernel.nr);
    for s in 0..rows.div_ceil(mr) {
        let (r0, h) = (i0 + s * mr, mr.min(rows - s * mr));
        let (sliver, rsa, csa) = if h == mr {
            (&a.data[r0 * a.rs + p0 * a.cs..], a.rs, a.cs)
        } else {
            apack.clear();
            apack.reserve_exact(PACK_A_LEN); // one size for every product: grown once
            apack.resize(kc * mr, 0.0);
            for (p, col) in apack.chunks_exact_mut(mr).enumerate() {
                for (i, v) in col[..h].iter_mut().enumerate() {
                    *v = a.at(r0 + i, p0 + p);
                }
            }
            (&apack[..], 1, mr)
        };
        for (jp, packed) in bpack.chunks_exact(kc * nr).take(n.div_ceil(nr)).enumerate() {
            let j0 = jp * nr;
            let w = nr.min(n - j0);
            let (panel, ldb) =
                if direct_panel(b, jp, n, nr) { (&b.data[p0 * b.rs + j0..], b.rs) } else { (packed, nr) };
            let run = kernel.narrow.iter().rev().find(|&&(nr, _)| w <= nr).map_or(kernel.run, |&(_, run)| run);
            run(kc, sliver, rsa, csa, panel, ldb, &mut c[s * mr * n + j0..], n, h, w, overwrite);
        }
    }
}

mod kernels;

#[cfg(test)]
mod tests;
