//! The tensor core: one concrete type, `f32`, row-major, contiguous; the operations on it
//! ([`ops`]) and the backend that runs them ([`cpu`]).
//!
//! Buffers are reused across training steps: [`Tensor::resize_rows`] changes the leading (batch)
//! dimension within the already reserved capacity, so a steady-state step allocates nothing.

mod activation;
pub mod cpu;
pub mod limits;
mod mat;
pub mod ops;
mod storage;
mod u8_tensor;
mod window;

pub use activation::Activation;
pub use cpu::{num_threads, set_num_threads};
pub use mat::Mat;
pub use storage::Storage;
pub use u8_tensor::U8Tensor;
pub use window::{window_axis, Padding, Size2, Window2d};

use crate::error::{Error, Result};

/// A dense `f32` array, row-major and contiguous.
///
/// ```
/// use kiln::Tensor;
///
/// let t = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!((t.shape(), t.rows(), t.row_len()), (&[2, 3][..], 2, 3));
/// assert_eq!(t.row(1), &[4.0, 5.0, 6.0]);
/// let flat = t.reshape(&[-1])?; // numpy's reshape(-1)
/// assert_eq!(flat.shape(), &[6]);
/// // A shape that does not hold the values is an error naming both sizes.
/// let e = Tensor::from_vec(&[2, 2], vec![0.0; 3]).unwrap_err();
/// assert_eq!(e.to_string(), "cannot make a tensor of shape (2, 2) from 3 values (it needs 4)");
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tensor {
    shape: Vec<usize>,
    storage: Storage,
    /// Known to hold only finite values, by construction (zeros; images made from bytes), so
    /// checks of a training set can skip scanning it. Any mutable access clears it.
    finite: bool,
}

/// Equal shapes and values (what is known about them aside).
impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.storage == other.storage
    }
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor { shape: shape.to_vec(), storage: Storage::Cpu(vec![0.0; shape.iter().product()]), finite: true }
    }

    /// A tensor over `data`; the error names both sizes when they differ.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::shape(format!(
                "cannot make a tensor of shape {} from {} values (it needs {n})",
                shape_str(shape),
                data.len()
            )));
        }
        Ok(Tensor { shape: shape.to_vec(), storage: Storage::Cpu(data), finite: false })
    }

    /// The dimensions, outermost first: `[batch, features]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values, row-major.
    pub fn data(&self) -> &[f32] {
        self.storage.as_slice()
    }

    /// The values, row-major, to change (what is known about them is forgotten).
    pub fn data_mut(&mut self) -> &mut [f32] {
        self.finite = false;
        self.storage.as_mut_slice()
    }

    /// Whether every value is known to be finite without looking: true for zeros and for
    /// tensors made from bytes ([`U8Tensor::div`]) and their rows, reshapes and copies, until
    /// the values are changed. False says only "not known".
    pub fn known_finite(&self) -> bool {
        self.finite
    }

    /// Marks the values as finite: for constructors that guarantee it.
    pub(crate) fn with_known_finite(mut self) -> Tensor {
        debug_assert!(self.data().iter().all(|v| v.is_finite()));
        self.finite = true;
        self
    }

    /// The values, row-major, taken out of the tensor.
    pub fn into_vec(self) -> Vec<f32> {
        self.storage.into_vec()
    }

    /// The number of values (the product of the shape).
    pub fn len(&self) -> usize {
        self.data().len()
    }

    /// Whether the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.data().is_empty()
    }

    /// Size of the leading (batch) dimension; 0 for a scalar.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Number of values in one row (the product of all dimensions but the first).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// The values of row `i` (sample `i` of a batch).
    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.row_len();
        &self.data()[i * w..(i + 1) * w]
    }

    /// The same values with a new shape; one dimension may be -1 (inferred), as numpy's reshape.
    pub fn reshape(mut self, shape: &[isize]) -> Result<Tensor> {
        self.shape = infer_shape(&self.shape, shape)?;
        Ok(self)
    }

    /// Sets the leading dimension to `rows`, keeping the row shape. Within the capacity reserved
    /// before (by an earlier, larger call) this does not allocate.
    pub fn resize_rows(&mut self, rows: usize) {
        if self.shape.is_empty() {
            self.shape.push(rows);
        } else {
            self.shape[0] = rows;
        }
        let n = rows * self.row_len();
        self.finite = false;
        self.storage.host_vec().resize(n, 0.0);
    }

    /// Makes this tensor `(rows, row_shape...)`, reusing its buffer when the row shape is unchanged.
    pub fn ensure_shape(&mut self, rows: usize, row_shape: &[usize]) {
        if self.shape.len() != row_shape.len() + 1 || self.shape[1..] != *row_shape {
            self.shape.clear();
            self.shape.push(rows);
            self.shape.extend_from_slice(row_shape);
        }
        self.resize_rows(rows);
    }

    /// Sets the shape without touching the values; the number of values must stay the same.
    #[track_caller]
    pub fn set_shape(&mut self, shape: &[usize]) {
        let n: usize = shape.iter().product();
        assert_eq!(n, self.len(), "set_shape: {} does not hold {} values", shape_str(shape), self.len());
        self.shape.clear();
        self.shape.extend_from_slice(shape);
    }

    /// Copies rows `idx` of `self` into `out` (resized to `idx.len()` rows).
    #[track_caller]
    pub fn gather_rows_into(&self, idx: &[usize], out: &mut Tensor) {
        out.ensure_shape(idx.len(), &self.shape[1..]);
        ops::gather_rows(Mat::of(self), idx, out.storage.as_mut_slice());
        out.finite = self.finite;
    }

    /// A new tensor holding rows `idx` of `self`, in that order.
    pub fn select_rows(&self, idx: &[usize]) -> Tensor {
        let mut out = Tensor::default();
        self.gather_rows_into(idx, &mut out);
        out
    }

    /// Rows `start..end` as a new tensor.
    pub fn slice_rows(&self, start: usize, end: usize) -> Tensor {
        let w = self.row_len();
        let mut shape = self.shape.clone();
        shape[0] = end - start;
        Tensor { shape, storage: Storage::Cpu(self.data()[start * w..end * w].to_vec()), finite: self.finite }
    }

    /// Multiplies every value by `factor` in place.
    pub fn scale(mut self, factor: f32) -> Tensor {
        self.finite = false;
        self.storage.as_mut_slice().iter_mut().for_each(|v| *v *= factor);
        self
    }

    /// Index of the largest value of each row (first one on ties), as numpy's argmax(axis=-1).
    pub fn argmax_rows(&self) -> Vec<usize> {
        let w = self.row_len().max(1);
        self.data().chunks_exact(w).map(argmax).collect()
    }

    /// The shape as Python prints it: `(60000, 28, 28)`, `(60000,)`.
    pub fn shape_str(&self) -> String {
        shape_str(&self.shape)
    }
}

