//! MNIST (handwritten digits) as `keras.datasets.mnist.load_data()` returns it: train images
//! `(60000, 28, 28)` u8 and labels `(60000,)` u8, test `(10000, 28, 28)` and `(10000,)`, from
//! the file Keras downloads, `mnist.npz`, checked against Keras's SHA-256.

use std::path::Path;

use super::keras_file::{verify_stored, KerasFileOptions};
use super::{DatasetFile, Source};
use crate::data::{Array, Npz};
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;

/// Label `i` is the digit `i`.
pub const CLASS_NAMES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/// The file and Keras's SHA-256 of it.
pub const FILE: (&str, &str) = ("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1");
/// Where Keras downloads it from.
pub const MIRROR: &str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets";

/// The default places (user directory, kiln's cache, `~/.keras/datasets`) and download.
pub fn options() -> KerasFileOptions {
    KerasFileOptions::new("mnist", DatasetFile::stored(FILE.0, FILE.1), MIRROR)
}

/// `keras.datasets.mnist.load_data()`: `((x_train, y_train), (x_test, y_test))`.
pub fn load_data() -> Result<((U8Tensor, U8Tensor), (U8Tensor, U8Tensor))> {
    load(&options()).map(|(t, _)| t)
}

/// [`load_data`] from explicit places, and where the file was found.
#[allow(clippy::type_complexity)]
pub fn load(opts: &KerasFileOptions) -> Result<(((U8Tensor, U8Tensor), (U8Tensor, U8Tensor)), Source)> {
    opts.run("MNIST", |path| {
        verify_stored(path, &opts.file)?;
        read_npz(path)
    })
}

/// The four arrays of an `mnist.npz`, with their shapes checked.
pub fn read_npz(path: &Path) -> Result<((U8Tensor, U8Tensor), (U8Tensor, U8Tensor))> {
    let mut npz = Npz::open(path)?;
    let mut bytes = |name: &str, row: &[usize]| -> Result<U8Tensor> {
        match npz.array(name)? {
            Array::U8(t) if &t.shape()[1..] == row => Ok(t),
            a => Err(Error::format(
                path,
                format!("array {name}: expected uint8 of shape (N, {row:?}), found shape {:?}", a.shape()),
            )),
        }
    };
    let (x_train, y_train) = (bytes("x_train", &[28, 28])?, bytes("y_train", &[])?);
    let (x_test, y_test) = (bytes("x_test", &[28, 28])?, bytes("y_test", &[])?);
    for (x, y) in [(&x_train, &y_train), (&x_test, &y_test)] {
        if x.rows() != y.rows() {
            return Err(Error::format(path, format!("{} images but {} labels", x.rows(), y.rows())));
        }
    }
    Ok(((x_train, y_train), (x_test, y_test)))
}
