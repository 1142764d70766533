//! Reading model files written by [`super::model_file`]: whole models, weights into a built
//! model, and architectures (from a model file or a plain JSON file).
//!
//! A loaded model gets back its seed, the epochs it trained and its random streams' positions:
//! a `fit` continued from it with `initial_epoch` = [`Sequential::epochs_trained`] gives the
//! weights a `fit` that never stopped gives. Files written before this carry no `training`
//! metadata: such a model restarts the seed's streams.

use std::collections::HashSet;
use std::path::Path;

use safetensors::{SafeTensorError, SafeTensors};
use serde_json::Value;

use super::model_file::{architecture, f32_values, parse, read_file, OPTIMIZER_PREFIX};
use crate::error::{Error, Result};
use crate::layers::config::unknown_key;
use crate::model::{Compile, Sequential};
use crate::optimizers::{self, OptimizerState};
use crate::tensor::{shape_str, Tensor};

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
    let mut model = architecture(path, &meta)?;
    if let Some(seed) = meta.get("seed") {
        let seed = seed.parse().map_err(|_| Error::format(path, format!("malformed 'seed' metadata: '{seed}'")))?;
        model.set_seed(seed);
    }
    if let Some(text) = meta.get("training") {
        model.restore_training_state(&path.display().to_string(), text)?;
    }
    if !model.is_built() && !model.layers.is_empty() {
        if file.names().iter().any(|n| !n.starts_with(OPTIMIZER_PREFIX)) {
            return Err(Error::format(path, "the architecture has no input_shape, so its weights cannot be placed"));
        }
    } else {
        assign_weights(path, &mut model, &file)?;
    }
    if let Some(text) = meta.get("compile") {
        let compile = serde_json::from_str(text)
            .map_err(|e| Error::format(path, format!("malformed 'compile' metadata: {e}")))?;
        restore_compile(path, &mut model, &file, &compile)?;
    }
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
            let shape = self.input_shape.clone().ok_or_else(|| {
                Error::value(format!(
                    "model '{}' is not built: build it, or give its first layer an input_shape, before loading weights",
                    self.name
                ))
            })?;
            self.build(&shape)?;
        }
        let bytes = read_file(path)?;
        let (file, _) = parse(path, &bytes)?;
        assign_weights(path, self, &file)
    }
}

/// Sets every weight of `model` from the tensor of the same name, after checking them all.
fn assign_weights(path: &Path, model: &mut Sequential, file: &SafeTensors) -> Result<()> {
    let mut values = Vec::new();
    let mut missing = Vec::new();
    let expected: Vec<(String, Vec<usize>)> =
        model.weights().into_iter().map(|(n, w)| (n, w.shape().to_vec())).collect();
    for (name, shape) in &expected {
        match file.tensor(name) {
            Ok(view) if view.shape() != shape.as_slice() => {
                return Err(Error::format(
                    path,
                    format!(
                        "weight '{name}' has shape {} in the model but {} in the file",
                        shape_str(shape),
                        shape_str(view.shape())
                    ),
                ))
            }
            Ok(view) => values.push(Tensor::from_vec(shape, f32_values(path, name, &view)?)?),
            Err(SafeTensorError::TensorNotFound(_)) => missing.push(format!("'{name}'")),
            Err(e) => return Err(Error::format(path, format!("tensor '{name}': {e}"))),
        }
    }
    if !missing.is_empty() {
        return Err(Error::format(path, format!("the file lacks weights of the model: {}", missing.join(", "))));
    }
    let known: HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let mut extra: Vec<String> = file
        .names()
        .into_iter()
        .filter(|n| !n.starts_with(OPTIMIZER_PREFIX) && !known.contains(n))
        .map(|n| format!("'{n}'"))
        .collect();
    if !extra.is_empty() {
        extra.sort();
        return Err(Error::format(path, format!("the file has weights the model lacks: {}", extra.join(", "))));
    }
    model.set_weights(&values)
}

/// Compiles `model` as the `compile` metadata says and restores the optimizer's state.
fn restore_compile(path: &Path, model: &mut Sequential, file: &SafeTensors, compile: &Value) -> Result<()> {
    let bad = |what: &str| Error::format(path, format!("malformed 'compile' metadata: {what}"));
    let keys = |v: &Value, valid: &[&str]| match v.as_object() {
        None => Err(bad(&format!("expected a JSON object, received {v}"))),
        Some(map) => {
            map.keys().find(|k| !valid.contains(&k.as_str())).map_or(Ok(()), |k| Err(bad(&unknown_key(k, valid))))
        }
    };
    keys(compile, &["loss", "metrics", "optimizer", "iterations"])?;
    let loss = compile.get("loss").and_then(Value::as_str).ok_or_else(|| bad("no 'loss'"))?;
    let metrics: Vec<&str> = match compile.get("metrics") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect())
            .ok_or_else(|| bad("'metrics' must be a list of strings"))?,
    };
    let opt = compile.get("optimizer").ok_or_else(|| bad("no 'optimizer'"))?;
    keys(opt, &["name", "config"])?;
    let name = opt.get("name").and_then(Value::as_str).ok_or_else(|| bad("no optimizer 'name'"))?;
    let config = opt.get("config").cloned().unwrap_or(Value::Null);
    let iterations = compile.get("iterations").map_or(Some(0), Value::as_u64).ok_or_else(|| bad("bad 'iterations'"))?;
    let with_path = |e: Error| Error::format(path, e.to_string());
    let optimizer = optimizers::from_config(name, &config).map_err(with_path)?;
    let slot_names = optimizer.slot_names();
    model.compile(Compile::new(loss).metrics(&metrics).optimizer_boxed(optimizer)).map_err(with_path)?;

    let mut used = 0;
    let mut slots = Vec::new();
    for (param, shape) in model.trainable_params() {
        let mut found = Vec::new();
        for slot in slot_names {
            let key = format!("{OPTIMIZER_PREFIX}{param}.{slot}");
            match file.tensor(&key) {
                Ok(view) if view.shape() != shape.as_slice() => {
                    return Err(Error::format(
                        path,
                        format!(
                            "optimizer state '{key}' has shape {} in the file but the weight has shape {}",
                            shape_str(view.shape()),
                            shape_str(&shape)
                        ),
                    ))
                }
                Ok(view) => found.push(f32_values(path, &key, &view)?),
                Err(SafeTensorError::TensorNotFound(_)) => {}
                Err(e) => return Err(Error::format(path, format!("tensor '{key}': {e}"))),
            }
        }
        // Every step updates every trainable parameter, so after one there is state for each.
        if (iterations > 0 || !found.is_empty()) && found.len() != slot_names.len() {
            let want = slot_names.iter().map(|s| format!("'{OPTIMIZER_PREFIX}{param}.{s}'")).collect::<Vec<_>>();
            let what = match found.len() {
                0 => {
                    format!("missing optimizer state after {iterations} step{}", if iterations == 1 { "" } else { "s" })
                }
                _ => "incomplete optimizer state".to_string(),
            };
            return Err(Error::format(path, format!("{what}: expected {}", want.join(", "))));
        }
        used += found.len();
        slots.push(found);
    }
    let stored = file.names().iter().filter(|n| n.starts_with(OPTIMIZER_PREFIX)).count();
    if stored != used {
        return Err(Error::format(
            path,
            format!(
                "the file holds {stored} optimizer-state tensors, of which {used} fit the model's {name} optimizer"
            ),
        ));
    }
    *model.optimizer_state_mut().expect("compiled above") = OptimizerState { iterations, slots };
    Ok(())
}
