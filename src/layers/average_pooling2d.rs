//! AveragePooling2D, channels-last: the mean of each (PH, PW) window, per channel.
//! x: (B, H, W, C) → out: (B, OH, OW, C). With "same" padding a window hanging over the edge
//! averages only the values inside the image, as TensorFlow does.

use serde_json::Value;

use super::pool2d::{pool_builders, Pool2d};
use super::registry::{typed_from_config, LayerKind};
use super::{Backward, Ctx, Layer, LayerConfig, Rng};
use crate::error::Result;
use crate::tensor::{ops, Size2, Tensor};

/// Keras's `AveragePooling2D(pool_size, strides, padding)`.
pub struct AveragePooling2D {
    pool: Pool2d,
    out: Tensor,    // (B, OH, OW, C)
    dinput: Tensor, // (B, H, W, C)
}

impl AveragePooling2D {
    /// AveragePooling2D in the registry: class name, grammar row `average_pooling2d(2)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "AveragePooling2D",
        positional: &["pool_size"],
        required: 0,
        args: Pool2d::ARGS,
        from_config: |c| Ok(Box::new(AveragePooling2D::read_config(c)?)),
    };

    fn read_config(c: &LayerConfig) -> Result<AveragePooling2D> {
        Ok(AveragePooling2D { pool: Pool2d::from_config(c)?, ..AveragePooling2D::new(1) })
    }

    /// `AveragePooling2D::new(2)` or `AveragePooling2D::new((2, 3))`.
    pub fn new(pool_size: impl Into<Size2>) -> AveragePooling2D {
        let pool = Pool2d::new(pool_size.into());
        AveragePooling2D { pool, out: Tensor::default(), dinput: Tensor::default() }
    }
    pool_builders!();
    /// Rebuilds the layer from [`Layer::config`]'s JSON; errors name the layer and the key.
    pub fn from_config(config: &Value) -> Result<AveragePooling2D> {
        typed_from_config(Self::KIND.class, config, AveragePooling2D::read_config)
    }
}

impl Layer for AveragePooling2D {
    layer_identity!(pool);

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.pool.build("AveragePooling2D", input_shape)
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        ops::average_pool2d(&self.pool.g, x, &mut self.out);
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        if how.need_dinput {
            ops::average_pool2d_backward(&self.pool.g, dout, &mut self.dinput);
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> Value {
        self.pool.config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::tensor::Padding;
    use rand::SeedableRng;

    #[test]
    fn same_padding_averages_only_the_values_inside() {
        // (3, 3, 1) with pool 2, "same": out (2, 2); the right column and bottom row are
        // windows over 2 and 1 values.
        let x = Tensor::from_vec(&[1, 3, 3, 1], (1..=9).map(|v| v as f32).collect()).unwrap();
        let mut rng = Rng::seed_from_u64(0);
        let mut layer = AveragePooling2D::new(2).padding(Padding::Same);
        assert_eq!(layer.build(&[3, 3, 1], &mut rng).unwrap(), vec![2, 2, 1]);
        layer.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        assert_eq!(layer.output().data(), &[3.0, 4.5, 7.5, 9.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(AveragePooling2D::new(2)), &[4, 4, 2], 2);
        check_layer(|| Box::new(AveragePooling2D::new(2).padding(Padding::Same)), &[3, 5, 1], 2);
        check_layer(|| Box::new(AveragePooling2D::new(3).strides(2).padding(Padding::Same)), &[5, 4, 2], 1);
    }

    #[test]
    fn errors_name_the_layer_and_config_round_trips() {
        let mut rng = Rng::seed_from_u64(0);
        let err = AveragePooling2D::new(2).name("a").build(&[28, 28], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'a' (AveragePooling2D) expects samples of shape (height, width, channels), got \
             (28, 28); reshape the images to (28, 28, 1)"
        );
        let layer = AveragePooling2D::new(3).strides((1, 2)).name("a");
        let again = AveragePooling2D::from_config(&layer.config()).unwrap();
        assert_eq!(again.config(), layer.config());
    }
}
