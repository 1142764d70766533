//! Model files: safetensors, which any tool with a safetensors reader can open.
//!
//! Tensors: every weight as `layer.param` (`hidden.kernel`, `batch_normalization.moving_mean`),
//! F32 little-endian, shapes as in the model; a whole model adds the optimizer's state as
//! `optimizer.<layer>.<param>.<slot>` (`optimizer.hidden.kernel.m`). Metadata (string → string):
//! `format` ("kiln"), `kiln_version`, `architecture` (the JSON of [`Sequential::to_json`]),
//! `seed`, `training` (`{"epochs", "shuffle_rng", "dropout_rng"}`: epochs trained and the
//! positions of the shuffle and dropout streams, so a resumed `fit` goes on exactly), and for a
//! compiled model saved whole `compile`:
//! `{"loss", "metrics", "optimizer": {"name", "config"}, "iterations"}`; for a model that was
//! told what it trains on, `data` ([`crate::model::DataSpec`]: class names, input description).
//! Reading is in [`super::model_load`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, View};
use serde_json::{json, Value};

use super::write_atomic;
use crate::error::{Error, Result};
use crate::layers::config::unknown_key;
use crate::model::{ModelState, Sequential, TrainingState};

/// The `format` metadata value of files kiln writes.
pub const FORMAT: &str = "kiln";
/// The metadata keys of a model file (`data`: what `kiln predict` needs, the model's [`crate::model::DataSpec`]).
const METADATA_KEYS: [&str; 7] = ["format", "kiln_version", "architecture", "seed", "compile", "data", "training"];
/// The largest header safetensors readers accept (the crate's `MAX_HEADER_SIZE`).
const MAX_HEADER_BYTES: u64 = 100_000_000;
pub(crate) use crate::layers::names::OPTIMIZER_PREFIX;

/// An F32 tensor, already in little-endian bytes, for `safetensors::serialize`.
struct F32Bytes {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl F32Bytes {
    fn new(shape: &[usize], data: &[f32]) -> F32Bytes {
        F32Bytes { shape: shape.to_vec(), bytes: data.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }
}

impl View for F32Bytes {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

impl Sequential {
    /// Saves the whole model (architecture, weights, optimizer state) atomically: a crash while
    /// saving leaves the previous file intact. [`crate::io::load_model`] reads it back.
    /// A path ending in `.keras` gets Keras 3's format, `.h5` Keras 2's legacy one (weights and
    /// architecture; `keras.models.load_model` opens both), any other kiln's safetensors.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if let Some(format) = super::keras::KerasFormat::of_path(path) {
            return write_atomic(path, &super::keras::save_bytes(&self.state(false)?, path, format)?);
        }
        write_atomic(path, &self.encode(true, &[])?)
    }

    /// [`Sequential::save`] with more metadata entries; [`crate::io::read_metadata`] reads them
    /// back. A Keras file (`.keras`, `.h5`) keeps the model's data description but no other
    /// entries: check [`keeps_metadata`] first to tell the user.
    pub fn save_with_metadata(&self, path: impl AsRef<Path>, extra: &[(&str, String)]) -> Result<()> {
        let path = path.as_ref();
        if !keeps_metadata(path) {
            return self.save(path);
        }
        write_atomic(path, &self.encode(true, extra)?)
    }

    /// Saves only the weights (with the architecture as metadata, for reference), atomically.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.encode(false, &[])?)
    }

    /// The bytes [`Sequential::save`] writes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.encode(true, &[])
    }

    fn encode(&self, with_optimizer: bool, extra: &[(&str, String)]) -> Result<Vec<u8>> {
        encode(&self.state(with_optimizer)?, self.name(), extra)
    }
}

/// The `data` metadata ([`crate::model::DataSpec`] as JSON).
pub(crate) fn data_spec(path: &Path, text: &str) -> Result<crate::model::DataSpec> {
    serde_json::from_str(text).map_err(|e| Error::format(path, format!("malformed 'data' metadata: {e}")))
}

/// The safetensors bytes of a model's state; `model` names it in errors.
fn encode(state: &ModelState, model: &str, extra: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut tensors: Vec<(String, F32Bytes)> = Vec::new();
    for (name, w) in state.weights() {
        tensors.push((name, F32Bytes::new(w.shape(), w.data())));
    }
    let mut meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("kiln_version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("architecture".to_string(), state.architecture().to_string()),
        ("seed".to_string(), state.seed.to_string()),
    ]);
    if let Some(t) = state.training {
        let training = json!({
            "epochs": t.epochs,
            "shuffle_rng": t.shuffle_rng.to_string(),
            "dropout_rng": t.dropout_rng.to_string(),
        });
        meta.insert("training".into(), training.to_string());
    }
    if let Some(data) = &state.data {
        meta.insert("data".into(), serde_json::to_string(data).expect("a DataSpec is JSON"));
    }
    meta.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    if let Some(c) = &state.compile {
        let compile = json!({
            "loss": c.loss,
            "metrics": c.metrics,
            "optimizer": {"name": c.optimizer, "config": c.optimizer_config},
            "iterations": c.iterations,
        });
        meta.insert("compile".into(), compile.to_string());
        for (name, t) in &c.slots {
            tensors.push((name.clone(), F32Bytes::new(t.shape(), t.data())));
        }
    }
    let bytes = safetensors::serialize(tensors, Some(meta))
        .map_err(|e| Error::value(format!("model '{model}' could not be serialized: {e}")))?;
    // A header larger than readers accept would write a file nobody can read back.
    let header = bytes.get(..8).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    if header > MAX_HEADER_BYTES {
        return Err(Error::value(format!(
            "model '{model}' cannot be saved: its safetensors header (names and architecture) would take {header} \
             bytes, more than the {MAX_HEADER_BYTES} safetensors readers accept"
        )));
    }
    Ok(bytes)
}

