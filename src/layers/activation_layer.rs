//! The Activation layer: `out = f(x)` over the last axis, x: (B, ..., F). It can end a model and
//! hand its softmax/sigmoid to a crossentropy loss for the fused backward, as Dense does.

use serde_json::json;

use super::registry::{ArgKind::*, LayerKind};
use super::{Activation, Backward, Ctx, Fusion, Layer, LayerConfig, Rng};
use crate::error::Result;
use crate::tensor::{ops, Tensor};

/// Keras's `Activation('relu')` layer (the functions themselves are [`Activation`]).
pub struct ActivationLayer {
    activation: Activation,
    input_shape: Option<Vec<usize>>,
    name: String,
    width: usize,   // size of the last axis: softmax works on rows of it
    z: Tensor,      // (B, ..., F) the input, kept as logits for the fused loss
    out: Tensor,    // (B, ..., F)
    dinput: Tensor, // (B, ..., F)
}

impl ActivationLayer {
    /// Activation in the registry: class name, grammar row `activation(relu)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Activation",
        positional: &["activation"],
        required: 1,
        args: &[("activation", Word)],
        from_config: |c| {
            let a = c.wrap(Activation::parse(c.required(LayerConfig::str, "activation")?))?;
            Ok(Box::new(ActivationLayer::new(a)))
        },
    };

    /// Keras's `Activation(activation)`.
    pub fn new(activation: Activation) -> ActivationLayer {
        ActivationLayer {
            activation,
            input_shape: None,
            name: String::new(),
            width: 1,
            z: Tensor::default(),
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    layer_builders!();
}

impl Layer for ActivationLayer {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.width = input_shape.last().copied().unwrap_or(1).max(1);
        Ok(input_shape.to_vec())
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        let (b, row_shape) = (x.rows(), &x.shape()[1..]);
        self.z.ensure_shape(b, row_shape);
        self.out.ensure_shape(b, row_shape);
        self.z.data_mut().copy_from_slice(x.data());
        ops::activation(self.activation, x.data(), self.out.data_mut(), self.width);
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if !how.need_dinput {
            return;
        }
        self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
        if how.activation_done {
            // The loss (or the layer above) already gave dL/d(logits).
            self.dinput.data_mut().copy_from_slice(dout.data());
        } else {
            let (out, dx) = (self.out.data(), self.dinput.data_mut());
            ops::activation_backward(self.activation, out, dout.data(), dx, self.width);
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn fusion(&self) -> Fusion<'_> {
        Fusion { activation: Some(self.activation), logits: Some(&self.z), ..Fusion::default() }
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "activation": self.activation.name(),
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use rand::SeedableRng as _;

    #[test]
    fn gradients_match_finite_differences_for_every_activation() {
        for act in [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax] {
            check_layer(|| Box::new(ActivationLayer::new(act)), &[5], 3);
            check_layer(|| Box::new(ActivationLayer::new(act)), &[2, 3], 2);
        }
    }

    #[test]
    fn applies_the_function_on_the_last_axis_and_keeps_logits_for_the_fused_loss() {
        let mut rng = Rng::seed_from_u64(0);
        let mut layer = ActivationLayer::new(Activation::Softmax).name("probs");
        assert_eq!(layer.build(&[2, 2], &mut rng).unwrap(), vec![2, 2]);
        let x = Tensor::from_vec(&[1, 2, 2], vec![0.0, 0.0, 1.0, 1.0]).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        assert_eq!(layer.output().data(), &[0.5; 4]);
        let fusion = layer.fusion();
        assert_eq!((fusion.logits, fusion.activation), (Some(&x), Some(Activation::Softmax)));
        let g = Tensor::from_vec(&[1, 2, 2], vec![0.1, -0.1, 0.2, -0.2]).unwrap();
        layer.backward(&x, &g, Backward { need_dinput: true, activation_done: true, relu_below: false });
        assert_eq!(layer.dinput(), &g);
        assert_eq!(layer.config(), json!({"name": "probs", "activation": "softmax", "input_shape": null}));
    }
}
