//! Layers from their Keras config and back: `{"class_name": "Dense", "config": {...}}`.
//!
//! To add a layer: one arm in [`layer_from_config`] reading its config with `Cfg`, and its
//! class name in [`LAYER_CLASSES`].

use serde_json::{json, Value};

use super::{Activation, ActivationLayer, BatchNormalization, Dense, Dropout, Flatten, Initializer, Layer, Reshape};
use crate::error::{Error, Result};

/// The class names [`layer_from_config`] knows, in the order its error lists them.
pub const LAYER_CLASSES: &[&str] = &[
    "Dense",
    "Flatten",
    "Dropout",
    "BatchNormalization",
    "Activation",
    "Reshape",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
];

/// Rebuilds a layer (unbuilt, without weights) from its class name and [`Layer::config`].
/// Values are checked here, so a bad config fails before any model is built.
pub fn layer_from_config(class_name: &str, config: &Value) -> Result<Box<dyn Layer>> {
    let c = Cfg::new(class_name, config)?;
    let name = c.name();
    super::names::check_name(name)?;
    let mut layer: Box<dyn Layer> = match class_name {
        "Dense" => {
            let mut d = Dense::new(c.required(Cfg::positive_int, "units")?);
            if let Some(a) = c.str("activation")? {
                d = d.activation(c.wrap(Activation::parse(a))?);
            }
            if let Some(b) = c.bool("use_bias")? {
                d = d.use_bias(b);
            }
            if let Some(i) = c.str("kernel_initializer")? {
                d = d.kernel_initializer(c.wrap(Initializer::parse(i))?);
            }
            if let Some(i) = c.str("bias_initializer")? {
                d = d.bias_initializer(c.wrap(Initializer::parse(i))?);
            }
            Box::new(c.with_shape(d, Dense::input_shape)?.name(name))
        }
        "Flatten" => Box::new(c.with_shape(Flatten::new(), Flatten::input_shape)?.name(name)),
        "Dropout" => {
            let d = Dropout::new(c.required(Cfg::float, "rate")? as f32).name(name);
            d.check()?;
            Box::new(c.with_shape(d, Dropout::input_shape)?)
        }
        "BatchNormalization" => {
            let mut bn = BatchNormalization::new().name(name);
            if let Some(m) = c.float("momentum")? {
                bn = bn.momentum(m as f32);
            }
            if let Some(e) = c.float("epsilon")? {
                bn = bn.epsilon(e as f32);
            }
            bn = bn.center(c.bool("center")?.unwrap_or(true)).scale(c.bool("scale")?.unwrap_or(true));
            bn.check()?;
            Box::new(c.with_shape(bn, BatchNormalization::input_shape)?)
        }
        "Activation" => {
            let a = c.wrap(Activation::parse(c.required(Cfg::str, "activation")?))?;
            Box::new(c.with_shape(ActivationLayer::new(a), ActivationLayer::input_shape)?.name(name))
        }
        "Reshape" => {
            let target = c.required(Cfg::int_list, "target_shape")?;
            let r = Reshape::new(&target).name(name);
            r.check()?;
            Box::new(c.with_shape(r, Reshape::input_shape)?)
        }
        "Conv2D" => Box::new(super::Conv2D::from_config(config)?),
        "MaxPooling2D" => Box::new(super::MaxPooling2D::from_config(config)?),
        "AveragePooling2D" => Box::new(super::AveragePooling2D::from_config(config)?),
        other => {
            return Err(Error::value(format!(
                "unknown layer class '{other}'; valid classes: {}",
                LAYER_CLASSES.join(", ")
            )))
        }
    };
    layer.set_name(name.to_string());
    c.check_keys(&layer.config())?;
    Ok(layer)
}

/// The key of `valid` within two edits of `key` ("activatiom" → "activation"), if one is.
pub(crate) fn closest<'v>(key: &str, valid: impl IntoIterator<Item = &'v str>) -> Option<&'v str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, &cb) in b.iter().enumerate() {
                let next = (prev + (ca != cb) as usize).min(row[j] + 1).min(row[j + 1] + 1);
                prev = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    };
    valid.into_iter().map(|v| (distance(key, v), v)).filter(|&(d, _)| d <= 2).min_by_key(|&(d, _)| d).map(|(_, v)| v)
}

