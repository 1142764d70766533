//! Raw bytes as datasets store them: Fashion-MNIST's images and labels are `u8`.

use super::{infer_shape, shape_str, Tensor};
use crate::error::Result;

/// A row-major array of bytes (images or labels as read from disk).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct U8Tensor {
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl U8Tensor {
    /// A byte array over `data`; `shape`'s product must equal `data.len()`.
    pub fn from_vec(shape: &[usize], data: Vec<u8>) -> Result<U8Tensor> {
        // Reuse the f32 tensor's check and message.
        infer_shape(&[data.len()], &shape.iter().map(|&d| d as isize).collect::<Vec<_>>())?;
        Ok(U8Tensor { shape: shape.to_vec(), data })
    }

    /// The dimensions, outermost first: `[60000, 28, 28]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The bytes, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Size of the first dimension; 0 for a scalar.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Bytes in one row (the product of all dimensions but the first).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// The shape as Python prints it: `(60000, 28, 28)`.
    pub fn shape_str(&self) -> String {
        shape_str(&self.shape)
    }

    /// The values as `f32` (labels: class indices).
    pub fn to_f32(&self) -> Tensor {
        self.div(1.0)
    }

    /// numpy's `x / divisor` (`train_input / 255.0` in the lesson): computed in f64 and stored as
    /// f32, the values Keras trains on after its cast.
    pub fn div(&self, divisor: f64) -> Tensor {
        let data = self.data.iter().map(|&v| (v as f64 / divisor) as f32).collect();
        finite_if(Tensor::from_vec(&self.shape, data).expect("same number of values"), divisor)
    }

    /// Rows `idx` divided by `divisor` as [`U8Tensor::div`] does, without materialising the
    /// whole array as `f32` (the CLI keeps its peak memory low this way).
    pub fn select_rows_div(&self, idx: &[usize], divisor: f64) -> Tensor {
        let w = self.row_len();
        let mut data = Vec::with_capacity(idx.len() * w);
        for &i in idx {
            data.extend(self.data[i * w..(i + 1) * w].iter().map(|&v| (v as f64 / divisor) as f32));
        }
        let mut shape = self.shape.clone();
        shape[0] = idx.len();
        finite_if(Tensor::from_vec(&shape, data).expect("rows times row length"), divisor)
    }

    /// Rows `idx` (distinct, each below [`U8Tensor::rows`]), in that order, in this array's own
    /// buffer: the rows are moved into place cycle by cycle and the rest is cut off, so a
    /// training split of a large dataset costs no second copy of it. Indices that repeat or
    /// are out of range fall back to [`U8Tensor::select_rows`].
    pub fn into_rows(mut self, idx: &[usize]) -> U8Tensor {
        let (n, w) = (self.rows(), self.row_len());
        let mut wanted = vec![false; n];
        for &i in idx {
            if i >= n || std::mem::replace(&mut wanted[i], true) {
                return self.select_rows(idx);
            }
        }
        // Position j takes row perm[j]: the rows asked for, then the others.
        let perm: Vec<usize> = idx.iter().copied().chain((0..n).filter(|&i| !wanted[i])).collect();
        let mut done = vec![false; n];
        let mut row = vec![0u8; w];
        for start in 0..n {
            if done[start] || perm[start] == start {
                continue;
            }
            // Follow the cycle start <- perm[start] <- perm[perm[start]] ... back to start.
            row.copy_from_slice(&self.data[start * w..(start + 1) * w]);
            let mut j = start;
            while perm[j] != start {
                let from = perm[j];
                self.data.copy_within(from * w..(from + 1) * w, j * w);
                done[j] = true;
                j = from;
            }
            self.data[j * w..(j + 1) * w].copy_from_slice(&row);
            done[j] = true;
        }
        self.data.truncate(idx.len() * w);
        self.data.shrink_to_fit();
        self.shape[0] = idx.len();
        self
    }

    /// Rows `idx` as a new byte array.
    pub fn select_rows(&self, idx: &[usize]) -> U8Tensor {
        let w = self.row_len();
        let mut data = Vec::with_capacity(idx.len() * w);
        for &i in idx {
            data.extend_from_slice(&self.data[i * w..(i + 1) * w]);
        }
        let mut shape = self.shape.clone();
        shape[0] = idx.len();
        U8Tensor { shape, data }
    }
}

/// Bytes divided by a finite divisor not far below 1 are finite (dividing by zero gives
/// infinity or NaN, by a tiny divisor values past f32's range).
fn finite_if(t: Tensor, divisor: f64) -> Tensor {
    if divisor.is_finite() && divisor.abs() >= 1.0 / 255.0 {
        t.with_known_finite()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_selected_rows() {
        let t = U8Tensor::from_vec(&[3, 2], vec![0, 255, 51, 102, 1, 2]).unwrap();
        let s = t.select_rows_div(&[1, 0], 255.0);
        assert_eq!(s.shape(), &[2, 2]);
        assert_eq!(s.data(), &[0.2, 0.4, 0.0, 1.0]);
        assert_eq!(t.select_rows(&[2]).data(), &[1, 2]);
        assert!(U8Tensor::from_vec(&[2, 2], vec![0; 3]).is_err());
    }

    #[test]
    fn into_rows_moves_the_rows_asked_for_in_place() {
        let t = U8Tensor::from_vec(&[7, 3], (0..21).collect()).unwrap();
        for idx in [&[6, 0, 3, 2][..], &[0, 1, 2, 3, 4, 5, 6], &[5, 6, 0, 1, 2, 3, 4], &[4], &[], &[2, 2], &[9]] {
            let safe: Vec<usize> = idx.iter().copied().filter(|&i| i < 7).collect();
            assert_eq!(t.clone().into_rows(&safe), t.select_rows(&safe), "rows {idx:?}");
        }
    }
}
