//! Reading model files written by [`super::model_file`]: whole models, weights into a built
//! model, and architectures (from a model file or a plain JSON file).
//!
//! A loaded model gets back its seed, the epochs it trained and its random streams' positions:
//! a `fit` continued from it with `initial_epoch` = [`Sequential::epochs_trained`] gives the
//! weights a `fit` that never stopped gives. Files written before this carry no `training`
//! metadata: such a model restarts the seed's streams.

use std::collections::HashMap;
use std::path::Path;

use std::borrow::Cow;

use safetensors::SafeTensors;
use serde_json::Value;

use super::model_file::{
    architecture, architecture_json, data_spec, f32_values, parse, read_file, training_state, OPTIMIZER_PREFIX,
};
use crate::error::{Error, Result};
use crate::layers::config::unknown_key;
use crate::model::{CompileState, ModelState, Sequential};
use crate::tensor::Tensor;

/// Loads a model saved with [`Sequential::save`] (or a Keras `.keras`/`.h5` model file, by its
/// first bytes): architecture, weights, and (when it was
/// compiled) its loss, metrics, optimizer and optimizer state, so training continues where it
/// stopped.
///
/// ```
/// use kiln::layers::Dense;
/// use kiln::model::{Compile, Sequential};
///
/// let mut model = Sequential::new();
/// model.add(Dense::new(2).name("hidden").input_shape(&[3]));
/// model.compile(Compile::new("mse").optimizer("adam"))?;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("model.safetensors");
/// model.save(&path)?;
/// let loaded = kiln::io::load_model(&path)?;
/// assert_eq!(loaded.weights_sha256(), model.weights_sha256());
/// assert_eq!(loaded.weights()[0].0, "hidden.kernel");
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn load_model(path: impl AsRef<Path>) -> Result<Sequential> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    if let Some(model) = super::keras::load(path, &bytes)? {
        return Ok(model);
    }
    let (file, meta) = parse(path, &bytes)?;
    let architecture = architecture_json(path, &meta)?;
    let seed = match meta.get("seed") {
        Some(seed) => seed.parse().map_err(|_| Error::format(path, format!("malformed 'seed' metadata: '{seed}'")))?,
        None => 0,
    };
    let training = meta.get("training").map(|text| training_state(path, text)).transpose()?;
    let (weights, slots) = read_tensors(path, &file)?;
    let compile = meta.get("compile").map(|text| compile_state(path, text, slots)).transpose()?;
    let data = meta.get("data").map(|text| data_spec(path, text)).transpose()?;
    let in_file = |e: Error| Error::format(path, e.to_string());
    let mut state = ModelState::of_architecture(&architecture).map_err(in_file)?;
    state.set_named_weights(weights).map_err(in_file)?;
    let state = ModelState { seed, training, compile, data, ..state };
    let model = Sequential::from_state(state).map_err(in_file)?;
    if let Some(warning) = non_finite_warning(path, &model) {
        crate::errln!("{warning}");
    }
    Ok(model)
}

/// The warning [`load_model`] prints for a model with NaN or infinite weights (a run that
/// diverged and was saved anyway): every such tensor, by name.
pub fn non_finite_warning(path: &Path, model: &Sequential) -> Option<String> {
    let bad = model.non_finite_weights();
    if bad.is_empty() {
        return None;
    }
    let sizes: std::collections::HashMap<String, usize> =
        model.weights().into_iter().map(|(name, w)| (name, w.len())).collect();
    let list: Vec<String> = bad.iter().map(|(name, n)| format!("'{name}' ({n} of {} values)", sizes[name])).collect();
    Some(format!(
        "WARNING: {}: non-finite weights (NaN or infinity) in {}; the model's outputs will not be numbers",
        path.display(),
        list.join(", ")
    ))
}