/// Index of the largest value (the first on ties).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// A shape as Python prints a tuple: `(60000, 28, 28)`, `(60000,)`, `()`.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Resolves a numpy-style target shape (one -1 allowed) against the current one.
pub(crate) fn infer_shape(current: &[usize], target: &[isize]) -> Result<Vec<usize>> {
    let n: usize = current.iter().product();
    let bad = || Error::shape(format!("cannot reshape array of shape {} into shape {:?}", shape_str(current), target));
    let unknown = target.iter().filter(|&&d| d == -1).count();
    if unknown > 1 || target.iter().any(|&d| d < -1) {
        return Err(bad());
    }
    let known: usize = target.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
    let mut out: Vec<usize> = target.iter().map(|&d| d.max(0) as usize).collect();
    if unknown == 1 {
        if known == 0 || !n.is_multiple_of(known) {
            return Err(bad());
        }
        let pos = target.iter().position(|&d| d == -1).unwrap_or(0);
        out[pos] = n / known;
    } else if known != n {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_finite_follows_the_values() {
        assert!(Tensor::zeros(&[2, 3]).known_finite());
        assert!(!Tensor::from_vec(&[1], vec![1.0]).unwrap().known_finite(), "unknown values are not assumed");
        let bytes = U8Tensor::from_vec(&[3, 2], vec![0, 1, 2, 3, 254, 255]).unwrap();
        let x = bytes.div(255.0);
        assert!(x.known_finite());
        assert!(x.select_rows(&[2, 0]).known_finite() && x.slice_rows(1, 2).known_finite());
        assert!(x.clone().reshape(&[-1]).unwrap().known_finite());
        assert!(bytes.select_rows_div(&[1], 255.0).known_finite());
        assert!(!bytes.div(0.0).known_finite(), "bytes over zero are infinite or NaN");
        let mut y = x.clone();
        y.data_mut()[0] = f32::NAN;
        assert!(!y.known_finite(), "a mutable access forgets");
        assert!(!x.scale(2.0).known_finite());
    }

    #[test]
    fn reshape_infers_one_dimension() {
        let t = Tensor::zeros(&[6, 2, 2]);
        assert_eq!(t.reshape(&[-1, 4]).unwrap().shape(), &[6, 4]);
        let err = Tensor::zeros(&[6, 2, 2]).reshape(&[-1, 5]).unwrap_err();
        assert_eq!(err.to_string(), "cannot reshape array of shape (6, 2, 2) into shape [-1, 5]");
    }

    #[test]
    fn resize_rows_reuses_capacity() {
        let mut t = Tensor::zeros(&[32, 10]);
        let ptr = t.data().as_ptr();
        t.resize_rows(7);
        t.resize_rows(32);
        assert_eq!(t.shape(), &[32, 10]);
        assert_eq!(t.data().as_ptr(), ptr);
    }

    #[test]
    fn gathers_rows_in_order() {
        let t = Tensor::from_vec(&[3, 2], vec![0., 1., 2., 3., 4., 5.]).unwrap();
        let g = t.select_rows(&[2, 0]);
        assert_eq!(g.shape(), &[2, 2]);
        assert_eq!(g.data(), &[4., 5., 0., 1.]);
        assert_eq!(t.argmax_rows(), vec![1, 1, 1]);
        assert_eq!(shape_str(&[60000]), "(60000,)");
        assert_eq!(g.shape_str(), "(2, 2)");
    }
}
