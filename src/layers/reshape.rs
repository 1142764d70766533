//! Reshape: each sample's values in a new shape, x: (B, in...) → (B, target...); one target
//! dimension may be -1 (inferred), as Keras.

use serde_json::json;

use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Layer, LayerConfig, Rng};
use crate::error::{Error, Result};
use crate::tensor::limits::len_u128;
use crate::tensor::{shape_str, Tensor};

/// Keras's `Reshape(target_shape)`: `Reshape::new(&[28, 28, 1])`, `Reshape::new(&[-1, 7])`.
pub struct Reshape {
    target_shape: Vec<isize>,
    input_shape: Option<Vec<usize>>,
    name: String,
    out_shape: Vec<usize>, // the target with -1 resolved
    out: Tensor,           // (B, target...)
    dinput: Tensor,        // (B, in...)
}

/// A target shape as Python prints a tuple: `(-1, 7)`, `(784,)`.
fn target_str(target: &[isize]) -> String {
    match target {
        [d] => format!("({d},)"),
        _ => format!("({})", target.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

impl Reshape {
    /// Reshape in the registry: class name, grammar row `reshape(28, 28, 1)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Reshape",
        positional: &["target_shape"],
        required: 1,
        args: &[("target_shape", Sizes)],
        from_config: |c| {
            let r = Reshape::new(&c.required(LayerConfig::int_list, "target_shape")?).name(c.name());
            r.check()?;
            Ok(Box::new(r))
        },
    };

    /// Keras's `Reshape(target_shape)`; one dimension may be -1.
    pub fn new(target_shape: &[isize]) -> Reshape {
        Reshape {
            target_shape: target_shape.to_vec(),
            input_shape: None,
            name: String::new(),
            out_shape: Vec::new(),
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    layer_builders!();

    /// The constructor arguments' validity, checked by `build` and by the registry.
    pub(crate) fn check(&self) -> Result<()> {
        let t = &self.target_shape;
        if t.is_empty() || t.iter().any(|&d| d == 0 || d < -1) || t.iter().filter(|&&d| d == -1).count() > 1 {
            return Err(Error::value(format!(
                "layer '{}' (Reshape): target_shape must hold positive sizes and at most one -1, \
                 received target_shape={}",
                self.name,
                target_str(t)
            )));
        }
        Ok(())
    }
}

impl Layer for Reshape {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.check()?;
        // Counted in u128 (saturating): a target like (2^32, 2^32) must not wrap to a match.
        let n = len_u128(input_shape);
        let known = self.target_shape.iter().filter(|&&d| d > 0).fold(1u128, |k, &d| k.saturating_mul(d as u128));
        let inferred = self.target_shape.contains(&-1);
        if (inferred && !n.is_multiple_of(known)) || (!inferred && n != known) {
            return Err(Error::shape(format!(
                "layer '{}' (Reshape): cannot reshape input of shape {} ({n} values) into target \
                 shape {} ({}{known} values)",
                self.name,
                shape_str(input_shape),
                target_str(&self.target_shape),
                if inferred { "a multiple of " } else { "" },
            )));
        }
        let resolve = |d: isize| if d == -1 { (n / known) as usize } else { d as usize };
        self.out_shape = self.target_shape.iter().map(|&d| resolve(d)).collect();
        Ok(self.out_shape.clone())
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        self.out.ensure_shape(x.rows(), &self.out_shape);
        self.out.data_mut().copy_from_slice(x.data());
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if how.need_dinput {
            self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
            self.dinput.data_mut().copy_from_slice(dout.data());
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> serde_json::Value {
        json!({ "name": self.name, "target_shape": self.target_shape, "input_shape": self.input_shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use rand::SeedableRng as _;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(Reshape::new(&[2, 3, 1])), &[6], 2);
        check_layer(|| Box::new(Reshape::new(&[-1, 2])), &[2, 2, 2], 3);
    }

    #[test]
    fn infers_one_dimension() {
        let mut rng = Rng::seed_from_u64(0);
        assert_eq!(Reshape::new(&[28, 28, 1]).build(&[784], &mut rng).unwrap(), vec![28, 28, 1]);
        assert_eq!(Reshape::new(&[-1, 7]).build(&[28, 2], &mut rng).unwrap(), vec![8, 7]);
        let r = Reshape::new(&[-1, 7]).name("r");
        assert_eq!(r.config(), json!({"name": "r", "target_shape": [-1, 7], "input_shape": null}));
    }

    #[test]
    fn size_mismatches_are_errors_naming_the_layer_and_both_shapes() {
        let mut rng = Rng::seed_from_u64(0);
        let err = Reshape::new(&[28, 27, 1]).name("r").build(&[784], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'r' (Reshape): cannot reshape input of shape (784,) (784 values) into target \
             shape (28, 27, 1) (756 values)"
        );
        let err = Reshape::new(&[-1, 5]).name("r").build(&[28, 28], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'r' (Reshape): cannot reshape input of shape (28, 28) (784 values) into target \
             shape (-1, 5) (a multiple of 5 values)"
        );
        let err = Reshape::new(&[-1, -1]).name("r").build(&[4], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'r' (Reshape): target_shape must hold positive sizes and at most one -1, \
             received target_shape=(-1, -1)"
        );
    }
}