/// The string metadata of a model file (`architecture`, `seed`, `data`, ...).
pub fn read_metadata(path: impl AsRef<Path>) -> Result<HashMap<String, String>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    if super::keras::KerasFormat::of_bytes(&bytes).is_some() {
        return Ok(HashMap::new()); // a Keras file carries none of kiln's entries
    }
    Ok(parse(path, &bytes)?.1)
}

/// Whether a model saved at `path` keeps extra metadata entries
/// ([`Sequential::save_with_metadata`]): safetensors files do; Keras's `.keras` and `.h5` files
/// keep the model's data description (class names, input description) and nothing more.
pub fn keeps_metadata(path: impl AsRef<Path>) -> bool {
    super::keras::KerasFormat::of_path(path.as_ref()).is_none()
}

/// Reads `path` whole; a missing file is an error naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Parses the safetensors header; truncated or corrupt files are errors naming the path.
pub(crate) fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(SafeTensors<'a>, HashMap<String, String>)> {
    use safetensors::SafeTensorError as E;
    let bad = |e: E| {
        let hint = match e {
            E::InvalidHeaderLength | E::MetadataIncompleteBuffer => " (the file is truncated or corrupt)",
            _ => "",
        };
        Error::format(path, format!("not a valid safetensors file: {e}{hint}"))
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let meta = header.metadata().clone().unwrap_or_default();
    Ok((SafeTensors::deserialize(bytes).map_err(bad)?, meta))
}

/// The `training` metadata: `{"epochs": 2, "shuffle_rng": "1234", "dropout_rng": "0"}`, stream
/// positions as decimal strings (JSON numbers cannot hold 128 bits exactly).
pub(crate) fn training_state(path: &Path, text: &str) -> Result<TrainingState> {
    let bad = |why: &str| Error::format(path, format!("malformed 'training' metadata ({why}): '{text}'"));
    let state: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let epochs = state.get("epochs").and_then(Value::as_u64).ok_or_else(|| bad("epochs"))?;
    let position =
        |key: &str| state.get(key).and_then(Value::as_str).and_then(|s| s.parse::<u128>().ok()).ok_or_else(|| bad(key));
    let (shuffle_rng, dropout_rng) = (position("shuffle_rng")?, position("dropout_rng")?);
    let epochs = usize::try_from(epochs).map_err(|_| bad("epochs"))?;
    Ok(TrainingState { epochs, shuffle_rng, dropout_rng })
}

/// The architecture from the metadata, built when its input shape is known.
pub(crate) fn architecture(path: &Path, meta: &HashMap<String, String>) -> Result<Sequential> {
    Sequential::from_json(&architecture_json(path, meta)?).map_err(|e| Error::format(path, e.to_string()))
}

/// The architecture JSON of the metadata, after checking the metadata's keys and format.
pub(crate) fn architecture_json(path: &Path, meta: &HashMap<String, String>) -> Result<Value> {
    let mut keys: Vec<&String> = meta.keys().collect();
    keys.sort();
    if let Some(key) = keys.into_iter().find(|k| !METADATA_KEYS.contains(&k.as_str())) {
        return Err(Error::format(path, format!("metadata: {}", unknown_key(key, &METADATA_KEYS))));
    }
    if let Some(format) = meta.get("format").filter(|f| *f != FORMAT) {
        return Err(Error::format(path, format!("metadata: expected format={FORMAT}, received format={format}")));
    }
    let text = meta
        .get("architecture")
        .ok_or_else(|| Error::format(path, "not a kiln model file: no 'architecture' metadata"))?;
    serde_json::from_str(text).map_err(|e| Error::format(path, format!("malformed 'architecture' metadata: {e}")))
}

/// A tensor's values; anything but F32 is an error naming the tensor and its dtype.
pub(crate) fn f32_values(path: &Path, name: &str, view: &safetensors::tensor::TensorView) -> Result<Vec<f32>> {
    if view.dtype() != Dtype::F32 {
        return Err(Error::format(
            path,
            format!("tensor '{name}' has dtype {}; kiln reads F32 tensors only", view.dtype()),
        ));
    }
    Ok(view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}
