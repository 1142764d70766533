//! [`Mat`]: how an operand of a matrix product lies in memory — its shape and its strides — so
//! a product takes three descriptors and a `beta` instead of nine loose arguments.

use std::ops::Range;

use super::Tensor;

/// A read-only (rows, cols) matrix over a slice: element (i, j) is `data[i·rs + j·cs]`.
/// Row-major is `(cols, 1)`; [`Mat::t`] swaps the strides, so a transposed operand is read where
/// it lies; a range of rows or columns ([`Mat::row_range`], [`Mat::col_range`]) is a sub-view.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major (rows, cols) matrix over the first `rows·cols` values of `data`.
    #[track_caller]
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Mat<'a> {
        Mat::strided(data, rows, cols, (cols, 1))
    }

    /// A (rows, cols) matrix with element (i, j) at `data[i·strides.0 + j·strides.1]`: a
    /// column block of a wider matrix, one time step of a (B, T, F) sequence.
    #[track_caller]
    pub fn strided(data: &'a [f32], rows: usize, cols: usize, strides: (usize, usize)) -> Mat<'a> {
        let m = Mat { data, rows, cols, rs: strides.0, cs: strides.1 };
        assert!(
            data.len() >= m.extent(),
            "Mat: ({rows}, {cols}) with strides {strides:?} reaches {} values, the slice holds {}",
            m.extent(),
            data.len()
        );
        m
    }

    /// A 2-D view of a tensor: its rows by its [`Tensor::row_len`].
    pub fn of(t: &'a Tensor) -> Mat<'a> {
        Mat::new(t.data(), t.rows(), t.row_len())
    }

    /// The transpose, read in place.
    pub fn t(self) -> Mat<'a> {
        Mat { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }

    /// Rows `r` of this matrix.
    #[track_caller]
    pub fn row_range(self, r: Range<usize>) -> Mat<'a> {
        assert!(r.start <= r.end && r.end <= self.rows, "Mat: rows {r:?} of a matrix of {} rows", self.rows);
        let rows = r.end - r.start;
        let data = if rows == 0 { &[][..] } else { &self.data[r.start * self.rs..] };
        Mat { data, rows, ..self }
    }

    /// Columns `c` of this matrix.
    #[track_caller]
    pub fn col_range(self, c: Range<usize>) -> Mat<'a> {
        self.t().row_range(c).t()
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// rows × cols.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the matrix has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The (row, column) strides, in values.
    pub fn strides(&self) -> (usize, usize) {
        (self.rs, self.cs)
    }

    /// The slice the matrix starts at (element (0, 0) first).
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// Whether the rows are contiguous and packed one after another (row-major).
    pub fn is_row_major(&self) -> bool {
        self.cs == 1 && (self.rs == self.cols || self.rows <= 1)
    }

    /// Row `i` as a slice when its values are contiguous (column stride 1), else `None`.
    #[inline(always)]
    pub(crate) fn row(&self, i: usize) -> Option<&'a [f32]> {
        (self.cs == 1).then(|| &self.data[i * self.rs..][..self.cols])
    }

    /// Element (i, j).
    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }

    /// How many values of `data` the matrix reaches.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_transposes_and_blocks_in_place() {
        let v: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let m = Mat::new(&v, 3, 4);
        assert_eq!((m.at(1, 2), m.t().at(2, 1)), (6.0, 6.0));
        let block = m.row_range(1..3).col_range(1..3);
        assert_eq!((block.rows(), block.cols(), block.at(0, 0), block.at(1, 1)), (2, 2, 5.0, 10.0));
        assert!(m.is_row_major() && !block.is_row_major() && !m.t().is_row_major());
        let step = Mat::strided(&v, 2, 2, (6, 1)); // rows 0 and 6 apart: one time step of (2, 3, 2)
        assert_eq!(step.at(1, 1), 7.0);
    }

    #[test]
    #[should_panic(expected = "Mat: (3, 4) with strides (4, 1) reaches 12 values, the slice holds 11")]
    fn a_short_slice_names_both_sizes() {
        Mat::new(&[0.0; 11], 3, 4);
    }
}
