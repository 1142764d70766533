//! The model to its value and back: [`Sequential::state`] and [`Sequential::from_state`], with
//! the optimizer's state by slot name.

use std::borrow::Cow;
use std::collections::HashMap;

use super::state::{place_weights, CompileState, LayerState, ModelState, TrainingState};
use super::{Compile, Sequential};
use crate::error::{Error, Result};
use crate::layers::names::{param_name, slot_name};
use crate::optimizers::{self, OptimizerState};
use crate::tensor::{shape_str, Tensor};

impl Sequential {
    /// The model as a value, borrowing its weights; `with_optimizer` adds the compile settings
    /// and the optimizer's state.
    pub fn state(&self, with_optimizer: bool) -> Result<ModelState<'_>> {
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
            name: self.name.clone(),
            input_shape: self.input_shape.clone(),
            layers: self.layer_states(),
            seed: self.seed,
            training: Some(training),
            compile,
            data,
        })
    }

    /// Each layer as a value: class, name, config, shapes, and (once built) its weights borrowed.
    pub(super) fn layer_states(&self) -> Vec<LayerState<'_>> {
        let built = self.is_built();
        let mut input = self.input_shape.clone().filter(|_| built).unwrap_or_default();
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let output_shape = self.layer_shapes.get(i).filter(|_| built).cloned().unwrap_or_default();
            let weights = match built {
                true => layer.params().into_iter().map(|p| (p.name.to_string(), Cow::Borrowed(&p.value))).collect(),
                false => Vec::new(),
            };
            out.push(LayerState {
                class: layer.class_name().to_string(),
                name: layer.name().to_string(),
                config: layer.config(),
                input_shape: std::mem::replace(&mut input, output_shape.clone()),
                output_shape,
                weights,
            });
        }
        out
    }

    /// Rebuilds a model from [`Sequential::state`]'s value: architecture (built when its input
    /// shape is known), weights (each one the model has, with its shape, and no other), seed,
    /// training progress, and compile settings with the optimizer's state.
    pub fn from_state(state: ModelState) -> Result<Sequential> {
        let mut model = Sequential::from_json(&state.architecture())?;
        model.set_seed(state.seed);
        model.data_spec = state.data;
        if let Some(t) = state.training {
            model.epochs_trained = t.epochs;
            model.shuffle_rng.set_word_pos(t.shuffle_rng);
            model.dropout_rng.set_word_pos(t.dropout_rng);
        }
        let weights = state.layers.into_iter().flat_map(|l| {
            let layer = l.name;
            l.weights.into_iter().map(move |(n, w)| (param_name(&layer, &n), w.into_owned()))
        });
        let weights: HashMap<String, Tensor> = weights.collect();
        if !model.is_built() && !model.layers.is_empty() {
            if !weights.is_empty() {
                return Err(Error::value("the architecture has no input_shape, so its weights cannot be placed"));
            }
        } else {
            model.set_named_weights(weights)?;
        }
        if let Some(c) = state.compile {
            model.restore_compile(c)?;
        }
        Ok(model)
    }

    /// Sets every weight from `weights` (keyed `layer.param`), after checking that each is there
    /// with the model's shape and that none is left over. Nothing changes unless all fit.
    pub fn set_named_weights(&mut self, weights: HashMap<String, Tensor>) -> Result<()> {
        let expected = self.weights().into_iter().map(|(n, w)| (n, w.shape().to_vec())).collect();
        self.set_weights(&place_weights(expected, weights)?)
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
