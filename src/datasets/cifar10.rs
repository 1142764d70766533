//! CIFAR-10 as `keras.datasets.cifar10.load_data()` returns it: train images `(50000, 32, 32, 3)`
//! u8 and labels `(50000, 1)` u8, test `(10000, 32, 32, 3)` and `(10000, 1)`, from the file Keras
//! downloads, `cifar-10-python.tar.gz` (Python pickles of channel-first rows), checked against
//! Keras's SHA-256. Keras's own extracted copy (`~/.keras/datasets/cifar-10-batches-py`) is
//! read too.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::keras_file::{verify_stored, KerasFileOptions};
use super::pickle::{self, Value};
use super::{DatasetFile, Source};
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;

/// Label `i` names class `i`.
#[rustfmt::skip]
pub const CLASS_NAMES: [&str; 10] = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
];
/// The file and Keras's SHA-256 of it.
pub const FILE: (&str, &str) =
    ("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce");
/// Where Keras downloads it from.
pub const MIRROR: &str = "https://www.cs.toronto.edu/~kriz";
/// The batch files, in Keras's order: five of training, then the test batch.
pub const BATCHES: [&str; 6] =
    ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"];

type Splits = ((U8Tensor, U8Tensor), (U8Tensor, U8Tensor));

/// The default places (user directory, kiln's cache, `~/.keras/datasets`) and download.
pub fn options() -> KerasFileOptions {
    KerasFileOptions::new("cifar10", DatasetFile::stored(FILE.0, FILE.1), MIRROR)
}

/// `keras.datasets.cifar10.load_data()`: `((x_train, y_train), (x_test, y_test))`.
pub fn load_data() -> Result<Splits> {
    load(&options()).map(|(t, _)| t)
}

/// [`load_data`] from explicit places, and where the data was found.
pub fn load(opts: &KerasFileOptions) -> Result<(Splits, Source)> {
    // Keras's extracted folder comes after every place that could hold the archive itself.
    let places = [&opts.data_dir, &opts.cache_dir, &opts.keras_dir];
    let archive_offline = places.iter().filter_map(|d| d.as_ref()).any(|d| d.join(&opts.file.name).is_file());
    if let Some(dir) = opts.keras_dir.as_ref().map(|d| d.join("cifar-10-batches-py")) {
        if !archive_offline && BATCHES.iter().all(|b| dir.join(b).is_file()) {
            // One file at a time, so that only one batch's bytes are held beside the pictures.
            let read = |name: &str| -> Result<Batch> {
                let path = dir.join(name);
                batch(&std::fs::read(&path).map_err(|e| Error::io(&path, e))?, &path)
            };
            let batches: Vec<Batch> = BATCHES.iter().map(|b| read(b)).collect::<Result<_>>()?;
            return Ok((assemble(batches)?, Source::Keras(dir)));
        }
    }
    opts.run("CIFAR-10", |path| {
        verify_stored(path, &opts.file)?;
        read_tar_gz(path)
    })
}

/// The six batches of a `cifar-10-python.tar.gz`.
pub fn read_tar_gz(path: &Path) -> Result<Splits> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let gz = flate2::bufread::MultiGzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    let bad = |e: std::io::Error| Error::format(path, format!("cannot read the tar.gz archive: {e}"));
    // Each batch is decoded as soon as it is read, so only one member's bytes are held at once.
    let mut members: HashMap<String, Batch> = HashMap::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| BATCHES.contains(&n.as_str())) {
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).map_err(bad)?;
            let decoded = batch(&buf, &path.join(&name))?;
            members.insert(name, decoded);
        }
    }
    let missing: Vec<&str> = BATCHES.iter().copied().filter(|b| !members.contains_key(*b)).collect();
    if !missing.is_empty() {
        return Err(Error::format(path, format!("the archive lacks {}", missing.join(", "))));
    }
    let batches: Vec<Batch> = BATCHES.iter().map(|b| members.remove(*b).expect("checked")).collect();
    assemble(batches)
}

/// One batch's pictures, `(N, 32, 32, 3)` bytes, and its labels.
type Batch = (Vec<u8>, Vec<u8>);

/// Train (the first five batches, in [`BATCHES`] order) and test (the last).
fn assemble(mut batches: Vec<Batch>) -> Result<Splits> {
    let test = batches.split_off(5);
    Ok((join(batches)?, join(test)?))
}

/// The batches one after the other. Each is freed once copied, and the zeroed output is only
/// paged in as it is written, so the pictures are held about once, not twice.
fn join(batches: Vec<Batch>) -> Result<(U8Tensor, U8Tensor)> {
    let n: usize = batches.iter().map(|b| b.1.len()).sum();
    let (mut x, mut y) = (vec![0u8; n * 3072], Vec::with_capacity(n));
    let mut at = 0;
    for (pictures, labels) in batches {
        x[at..at + pictures.len()].copy_from_slice(&pictures);
        at += pictures.len();
        y.extend_from_slice(&labels);
    }
    Ok((U8Tensor::from_vec(&[n, 32, 32, 3], x)?, U8Tensor::from_vec(&[n, 1], y)?))
}

/// One batch file: its images as `(N, 32, 32, 3)` bytes and its labels.
fn batch(bytes: &[u8], path: &Path) -> Result<Batch> {
    let dict = pickle::parse(bytes, path)?;
    let Some(Value::NdArray { shape, dtype, data }) = dict.get("data") else {
        return Err(Error::format(path, "expected a dict with a NumPy array under \"data\""));
    };
    let n = shape.first().copied().unwrap_or(0);
    if shape[..] != [n, 3072] || !dtype.ends_with("u1") || data.len() != n * 3072 {
        return Err(Error::format(path, format!("\"data\": expected (N, 3072) uint8, found {shape:?} {dtype}")));
    }
    let labels: &[i64] = match dict.get("labels") {
        Some(Value::Ints(labels)) => labels,
        Some(Value::List(l)) if l.is_empty() => &[],
        Some(Value::List(l)) => {
            let other = l.iter().find(|v| !matches!(v, Value::Int(_))).unwrap_or(&l[0]);
            return Err(Error::format(path, format!("label {other:?} is not a class 0-9")));
        }
        _ => return Err(Error::format(path, "expected a list of labels under \"labels\"")),
    };
    let labels: Vec<u8> = labels
        .iter()
        .map(|&v| match v {
            0..10 => Ok(v as u8),
            other => Err(Error::format(path, format!("label Int({other}) is not a class 0-9"))),
        })
        .collect::<Result<_>>()?;
    if labels.len() != n {
        return Err(Error::format(path, format!("{n} images but {} labels", labels.len())));
    }
    // Each row is 1024 red, 1024 green, 1024 blue values; Keras transposes to (32, 32, 3).
    let mut x = vec![0u8; n * 3072];
    for (src, dst) in data.chunks_exact(3072).zip(x.chunks_exact_mut(3072)) {
        for p in 0..1024 {
            for c in 0..3 {
                dst[p * 3 + c] = src[c * 1024 + p];
            }
        }
    }
    Ok((x, labels))
}
