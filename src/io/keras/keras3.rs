//! Keras 3's `.keras` file: a zip of `metadata.json`, `config.json` (the model config) and
//! `model.weights.h5`, whose weights live at `layers/<key>/vars/<i>`: `<key>` is the layer's
//! class in snake case, numbered among layers of its class (`conv2d`, `conv2d_1`), and `<i>`
//! counts the layer's weights in Keras's order. A recurrent layer keeps them in its cell:
//! `layers/lstm/cell/vars/<i>`. kiln adds the model's data description to `metadata.json`
//! (`kiln_data`).

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use serde_json::{json, Value};

use super::config::{from_keras, to_keras};
use super::h5::H5;
use super::{cell_name, data_spec, state_from_architecture, DATA_KEY, KERAS_VERSION};
use crate::error::{Error, Result};
use crate::layers::names::{base_name, param_name};
use crate::model::{DataSpec, LayerState, ModelState};

/// The zip magic every `.keras` file starts with.
pub(crate) const SIGNATURE: &[u8] = b"PK\x03\x04";

/// `layers/conv2d_1`: where a layer's state lives in `model.weights.h5`.
fn layer_keys(layers: &[LayerState]) -> Vec<String> {
    let mut used: HashMap<String, usize> = HashMap::new();
    layers
        .iter()
        .map(|l| {
            let base = base_name(&l.class);
            let n = used.entry(base.clone()).and_modify(|n| *n += 1).or_insert(0);
            if *n == 0 {
                format!("layers/{base}")
            } else {
                format!("layers/{base}_{n}")
            }
        })
        .collect()
}

fn entry(path: &Path, zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>> {
    let mut file =
        zip.by_name(name).map_err(|e| Error::format(path, format!("no '{name}' in the .keras archive: {e}")))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)
        .map_err(|e| Error::format(path, format!("'{name}' in the .keras archive is truncated or corrupt: {e}")))?;
    Ok(out)
}

/// The data description in `metadata.json`, when the archive has one that holds it.
fn read_data(path: &Path, zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<Option<DataSpec>> {
    if zip.index_for_name("metadata.json").is_none() {
        return Ok(None);
    }
    let mut metadata: Value = serde_json::from_slice(&entry(path, zip, "metadata.json")?)
        .map_err(|e| Error::format(path, format!("metadata.json is not valid JSON: {e}")))?;
    match metadata.get_mut(DATA_KEY) {
        Some(v) => data_spec(path, "metadata.json", v.take()).map(Some),
        None => Ok(None),
    }
}

/// Reads a `.keras` file's model: architecture and weights, and whether it holds an optimizer.
pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<(ModelState<'static>, bool)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::format(path, format!("not a valid .keras file (a zip archive; truncated or corrupt?): {e}"))
    })?;
    let config: Value = serde_json::from_slice(&entry(path, &mut zip, "config.json")?)
        .map_err(|e| Error::format(path, format!("config.json is not valid JSON: {e}")))?;
    let weights = entry(path, &mut zip, "model.weights.h5")?;
    let mut state = state_from_architecture(path, &from_keras(&config, &path.display().to_string())?)?;
    state.data = read_data(path, &mut zip)?;

    let dir = tempfile::tempdir().map_err(|e| Error::io(path, e))?;
    let h5_path = dir.path().join("model.weights.h5");
    std::fs::write(&h5_path, &weights).map_err(|e| Error::io(&h5_path, e))?;
    let h5 = H5::open(&h5_path, path)?;
    let mut named = HashMap::new();
    for (layer, key) in state.layers.iter().zip(layer_keys(&state.layers)) {
        let vars = match cell_name(&layer.class) {
            Some(_) => format!("{key}/cell/vars"),
            None => format!("{key}/vars"),
        };
        let stored = if h5.has(&key) && h5.has(&vars) {
            h5.group(&vars)?.member_names().map_err(|e| h5.err(e))?.len()
        } else {
            0
        };
        if stored != layer.weights.len() {
            return Err(h5.err(format!(
                "layer '{}' ({}) has {} weights in kiln but {stored} in model.weights.h5 at '{vars}'",
                layer.name,
                layer.class,
                layer.weights.len()
            )));
        }
        for (i, (name, _)) in layer.weights.iter().enumerate() {
            named.insert(param_name(&layer.name, name), h5.tensor(&format!("{vars}/{i}"))?);
        }
    }
    state.set_named_weights(named).map_err(|e| Error::format(path, e.to_string()))?;
    let has_optimizer = h5.has("optimizer") || config.get("compile_config").is_some_and(|c| !c.is_null());
    Ok((state, has_optimizer))
}

/// The bytes of a `.keras` file holding a built model's `state`.
pub(crate) fn write(state: &ModelState, path: &Path) -> Result<Vec<u8>> {
    let input_shape = state.built_input_shape()?;
    let dir = tempfile::tempdir().map_err(|e| Error::io(path, e))?;
    let h5_path = dir.path().join("model.weights.h5");
    {
        let h5 = H5::create(&h5_path, path)?;
        let root = &h5.file;
        let layers = h5.create_group(root, "layers")?;
        for (layer, key) in state.layers.iter().zip(layer_keys(&state.layers)) {
            let group = h5.create_group(&layers, key.trim_start_matches("layers/"))?;
            let mut vars = h5.create_group(&group, "vars")?;
            h5.write_string(&vars, "name", &layer.name)?;
            if let Some(cell) = cell_name(&layer.class) {
                vars = h5.create_group(&h5.create_group(&group, "cell")?, "vars")?;
                h5.write_string(&vars, "name", cell)?;
            }
            for (i, (_, t)) in layer.weights.iter().enumerate() {
                h5.write_tensor(&vars, &i.to_string(), t)?;
            }
        }
        let vars = h5.create_group(root, "vars")?;
        h5.write_string(&vars, "name", &state.name)?;
    }
    let weights = std::fs::read(&h5_path).map_err(|e| Error::io(&h5_path, e))?;
    let mut metadata = json!({"keras_version": KERAS_VERSION, "date_saved": "kiln"});
    if let Some(data) = &state.data {
        metadata[DATA_KEY] = serde_json::to_value(data).expect("a DataSpec is JSON");
    }
    let config = to_keras(state, input_shape);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let fail = |e: &dyn std::fmt::Display| Error::format(path, format!("cannot write the .keras archive: {e}"));
    for (name, bytes) in [
        ("metadata.json", metadata.to_string().into_bytes()),
        ("config.json", config.to_string().into_bytes()),
        ("model.weights.h5", weights),
    ] {
        zip.start_file(name, options).map_err(|e| fail(&e))?;
        zip.write_all(&bytes).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}
