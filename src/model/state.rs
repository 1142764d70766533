//! [`ModelState`]: everything a saved model holds, as one value. The model makes it
//! ([`Sequential::state`]) and is rebuilt from it ([`Sequential::from_state`]); `io` turns it
//! into files and back, so the file formats never reach into the model.
//!
//! The value is layer by layer, as the interchange formats need it (Keras keeps a layer's weights
//! by position, ONNX needs each layer's shapes); the dotted names kiln's own files use
//! (`hidden.kernel`) are made from it by [`crate::layers::names::param_name`].

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::{DataSpec, Sequential};
use crate::error::{Error, Result};
use crate::layers::names::param_name;
use crate::tensor::{shape_str, Tensor};

/// A model as a value: its layers (architecture, shapes, weights), seed, training progress and,
/// for a compiled model, its loss, metrics, optimizer and optimizer state.
pub struct ModelState<'a> {
    /// The model's name ("sequential" unless given).
    pub name: String,
    /// The per-sample input shape, once known (always, for a built model).
    pub input_shape: Option<Vec<usize>>,
    /// The layers, in order.
    pub layers: Vec<LayerState<'a>>,
    /// The seed of weight initialisation, shuffling and dropout.
    pub seed: u64,
    /// Epochs trained and the random streams' positions (None: a fresh start).
    pub training: Option<TrainingState>,
    /// What `compile` settled, when the model was compiled (and saved whole).
    pub compile: Option<CompileState<'a>>,
    /// What the model was trained on ([`Sequential::set_data_spec`]); None in files that lack it.
    pub data: Option<DataSpec>,
}

/// One layer as a value.
pub struct LayerState<'a> {
    /// Keras's class name (`Conv2D`).
    pub class: String,
    /// The layer's name in the model (`conv2d_1`).
    pub name: String,
    /// The layer's Keras-style config ([`crate::layers::Layer::config`]; it holds the name too).
    pub config: Value,
    /// Per-sample input and output shapes; empty before the model is built.
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// The weights by their short names, in Keras's order (`kernel`, `bias`; `gamma`, `beta`,
    /// `moving_mean`, `moving_variance`); none before the model is built.
    pub weights: Vec<(String, Cow<'a, Tensor>)>,
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

impl LayerState<'_> {
    /// The weight `name` (`kernel`), if the layer has it.
    pub fn weight(&self, name: &str) -> Option<&Tensor> {
        self.weights.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_ref())
    }
}

impl ModelState<'_> {
    /// The layers of `architecture` (JSON as [`Sequential::to_json`] writes it), built when its
    /// input shape is known: their names, configs, shapes, and weights freshly initialised from
    /// seed 0, for a reader to replace with a file's ([`ModelState::set_named_weights`]).
    pub fn of_architecture(architecture: &Value) -> Result<ModelState<'static>> {
        let model = Sequential::from_json(architecture)?;
        let layers = model.layer_states().into_iter().map(LayerState::into_owned).collect();
        Ok(ModelState {
            name: model.name().to_string(),
            input_shape: model.input_shape().map(<[usize]>::to_vec),
            layers,
            seed: 0,
            training: None,
            compile: None,
            data: None,
        })
    }

    /// The architecture as JSON, as [`Sequential::to_json`] writes it.
    pub fn architecture(&self) -> Value {
        let layers = self.layers.iter().map(|l| crate::layers::config_entry(&l.class, l.config.clone())).collect();
        super::architecture::architecture_json(&self.name, self.input_shape.as_deref(), layers)
    }

    /// Every weight by its dotted name (`hidden.kernel`), in layer order.
    pub fn weights(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for layer in &self.layers {
            out.extend(layer.weights.iter().map(|(n, t)| (param_name(&layer.name, n), t.as_ref())));
        }
        out
    }

    /// Whether the layers have their shapes and weights (a built model's state).
    pub fn is_built(&self) -> bool {
        self.layers.last().is_some_and(|l| !l.output_shape.is_empty())
    }

    /// The input shape of a built model; otherwise an error that says what to do, for the
    /// formats that need shapes (Keras files, ONNX).
    pub fn built_input_shape(&self) -> Result<&[usize]> {
        match (self.is_built(), self.input_shape.as_deref()) {
            (true, Some(shape)) => Ok(shape),
            _ => Err(Error::value(format!(
                "model '{}' is not built: give its first layer an input_shape (or build it) before exporting",
                self.name
            ))),
        }
    }

    /// Replaces every weight with the one of the same dotted name in `weights`, after checking
    /// that each is there with the layer's shape and that none is left over. Nothing changes
    /// unless all fit.
    pub fn set_named_weights(&mut self, weights: HashMap<String, Tensor>) -> Result<()> {
        if !self.is_built() && !self.layers.is_empty() && !weights.is_empty() {
            return Err(Error::value("the architecture has no input_shape, so its weights cannot be placed"));
        }
        let expected = self.weights().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect();
        let mut values = place_weights(expected, weights)?.into_iter();
        for layer in &mut self.layers {
            for (_, w) in &mut layer.weights {
                *w = Cow::Owned(values.next().expect("one value per weight"));
            }
        }
        Ok(())
    }
}

impl LayerState<'_> {
    fn into_owned(self) -> LayerState<'static> {
        let weights = self.weights.into_iter().map(|(n, t)| (n, Cow::Owned(t.into_owned()))).collect();
        LayerState { weights, ..self }
    }
}

