//! What `fit`, `evaluate` and `predict` read samples from: an f32 [`Tensor`], or bytes
//! ([`ScaledBytes`]) turned into f32 as each batch is gathered, so that a dataset of pictures
//! stays one byte a pixel in memory.

use crate::error::{Error, Result};
use crate::tensor::{ops, shape_str, Tensor, U8Tensor};

/// Samples along the first axis, gathered into f32 batches.
pub trait Samples: Sync {
    /// `(samples, per-sample shape...)`.
    fn shape(&self) -> &[usize];
    /// Rows `idx`, in that order, into `out` (its buffer reused).
    fn gather_rows_into(&self, idx: &[usize], out: &mut Tensor);
    /// Rows `start..end` into `out` (its buffer reused).
    fn copy_rows_into(&self, start: usize, end: usize, out: &mut Tensor);
    /// The first value that is not finite and its sample, or `None`.
    fn first_non_finite(&self) -> Option<(f32, usize)>;

    /// The number of samples.
    fn rows(&self) -> usize {
        self.shape().first().copied().unwrap_or(0)
    }

    /// The samples as one f32 tensor, when they are one (checks read it in place).
    fn as_tensor(&self) -> Option<&Tensor> {
        None
    }
}

impl Samples for Tensor {
    fn shape(&self) -> &[usize] {
        Tensor::shape(self)
    }

    fn as_tensor(&self) -> Option<&Tensor> {
        Some(self)
    }

    fn gather_rows_into(&self, idx: &[usize], out: &mut Tensor) {
        Tensor::gather_rows_into(self, idx, out)
    }

    fn copy_rows_into(&self, start: usize, end: usize, out: &mut Tensor) {
        let w = self.row_len();
        out.ensure_shape(end - start, &Tensor::shape(self)[1..]);
        out.data_mut().copy_from_slice(&self.data()[start * w..end * w]);
    }

    fn first_non_finite(&self) -> Option<(f32, usize)> {
        // One fast pass; the position only when one is found.
        let all_finite = self.known_finite() || ops::all_finite(self.data());
        let i = (!all_finite).then(|| self.data().iter().position(|v| !v.is_finite())).flatten()?;
        Some((self.data()[i], i / self.row_len().max(1)))
    }
}

/// Bytes divided by a number as each batch is gathered: `(v as f64 / divisor) as f32`, the
/// values numpy's `x / 255.0` gives once cast to float32 (the lesson's scaling).
#[derive(Clone, Debug)]
pub struct ScaledBytes {
    bytes: U8Tensor,
    shape: Vec<usize>,
    table: Vec<f32>,
}

impl ScaledBytes {
    /// `bytes` `(N, ...)` seen as samples of `sample_shape` (the same number of values).
    pub fn new(bytes: U8Tensor, divisor: f64, sample_shape: &[usize]) -> Result<ScaledBytes> {
        if !(divisor.is_finite() && divisor >= 1e-3) {
            return Err(Error::value(format!("the divisor of bytes must be a number >= 0.001, received {divisor}")));
        }
        if sample_shape.iter().product::<usize>() != bytes.row_len() {
            return Err(Error::shape(format!(
                "samples of {} bytes ({}) cannot be seen as shape {}",
                bytes.row_len(),
                bytes.shape_str(),
                shape_str(sample_shape)
            )));
        }
        let mut shape = vec![bytes.rows()];
        shape.extend_from_slice(sample_shape);
        let table = (0..256).map(|v| (v as f64 / divisor) as f32).collect();
        Ok(ScaledBytes { bytes, shape, table })
    }

    /// The bytes as stored.
    pub fn bytes(&self) -> &U8Tensor {
        &self.bytes
    }

    /// The number of samples.
    pub fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Rows `idx` as f32 values.
    pub fn select_rows(&self, idx: &[usize]) -> Tensor {
        let mut t = Tensor::default();
        self.gather_rows_into(idx, &mut t);
        t
    }
}

impl Samples for ScaledBytes {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn gather_rows_into(&self, idx: &[usize], out: &mut Tensor) {
        let w = self.bytes.row_len();
        out.ensure_shape(idx.len(), &self.shape[1..]);
        let (src, dst) = (self.bytes.data(), out.data_mut());
        for (row, &i) in dst.chunks_exact_mut(w.max(1)).zip(idx) {
            for (d, &b) in row.iter_mut().zip(&src[i * w..(i + 1) * w]) {
                *d = self.table[b as usize];
            }
        }
    }

    fn copy_rows_into(&self, start: usize, end: usize, out: &mut Tensor) {
        let idx: Vec<usize> = (start..end).collect();
        self.gather_rows_into(&idx, out);
    }

    fn first_non_finite(&self) -> Option<(f32, usize)> {
        None
    }
}

/// Bytes as the numbers they are (0 to 255), as Keras casts a `uint8` array given to `fit`: for
/// a model that scales its input itself (a first `Rescaling(1/255)` layer).
impl Samples for U8Tensor {
    fn shape(&self) -> &[usize] {
        U8Tensor::shape(self)
    }

    fn gather_rows_into(&self, idx: &[usize], out: &mut Tensor) {
        let w = self.row_len();
        out.ensure_shape(idx.len(), &U8Tensor::shape(self)[1..]);
        let (src, dst) = (self.data(), out.data_mut());
        for (row, &i) in dst.chunks_exact_mut(w.max(1)).zip(idx) {
            row.iter_mut().zip(&src[i * w..(i + 1) * w]).for_each(|(d, &b)| *d = b as f32);
        }
    }

    fn copy_rows_into(&self, start: usize, end: usize, out: &mut Tensor) {
        let idx: Vec<usize> = (start..end).collect();
        self.gather_rows_into(&idx, out);
    }

    fn first_non_finite(&self) -> Option<(f32, usize)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_scale_as_numpy_divides() {
        let b = U8Tensor::from_vec(&[3, 2, 2], (0..12).map(|v| v * 20).collect()).unwrap();
        let s = ScaledBytes::new(b.clone(), 255.0, &[4]).unwrap();
        assert_eq!(Samples::shape(&s), &[3, 4]);
        let want = b.select_rows_div(&[2, 0], 255.0).reshape(&[2, 4]).unwrap();
        assert_eq!(s.select_rows(&[2, 0]), want);
        let mut t = Tensor::default();
        s.copy_rows_into(1, 3, &mut t);
        assert_eq!(t, b.select_rows_div(&[1, 2], 255.0).reshape(&[2, 4]).unwrap());
        let e = ScaledBytes::new(b, 255.0, &[3]).unwrap_err().to_string();
        assert_eq!(e, "samples of 4 bytes ((3, 2, 2)) cannot be seen as shape (3,)");
    }

    #[test]
    fn bytes_as_numbers() {
        let b = U8Tensor::from_vec(&[3, 2], vec![0, 1, 128, 255, 7, 9]).unwrap();
        let mut t = Tensor::default();
        b.gather_rows_into(&[2, 0], &mut t);
        assert_eq!((t.shape(), t.data()), (&[2, 2][..], &[7.0, 9.0, 0.0, 1.0][..]));
        b.copy_rows_into(1, 2, &mut t);
        assert_eq!(t.data(), &[128.0, 255.0]);
        assert_eq!(Samples::rows(&b), 3);
    }
}
