//! Row-wise operations of `tensor::ops`: column sums (a bias gradient), gathering rows by index
//! (an embedding, a batch) and adding rows back by index (an embedding's gradient).

use rayon::prelude::*;

use crate::tensor::Mat;

/// Whether every value is finite: a branch-free pass per chunk (it vectorises), on every core
/// for a large array (a whole dataset: the scan is bound by memory bandwidth).
pub(crate) fn all_finite(values: &[f32]) -> bool {
    let finite = |c: &[f32]| c.iter().fold(true, |ok, v| ok & v.is_finite());
    if values.len() >= 1 << 20 {
        values.par_chunks(1 << 16).all(finite)
    } else {
        values.chunks(4096).all(finite)
    }
}

/// `out = beta·out + Σ_rows x` (beta 0: overwrite), summed row after row from zero.
#[track_caller]
pub(crate) fn col_sums(x: Mat, out: &mut [f32], beta: f32) {
    assert_eq!(out.len(), x.cols(), "col_sums: {} outputs for {} columns", out.len(), x.cols());
    if beta == 0.0 {
        out.fill(0.0);
    } else if beta != 1.0 {
        out.iter_mut().for_each(|v| *v *= beta);
    }
    if x.is_row_major() {
        let (rows, w) = (&x.data()[..x.len()], x.cols());
        match w {
            8 => sum_rows::<8>(w, rows, out),
            24 => sum_rows::<24>(w, rows, out),
            32 => sum_rows::<32>(w, rows, out),
            _ => sum_rows::<0>(w, rows, out),
        }
    } else {
        for i in 0..x.rows() {
            out.iter_mut().enumerate().for_each(|(j, d)| *d += x.at(i, j));
        }
    }
}

// The row operations below take the row width as a constant `N` for the widths of an
// embedding's rows and a recurrent layer's gates (8, 16, 24, 32: each its own compiled loop, a
// row as an array of `N`, vectorized and in registers), `N` = 0 for any other width, given at
// run time as `w`.

/// `out += Σ rows` (row-major, `w` columns), row after row.
#[inline(always)]
fn sum_rows<const N: usize>(w: usize, rows: &[f32], out: &mut [f32]) {
    if N == 0 {
        return rows.chunks_exact(w.max(1)).for_each(|row| add::<0>(out, row));
    }
    let mut acc = [0.0; 32]; // the sums in registers, in the same order
    let acc = &mut acc[..N];
    acc.copy_from_slice(&out[..N]);
    rows.chunks_exact(N).for_each(|row| add::<N>(acc, row));
    out[..N].copy_from_slice(acc);
}

/// `table[idx[r]] += rows[r]` for row-major `rows` of `w` values.
#[inline(always)]
fn scatter_rows<const N: usize>(w: usize, rows: &[f32], idx: &[usize], table: &mut [f32]) {
    for (row, &i) in rows.chunks_exact(w.max(1)).zip(idx) {
        add::<N>(&mut table[i * w..][..w], row);
    }
}

/// [`scatter_rows`] into `table` and of the rows' squares into `squares`, in one pass.
#[inline(always)]
fn scatter_rows_and_squares<const N: usize>(
    w: usize,
    rows: &[f32],
    idx: &[usize],
    table: &mut [f32],
    squares: &mut [f32],
) {
    for (row, &i) in rows.chunks_exact(w.max(1)).zip(idx) {
        add_with_squares::<N>(&mut table[i * w..][..w], &mut squares[i * w..][..w], row);
    }
}

/// `dst += src` (equal lengths), as arrays of `N` values when `N` > 0.
#[inline(always)]
fn add<const N: usize>(dst: &mut [f32], src: &[f32]) {
    if N > 0 {
        // `src` copied first: the compiler then knows it is not `dst`, and vectorizes.
        let (d, s): (&mut [f32; N], [f32; N]) =
            (dst.try_into().expect("N values"), *<&[f32; N]>::try_from(src).expect("N values"));
        return d.iter_mut().zip(&s).for_each(|(d, &g)| *d += g);
    }
    dst.iter_mut().zip(src).for_each(|(d, &g)| *d += g);
}

