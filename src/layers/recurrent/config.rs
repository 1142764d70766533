//! A recurrent layer's config: the options every recurrent layer has, read from and written as
//! Keras's config keys.

use serde_json::{json, Value};

use super::base::RnnCore;
use crate::error::Result;
use crate::layers::config::f32_json;
use crate::layers::{Activation, LayerConfig};

impl RnnCore {
    /// Reads the options every recurrent layer has from its config (a missing key keeps
    /// Keras's default); `units` is required.
    pub fn from_config(c: &LayerConfig) -> Result<RnnCore> {
        let mut core = RnnCore::new(c.required(LayerConfig::positive_int, "units")?);
        core.name = c.name().to_string();
        for (key, act) in
            [("activation", &mut core.activation), ("recurrent_activation", &mut core.recurrent_activation)]
        {
            if let Some(a) = c.str(key)? {
                *act = c.wrap(Activation::parse(a))?;
            }
        }
        for (key, flag) in [
            ("use_bias", &mut core.use_bias),
            ("return_sequences", &mut core.return_sequences),
            ("go_backwards", &mut core.go_backwards),
        ] {
            *flag = c.bool(key)?.unwrap_or(*flag);
        }
        for (key, rate) in [("dropout", &mut core.dropout), ("recurrent_dropout", &mut core.recurrent_dropout)] {
            *rate = c.float(key)?.map_or(*rate, |r| r as f32);
        }
        Ok(core)
    }

    /// Keras's config keys every recurrent layer has.
    pub fn config(&self) -> serde_json::Map<String, Value> {
        let v = json!({
            "name": self.name,
            "units": self.units,
            "activation": self.activation.name(),
            "recurrent_activation": self.recurrent_activation.name(),
            "use_bias": self.use_bias,
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
            "dropout": f32_json(self.dropout),
            "recurrent_dropout": f32_json(self.recurrent_dropout),
            "input_shape": self.input_shape,
        });
        match v {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        }
    }
}
