//! Data handling: reading IDX files ([`idx`], gzip through [`GzReader`]) and scikit-learn's `train_test_split` ([`split`]).

mod gunzip;
pub mod idx;
mod mt19937;
pub mod split;

pub use gunzip::GzReader;
pub use idx::{encode_idx, parse_idx, read_idx, Idx};
pub use split::{permutation, train_test_indices, train_test_split, Rows};
