//! Flatten: each sample's values as one row, x: (B, d1, d2, ...) → (B, d1·d2·...).

use serde_json::json;

use super::registry::LayerKind;
use super::{Backward, Ctx, Layer, Rng};
use crate::error::Result;
use crate::tensor::Tensor;

/// Keras's `Flatten()`: `(28, 28)` per sample becomes `(784,)`. No parameters.
#[derive(Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
    name: String,
    in_shape: Vec<usize>, // per-sample input shape, for dinput
    out: Tensor,          // (B, prod)
    dinput: Tensor,       // (B, d1, d2, ...)
}

impl Flatten {
    /// Flatten in the registry: class name, grammar row `flatten`, config (no arguments).
    pub const KIND: LayerKind = LayerKind {
        class: "Flatten",
        positional: &[],
        required: 0,
        args: &[],
        from_config: |_| Ok(Box::new(Flatten::new())),
    };

    /// Keras's `Flatten()`.
    pub fn new() -> Flatten {
        Flatten::default()
    }

    layer_builders!();
}

impl Layer for Flatten {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.in_shape = input_shape.to_vec();
        Ok(vec![input_shape.iter().product()])
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        self.out.ensure_shape(x.rows(), &[x.row_len()]);
        self.out.data_mut().copy_from_slice(x.data());
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if how.need_dinput {
            // dx has x's shape and dout's values, in the same row-major order.
            self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
            self.dinput.data_mut().copy_from_slice(dout.data());
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> serde_json::Value {
        json!({ "name": self.name, "input_shape": self.input_shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use rand::SeedableRng as _;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(Flatten::new()), &[3, 2, 2], 2);
        check_layer(|| Box::new(Flatten::new()), &[4], 3);
    }

    #[test]
    fn flattens_each_sample_in_row_major_order() {
        let mut rng = Rng::seed_from_u64(0);
        let mut f = Flatten::new().input_shape(&[28, 28]).name("flat");
        assert_eq!(f.build(&[28, 28], &mut rng).unwrap(), vec![784]);
        assert_eq!(f.declared_input_shape(), Some(&[28usize, 28][..]));
        let x = Tensor::from_vec(&[2, 2, 2], (0..8).map(|v| v as f32).collect()).unwrap();
        f.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        assert_eq!(f.output().shape(), &[2, 4]);
        assert_eq!(f.output().data(), x.data());
        assert_eq!(f.config(), json!({"name": "flat", "input_shape": [28, 28]}));
    }
}