/// `table += row` and `squares += row²` (equal lengths), as arrays of `N` values when `N` > 0.
#[inline(always)]
fn add_with_squares<const N: usize>(table: &mut [f32], squares: &mut [f32], row: &[f32]) {
    let step = |(d, s): (&mut f32, &mut f32), &g: &f32| {
        *d += g;
        *s += g * g;
    };
    if N > 0 {
        let (t, sq, row): (&mut [f32; N], &mut [f32; N], [f32; N]) = (
            table.try_into().expect("N values"),
            squares.try_into().expect("N values"),
            *<&[f32; N]>::try_from(row).expect("N values"), // a copy, as in `add`
        );
        return t.iter_mut().zip(sq.iter_mut()).zip(&row).for_each(|(ts, g)| step(ts, g));
    }
    table.iter_mut().zip(squares.iter_mut()).zip(row).for_each(|(ts, g)| step(ts, g));
}

/// `dst = src` (equal lengths). Rows of 8, 16, 32 or 64 values (an embedding's, a recurrent
/// layer's gates) are moved as arrays of that size, in registers: a call to `memmove` per row
/// costs more than such a copy. Others by `memmove`.
#[inline]
#[track_caller]
pub(crate) fn copy_row(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "copy_row: {} values into {}", src.len(), dst.len());
    match dst.len() {
        8 => copy_array::<8>(dst, src),
        16 => copy_array::<16>(dst, src),
        32 => copy_array::<32>(dst, src),
        64 => copy_array::<64>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

#[inline(always)]
fn copy_array<const N: usize>(dst: &mut [f32], src: &[f32]) {
    let (d, s): (&mut [f32; N], &[f32; N]) = (dst.try_into().expect("N values"), src.try_into().expect("N values"));
    *d = *s;
}

/// `out[r] = table[idx[r]]`, out: (idx.len(), table.cols) row-major.
#[track_caller]
pub(crate) fn gather_rows(table: Mat, idx: &[usize], out: &mut [f32]) {
    let w = table.cols();
    assert!(out.len() >= idx.len() * w, "gather_rows: {} rows of {w} into {} values", idx.len(), out.len());
    for (dst, &i) in out.chunks_exact_mut(w.max(1)).zip(idx) {
        assert!(i < table.rows(), "gather_rows: row {i} of a table of {} rows", table.rows());
        if table.is_row_major() {
            copy_row(dst, &table.data()[i * w..][..w]);
        } else {
            dst.iter_mut().enumerate().for_each(|(j, d)| *d = table.at(i, j));
        }
    }
}

/// `table[idx[r]] += rows[r]`, in the order of `idx` (a row gathered twice gets both).
#[track_caller]
pub(crate) fn scatter_add_rows(rows: Mat, idx: &[usize], table: &mut [f32]) {
    let w = rows.cols();
    assert_eq!(rows.rows(), idx.len(), "scatter_add_rows: {} rows for {} indices", rows.rows(), idx.len());
    if rows.is_row_major() && w > 0 {
        let rows = &rows.data()[..rows.len()];
        return match w {
            16 => scatter_rows::<16>(w, rows, idx, table),
            32 => scatter_rows::<32>(w, rows, idx, table),
            _ => scatter_rows::<0>(w, rows, idx, table),
        };
    }
    for (r, &i) in idx.iter().enumerate() {
        let dst = &mut table[i * w..][..w];
        dst.iter_mut().enumerate().for_each(|(j, d)| *d += rows.at(r, j));
    }
}

/// [`scatter_add_rows`] of row-major `rows` (n, w) into `table` and, in the same pass, of their
/// squares into `squares` (an embedding's gradient and the sum of each use's gradient squared).
#[track_caller]
pub(crate) fn scatter_add_rows_and_squares(rows: &[f32], idx: &[usize], table: &mut [f32], squares: &mut [f32]) {
    let w = if idx.is_empty() { 0 } else { rows.len() / idx.len() };
    assert_eq!(
        rows.len(),
        idx.len() * w,
        "scatter_add_rows_and_squares: {} values for {} indices",
        rows.len(),
        idx.len()
    );
    assert_eq!(
        table.len(),
        squares.len(),
        "scatter_add_rows_and_squares: a table of {} values, squares of {}",
        table.len(),
        squares.len()
    );
    match w {
        16 => scatter_rows_and_squares::<16>(w, rows, idx, table, squares),
        32 => scatter_rows_and_squares::<32>(w, rows, idx, table, squares),
        _ => scatter_rows_and_squares::<0>(w, rows, idx, table, squares),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_gathers_and_scatters_rows() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // (3, 2)
        let mut s = [10.0, 10.0];
        col_sums(Mat::new(&x, 3, 2), &mut s, 1.0);
        assert_eq!(s, [19.0, 22.0]);
        col_sums(Mat::new(&x, 3, 2).t(), &mut [0.0; 3], 0.0); // strided: no panic
        let mut t = [0.0; 3];
        col_sums(Mat::new(&x, 3, 2).t(), &mut t, 0.0);
        assert_eq!(t, [3.0, 7.0, 11.0]);
        let mut g = [0.0; 4];
        gather_rows(Mat::new(&x, 3, 2), &[2, 0], &mut g);
        assert_eq!(g, [5.0, 6.0, 1.0, 2.0]);
        let mut table = [0.0; 6];
        scatter_add_rows(Mat::new(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0], 3, 2), &[1, 0, 1], &mut table);
        assert_eq!(table, [2.0, 2.0, 4.0, 4.0, 0.0, 0.0]);
        scatter_add_rows(Mat::new(&[1.0, 2.0, 3.0, 4.0], 2, 2).t(), &[2, 2], &mut table); // strided
        assert_eq!(table, [2.0, 2.0, 4.0, 4.0, 3.0, 7.0]);
        let mut squares = [0.0; 6];
        scatter_add_rows_and_squares(&[1.0, -2.0, 3.0, 4.0], &[1, 1], &mut table, &mut squares);
        assert_eq!((table, squares), ([2.0, 2.0, 8.0, 6.0, 3.0, 7.0], [0.0, 0.0, 10.0, 20.0, 0.0, 0.0]));
    }

    #[test]
    fn the_widths_kept_in_registers_give_the_plain_loops_bits() {
        let vals = |n: usize, s: usize| (0..n).map(|i| ((i * 37 + s) % 101) as f32 / 7.0 - 7.0).collect::<Vec<_>>();
        for w in [8, 16, 24, 32, 5] {
            let (rows, idx) = (vals(40 * w, w), (0..40).map(|i| (i * 7) % 9).collect::<Vec<_>>());
            let mut sums = vals(w, 1);
            let mut want = sums.iter().map(|v| v * 0.5).collect::<Vec<_>>();
            col_sums(Mat::new(&rows, 40, w), &mut sums, 0.5);
            rows.chunks_exact(w).for_each(|r| want.iter_mut().zip(r).for_each(|(d, &g)| *d += g));
            assert_eq!(sums, want, "col_sums of {w} columns");
            let (mut table, mut squares) = (vals(9 * w, 2), vals(9 * w, 3));
            let (mut t2, mut s2) = (table.clone(), squares.clone());
            scatter_add_rows_and_squares(&rows, &idx, &mut table, &mut squares);
            for (r, &i) in rows.chunks_exact(w).zip(&idx) {
                for j in 0..w {
                    t2[i * w + j] += r[j];
                    s2[i * w + j] += r[j] * r[j];
                }
            }
            assert_eq!((&table, &squares), (&t2, &s2), "scatter_add_rows_and_squares of {w} columns");
            scatter_add_rows(Mat::new(&rows, 40, w), &idx, &mut table);
            rows.chunks_exact(w).zip(&idx).for_each(|(r, &i)| (0..w).for_each(|j| t2[i * w + j] += r[j]));
            assert_eq!(table, t2, "scatter_add_rows of {w} columns");
        }
    }
}
