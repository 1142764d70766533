//! Dropout: in training, zero each value with probability `rate` and scale the kept ones by
//! 1/(1 − rate) ("inverted" dropout, as Keras), so inference is the identity.

use rand::Rng as _;
use serde_json::json;

use super::config::f32_json;
use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Layer, LayerConfig, Rng};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Keras's `Dropout(rate)`. The mask is drawn from the model's seeded stream (`ctx.rng`).
pub struct Dropout {
    rate: f32,
    input_shape: Option<Vec<usize>>,
    name: String,
    masked: bool,   // whether the last forward applied a mask (training and rate > 0)
    mask: Tensor,   // (B, ...) 0 or 1/(1 − rate) per value, of the last training forward
    out: Tensor,    // (B, ...)
    dinput: Tensor, // (B, ...)
}

impl Dropout {
    /// Dropout in the registry: class name, grammar row `dropout(0.3)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Dropout",
        positional: &["rate"],
        required: 1,
        args: &[("rate", Number)],
        from_config: |c| {
            let d = Dropout::new(c.required(LayerConfig::float, "rate")? as f32).name(c.name());
            d.check()?;
            Ok(Box::new(d))
        },
    };

    /// Keras's `Dropout(rate)`: `rate` in [0, 1), the fraction of values zeroed in training.
    pub fn new(rate: f32) -> Dropout {
        Dropout {
            rate,
            input_shape: None,
            name: String::new(),
            masked: false,
            mask: Tensor::default(),
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    layer_builders!();

    /// The constructor arguments' validity, checked by `build` and by the registry.
    pub(crate) fn check(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(Error::value(format!(
                "layer '{}' (Dropout): rate must be in [0, 1), received rate={}",
                self.name, self.rate
            )));
        }
        Ok(())
    }
}

impl Layer for Dropout {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.check()?;
        Ok(input_shape.to_vec())
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        let (b, row_shape) = (x.rows(), &x.shape()[1..]);
        self.out.ensure_shape(b, row_shape);
        self.masked = ctx.training && self.rate > 0.0;
        if !self.masked {
            self.out.data_mut().copy_from_slice(x.data());
            return;
        }
        self.mask.ensure_shape(b, row_shape);
        let (rate, keep_scale) = (self.rate, 1.0 / (1.0 - self.rate));
        for m in self.mask.data_mut() {
            *m = if ctx.rng.random::<f32>() < rate { 0.0 } else { keep_scale };
        }
        let (out, mask) = (self.out.data_mut(), self.mask.data());
        out.iter_mut().zip(x.data()).zip(mask).for_each(|((o, &v), &m)| *o = v * m);
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if !how.need_dinput {
            return;
        }
        self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
        let dx = self.dinput.data_mut();
        if self.masked {
            // dx = dout · mask: the same values dropped, the same scale on the rest.
            let mask = self.mask.data();
            dx.iter_mut().zip(dout.data()).zip(mask).for_each(|((d, &g), &m)| *d = g * m);
        } else {
            dx.copy_from_slice(dout.data());
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> serde_json::Value {
        json!({ "name": self.name, "rate": f32_json(self.rate), "input_shape": self.input_shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use rand::SeedableRng as _;

    fn run(layer: &mut Dropout, x: &Tensor, training: bool, seed: u64) -> Tensor {
        let mut rng = Rng::seed_from_u64(seed);
        layer.build(&x.shape()[1..], &mut rng).unwrap();
        layer.forward(x, &mut Ctx { training, rng: &mut rng, fold: Default::default() });
        layer.output().clone()
    }

    #[test]
    fn gradients_match_finite_differences_with_a_fixed_mask() {
        check_layer(|| Box::new(Dropout::new(0.4)), &[6], 4);
        check_layer(|| Box::new(Dropout::new(0.5)), &[2, 3, 2], 2);
        check_layer(|| Box::new(Dropout::new(0.0)), &[3], 2);
    }

    #[test]
    fn inference_is_the_identity() {
        let x = Tensor::from_vec(&[2, 3], vec![1., -2., 3., 4., 5., -6.]).unwrap();
        assert_eq!(run(&mut Dropout::new(0.5), &x, false, 1), x);
    }

    #[test]
    fn training_drops_about_rate_of_the_values_and_scales_the_rest() {
        let x = Tensor::from_vec(&[100, 100], vec![2.0; 10_000]).unwrap();
        let out = run(&mut Dropout::new(0.3), &x, true, 7);
        let zeros = out.data().iter().filter(|&&v| v == 0.0).count();
        assert!((zeros as f64 / 10_000.0 - 0.3).abs() < 0.02, "{zeros} of 10000 dropped");
        let kept = 2.0 / 0.7;
        assert!(out.data().iter().all(|&v| v == 0.0 || (v - kept).abs() < 1e-6));
    }

    #[test]
    fn the_same_seed_gives_the_same_mask() {
        let x = Tensor::from_vec(&[4, 8], vec![1.0; 32]).unwrap();
        let a = run(&mut Dropout::new(0.5), &x, true, 42);
        assert_eq!(a, run(&mut Dropout::new(0.5), &x, true, 42));
        assert_ne!(a, run(&mut Dropout::new(0.5), &x, true, 43));
    }

    #[test]
    fn a_rate_outside_0_1_is_an_error_at_build() {
        let mut rng = Rng::seed_from_u64(0);
        for (rate, shown) in [(1.5, "1.5"), (1.0, "1"), (-0.1, "-0.1")] {
            let err = Dropout::new(rate).name("dropout").build(&[4], &mut rng).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("layer 'dropout' (Dropout): rate must be in [0, 1), received rate={shown}")
            );
        }
        assert_eq!(Dropout::new(0.3).config()["rate"], json!(0.3));
    }
}
