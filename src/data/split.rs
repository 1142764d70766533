//! `train_test_split` as scikit-learn computes it, so a `random_state` picks the same rows here
//! as in the Keras lesson it mirrors.

use super::mt19937::Mt19937;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, U8Tensor};

/// Arrays whose first axis holds samples: what [`train_test_split`] can split.
pub trait Rows: Sized {
    /// Number of samples (the first axis).
    fn n_rows(&self) -> usize;
    /// The samples `idx`, in that order.
    fn select_rows(&self, idx: &[usize]) -> Self;
}

impl Rows for Tensor {
    fn n_rows(&self) -> usize {
        self.rows()
    }
    fn select_rows(&self, idx: &[usize]) -> Self {
        Tensor::select_rows(self, idx)
    }
}

impl Rows for U8Tensor {
    fn n_rows(&self) -> usize {
        self.rows()
    }
    fn select_rows(&self, idx: &[usize]) -> Self {
        U8Tensor::select_rows(self, idx)
    }
}

/// `numpy.random.RandomState(random_state).permutation(n)`: legacy Fisher–Yates over `0..n`.
pub fn permutation(n: usize, random_state: u32) -> Vec<usize> {
    permutations(&[n], random_state).pop().expect("one size")
}

/// One `numpy.random.RandomState(random_state)` shuffling `arange(n)` for each `n` of `sizes` in
/// turn, the generator carrying on from one to the next (as Keras's IMDB loader shuffles the
/// training and then the test set).
pub fn permutations(sizes: &[usize], random_state: u32) -> Vec<Vec<usize>> {
    let mut rng = Mt19937::new(random_state);
    sizes.iter().map(|&n| shuffle(n, &mut rng)).collect()
}

fn shuffle(n: usize, rng: &mut Mt19937) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        // numpy draws 64-bit bounded integers above u32::MAX; no dataset here gets that large.
        let j = rng.interval(i as u32) as usize;
        p.swap(i, j);
    }
    p
}

/// The (train, test) row indices scikit-learn's `train_test_split` picks for `n` samples:
/// `p = permutation(n)`, `n_test = ceil(test_size * n)`, test = `p[..n_test]`, train the rest.
pub fn train_test_indices(n: usize, test_size: f64, random_state: u32) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(Error::value(format!("test_size must be in (0, 1), received test_size={test_size}")));
    }
    if n > u32::MAX as usize {
        return Err(Error::value(format!("train_test_split supports up to 2^32-1 samples, received {n}")));
    }
    let n_test = (test_size * n as f64).ceil() as usize;
    let n_train = n - n_test.min(n);
    if n_test == 0 || n_train == 0 {
        return Err(Error::value(format!(
            "with n_samples={n} and test_size={test_size}, the resulting {} set would be empty",
            if n_test == 0 { "test" } else { "train" }
        )));
    }
    let p = permutation(n, random_state);
    Ok((p[n_test..].to_vec(), p[..n_test].to_vec()))
}

/// Splits samples `x` and targets `y` (same number of rows) into
/// `(x_train, x_test, y_train, y_test)`, exactly as scikit-learn's
/// `train_test_split(x, y, test_size=test_size, random_state=random_state)`.
pub fn train_test_split<X: Rows, Y: Rows>(x: &X, y: &Y, test_size: f64, random_state: u32) -> Result<(X, X, Y, Y)> {
    if x.n_rows() != y.n_rows() {
        return Err(Error::shape(format!(
            "train_test_split: x and y must have the same number of samples, x has {}, y has {}",
            x.n_rows(),
            y.n_rows()
        )));
    }
    let (train, test) = train_test_indices(x.n_rows(), test_size, random_state)?;
    Ok((x.select_rows(&train), x.select_rows(&test), y.select_rows(&train), y.select_rows(&test)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn sha_u32le(idx: &[usize]) -> String {
        let bytes: Vec<u8> = idx.iter().flat_map(|&i| (i as u32).to_le_bytes()).collect();
        hex::encode(Sha256::digest(&bytes))
    }

    #[test]
    fn matches_scikit_learn_reference() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/split_reference.json");
        let text = std::fs::read_to_string(path).expect(path);
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(!cases.is_empty());
        for c in cases {
            let n = c["n_samples"].as_u64().unwrap() as usize;
            let t = c["test_size"].as_f64().unwrap();
            let seed = c["random_state"].as_u64().unwrap() as u32;
            let (train, test) = train_test_indices(n, t, seed).unwrap();
            let first = |k: &str| -> Vec<usize> {
                c[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect()
            };
            assert_eq!(train.len() as u64, c["n_train"].as_u64().unwrap(), "case {c}");
            assert_eq!(test.len() as u64, c["n_test"].as_u64().unwrap(), "case {c}");
            assert_eq!(train[..train.len().min(20)], first("train_first_20")[..], "n={n}");
            assert_eq!(test[..test.len().min(20)], first("test_first_20")[..], "n={n}");
            assert_eq!(sha_u32le(&train), c["train_sha256_u32le"].as_str().unwrap(), "n={n}");
            assert_eq!(sha_u32le(&test), c["test_sha256_u32le"].as_str().unwrap(), "n={n}");
        }
    }

    #[test]
    fn splits_rows_of_both_arrays_alike() {
        let x = Tensor::from_vec(&[10, 2], (0..20).map(|v| v as f32).collect()).unwrap();
        let y = U8Tensor::from_vec(&[10], (0..10).collect()).unwrap();
        let (xtr, xte, ytr, yte) = train_test_split(&x, &y, 0.3, 0).unwrap();
        assert_eq!((xtr.shape(), xte.shape()), (&[7, 2][..], &[3, 2][..]));
        assert_eq!(yte.data(), &[2, 8, 4]);
        assert_eq!(xte.data(), &[4.0, 5.0, 16.0, 17.0, 8.0, 9.0]);
        assert_eq!(ytr.shape(), &[7]);
    }

    #[test]
    fn rejects_bad_arguments() {
        let x = U8Tensor::from_vec(&[4, 1], vec![0; 4]).unwrap();
        let y = U8Tensor::from_vec(&[3], vec![0; 3]).unwrap();
        let e = train_test_split(&x, &y, 0.5, 0).unwrap_err().to_string();
        assert_eq!(e, "train_test_split: x and y must have the same number of samples, x has 4, y has 3");
        for t in [0.0, 1.0, -0.1, f64::NAN] {
            let e = train_test_indices(10, t, 0).unwrap_err().to_string();
            assert!(e.starts_with("test_size must be in (0, 1), received test_size="), "{e}");
        }
        let e = train_test_indices(1, 0.5, 0).unwrap_err().to_string();
        assert_eq!(e, "with n_samples=1 and test_size=0.5, the resulting train set would be empty");
        let e = train_test_indices(0, 0.5, 0).unwrap_err().to_string();
        assert_eq!(e, "with n_samples=0 and test_size=0.5, the resulting test set would be empty");
    }
}
