//! Fashion-MNIST (Zalando Research): 70,000 grayscale 28×28 images of clothing in 10 classes,
//! as Keras's `keras.datasets.fashion_mnist.load_data()` returns them: train images
//! `[60000, 28, 28]` and labels `[60000]`, test images `[10000, 28, 28]` and labels `[10000]`.

use super::{DatasetFile, Lookup, Source};
use crate::data::idx::read_idx_sized;
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;
use std::path::{Path, PathBuf};

/// Label `i` names class `i`.
#[rustfmt::skip]
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];

/// The four files (train images, train labels, test images, test labels), the SHA-256 and the
/// size of each decompressed file (IDX header included); the compressed bytes differ between
/// mirrors, these do not.
#[rustfmt::skip]
pub const FILES: [(&str, &str, u64); 4] = [
    ("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 16 + 60_000 * 784),
    ("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 8 + 60_000),
    ("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 16 + 10_000 * 784),
    ("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 8 + 10_000),
];

/// Download mirrors in order: the one Keras uses, then upstream's.
pub const MIRRORS: [&str; 2] = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
];

/// Where Debian's `dataset-fashion-mnist` package installs the files.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Where to look and how to download. `Default` reads `KILN_DATA_DIR` (the user's directory)
/// and `KILN_MIRRORS` (comma-separated base URLs); tests set every field themselves.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Looked in first (`--data-dir` or `KILN_DATA_DIR`); must hold all four files when set.
    pub data_dir: Option<PathBuf>,
    /// Looked in second, and where downloads go (`<cache>/kiln/datasets/fashion-mnist`).
    pub cache_dir: Option<PathBuf>,
    /// Looked in third ([`SYSTEM_DIR`]).
    pub system_dir: Option<PathBuf>,
    /// Base URLs of the mirrors; empty means [`MIRRORS`].
    pub mirrors: Vec<String>,
    /// File names and decompressed SHA-256s, in the order of [`FILES`].
    pub files: [DatasetFile; 4],
    /// Download into `cache_dir` when no directory holds the files.
    pub download: bool,
    /// Show a progress bar while downloading (only drawn on a terminal).
    pub progress: bool,
    /// Say on stderr where the files were looked for and found.
    pub verbose: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        let env = |k| std::env::var(k).ok().filter(|v: &String| !v.trim().is_empty());
        LoadOptions {
            data_dir: env("KILN_DATA_DIR").map(PathBuf::from),
            cache_dir: dirs::cache_dir().map(|d| d.join("kiln").join("datasets").join("fashion-mnist")),
            system_dir: Some(PathBuf::from(SYSTEM_DIR)),
            mirrors: env("KILN_MIRRORS").map(|v| split_list(&v)).unwrap_or_default(),
            files: FILES.map(|(name, sha, size)| DatasetFile::new(name, sha).with_size(size)),
            download: true,
            progress: true,
            verbose: false,
        }
    }
}

/// A comma-separated list, items trimmed, empty ones dropped.
fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// The loaded dataset and where it came from.
#[derive(Clone, Debug)]
pub struct FashionMnist {
    /// `(60000, 28, 28)` bytes.
    pub train_images: U8Tensor,
    /// `(60000,)` class indices 0-9.
    pub train_labels: U8Tensor,
    /// `(10000, 28, 28)` bytes.
    pub test_images: U8Tensor,
    /// `(10000,)` class indices 0-9.
    pub test_labels: U8Tensor,
    /// Where the files were found (or downloaded to).
    pub source: Source,
}

impl FashionMnist {
    /// Images per class in (train, test); 6,000 and 1,000 each for the real data.
    pub fn class_counts(&self) -> (Vec<usize>, Vec<usize>) {
        let n = CLASS_NAMES.len();
        (super::class_counts(&self.train_labels, n), super::class_counts(&self.test_labels, n))
    }

    /// Keras's shape of the result: `((x_train, y_train), (x_test, y_test))`.
    pub fn into_tuples(self) -> ((U8Tensor, U8Tensor), (U8Tensor, U8Tensor)) {
        ((self.train_images, self.train_labels), (self.test_images, self.test_labels))
    }
}

/// `keras.datasets.fashion_mnist.load_data()`: `((x_train, y_train), (x_test, y_test))`.
pub fn load_data() -> Result<((U8Tensor, U8Tensor), (U8Tensor, U8Tensor))> {
    load_data_from(&LoadOptions::default())
}

/// [`load_data`] with explicit places to look and download options.
pub fn load_data_from(opts: &LoadOptions) -> Result<((U8Tensor, U8Tensor), (U8Tensor, U8Tensor))> {
    load(opts).map(FashionMnist::into_tuples)
}

/// Finds (or downloads), verifies and decodes the four files, reporting where they were.
pub fn load(opts: &LoadOptions) -> Result<FashionMnist> {
    let places = [
        opts.data_dir.clone().map(Source::UserDir),
        opts.cache_dir.clone().map(Source::Cache),
        opts.system_dir.clone().map(Source::System),
    ];
    let default_mirrors: Vec<String> = MIRRORS.iter().map(|m| m.to_string()).collect();
    let lookup = Lookup {
        dataset: "Fashion-MNIST",
        places: places.into_iter().flatten().collect(),
        cache: opts.cache_dir.as_deref(),
        files: &opts.files,
        mirrors: if opts.mirrors.is_empty() { &default_mirrors } else { &opts.mirrors },
        download: opts.download,
        progress: opts.progress,
        verbose: opts.verbose,
    };
    let (t, source) = lookup.run(|dir| load_dir(dir, &opts.files))?;
    Ok(assemble(t, source))
}

fn assemble([train_images, train_labels, test_images, test_labels]: [U8Tensor; 4], source: Source) -> FashionMnist {
    FashionMnist { train_images, train_labels, test_images, test_labels, source }
}

/// Decodes and verifies the four `files` in `dir`: the big train-image file on a second
/// thread, the other three meanwhile, each decompressed and hashed in one pass.
pub fn load_dir(dir: &Path, files: &[DatasetFile; 4]) -> Result<[U8Tensor; 4]> {
    let read = |i: usize| read_verified(&dir.join(&files[i].name), &files[i], [3, 1][i % 2]);
    let (big, rest) = std::thread::scope(|s| {
        let big = s.spawn(|| read(0));
        let rest: Vec<Result<U8Tensor>> = (1..4).map(read).collect();
        (big.join(), rest)
    });
    let big = big.map_err(|_| Error::value(format!("decoding {} panicked", files[0].name)))?;
    let mut rest = rest.into_iter();
    let mut next = || rest.next().expect("three results");
    let t = [big?, next()?, next()?, next()?];
    for (x, y) in [(0, 1), (2, 3)] {
        check_pair(&t[x], &t[y], &dir.join(&files[x].name), &dir.join(&files[y].name))?;
    }
    Ok(t)
}

/// Images `[n, 28, 28]` and `n` labels, each a class `0..10`.
fn check_pair(images: &U8Tensor, labels: &U8Tensor, ip: &Path, lp: &Path) -> Result<()> {
    let n = images.rows();
    if images.shape()[1..] != [28, 28] {
        let msg = format!("expected 28×28-pixel images, found shape {}", images.shape_str());
        return Err(Error::format(ip, msg));
    }
    if labels.rows() != n {
        let msg = format!("{} labels, but {} holds {n} images", labels.rows(), ip.display());
        return Err(Error::format(lp, msg));
    }
    let classes = CLASS_NAMES.len();
    if let Some((i, v)) = labels.data().iter().enumerate().find(|(_, &v)| v as usize >= classes) {
        return Err(Error::format(lp, format!("label {v} at index {i} is not a class 0–9")));
    }
    Ok(())
}

/// Reads one IDX file, checking its header against the published size and its decompressed
/// SHA-256 against the published one.
fn read_verified(path: &Path, file: &DatasetFile, ndim: usize) -> Result<U8Tensor> {
    let idx = read_idx_sized(path, ndim, file.size)?;
    let expected = &file.sha256;
    if !idx.sha256.eq_ignore_ascii_case(expected) {
        return Err(Error::Checksum { path: path.to_path_buf(), expected: expected.to_string(), actual: idx.sha256 });
    }
    Ok(idx.tensor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use sha2::{Digest, Sha256};
    use std::io::Write;

    /// Writes a gzip IDX file into `dir`; returns its table entry.
    fn write(dir: &Path, name: &str, dims: &[usize], data: &[u8]) -> DatasetFile {
        let raw = crate::data::encode_idx(dims, data);
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&raw).unwrap();
        std::fs::write(dir.join(name), e.finish().unwrap()).unwrap();
        DatasetFile::new(name, &hex::encode(Sha256::digest(&raw)))
    }

    /// A 3-train / 2-test dataset whose train-label file holds `n_labels` labels.
    fn synthetic(dir: &Path, n_labels: usize) -> [DatasetFile; 4] {
        [
            write(dir, "tr-x.gz", &[3, 28, 28], &[1; 3 * 784]),
            write(dir, "tr-y.gz", &[n_labels], &vec![9; n_labels]),
            write(dir, "te-x.gz", &[2, 28, 28], &[2; 2 * 784]),
            write(dir, "te-y.gz", &[2], &[0, 1]),
        ]
    }

    fn options(files: [DatasetFile; 4]) -> LoadOptions {
        let (data_dir, cache_dir, system_dir, mirrors) = (None, None, None, vec![]);
        LoadOptions {
            data_dir,
            cache_dir,
            system_dir,
            mirrors,
            files,
            download: false,
            progress: false,
            verbose: false,
        }
    }

    #[test]
    fn loads_real_data_from_system_copy() {
        let opts = LoadOptions { data_dir: None, cache_dir: None, download: false, ..LoadOptions::default() };
        let start = std::time::Instant::now();
        let d = load(&opts).expect("Debian package dataset-fashion-mnist must be installed");
        eprintln!("fashion-mnist load: {:.3} s", start.elapsed().as_secs_f64());
        assert_eq!(d.source, Source::System(PathBuf::from(SYSTEM_DIR)));
        assert_eq!((d.train_images.shape(), d.train_labels.shape()), (&[60000, 28, 28][..], &[60000][..]));
        assert_eq!((d.test_images.shape(), d.test_labels.shape()), (&[10000, 28, 28][..], &[10000][..]));
        assert_eq!(d.class_counts(), (vec![6000; 10], vec![1000; 10]));
        assert_eq!(CLASS_NAMES[d.train_labels.data()[0] as usize], "Ankle boot");
    }

    #[test]
    fn user_dir_comes_first() {
        let (user, sys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut opts = options(synthetic(user.path(), 3));
        synthetic(sys.path(), 3);
        (opts.data_dir, opts.system_dir) = (Some(user.path().into()), Some(sys.path().into()));
        let d = load(&opts).unwrap();
        assert_eq!(d.source, Source::UserDir(user.path().to_path_buf()));
        assert_eq!(d.class_counts().0[9], 3);
        opts.data_dir = Some(user.path().join("absent"));
        let e = load(&opts).unwrap_err().to_string();
        let want = "absent: the data directory (--data-dir or KILN_DATA_DIR) does not exist";
        assert_eq!(e, format!("{}/{want}", user.path().display()));
    }

    #[test]
    fn rejects_count_mismatch_and_bad_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).display().to_string();
        let mut files = synthetic(dir.path(), 4);
        let e = load_dir(dir.path(), &files).unwrap_err().to_string();
        assert_eq!(e, format!("{}: 4 labels, but {} holds 3 images", p("tr-y.gz"), p("tr-x.gz")));
        files = synthetic(dir.path(), 3);
        let good = std::mem::replace(&mut files[2].sha256, "ab".repeat(32));
        let e = load_dir(dir.path(), &files).unwrap_err();
        assert!(matches!(e, Error::Checksum { .. }));
        let want = format!("{}: checksum mismatch: expected sha256 {}, got {good}", p("te-x.gz"), "ab".repeat(32));
        assert_eq!(e.to_string(), want);
    }
}
