//! Datasets kiln can load: [`fashion_mnist`], [`mnist`], [`cifar10`]. Files are looked for in the user's directory,
//! kiln's cache, and the system copy, in that order, and downloaded into the cache last
//! ([`locate`], [`download()`]); every file is verified against the SHA-256 of its decompressed
//! content.

pub mod cifar10;
pub mod download;
pub mod fashion_mnist;
pub mod imdb;
pub mod keras_file;
pub mod locate;
pub mod mnist;
mod pickle;

pub use download::{download, sha256_file, DownloadOptions};
pub use locate::{mirror_urls, missing_files, Lookup, Source};

use crate::tensor::U8Tensor;

/// One file of a dataset: its name (also the last URL segment on the mirrors), the SHA-256
/// (lowercase hex) of its decompressed content, or of the file as stored when `stored`, and,
/// when published, its decompressed size, which readers and downloads check before trusting a
/// header or a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetFile {
    /// The file's name, as published (`train-images-idx3-ubyte.gz`).
    pub name: String,
    /// Its published SHA-256, lowercase hex.
    pub sha256: String,
    /// Whether the checksum is of the file as stored rather than decompressed.
    pub stored: bool,
    /// Decompressed bytes, header included.
    pub size: Option<u64>,
}

impl DatasetFile {
    /// A file checked by the SHA-256 of its decompressed content (Fashion-MNIST's table).
    pub fn new(name: &str, sha256: &str) -> DatasetFile {
        let (name, sha256) = (name.to_string(), sha256.to_lowercase());
        DatasetFile { name, sha256, stored: false, size: None }
    }

    /// A file checked by the SHA-256 of its bytes as stored (Keras's `file_hash`).
    pub fn stored(name: &str, sha256: &str) -> DatasetFile {
        DatasetFile { stored: true, ..DatasetFile::new(name, sha256) }
    }

    /// The same file with its published decompressed size.
    pub fn with_size(self, size: u64) -> DatasetFile {
        DatasetFile { size: Some(size), ..self }
    }
}

/// How many labels fall in each class `0..n_classes` (labels `>= n_classes` are not counted).
pub fn class_counts(labels: &U8Tensor, n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &l in labels.data() {
        if let Some(c) = counts.get_mut(l as usize) {
            *c += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_and_normalises_hashes() {
        let y = U8Tensor::from_vec(&[6], vec![0, 2, 2, 1, 2, 7]).unwrap();
        assert_eq!(class_counts(&y, 3), vec![1, 1, 3]);
        assert_eq!(DatasetFile::new("a", "AB").sha256, "ab");
    }
}