/// "unknown key 'activatiom' (did you mean 'activation'?); valid keys: name, units, ...".
pub(crate) fn unknown_key(key: &str, valid: &[&str]) -> String {
    let hint = closest(key, valid.iter().copied()).map_or(String::new(), |v| format!(" (did you mean '{v}'?)"));
    format!("unknown key '{key}'{hint}; valid keys: {}", valid.join(", "))
}

/// `{"class_name": "Dense", "config": {...}}`, what [`layer_from_config`] reads back.
pub fn layer_to_config(layer: &dyn Layer) -> Value {
    json!({ "class_name": layer.class_name(), "config": layer.config() })
}

/// An `f32` as the JSON number it reads as (0.3, not 0.30000001192092896).
pub(crate) fn f32_json(v: f32) -> Value {
    v.to_string().parse::<f64>().map_or(Value::Null, |f| json!(f))
}

/// Typed, checked reads of one layer's config; errors name the layer and the key.
pub(crate) struct Cfg<'a> {
    class: &'a str,
    map: &'a serde_json::Map<String, Value>,
}

impl<'a> Cfg<'a> {
    pub fn new(class: &'a str, config: &'a Value) -> Result<Cfg<'a>> {
        let map = config.as_object().ok_or_else(|| {
            Error::value(format!("the config of a {class} layer must be a JSON object, received {config}"))
        })?;
        Ok(Cfg { class, map })
    }

    /// Every key must be one the layer writes in its config (`written`), or one Keras writes for
    /// every layer at the value kiln implies (`trainable: true`, `dtype: "float32"`): a
    /// misspelt key would otherwise be ignored and leave its default in place.
    fn check_keys(&self, written: &Value) -> Result<()> {
        for (key, v) in self.map {
            match key.as_str() {
                "name" if !(v.is_string() || v.is_null()) => return Err(self.bad(key, "a string", v)),
                "trainable" if v != &Value::Bool(true) => return Err(self.bad(key, "true", v)),
                "dtype" if v != "float32" => return Err(self.bad(key, "\"float32\"", v)),
                "trainable" | "dtype" => {}
                _ if written.get(key).is_some() => {}
                _ => {
                    let valid: Vec<&str> = written.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
                    return Err(Error::value(format!("{}: {}", self.who(), unknown_key(key, &valid))));
                }
            }
        }
        Ok(())
    }

    /// Keras's `data_format`: kiln computes channels-last only, so any other value is an error.
    pub fn data_format(&self) -> Result<()> {
        match self.str("data_format")? {
            None | Some("channels_last") => Ok(()),
            Some(other) => Err(self.bad("data_format", "\"channels_last\" (kiln's only layout)", &json!(other))),
        }
    }

    /// The layer's name, "" when absent.
    pub fn name(&self) -> &'a str {
        self.map.get("name").and_then(Value::as_str).unwrap_or("")
    }

    /// "layer 'hidden' (Dense)", or "Dense" for an unnamed layer.
    pub fn who(&self) -> String {
        match self.name() {
            "" => self.class.to_string(),
            name => format!("layer '{name}' ({})", self.class),
        }
    }

    /// Prefixes an error from elsewhere (an unknown activation) with the layer.
    pub fn wrap<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| Error::value(format!("{}: {e}", self.who())))
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn bad(&self, key: &str, expected: &str, v: &Value) -> Error {
        let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Error::value(format!("{}: expected {expected}, received {key}={shown}", self.who()))
    }

    /// A value the layer cannot do without; `read` is one of the typed reads below.
    pub fn required<T>(&self, read: impl Fn(&Self, &str) -> Result<Option<T>>, key: &str) -> Result<T> {
        read(self, key)?.ok_or_else(|| Error::value(format!("{}: the config is missing '{key}'", self.who())))
    }

    pub fn positive_int(&self, key: &str) -> Result<Option<usize>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n as usize)),
            _ => Err(self.bad(key, "a positive integer", v)),
        }
    }

    pub fn float(&self, key: &str) -> Result<Option<f64>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.as_f64().map(Some).ok_or_else(|| self.bad(key, "a number", v))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.as_bool().map(Some).ok_or_else(|| self.bad(key, "true or false", v))
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.as_str().map(Some).ok_or_else(|| self.bad(key, "a string", v))
    }

    /// A list of integers (-1 allowed), as Reshape's `target_shape`.
    pub fn int_list(&self, key: &str) -> Result<Option<Vec<isize>>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let items = v.as_array().ok_or_else(|| self.bad(key, "a list of integers", v))?;
        let ints: Option<Vec<isize>> = items.iter().map(|i| i.as_i64().map(|i| i as isize)).collect();
        ints.map(Some).ok_or_else(|| self.bad(key, "a list of integers", v))
    }

    /// Applies `input_shape` (a list of positive integers) when the config has one.
    pub fn with_shape<L>(&self, layer: L, set: impl Fn(L, &[usize]) -> L) -> Result<L> {
        let Some(v) = self.get("input_shape") else { return Ok(layer) };
        let shape: Option<Vec<usize>> = v
            .as_array()
            .and_then(|items| items.iter().map(|i| i.as_u64().filter(|&n| n > 0).map(|n| n as usize)).collect());
        let shape = shape.ok_or_else(|| self.bad("input_shape", "a list of positive integers", v))?;
        Ok(set(layer, &shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(layer: &dyn Layer) {
        let saved = layer_to_config(layer);
        let class = saved["class_name"].as_str().unwrap();
        let again = layer_from_config(class, &saved["config"]).unwrap();
        assert_eq!(layer_to_config(again.as_ref()), saved);
        assert_eq!(again.name(), layer.name());
    }

    #[test]
    fn every_layer_round_trips_through_its_config() {
        let dense = Dense::new(10).activation(Activation::Softmax).use_bias(false).name("out");
        round_trip(&dense.kernel_initializer(Initializer::HeNormal).input_shape(&[784]));
        round_trip(&Dense::new(3));
        round_trip(&Flatten::new().input_shape(&[28, 28]).name("flat"));
        round_trip(&Dropout::new(0.3).name("drop"));
        round_trip(&BatchNormalization::new().momentum(0.9).epsilon(1e-5).center(false).name("bn"));
        round_trip(&ActivationLayer::new(Activation::Tanh).input_shape(&[4]).name("act"));
        round_trip(&Reshape::new(&[-1, 28, 1]).name("r"));
        let saved = layer_to_config(&Dropout::new(0.25).name("d"));
        assert_eq!(saved, json!({"class_name": "Dropout", "config": {"name": "d", "rate": 0.25, "input_shape": null}}));
    }

    #[test]
    fn missing_keys_take_keras_defaults() {
        let bn = layer_from_config("BatchNormalization", &json!({})).unwrap();
        assert_eq!(bn.config()["momentum"], json!(0.99));
        let d = layer_from_config("Dense", &json!({"units": 4, "name": "h"})).unwrap();
        assert_eq!(d.config()["activation"], "linear");
        assert_eq!(d.name(), "h");
    }

    #[test]
    fn bad_configs_are_errors_naming_the_layer_and_value() {
        let err = |class: &str, config: Value| layer_from_config(class, &config).err().unwrap().to_string();
        assert_eq!(
            err("Conv3D", json!({})),
            "unknown layer class 'Conv3D'; valid classes: Dense, Flatten, Dropout, BatchNormalization, \
             Activation, Reshape, Conv2D, MaxPooling2D, AveragePooling2D"
        );
        assert_eq!(
            err("Dense", json!({"units": 0, "name": "h"})),
            "layer 'h' (Dense): expected a positive integer, received units=0"
        );
        assert_eq!(err("Dense", json!({})), "Dense: the config is missing 'units'");
        assert_eq!(
            err("Dense", json!({"units": 2, "activation": "rleu"})),
            "Dense: unknown activation 'rleu'; valid activations: linear, relu, sigmoid, tanh, softmax"
        );
        assert_eq!(
            err("Dropout", json!({"rate": 1.5, "name": "dropout"})),
            "layer 'dropout' (Dropout): rate must be in [0, 1), received rate=1.5"
        );
        assert_eq!(
            err("Flatten", json!({"input_shape": [28, "a"]})),
            "Flatten: expected a list of positive integers, received input_shape=[28,\"a\"]"
        );
        assert_eq!(err("Flatten", json!(3)), "the config of a Flatten layer must be a JSON object, received 3");
    }
}
