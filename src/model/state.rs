//! [`ModelState`]: everything a saved model holds, as one value. The model makes it
//! ([`Sequential::state`]) and is rebuilt from it ([`Sequential::from_state`]); `io` turns it
//! into files and back, so the file formats never reach into the model.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::{Compile, DataSpec, Sequential};
use crate::error::{Error, Result};
use crate::layers::names::{param_name, slot_name};
use crate::optimizers::{self, OptimizerState};
use crate::tensor::{shape_str, Tensor};

/// A model as a value: architecture, named weights, seed, training progress and, for a compiled
/// model, its loss, metrics, optimizer and optimizer state.
pub struct ModelState<'a> {
    /// The architecture, as [`Sequential::to_json`] writes it.
    pub architecture: Value,
    /// Every weight by its dotted name (`hidden.kernel`), in layer order.
    pub weights: Vec<(String, Cow<'a, Tensor>)>,
    /// The seed of weight initialisation, shuffling and dropout.
    pub seed: u64,
    /// Epochs trained and the random streams' positions (None: a fresh start).
    pub training: Option<TrainingState>,
    /// What `compile` settled, when the model was compiled (and saved whole).
    pub compile: Option<CompileState<'a>>,
    /// What the model was trained on ([`Sequential::set_data_spec`]); None in files that lack it.
    pub data: Option<DataSpec>,
}

/// How far training went: epochs ended and where the shuffle and dropout streams stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingState {
    /// Epochs `fit` has ended (Keras's `initial_epoch` of a run that continues).
    pub epochs: usize,
    /// The shuffle stream's position, in 32-bit words.
    pub shuffle_rng: u128,
    /// The dropout stream's position, in 32-bit words.
    pub dropout_rng: u128,
}

/// A compiled model's loss, metrics, optimizer and optimizer state.
pub struct CompileState<'a> {
    /// The loss, as compile takes it.
    pub loss: String,
    /// The metrics, as compile takes them.
    pub metrics: Vec<String>,
    /// The optimizer's name ("adam").
    pub optimizer: String,
    /// The optimizer's config ([`crate::optimizers::Optimizer::config`]).
    pub optimizer_config: Value,
    /// Steps taken (Keras's `iterations`).
    pub iterations: u64,
    /// The optimizer's state vectors by name (`optimizer.hidden.kernel.m`, see
    /// [`crate::layers::names::slot_name`]); none before the first step.
    pub slots: Vec<(String, Cow<'a, Tensor>)>,
}

