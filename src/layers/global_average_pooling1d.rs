//! GlobalAveragePooling1D: each sample's mean over its time steps, x: (B, T, F) → (B, F)
//! (with `keepdims`, (B, 1, F)). The classic text baseline is Embedding → this → Dense.

use serde_json::json;

use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Layer, Rng};
use crate::error::{Error, Result};
use crate::tensor::{ops, shape_str, Mat, Tensor};

/// Keras's `GlobalAveragePooling1D()` (channels-last). No parameters.
#[derive(Default)]
pub struct GlobalAveragePooling1D {
    keepdims: bool,
    input_shape: Option<Vec<usize>>,
    name: String,
    steps: usize,
    out: Tensor,    // (B, F) or (B, 1, F)
    dinput: Tensor, // (B, T, F)
}

impl GlobalAveragePooling1D {
    /// GlobalAveragePooling1D in the registry: class name, grammar row
    /// `global_average_pooling1d(keepdims=true)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "GlobalAveragePooling1D",
        positional: &[],
        required: 0,
        args: &[("keepdims", Bool)],
        from_config: |c| {
            c.data_format()?;
            Ok(Box::new(GlobalAveragePooling1D::new().keepdims(c.bool("keepdims")?.unwrap_or(false))))
        },
    };

    /// Keras's `GlobalAveragePooling1D()`: the time axis averaged away.
    pub fn new() -> GlobalAveragePooling1D {
        GlobalAveragePooling1D::default()
    }

    /// Keras's `keepdims=True`: the time axis kept, of length 1.
    pub fn keepdims(mut self, on: bool) -> Self {
        self.keepdims = on;
        self
    }

    layer_builders!();
}

impl Layer for GlobalAveragePooling1D {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let &[steps, features] = input_shape else {
            return Err(Error::shape(format!(
                "layer '{}' (GlobalAveragePooling1D) expects samples of shape (steps, features), got input shape {}",
                self.name,
                shape_str(input_shape)
            )));
        };
        self.steps = steps;
        Ok(if self.keepdims { vec![1, features] } else { vec![features] })
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        let (b, t) = (x.rows(), self.steps);
        let f = x.row_len() / t.max(1);
        let shape: &[usize] = if self.keepdims { &[1, f] } else { &[f] };
        self.out.ensure_shape(b, shape);
        let scale = 1.0 / t as f32;
        for (row, out) in x.data().chunks_exact(t * f).zip(self.out.data_mut().chunks_exact_mut(f)) {
            ops::col_sums(Mat::new(row, t, f), out, 0.0);
            out.iter_mut().for_each(|v| *v *= scale);
        }
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if !how.need_dinput {
            return;
        }
        let t = self.steps;
        let f = x.row_len() / t.max(1);
        self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
        let scale = 1.0 / t as f32;
        for (dx, g) in self.dinput.data_mut().chunks_exact_mut(t * f).zip(dout.data().chunks_exact(f)) {
            for step in dx.chunks_exact_mut(f) {
                step.iter_mut().zip(g).for_each(|(d, &v)| *d = v * scale);
            }
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "data_format": "channels_last",
            "keepdims": self.keepdims,
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
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(GlobalAveragePooling1D::new()), &[4, 3], 2);
        check_layer(|| Box::new(GlobalAveragePooling1D::new().keepdims(true)), &[2, 5], 3);
    }

    #[test]
    fn averages_each_feature_over_the_steps() {
        let mut rng = Rng::seed_from_u64(0);
        let mut g = GlobalAveragePooling1D::new().name("avg");
        assert_eq!(g.build(&[3, 2], &mut rng).unwrap(), vec![2]);
        // Sample 0: steps (0, 1), (2, 3), (4, 5); sample 1: ten times those.
        let x = Tensor::from_vec(&[2, 3, 2], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0].into())
            .unwrap();
        g.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        assert_eq!((g.output().shape(), g.output().data()), (&[2, 2][..], &[2.0, 3.0, 20.0, 30.0][..]));
        let e = GlobalAveragePooling1D::new().name("avg").build(&[28, 28, 1], &mut rng).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer 'avg' (GlobalAveragePooling1D) expects samples of shape (steps, features), got input shape (28, 28, 1)"
        );
    }
}
