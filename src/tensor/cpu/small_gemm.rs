//! Products with a small operand: `c = a·b + beta·c` computed inline on the calling thread,
//! with no packing of `a`, no thread dispatch and no allocation. A recurrent layer's time step
//! (`h·R`, R (8, 32) for LSTM(8)) runs 200 of them one after another per training step, so
//! their latency is what counts, which the general GEMM's packing and pool hand-off multiply;
//! its weight gradients (`xsᵀ·dzs`, a (16, 32) result summed over 6,400 rows) have a result
//! that stays in registers while the long sum streams past.
//!
//! A `b` not stored row-major (a transposed one, as in `dz·Rᵀ`) is first copied into a
//! row-major block of this thread's scratch buffer. Each tile of 4 rows × 32 (16, 8, 1)
//! columns of `c` is then kept in registers while the `k` rank-one updates run, each a fused
//! multiply-add: every value is `beta·c + a[i,0]·b[0,j] + a[i,1]·b[1,j] + ...` in that
//! order, whatever the threads, so the bits depend on the values alone.

use super::buffers::with_buffer;
use super::threads::num_threads;
use crate::tensor::Mat;

/// The size (values) up to which a `b` or a result counts as small: 16 KiB, what stays in the
/// L1 cache.
pub(crate) const SMALL_B_MAX: usize = 1 << 12;

/// `c = a·b + beta·c`, c: (a.rows, b.cols) row-major. Right for every shape, fast when `b` or
/// `c` is small (at most [`SMALL_B_MAX`] values).
#[track_caller]
pub(crate) fn small_matmul(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    assert!(
        b.rows() == k && c.len() >= m * n,
        "small_matmul: ({m}, {k}) x ({}, {n}) into {} values",
        b.rows(),
        c.len()
    );
    let c = &mut c[..m * n];
    if k == 0 {
        c.iter_mut().for_each(|v| *v = if beta == 0.0 { 0.0 } else { beta * *v });
        return;
    }
    if b.is_row_major() {
        return in_halves(a, &b.data()[..k * n], n, c, beta);
    }
    with_buffer(k * n, |buf| {
        for (p, row) in buf.chunks_exact_mut(n).enumerate() {
            row.iter_mut().enumerate().for_each(|(j, v)| *v = b.at(p, j));
        }
        in_halves(a, buf, n, c, beta)
    });
}

/// Products of at least this many multiply-adds (a layer's input projection of all its time
/// steps, its weight gradients) are worked on in two halves of the rows of `c`, the second by
/// the pool's other thread when it is free (`rayon::join`); a time step's product (16,384)
/// stays on the calling thread. Each value's sum is the same either way, so the bits are too.
const HALVES_MIN: usize = 1 << 20;

/// [`by_tiles`], in two halves of rows on two threads when the product is large.
fn in_halves(a: Mat, bp: &[f32], n: usize, c: &mut [f32], beta: f32) {
    let m = a.rows();
    if m < 8 || m * a.cols() * n < HALVES_MIN || num_threads() < 2 {
        return by_tiles(a, bp, n, c, beta);
    }
    let h = m / 2 / 4 * 4; // whole 4-row tiles in the first half
    let (lo, hi) = c.split_at_mut(h * n);
    rayon::join(|| by_tiles(a.row_range(0..h), bp, n, lo, beta), || by_tiles(a.row_range(h..m), bp, n, hi, beta));
}

/// `c = a·b + beta·c` with `b` a row-major (k, n) block, tile by tile.
fn by_tiles(a: Mat, bp: &[f32], n: usize, c: &mut [f32], beta: f32) {
    let mut j = 0;
    while j + 32 <= n {
        columns::<32>(a, bp, n, c, j, beta);
        j += 32;
    }
    while j + 16 <= n {
        columns::<16>(a, bp, n, c, j, beta);
        j += 16;
    }
    while j + 8 <= n {
        columns::<8>(a, bp, n, c, j, beta);
        j += 8;
    }
    while j < n {
        columns::<1>(a, bp, n, c, j, beta);
        j += 1;
    }
}

/// Columns `j..j + W` of `c`, four rows at a time.
#[inline(always)]
fn columns<const W: usize>(a: Mat, b: &[f32], n: usize, c: &mut [f32], j: usize, beta: f32) {
    let m = a.rows();
    let mut i = 0;
    while i + 4 <= m {
        tile::<4, W>(a, b, n, c, i, j, beta);
        i += 4;
    }
    while i < m {
        tile::<1, W>(a, b, n, c, i, j, beta);
        i += 1;
    }
}

