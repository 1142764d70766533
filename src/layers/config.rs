//! Typed, checked reads of one layer's Keras config (`{"units": 10, "activation": "relu"}`):
//! what a layer's `from_config` reads its arguments with. Errors name the layer and the key,
//! in Keras's words: "layer 'h' (Dense): expected a positive integer, received units=0".

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// One layer's config, read key by key; see [`super::registry::LayerKind::from_config`].
pub struct LayerConfig<'a> {
    class: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> LayerConfig<'a> {
    /// The config of a layer of class `class`; anything but a JSON object is an error.
    pub fn new(class: &'a str, config: &'a Value) -> Result<LayerConfig<'a>> {
        let map = config.as_object().ok_or_else(|| {
            Error::value(format!("the config of a {class} layer must be a JSON object, received {config}"))
        })?;
        Ok(LayerConfig { class, map })
    }

    /// Every key must be one the layer writes in its config (`written`), or one Keras writes for
    /// every layer at the value kiln implies (`trainable: true`, `dtype: "float32"`): a
    /// misspelt key would otherwise be ignored and leave its default in place.
    pub(crate) fn check_keys(&self, written: &Value) -> Result<()> {
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

    /// Keras's "expected {expected}, received key=value", prefixed with the layer.
    pub fn bad(&self, key: &str, expected: &str, v: &Value) -> Error {
        let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Error::value(format!("{}: expected {expected}, received {key}={shown}", self.who()))
    }

    /// A value the layer cannot do without; `read` is one of the typed reads below.
    pub fn required<T>(&self, read: impl Fn(&Self, &str) -> Result<Option<T>>, key: &str) -> Result<T> {
        read(self, key)?.ok_or_else(|| Error::value(format!("{}: the config is missing '{key}'", self.who())))
    }

    /// A positive integer (`units`, `filters`).
    pub fn positive_int(&self, key: &str) -> Result<Option<usize>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n as usize)),
            _ => Err(self.bad(key, "a positive integer", v)),
        }
    }

    /// Any JSON number (`rate`, `momentum`).
    pub fn float(&self, key: &str) -> Result<Option<f64>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.as_f64().map(Some).ok_or_else(|| self.bad(key, "a number", v))
    }

    /// `true` or `false`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.as_bool().map(Some).ok_or_else(|| self.bad(key, "true or false", v))
    }

    /// A string (`activation`, `padding`).
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

    /// The per-sample `input_shape` (a list of positive integers) a first layer may carry.
    pub fn input_shape(&self) -> Result<Option<Vec<usize>>> {
        let Some(v) = self.get("input_shape") else { return Ok(None) };
        let shape: Option<Vec<usize>> = v
            .as_array()
            .and_then(|items| items.iter().map(|i| i.as_u64().filter(|&n| n > 0).map(|n| n as usize)).collect());
        shape.map(Some).ok_or_else(|| self.bad("input_shape", "a list of positive integers", v))
    }
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

/// An `f32` as the JSON number it reads as (0.3, not 0.30000001192092896).
pub fn f32_json(v: f32) -> Value {
    v.to_string().parse::<f64>().map_or(Value::Null, |f| json!(f))
}
