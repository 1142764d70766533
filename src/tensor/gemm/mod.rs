//! kiln's GEMM: `C = beta·C + op(A)·op(B)`, f32, a Goto-style blocked product with packed
//! panels and a register-tiled micro-kernel, compiled for AVX-512 and AVX2+FMA and chosen at run
//! time. Every product in kiln goes through [`matmul`].
//!
//! Why our own: the GEMM crates allocate their packing buffers on every call, and kiln's
//! training step must not allocate; ours keeps them per thread. Results are bit-identical for
//! any thread count and SIMD level: each output element is summed in the same order (p = 0..k
//! in blocks of `KC`), by exactly one thread, always with fused multiply-adds.

use std::cell::RefCell;

use rayon::prelude::*;

use super::num_threads;

/// Whether an operand is stored transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// Depth of one packed block: the sum over k runs in chunks of this size.
const KC: usize = 256;
/// Rows of A packed per block: 48, the least common multiple of the kernels' MR (4, 6, 8, 16).
const MC: usize = 48;
/// Products smaller than this (multiply-adds) run on one thread.
const PARALLEL_MIN: usize = 1 << 21;

thread_local! {
    /// Packing buffers kept per thread, grown once: no allocation per call. Separate cells, as
    /// the caller holds its B panel while rayon may run A blocks on that same thread.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACK_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// A matrix operand: base slice and strides (row, column) in elements.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

/// `c = op(a) · op(b) + beta · c`, with `op(a)`: (m, k), `op(b)`: (k, n), `c`: (m, n), all
/// row-major. `a` is stored (m, k), or (k, m) when `ta` is [`Transpose::Yes`]; likewise `b`.
/// `beta` is 0 (overwrite) or 1 (accumulate, as gradients do).
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn matmul(m: usize, k: usize, n: usize, a: &[f32], ta: Transpose, b: &[f32], tb: Transpose, c: &mut [f32], beta: f32) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "matmul: ({m}, {k}) x ({k}, {n}) needs {} / {} / {} values, got {} / {} / {}",
        m * k,
        k * n,
        m * n,
        a.len(),
        b.len(),
        c.len()
    );
    let c = &mut c[..m * n];
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let a = match ta {
        Transpose::No => View { data: a, rs: k, cs: 1 },
        Transpose::Yes => View { data: a, rs: 1, cs: m },
    };
    let b = match tb {
        Transpose::No => View { data: b, rs: n, cs: 1 },
        Transpose::Yes => View { data: b, rs: 1, cs: k },
    };
    product(kernels::select(n), num_threads(), m, k, n, a, b, c);
}

/// C += A·B with a given kernel and thread count (the tests vary both).
#[allow(clippy::too_many_arguments)]
fn product(kernel: kernels::Kernel, threads: usize, m: usize, k: usize, n: usize, a: View, b: View, c: &mut [f32]) {
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        PACK_B.with(|bpack| {
            let bpack = &mut *bpack.borrow_mut();
            pack_b_into(b, p0, kc, n, kernel.nr, bpack);
            let run = |(blk, c_blk): (usize, &mut [f32])| {
                PACK_A.with(|apack| {
                    let rows = c_blk.len() / n;
                    block(kernel, a, blk * MC, rows, p0, kc, n, bpack, c_blk, &mut apack.borrow_mut());
                })
            };
            if threads > 1 && m * n * k >= PARALLEL_MIN && m > MC {
                // Rows of C in MC-row blocks, one thread each: no sum is ever split.
                c.par_chunks_mut(MC * n).enumerate().for_each(run);
            } else {
                c.chunks_mut(MC * n).enumerate().for_each(run);
            }
        });
    }
}

/// Packs B[p0..p0+kc, 0..n] into column panels of width nr, zero-padded: panel j holds
/// kc rows of nr contiguous values.
fn pack_b_into(b: View, p0: usize, kc: usize, n: usize, nr: usize, out: &mut Vec<f32>) {
    let panels = n.div_ceil(nr);
    out.clear();
    out.resize(panels * kc * nr, 0.0);
    for (jp, panel) in out.chunks_exact_mut(kc * nr).enumerate() {
        let j0 = jp * nr;
        let w = nr.min(n - j0);
        for (p, row) in panel.chunks_exact_mut(nr).enumerate() {
            if b.cs == 1 {
                let start = (p0 + p) * b.rs + j0;
                row[..w].copy_from_slice(&b.data[start..start + w]);
            } else {
                for (j, v) in row[..w].iter_mut().enumerate() {
                    *v = b.at(p0 + p, j0 + j);
                }
            }
        }
    }
}

/// C[i0..i0+rows, :] += A[i0.., p0..p0+kc] · Bpanel, MR rows of A at a time. Full slivers
/// are read where they lie (the kernel broadcasts one value of A at a time, so any strides do);
/// a last, partial sliver is copied into a zero-padded buffer first.
#[allow(clippy::too_many_arguments)]
fn block(kernel: kernels::Kernel, a: View, i0: usize, rows: usize, p0: usize, kc: usize, n: usize, bpack: &[f32], c: &mut [f32], apack: &mut Vec<f32>) {
    let (mr, nr) = (kernel.mr, kernel.nr);
    for s in 0..rows.div_ceil(mr) {
        let (r0, h) = (i0 + s * mr, mr.min(rows - s * mr));
        let (sliver, rsa, csa) = if h == mr {
            (&a.data[r0 * a.rs + p0 * a.cs..], a.rs, a.cs)
        } else {
            apack.clear();
            apack.resize(kc * mr, 0.0);
            for (p, col) in apack.chunks_exact_mut(mr).enumerate() {
                for (i, v) in col[..h].iter_mut().enumerate() {
                    *v = a.at(r0 + i, p0 + p);
                }
            }
            (&apack[..], 1, mr)
        };
        for (jp, panel) in bpack.chunks_exact(kc * nr).enumerate() {
            let j0 = jp * nr;
            let w = nr.min(n - j0);
            (kernel.run)(kc, sliver, rsa, csa, panel, &mut c[s * mr * n + j0..], n, h, w);
        }
    }
}

mod kernels;

#[cfg(test)]
mod tests;