/// The R × W tile of `c` at (i, j), accumulated in registers over the k rows of `b`.
#[inline(always)]
fn tile<const R: usize, const W: usize>(a: Mat, b: &[f32], n: usize, c: &mut [f32], i: usize, j: usize, beta: f32) {
    let mut acc = [[0.0f32; W]; R];
    if beta != 0.0 {
        for (r, acc) in acc.iter_mut().enumerate() {
            let row: &[f32; W] = c[(i + r) * n + j..][..W].try_into().expect("W values");
            acc.iter_mut().zip(row).for_each(|(v, &x)| *v = beta * x);
        }
    }
    match a.row(i) {
        // Rows of `a` contiguous (a time step's dz, h): read from slices, not through the strides.
        Some(_) => {
            let rows: [&[f32]; R] = std::array::from_fn(|r| a.row(i + r).expect("contiguous rows"));
            rank_one_updates(&mut acc, a.cols(), b, n, j, |r, p| rows[r][p]);
        }
        None => rank_one_updates(&mut acc, a.cols(), b, n, j, |r, p| a.at(i + r, p)),
    }
    for (r, acc) in acc.iter().enumerate() {
        c[(i + r) * n + j..][..W].copy_from_slice(acc);
    }
}

/// `acc[r] += a(r, p)·b[p, j..j + W]` for p in 0..k, in that order, `a(r, p)` the tile's
/// row r of `a`.
#[inline(always)]
fn rank_one_updates<const R: usize, const W: usize>(
    acc: &mut [[f32; W]; R],
    k: usize,
    b: &[f32],
    n: usize,
    j: usize,
    a: impl Fn(usize, usize) -> f32,
) {
    for p in 0..k {
        let bp: &[f32; W] = b[p * n + j..][..W].try_into().expect("W values");
        for (r, acc) in acc.iter_mut().enumerate() {
            let x = a(r, p);
            acc.iter_mut().zip(bp).for_each(|(v, &y)| *v = x.mul_add(y, *v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same sums in the same order, written plainly.
    fn reference(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
        for i in 0..a.rows() {
            for j in 0..b.cols() {
                let mut v = if beta == 0.0 { 0.0 } else { beta * c[i * b.cols() + j] };
                for p in 0..a.cols() {
                    v = a.at(i, p).mul_add(b.at(p, j), v);
                }
                c[i * b.cols() + j] = v;
            }
        }
    }

    #[test]
    fn every_shape_and_layout_matches_the_plain_sums_bit_for_bit() {
        let vals = |n: usize, s: usize| (0..n).map(|i| ((i * 37 + s) % 101) as f32 / 50.0 - 1.0).collect::<Vec<_>>();
        for (m, k, n) in [(64, 8, 32), (64, 32, 8), (5, 3, 25), (1, 1, 1), (7, 8, 24), (9, 0, 3)] {
            let (a, bv, bt) = (vals(m * k, 1), vals(k * n, 2), vals(k * n, 3));
            for (b, beta) in [(Mat::new(&bv, k, n), 0.0), (Mat::new(&bt, n, k).t(), 1.0)] {
                let mut got = vals(m * n, 4);
                let mut want = got.clone();
                small_matmul(Mat::new(&a, m, k), b, &mut got, beta);
                reference(Mat::new(&a, m, k), b, &mut want, beta);
                assert_eq!(got, want, "({m}, {k}) x ({k}, {n}), beta {beta}");
            }
        }
        // A column block of a wider b (GRU's U_h) and a strided a (rows 6 apart).
        let (a, b) = (vals(4 * 6, 5), vals(8 * 24, 6));
        let (am, bm) = (Mat::strided(&a, 4, 5, (6, 1)), Mat::new(&b, 8, 24).col_range(16..24).row_range(0..5));
        let (mut got, mut want) = (vec![0.5; 32], vec![0.5; 32]);
        small_matmul(am, bm, &mut got, 1.0);
        reference(am, bm, &mut want, 1.0);
        assert_eq!(got, want);
        // Large enough to be split in two halves of rows (on a pool of two threads).
        let (a, b) = (vals(1000 * 40, 7), vals(40 * 32, 8));
        let (mut got, mut want) = (vals(1000 * 32, 9), vals(1000 * 32, 9));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| small_matmul(Mat::new(&a, 1000, 40), Mat::new(&b, 40, 32), &mut got, 1.0));
        reference(Mat::new(&a, 1000, 40), Mat::new(&b, 40, 32), &mut want, 1.0);
        assert_eq!(got, want);
    }

    #[test]
    #[should_panic(expected = "small_matmul: (2, 3) x (4, 5) into 10 values")]
    fn mismatched_shapes_name_both() {
        small_matmul(Mat::new(&[0.0; 6], 2, 3), Mat::new(&[0.0; 20], 4, 5), &mut [0.0; 10], 0.0);
    }
}