/// Reads an architecture for `kiln train --model FILE`: a file holding the JSON of
/// [`Sequential::to_json`], or a saved model file (only its architecture is read). The model is
/// built (fresh weights from seed 0) when the architecture gives its input shape.
pub fn read_architecture(path: impl AsRef<Path>) -> Result<Sequential> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    if let Some(model) = super::keras::load(path, &bytes)? {
        return Ok(model);
    }
    match parse(path, &bytes) {
        Ok((_, meta)) => architecture(path, &meta),
        Err(e) => {
            let st_err = match e {
                Error::Format { message, .. } => message,
                other => other.to_string(),
            };
            if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(Error::format(
                    path,
                    format!("neither a JSON model architecture nor a safetensors model file ({st_err})"),
                ));
            }
            let json: Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::format(path, format!("invalid JSON model architecture: {e}")))?;
            Sequential::from_json(&json).map_err(|e| Error::format(path, e.to_string()))
        }
    }
}

impl Sequential {
    /// Loads weights saved with [`Sequential::save_weights`] or [`Sequential::save`] into this
    /// model, by name: every weight must be in the file with the same shape, and the file may
    /// hold no other weights. Nothing changes unless everything fits.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if !self.is_built() {
            let shape = self.input_shape().map(<[usize]>::to_vec).ok_or_else(|| {
                Error::value(format!(
                    "model '{}' is not built: build it, or give its first layer an input_shape, before loading weights",
                    self.name()
                ))
            })?;
            self.build(&shape)?;
        }
        let bytes = read_file(path)?;
        let (file, _) = parse(path, &bytes)?;
        let (weights, _) = read_tensors(path, &file)?;
        self.set_named_weights(weights).map_err(|e| Error::format(path, e.to_string()))
    }
}

/// The tensors of a model file: the weights by dotted name, and the optimizer's state
/// (`optimizer.hidden.kernel.m`).
type Tensors = (HashMap<String, Tensor>, Vec<(String, Cow<'static, Tensor>)>);

/// Every tensor of `file`, as weights and optimizer state; anything but F32 is an error.
fn read_tensors(path: &Path, file: &SafeTensors) -> Result<Tensors> {
    let (mut weights, mut slots) = (HashMap::new(), Vec::new());
    for name in file.names() {
        let view = file.tensor(name).map_err(|e| Error::format(path, format!("tensor '{name}': {e}")))?;
        let t = Tensor::from_vec(view.shape(), f32_values(path, name, &view)?)?;
        match name.starts_with(OPTIMIZER_PREFIX) {
            true => slots.push((name.to_string(), Cow::Owned(t))),
            false => drop(weights.insert(name.to_string(), t)),
        }
    }
    Ok((weights, slots))
}

/// The `compile` metadata, `{"loss", "metrics", "optimizer": {"name", "config"}, "iterations"}`,
/// with the optimizer-state tensors of the file.
fn compile_state<'a>(path: &Path, text: &str, slots: Vec<(String, Cow<'a, Tensor>)>) -> Result<CompileState<'a>> {
    let bad = |what: &str| Error::format(path, format!("malformed 'compile' metadata: {what}"));
    let compile: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let keys = |v: &Value, valid: &[&str]| match v.as_object() {
        None => Err(bad(&format!("expected a JSON object, received {v}"))),
        Some(map) => {
            map.keys().find(|k| !valid.contains(&k.as_str())).map_or(Ok(()), |k| Err(bad(&unknown_key(k, valid))))
        }
    };
    keys(&compile, &["loss", "metrics", "optimizer", "iterations"])?;
    let loss = compile.get("loss").and_then(Value::as_str).ok_or_else(|| bad("no 'loss'"))?;
    let metrics: Vec<String> = match compile.get("metrics") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(|m| m.as_str().map(str::to_string)).collect())
            .ok_or_else(|| bad("'metrics' must be a list of strings"))?,
    };
    let opt = compile.get("optimizer").ok_or_else(|| bad("no 'optimizer'"))?;
    keys(opt, &["name", "config"])?;
    let name = opt.get("name").and_then(Value::as_str).ok_or_else(|| bad("no optimizer 'name'"))?;
    let config = opt.get("config").cloned().unwrap_or(Value::Null);
    let iterations = compile.get("iterations").map_or(Some(0), Value::as_u64).ok_or_else(|| bad("bad 'iterations'"))?;
    Ok(CompileState {
        loss: loss.to_string(),
        metrics,
        optimizer: name.to_string(),
        optimizer_config: config,
        iterations,
        slots,
    })
}
