//! Rescaling: `out = x · scale + offset`, elementwise, x: (B, ...). No weights. Keras's way of
//! turning pixel bytes into [0, 1] inside the model: `Rescaling(1/255)`.

use serde_json::json;

use super::config::f32_json;
use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Layer, LayerConfig, Rng};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Keras's `Rescaling(scale, offset=0.0)`.
pub struct Rescaling {
    scale: f32,
    offset: f32,
    input_shape: Option<Vec<usize>>,
    name: String,
    out: Tensor,    // (B, ...)
    dinput: Tensor, // (B, ...)
}

impl Rescaling {
    /// Rescaling in the registry: class name, grammar row `rescaling(1/255, offset=-1)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Rescaling",
        positional: &["scale", "offset"],
        required: 1,
        args: &[("scale", Number), ("offset", Number)],
        from_config: |c| {
            let scale = c.required(LayerConfig::float, "scale")?;
            let offset = c.float("offset")?.unwrap_or(0.0);
            for (key, v) in [("scale", scale), ("offset", offset)] {
                if !(v as f32).is_finite() {
                    return Err(c.bad(key, "a finite number", &json!(v)));
                }
            }
            Ok(Box::new(Rescaling::new(scale as f32).offset(offset as f32)))
        },
    };

    /// Keras's `Rescaling(scale)`: multiplies every value by `scale` (offset 0).
    pub fn new(scale: f32) -> Rescaling {
        let (input_shape, name, out, dinput) = (None, String::new(), Tensor::default(), Tensor::default());
        Rescaling { scale, offset: 0.0, input_shape, name, out, dinput }
    }

    /// Adds `offset` after scaling: `Rescaling::new(1.0 / 127.5).offset(-1.0)` maps bytes to [-1, 1].
    pub fn offset(mut self, offset: f32) -> Self {
        self.offset = offset;
        self
    }

    layer_builders!();
}

impl Layer for Rescaling {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        if !(self.scale.is_finite() && self.offset.is_finite()) {
            return Err(Error::value(format!(
                "layer '{}' (Rescaling): scale and offset must be finite, received scale={}, offset={}",
                self.name, self.scale, self.offset
            )));
        }
        Ok(input_shape.to_vec())
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        self.out.ensure_shape(x.rows(), &x.shape()[1..]);
        let (scale, offset) = (self.scale, self.offset);
        for (o, &v) in self.out.data_mut().iter_mut().zip(x.data()) {
            *o = v * scale + offset;
        }
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if how.need_dinput {
            // dL/dx = dL/dout · scale
            self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
            for (d, &g) in self.dinput.data_mut().iter_mut().zip(dout.data()) {
                *d = g * self.scale;
            }
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "scale": f32_json(self.scale),
            "offset": f32_json(self.offset),
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::layers::{layer_from_config, parse_layers};
    use rand::SeedableRng as _;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(Rescaling::new(0.5).offset(-0.25)), &[3, 2], 4);
    }

    #[test]
    fn scales_then_offsets_every_value() {
        let mut layer = Rescaling::new(1.0 / 127.5).offset(-1.0);
        layer.build(&[3], &mut Rng::seed_from_u64(0)).unwrap();
        let x = Tensor::from_vec(&[1, 3], vec![0.0, 127.5, 255.0]).unwrap();
        layer.forward(&x, &mut Ctx { training: false, rng: &mut Rng::seed_from_u64(0), fold: Default::default() });
        assert_eq!(layer.output().data(), &[-1.0, 0.0, 1.0]);
    }

    #[test]
    fn the_grammar_takes_a_fraction_and_keras_configs_round_trip() {
        let layers = parse_layers("rescaling(1/255), rescaling(0.00392156862745098, offset=0), Rescaling(2, 1)");
        let configs: Vec<_> = layers.unwrap().iter().map(|l| l.config()).collect();
        assert_eq!(configs[0], json!({"name": "rescaling", "scale": 0.003921569, "offset": 0.0, "input_shape": null}));
        assert_eq!(configs[1]["scale"], configs[0]["scale"]);
        assert_eq!((&configs[2]["scale"], &configs[2]["offset"]), (&json!(2.0), &json!(1.0)));
        // Keras 3's config of keras.layers.Rescaling(scale=1/255, offset=0.5).
        let keras = json!({"name": "rescaling", "trainable": true, "dtype": "float32",
                           "scale": 0.00392156862745098, "offset": 0.5});
        let layer = layer_from_config("Rescaling", &keras).unwrap();
        assert_eq!(
            layer.config(),
            json!({"name": "rescaling", "scale": 0.003921569, "offset": 0.5, "input_shape": null})
        );
        let err = |cfg: serde_json::Value| layer_from_config("Rescaling", &cfg).err().unwrap().to_string();
        assert_eq!(err(json!({"offset": 1})), "Rescaling: the config is missing 'scale'");
        assert_eq!(
            err(json!({"scale": "x", "name": "r"})),
            "layer 'r' (Rescaling): expected a number, received scale=x"
        );
        assert_eq!(err(json!({"scale": 1e300})), "Rescaling: expected a finite number, received scale=1e+300");
    }
}