/// The values of `given` (by dotted name) in the order of `expected` (name and shape), after
/// checking that each expected weight is there with its shape and that none is left over.
pub(super) fn place_weights(
    expected: Vec<(String, Vec<usize>)>,
    mut given: HashMap<String, Tensor>,
) -> Result<Vec<Tensor>> {
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for (name, shape) in expected {
        match given.remove(&name) {
            Some(t) if t.shape() != shape.as_slice() => {
                return Err(Error::value(format!(
                    "weight '{name}' has shape {} in the model but {} in the file",
                    shape_str(&shape),
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
    if !given.is_empty() {
        let mut extra: Vec<String> = given.keys().map(|n| format!("'{n}'")).collect();
        extra.sort();
        return Err(Error::value(format!("the file has weights the model lacks: {}", extra.join(", "))));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D, Padding};

    fn cnn() -> Sequential {
        let mut m = Sequential::named("cnn").seed(3);
        m.add(
            Conv2D::new(2, 3).padding(Padding::Same).activation(Activation::Relu).name("conv").input_shape(&[6, 6, 1]),
        );
        m.add(MaxPooling2D::new(2));
        m.add(Flatten::new());
        m.add(Dense::new(3).activation(Activation::Softmax).name("out"));
        m.build(&[6, 6, 1]).unwrap();
        m
    }

    fn named(m: &Sequential) -> HashMap<String, Tensor> {
        m.weights().into_iter().map(|(n, t)| (n, t.clone())).collect()
    }

    #[test]
    fn a_built_models_state_has_each_layers_shapes_and_weights_by_short_name() {
        let m = cnn();
        let s = m.state(false).unwrap();
        assert_eq!(
            (s.name.as_str(), s.input_shape.as_deref(), s.built_input_shape().unwrap()),
            ("cnn", Some(&[6, 6, 1][..]), &[6, 6, 1][..])
        );
        let layers: Vec<(&str, &str, &[usize], &[usize])> = s
            .layers
            .iter()
            .map(|l| (l.class.as_str(), l.name.as_str(), &l.input_shape[..], &l.output_shape[..]))
            .collect();
        assert_eq!(
            layers,
            [
                ("Conv2D", "conv", &[6, 6, 1][..], &[6, 6, 2][..]),
                ("MaxPooling2D", "max_pooling2d", &[6, 6, 2], &[3, 3, 2]),
                ("Flatten", "flatten", &[3, 3, 2], &[18]),
                ("Dense", "out", &[18], &[3]),
            ]
        );
        let short: Vec<&str> = s.layers[3].weights.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(short, ["kernel", "bias"]);
        assert_eq!(s.layers[0].weight("kernel").unwrap().shape(), &[3, 3, 1, 2]);
        assert_eq!(s.layers[0].config["padding"], "same");
        assert_eq!(s.architecture(), m.to_json());
        assert_eq!(s.weights(), m.weights());
        assert!(s.compile.is_none() && s.training.is_some());
    }

    #[test]
    fn a_file_reader_fills_an_architectures_layers_and_the_model_is_built_from_them() {
        let m = cnn();
        let mut s = ModelState::of_architecture(&m.to_json()).unwrap();
        assert!(s.is_built());
        assert_ne!(s.weights()[0].1, m.weights()[0].1, "seed 0's fresh weights, not the model's");
        s.set_named_weights(named(&m)).unwrap();
        let again = Sequential::from_state(ModelState { seed: 3, ..s }).unwrap();
        assert_eq!(again.weights_sha256(), m.weights_sha256());
        assert_eq!(again.to_json(), m.to_json());
    }

    #[test]
    fn missing_extra_and_misshapen_weights_are_errors_naming_them() {
        let m = cnn();
        let mut s = ModelState::of_architecture(&m.to_json()).unwrap();
        let err = |s: &mut ModelState, w: HashMap<String, Tensor>| s.set_named_weights(w).unwrap_err().to_string();
        let mut w = named(&m);
        w.remove("out.bias");
        w.remove("conv.kernel");
        assert_eq!(err(&mut s, w), "the file lacks weights of the model: 'conv.kernel', 'out.bias'");
        let mut w = named(&m);
        w.insert("out.extra".into(), Tensor::zeros(&[1]));
        assert_eq!(err(&mut s, w), "the file has weights the model lacks: 'out.extra'");
        let mut w = named(&m);
        w.insert("out.bias".into(), Tensor::zeros(&[4]));
        assert_eq!(err(&mut s, w), "weight 'out.bias' has shape (3,) in the model but (4,) in the file");
        // Nothing changed: still the fresh weights of seed 0.
        assert_eq!(s.weights()[0].1, ModelState::of_architecture(&m.to_json()).unwrap().weights()[0].1);
    }

    #[test]
    fn an_unbuilt_model_is_a_state_without_shapes_or_weights_and_comes_back() {
        let mut m = Sequential::named("u");
        m.add(Dense::new(2));
        let s = m.state(true).unwrap();
        assert!(!s.is_built() && s.layers[0].weights.is_empty() && s.layers[0].output_shape.is_empty());
        assert_eq!(
            s.built_input_shape().unwrap_err().to_string(),
            "model 'u' is not built: give its first layer an input_shape (or build it) before exporting"
        );
        let again = Sequential::from_state(s).unwrap();
        assert_eq!((again.to_json(), again.is_built()), (m.to_json(), false));
        let mut s = ModelState::of_architecture(&m.to_json()).unwrap();
        assert_eq!(
            s.set_named_weights(named(&cnn())).unwrap_err().to_string(),
            "the architecture has no input_shape, so its weights cannot be placed"
        );
    }
}