impl Sequential {
    /// The model as a value, borrowing its weights; `with_optimizer` adds the compile settings
    /// and the optimizer's state.
    pub fn state(&self, with_optimizer: bool) -> Result<ModelState<'_>> {
        let weights = self.weights().into_iter().map(|(n, w)| (n, Cow::Borrowed(w))).collect();
        let training = TrainingState {
            epochs: self.epochs_trained,
            shuffle_rng: self.shuffle_rng.get_word_pos(),
            dropout_rng: self.dropout_rng.get_word_pos(),
        };
        let compile = match (with_optimizer, self.compiled.as_ref()) {
            (true, Some(c)) => {
                let slot_names = c.optimizer.slot_names();
                let mut slots = Vec::new();
                for (index, (name, shape)) in self.trainable_params().into_iter().enumerate() {
                    let Some(state) = c.state.slots.get(index).filter(|s| !s.is_empty()) else { continue };
                    let n: usize = shape.iter().product();
                    if state.len() != slot_names.len() || state.iter().any(|s| s.len() != n) {
                        return Err(Error::value(format!(
                            "the optimizer state of '{name}' does not fit the parameter; cannot save it"
                        )));
                    }
                    for (slot, values) in slot_names.iter().zip(state) {
                        let t = Tensor::from_vec(&shape, values.clone())?;
                        slots.push((slot_name(&name, slot), Cow::Owned(t)));
                    }
                }
                Some(CompileState {
                    loss: c.loss.name().to_string(),
                    metrics: c.metric.map(|m| m.compile_name(c.loss).to_string()).into_iter().collect(),
                    optimizer: c.optimizer.name().to_string(),
                    optimizer_config: c.optimizer.config(),
                    iterations: c.state.iterations,
                    slots,
                })
            }
            _ => None,
        };
        let data = self.data_spec.clone();
        Ok(ModelState {
            architecture: self.to_json(),
            weights,
            seed: self.seed,
            training: Some(training),
            compile,
            data,
        })
    }

    /// Rebuilds a model from [`Sequential::state`]'s value: architecture (built when its input
    /// shape is known), weights (each one the model has, with its shape, and no other), seed,
    /// training progress, and compile settings with the optimizer's state.
    pub fn from_state(state: ModelState) -> Result<Sequential> {
        let mut model = Sequential::from_json(&state.architecture)?;
        model.set_seed(state.seed);
        model.data_spec = state.data;
        if let Some(t) = state.training {
            model.epochs_trained = t.epochs;
            model.shuffle_rng.set_word_pos(t.shuffle_rng);
            model.dropout_rng.set_word_pos(t.dropout_rng);
        }
        if !model.is_built() && !model.layers.is_empty() {
            if !state.weights.is_empty() {
                return Err(Error::value("the architecture has no input_shape, so its weights cannot be placed"));
            }
        } else {
            model.set_named_weights(state.weights.into_iter().map(|(n, w)| (n, w.into_owned())).collect())?;
        }
        if let Some(c) = state.compile {
            model.restore_compile(c)?;
        }
        Ok(model)
    }

    /// Sets every weight from `weights` (keyed `layer.param`), after checking that each is there
    /// with the model's shape and that none is left over. Nothing changes unless all fit.
    pub fn set_named_weights(&mut self, mut weights: HashMap<String, Tensor>) -> Result<()> {
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for (name, w) in self.weights() {
            match weights.remove(&name) {
                Some(t) if t.shape() != w.shape() => {
                    return Err(Error::value(format!(
                        "weight '{name}' has shape {} in the model but {} in the file",
                        shape_str(w.shape()),
                        shape_str(t.shape())
                    )))
                }
                Some(t) => values.push(t),
                None => missing.push(format!("'{name}'")),
            }
        }
        if !missing.is_empty() {
            return Err(Error::value(format!("the file lacks weights of the model: {}", missing.join(", "))));
        }
        if !weights.is_empty() {
            let mut extra: Vec<String> = weights.keys().map(|n| format!("'{n}'")).collect();
            extra.sort();
            return Err(Error::value(format!("the file has weights the model lacks: {}", extra.join(", "))));
        }
        self.set_weights(&values)
    }

    /// Names (`hidden.kernel`) and shapes of the trainable parameters, in optimizer-state order.
    pub(crate) fn trainable_params(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for layer in &self.layers {
            for p in layer.params().into_iter().filter(|p| p.trainable) {
                out.push((param_name(layer.name(), p.name), p.value.shape().to_vec()));
            }
        }
        out
    }

    /// Compiles as `c` says and restores the optimizer's state.
    fn restore_compile(&mut self, c: CompileState) -> Result<()> {
        let optimizer = optimizers::from_config(&c.optimizer, &c.optimizer_config)?;
        let (name, slot_names) = (optimizer.name(), optimizer.slot_names());
        let metrics: Vec<&str> = c.metrics.iter().map(String::as_str).collect();
        self.compile(Compile::new(&c.loss).metrics(&metrics).optimizer_boxed(optimizer))?;
        let stored = c.slots.len();
        let mut by_name: HashMap<String, Cow<Tensor>> = c.slots.into_iter().collect();
        let (mut used, mut slots) = (0, Vec::new());
        for (param, shape) in self.trainable_params() {
            let mut found = Vec::new();
            for slot in slot_names {
                let key = slot_name(&param, slot);
                match by_name.remove(&key) {
                    Some(t) if t.shape() != shape.as_slice() => {
                        return Err(Error::value(format!(
                            "optimizer state '{key}' has shape {} in the file but the weight has shape {}",
                            shape_str(t.shape()),
                            shape_str(&shape)
                        )))
                    }
                    Some(t) => found.push(t.data().to_vec()),
                    None => {}
                }
            }
            // Every step updates every trainable parameter, so after one there is state for each.
            if (c.iterations > 0 || !found.is_empty()) && found.len() != slot_names.len() {
                let want: Vec<String> = slot_names.iter().map(|s| format!("'{}'", slot_name(&param, s))).collect();
                let what = match (found.len(), c.iterations) {
                    (0, 1) => "missing optimizer state after 1 step".to_string(),
                    (0, n) => format!("missing optimizer state after {n} steps"),
                    _ => "incomplete optimizer state".to_string(),
                };
                return Err(Error::value(format!("{what}: expected {}", want.join(", "))));
            }
            used += found.len();
            slots.push(found);
        }
        if stored != used {
            return Err(Error::value(format!(
                "the file holds {stored} optimizer-state tensors, of which {used} fit the model's {name} optimizer"
            )));
        }
        *self.optimizer_state_mut().expect("compiled above") = OptimizerState { iterations: c.iterations, slots };
        Ok(())
    }
}
