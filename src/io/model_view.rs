//! The one surface through which the interchange formats (Keras files, ONNX) see a model: its
//! architecture as Keras-style layer configs, the per-sample shapes between layers and the
//! named weights. Reading a file goes the other way: an architecture JSON for
//! [`Sequential::from_json`] and named weights for [`set_named_weights`].

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Sequential;
use crate::tensor::Tensor;

/// One layer as the formats see it.
pub(crate) struct LayerView {
    pub class: String,
    pub name: String,
    /// The layer's Keras-style config ([`crate::layers::Layer::config`]).
    pub config: Value,
    /// Per-sample input and output shapes.
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// The layer's weights in Keras's order (`kernel`, `bias`; `gamma`, `beta`, `moving_mean`,
    /// `moving_variance`), by their short names.
    pub weights: Vec<(String, Tensor)>,
}

impl LayerView {
    /// The weight `name` (`kernel`), if the layer has it.
    pub fn weight(&self, name: &str) -> Option<&Tensor> {
        self.weights.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

/// A built model as the formats see it.
pub(crate) struct ModelView {
    pub name: String,
    pub input_shape: Vec<usize>,
    pub layers: Vec<LayerView>,
}

impl ModelView {
    /// The view of `model`; an unbuilt model (no input shape yet) is an error.
    pub fn of(model: &Sequential) -> Result<ModelView> {
        let input_shape = match (model.is_built(), model.input_shape()) {
            (true, Some(s)) => s.to_vec(),
            _ => {
                return Err(Error::value(format!(
                    "model '{}' is not built: give its first layer an input_shape (or build it) before exporting",
                    model.name()
                )))
            }
        };
        let mut layers = Vec::new();
        let mut shape = input_shape.clone();
        for (layer, out) in model.layers().iter().zip(model.layer_output_shapes()) {
            let weights = layer.params().into_iter().map(|p| (p.name.to_string(), p.value.clone())).collect();
            layers.push(LayerView {
                class: layer.class_name().to_string(),
                name: layer.name().to_string(),
                config: layer.config(),
                input_shape: std::mem::replace(&mut shape, out.clone()),
                output_shape: out.clone(),
                weights,
            });
        }
        Ok(ModelView { name: model.name().to_string(), input_shape, layers })
    }
}

/// Sets every weight of `model` from `weights` (keyed `layer.param`) through
/// [`Sequential::set_named_weights`]; `source` names the file in errors.
pub(crate) fn set_named_weights(
    model: &mut Sequential,
    weights: HashMap<String, Tensor>,
    source: &std::path::Path,
) -> Result<()> {
    model.set_named_weights(weights).map_err(|e| Error::format(source, e.to_string()))
}
