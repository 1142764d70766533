//! The model's memory, checked before it is allocated: weights while the model is built, the
//! buffers of a batch before fit, evaluate or predict run one (limits in
//! [`crate::tensor::limits`]).

use super::Sequential;
use crate::error::Result;
use crate::layers::Layer;
use crate::tensor::limits::{check_values, len_u128};
use crate::tensor::shape_str;

/// Before building `layer` on `input_shape`: the model's weights so far (`weights`, updated
/// here) plus the layer's must fit the limit.
pub(crate) fn check_layer_weights(layer: &dyn Layer, input_shape: &[usize], weights: &mut u128) -> Result<()> {
    let own = layer.weights_len(input_shape);
    *weights = weights.saturating_add(own);
    let who = || format!("layer '{}' ({})", layer.name(), layer.class_name());
    match *weights == own {
        true => check_values(own, || format!("{}: its weights", who())),
        false => check_values(*weights, || format!("{}: the model's weights up to it", who())),
    }
}

/// After building `layer`: one sample's output must fit the limit (so sizes stay countable).
pub(crate) fn check_layer_output(layer: &dyn Layer, shape: &[usize]) -> Result<()> {
    check_values(len_u128(shape), || {
        format!(
            "layer '{}' ({}): its output of shape {} per sample",
            layer.name(),
            layer.class_name(),
            shape_str(shape)
        )
    })
}

impl Sequential {
    /// The buffers a batch of `rows` samples needs: every layer's output, its scratch, and in
    /// training its input gradient, must fit the limit before the first batch is allocated.
    pub(crate) fn check_batch_memory(&self, rows: usize, training: bool) -> Result<()> {
        let mut per_sample = len_u128(self.input_shape.as_deref().unwrap_or(&[]));
        let mut input = per_sample;
        for (layer, shape) in self.layers.iter().zip(&self.layer_shapes) {
            let out = len_u128(shape);
            let grad = if training { input } else { 0 };
            per_sample =
                per_sample.saturating_add(out).saturating_add(grad).saturating_add(layer.scratch_len_per_sample());
            input = out;
        }
        check_values(per_sample.saturating_mul(rows as u128), || {
            let mode = if training { "training" } else { "inference" };
            format!("model '{}': the buffers of a batch of {rows} ({mode})", self.name)
        })
    }
}
