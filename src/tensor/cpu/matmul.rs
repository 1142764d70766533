//! Where the matrix products of `tensor::ops` run: which thread computes which part, and when
//! a product is better computed transposed. Whether a product is split depends on its shape
//! alone, so the bits do not depend on the thread count.

use super::buffers::with_buffer;
use super::gemm::{gemm, parallel_pays};
use super::threads::num_threads;
use super::transpose::transpose;
use crate::tensor::Mat;

/// Products with an operand (or a result) of at least this many values — a Dense kernel of
/// 256 × 256, its gradient — are worked on in two halves of their rows, the first half always
/// by the calling thread and the second by the pool's other thread (when it is free:
/// `rayon::join`): the kernel gradient and the input gradient as two halves of rows, the
/// forward product (in [`matmul_bias`]) as two partial sums over the kernel's halves, and the
/// optimizer's update (`cpu::update`) at its middle value. Each core then keeps using the same
/// half of the kernel, its gradient and its optimizer state, which stay in that core's cache
/// from step to step.
pub(crate) const SPLIT_MIN: usize = 1 << 16;

/// `c = a·b + beta·c`, c: (a.rows, b.cols) row-major.
#[track_caller]
pub(crate) fn matmul(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    let (m, n) = (a.rows(), b.cols());
    if beta == 0.0 && column_major(b) && a.is_row_major() && m > 1 && n > 1 {
        // c = a·b with b stored transposed (dx = dz·kernelᵀ): computed as cᵀ (n, m) = bᵀ·aᵀ,
        // then transposed. The direct product would make the GEMM pack all of b transposed,
        // which for a wide kernel (3136 -> 100 after a CNN's Flatten) costs more than the
        // product. Same sums in the same order, so the same bits.
        assert!(
            b.rows() == a.cols() && c.len() >= m * n,
            "matmul: ({m}, {}) x ({}, {n}) into {} values",
            a.cols(),
            b.rows(),
            c.len()
        );
        with_buffer(m * n, |ct| {
            in_halves(b.t(), a.t(), ct, 0.0);
            transpose(n, m, ct, c);
        });
        return;
    }
    in_halves(a, b, c, beta);
}

/// `z = x·w + bias` (bias per column; none: `z = x·w`), z: (x.rows, w.cols) row-major. A `w`
/// of at least [`SPLIT_MIN`] values is summed in two partial sums over its two halves of rows,
/// one per thread, added after: `(bias + x[:, ..k1]·w[..k1]) + x[:, k1..]·w[k1..]`.
#[track_caller]
pub(crate) fn matmul_bias(x: Mat, w: Mat, bias: Option<&[f32]>, z: &mut [f32]) {
    let (b, k, n) = (x.rows(), x.cols(), w.cols());
    assert!(w.rows() == k && z.len() >= b * n, "matmul_bias: ({b}, {k}) x ({}, {n}) into {}", w.rows(), z.len());
    let z = &mut z[..b * n];
    let beta = match bias {
        Some(bias) => {
            assert_eq!(bias.len(), n, "matmul_bias: {} bias values for {n} columns", bias.len());
            z.chunks_exact_mut(n.max(1)).for_each(|r| r.copy_from_slice(bias));
            1.0
        }
        None => 0.0,
    };
    if w.len() < SPLIT_MIN || k < 2 {
        gemm(num_threads(), x, w, z, beta);
        return;
    }
    let k1 = k / 2;
    with_buffer(b * n, |zp| {
        rayon::join(
            || gemm(1, x.col_range(0..k1), w.row_range(0..k1), z, beta),
            || gemm(1, x.col_range(k1..k), w.row_range(k1..k), zp, 0.0),
        );
        z.iter_mut().zip(zp.iter()).for_each(|(z, &p)| *z += p);
    });
}

/// Whether `m` is stored transposed: its columns contiguous.
fn column_major(m: Mat) -> bool {
    let (rs, cs) = m.strides();
    rs == 1 && cs != 1 && m.cols() > 1
}

/// The product in two halves of the rows of `c` on two threads when an operand is large (see
/// [`SPLIT_MIN`]) and two threads are what the pool has, or the GEMM would not split it
/// itself; otherwise the GEMM splits it (or not) over the pool.
fn in_halves(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    let threads = num_threads();
    let large = a.len().max(b.len()).max(m * n) >= SPLIT_MIN;
    if threads < 2 || !large || m < 2 || (threads > 2 && parallel_pays(m, k, n)) {
        gemm(threads, a, b, c, beta);
        return;
    }
    let h = m / 2;
    let (lo, hi) = c[..m * n].split_at_mut(h * n);
    rayon::join(|| gemm(1, a.row_range(0..h), b, lo, beta), || gemm(1, a.row_range(h..m), b, hi, beta));
}
