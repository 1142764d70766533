//! Keras's model files, in and out: Keras 3's `.keras` zip and Keras 2's legacy `.h5`.
//!
//! Both see the model as a value, its [`ModelState`]: the writers take the state of a built
//! model (layers with their configs, shapes and weights), the readers make one from the file's
//! config and weights, from which the model is built. Files are recognised by their
//! first bytes when read and by their extension when written. The optimizer state a Keras file
//! may hold is not restored: loading says so on stderr, and training restarts the optimizer.
//! The model's data description ([`DataSpec`]: class names, input kind, picture size) travels
//! under [`DATA_KEY`], in `metadata.json` of a `.keras` file and as an attribute of an `.h5`
//! file's root, where Keras does not look.

mod config;
mod h5;
mod keras3;
mod legacy;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{DataSpec, ModelState, Sequential};

/// The Keras release whose file layout kiln writes (`keras_version` in the files).
pub(crate) const KERAS_VERSION: &str = "3.15.1";

/// Where a Keras file written by kiln keeps the model's [`DataSpec`] (JSON).
pub(crate) const DATA_KEY: &str = "kiln_data";

/// The data description kept under [`DATA_KEY`] in `place` of the file `path`.
fn data_spec(path: &Path, place: &str, value: Value) -> Result<DataSpec> {
    serde_json::from_value(value).map_err(|e| Error::format(path, format!("malformed '{DATA_KEY}' in {place}: {e}")))
}

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
    let (state, has_optimizer) = match KerasFormat::of_bytes(bytes) {
        Some(KerasFormat::Keras) => keras3::read(path, bytes)?,
        Some(KerasFormat::H5) => legacy::read(path)?,
        None => return Ok(None),
    };
    let model = Sequential::from_state(state).map_err(|e| in_file(path, e))?;
    if has_optimizer {
        crate::errln!(
            "note: {}: the Keras optimizer state in this file is not restored; training this model starts a fresh optimizer",
            path.display()
        );
    }
    Ok(Some(model))
}

/// The bytes of a model's `state` as the Keras file `path` names.
pub(crate) fn save_bytes(state: &ModelState, path: &Path, format: KerasFormat) -> Result<Vec<u8>> {
    match format {
        KerasFormat::Keras => keras3::write(state, path),
        KerasFormat::H5 => legacy::write(state, path),
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

/// The layers of kiln's architecture JSON, built, for a reader to fill with the file's weights;
/// errors name the file.
fn state_from_architecture(path: &Path, architecture: &Value) -> Result<ModelState<'static>> {
    let state = ModelState::of_architecture(architecture).map_err(|e| in_file(path, e))?;
    if !state.is_built() {
        return Err(Error::format(
            path,
            "the model config gives no input shape (an InputLayer with a batch_shape), so its weights cannot be placed",
        ));
    }
    Ok(state)
}

/// `e` as an error about the file `path`, unless it names the file already.
fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::Value(m) | Error::Shape(m) if !m.starts_with(&path.display().to_string()) => Error::format(path, m),
        other => other,
    }
}

#[cfg(test)]
mod tests;
