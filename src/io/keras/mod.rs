//! Keras's model files, in and out: Keras 3's `.keras` zip and Keras 2's legacy `.h5`.
//!
//! Both go through [`ModelView`](super::model_view::ModelView) (architecture, shapes, named
//! weights), so nothing here reaches into a model's fields. Files are recognised by their
//! first bytes when read and by their extension when written. The optimizer state a Keras file
//! may hold is not restored: loading says so on stderr, and training restarts the optimizer.

mod config;
mod h5;
mod keras3;
mod legacy;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Sequential;

/// The Keras release whose file layout kiln writes (`keras_version` in the files).
pub(crate) const KERAS_VERSION: &str = "3.15.1";

/// Which Keras format `bytes` hold, from their signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KerasFormat {
    Keras,
    H5,
}

impl KerasFormat {
    pub fn of_bytes(bytes: &[u8]) -> Option<KerasFormat> {
        if bytes.starts_with(keras3::SIGNATURE) {
            Some(KerasFormat::Keras)
        } else if bytes.starts_with(h5::SIGNATURE) {
            Some(KerasFormat::H5)
        } else {
            None
        }
    }

    /// The format a file written at `path` gets: `.keras`, `.h5`/`.hdf5`, else none (safetensors).
    pub fn of_path(path: &Path) -> Option<KerasFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "keras" => Some(KerasFormat::Keras),
            "h5" | "hdf5" => Some(KerasFormat::H5),
            _ => None,
        }
    }
}

/// The model in a Keras file, or None when `bytes` are not one.
pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Option<Sequential>> {
    let (model, has_optimizer) = match KerasFormat::of_bytes(bytes) {
        Some(KerasFormat::Keras) => keras3::read(path, bytes)?,
        Some(KerasFormat::H5) => legacy::read(path)?,
        None => return Ok(None),
    };
    if has_optimizer {
        crate::errln!(
            "note: {}: the Keras optimizer state in this file is not restored; training this model starts a fresh optimizer",
            path.display()
        );
    }
    Ok(Some(model))
}

/// The bytes of `model` as the Keras file `path` names, or None for another extension.
pub(crate) fn save_bytes(model: &Sequential, path: &Path) -> Result<Option<Vec<u8>>> {
    match KerasFormat::of_path(path) {
        Some(KerasFormat::Keras) => keras3::write(model, path).map(Some),
        Some(KerasFormat::H5) => legacy::write(model, path).map(Some),
        None => Ok(None),
    }
}

/// The cell a Keras recurrent layer keeps its weights in (`layers/lstm/cell/vars` in a
/// `.keras` file, `lstm/lstm_cell/kernel` in an `.h5` file), by the layer's class.
pub(crate) fn cell_name(class: &str) -> Option<&'static str> {
    match class {
        "SimpleRNN" => Some("simple_rnn_cell"),
        "LSTM" => Some("lstm_cell"),
        "GRU" => Some("gru_cell"),
        _ => None,
    }
}

/// Builds kiln's architecture JSON into a model; errors name the file.
fn model_from_architecture(path: &Path, architecture: &Value) -> Result<Sequential> {
    Sequential::from_json(architecture).map_err(|e| match e {
        Error::Value(m) | Error::Shape(m) if !m.starts_with(&path.display().to_string()) => Error::format(path, m),
        other => other,
    })
}

#[cfg(test)]
mod tests;
