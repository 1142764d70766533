//! Keras 2's legacy `.h5` model file (Keras 3 still writes it): the model config as the root's
//! `model_config` attribute, the weights under `model_weights/<layer>/`, listed in order by the
//! layer group's `weight_names` attribute (`<model>/<layer>/kernel`; a recurrent layer's are
//! in its cell, `<model>/lstm/lstm_cell/kernel`). kiln adds the model's data description as the
//! root's `kiln_data` attribute.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::config::{from_keras, to_keras};
use super::h5::H5;
use super::{cell_name, data_spec, state_from_architecture, DATA_KEY, KERAS_VERSION};
use crate::error::{Error, Result};
use crate::layers::names::param_name;
use crate::model::ModelState;

/// Reads a legacy `.h5` model file: architecture and weights, and whether it holds an optimizer.
pub(crate) fn read(path: &Path) -> Result<(ModelState<'static>, bool)> {
    let h5 = H5::open(path, path)?;
    let text = h5.strings(&h5.file, "model_config")?.and_then(|s| s.into_iter().next()).ok_or_else(|| {
        h5.err("not a Keras model file: no 'model_config' attribute (a weights-only file holds no architecture)")
    })?;
    let config: Value = serde_json::from_str(&text)
        .map_err(|e| h5.err(format!("the 'model_config' attribute is not valid JSON: {e}")))?;
    let mut state = state_from_architecture(path, &from_keras(&config, &path.display().to_string())?)?;
    let mut named = HashMap::new();
    for layer in state.layers.iter().filter(|l| !l.weights.is_empty()) {
        let group_name = format!("model_weights/{}", layer.name);
        if !h5.has("model_weights") || !h5.has(&group_name) {
            return Err(h5.err(format!("no weights for layer '{}': group '{group_name}' is missing", layer.name)));
        }
        let group = h5.group(&group_name)?;
        let names = h5.strings(&group, "weight_names")?.unwrap_or_default();
        if names.len() != layer.weights.len() {
            return Err(h5.err(format!(
                "layer '{}' ({}) has {} weights in kiln but {} in '{group_name}'",
                layer.name,
                layer.class,
                layer.weights.len(),
                names.len()
            )));
        }
        for ((name, _), stored) in layer.weights.iter().zip(&names) {
            named.insert(param_name(&layer.name, name), h5.tensor(&format!("{group_name}/{stored}"))?);
        }
    }
    state.set_named_weights(named).map_err(|e| Error::format(path, e.to_string()))?;
    if let Some(text) = h5.strings(&h5.file, DATA_KEY)?.and_then(|s| s.into_iter().next()) {
        let place = format!("the '{DATA_KEY}' attribute");
        let value = serde_json::from_str(&text).map_err(|e| h5.err(format!("{place} is not valid JSON: {e}")))?;
        state.data = Some(data_spec(path, &place, value)?);
    }
    Ok((state, h5.has("optimizer_weights") || h5.strings(&h5.file, "training_config")?.is_some()))
}

/// The model config in the legacy attribute's style (no `module` keys).
fn legacy_config(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("module");
            map.remove("registered_name");
            for item in map.values_mut() {
                *item = legacy_config(item.take());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| *i = legacy_config(i.take())),
        _ => {}
    }
    v
}

/// The bytes of a legacy `.h5` file holding a built model's `state`.
pub(crate) fn write(state: &ModelState, path: &Path) -> Result<Vec<u8>> {
    let input_shape = state.built_input_shape()?;
    let dir = tempfile::tempdir().map_err(|e| Error::io(path, e))?;
    let tmp = dir.path().join("model.h5");
    {
        let h5 = H5::create(&tmp, path)?;
        let root = &h5.file;
        h5.write_string(root, "backend", "tensorflow")?;
        h5.write_string(root, "keras_version", KERAS_VERSION)?;
        h5.write_string(root, "model_config", &legacy_config(to_keras(state, input_shape)).to_string())?;
        if let Some(data) = &state.data {
            h5.write_string(root, DATA_KEY, &serde_json::to_string(data).expect("a DataSpec is JSON"))?;
        }
        let weights = h5.create_group(root, "model_weights")?;
        h5.write_string(&weights, "backend", "tensorflow")?;
        h5.write_string(&weights, "keras_version", KERAS_VERSION)?;
        let names: Vec<String> = state.layers.iter().map(|l| l.name.clone()).collect();
        h5.write_strings(&weights, "layer_names", &names)?;
        for layer in &state.layers {
            let group = h5.create_group(&weights, &layer.name)?;
            // A recurrent layer's weights sit one level deeper, in its cell: `lstm/lstm_cell/kernel`.
            let owner = match cell_name(&layer.class) {
                Some(cell) => format!("{}/{cell}", layer.name),
                None => layer.name.clone(),
            };
            let stored: Vec<String> =
                layer.weights.iter().map(|(n, _)| format!("{}/{owner}/{n}", state.name)).collect();
            h5.write_strings(&group, "weight_names", &stored)?;
            if !layer.weights.is_empty() {
                let mut inner = h5.create_group(&h5.create_group(&group, &state.name)?, &layer.name)?;
                if let Some(cell) = cell_name(&layer.class) {
                    inner = h5.create_group(&inner, cell)?;
                }
                for (name, t) in &layer.weights {
                    h5.write_tensor(&inner, name, t)?;
                }
            }
        }
    }
    std::fs::read(&tmp).map_err(|e| Error::io(&tmp, e))
}
