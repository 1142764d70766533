//! Optimizer configs and the one table of optimizers.
//!
//! Each optimizer's struct is its config: serde-derived with `#[serde(default)]`, so a key a
//! config leaves out takes the value of the struct's `Default` (Keras's defaults, kept there and
//! nowhere else). Reading a config checks it as Keras's constructor checks its arguments: every
//! key one the optimizer has, every value of its type and in its range; errors name the
//! optimizer, the key and the value.
//!
//! Adding an optimizer: its file (with `pub const KIND: OptimizerKind`) and one line in
//! [`OPTIMIZERS`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Adagrad, Adam, AdamW, Optimizer, RMSprop, Sgd};
use crate::error::{Error, Result};
use crate::layers::config::unknown_key;

/// One optimizer as the table knows it.
#[derive(Clone, Copy)]
pub struct OptimizerKind {
    /// Keras's name: "adam".
    pub name: &'static str,
    /// Builds the optimizer from its config (`null` or `{}`: all defaults), checked.
    pub from_config: fn(&Value) -> Result<Box<dyn Optimizer>>,
}

/// Every optimizer, in the order errors list them.
pub const OPTIMIZERS: &[OptimizerKind] = &[Sgd::KIND, RMSprop::KIND, Adam::KIND, AdamW::KIND, Adagrad::KIND];

/// The optimizer names [`from_name`] accepts.
pub fn names() -> Vec<&'static str> {
    OPTIMIZERS.iter().map(|k| k.name).collect()
}

/// Keras's optimizer strings ("adam", "rmsprop", ...; any case) with Keras's defaults.
pub fn from_name(name: &str) -> Result<Box<dyn Optimizer>> {
    from_config(name, &Value::Null)
}

/// Rebuilds an optimizer from the name and config that [`Optimizer::config`] wrote; a missing
/// key takes the default.
pub fn from_config(name: &str, config: &Value) -> Result<Box<dyn Optimizer>> {
    let key = name.trim().to_ascii_lowercase();
    let Some(kind) = OPTIMIZERS.iter().find(|k| k.name == key) else {
        return Err(Error::value(format!("unknown optimizer '{key}'; valid optimizers: {}", names().join(", "))));
    };
    (kind.from_config)(config)
}

/// The checked reading of an optimizer of type `O` from its config: what each optimizer's
/// `KIND.from_config` is.
pub fn read_config<O>(config: &Value) -> Result<Box<dyn Optimizer>>
where
    O: Optimizer + Serialize + DeserializeOwned + Default + 'static,
{
    let defaults = serde_json::to_value(O::default()).expect("an optimizer's config is a JSON object");
    let name = O::default().name();
    let bad = |msg: String| Error::value(format!("optimizer '{name}': {msg}"));
    let empty = Map::new();
    let map = match config {
        Value::Null => &empty,
        Value::Object(map) => map,
        other => return Err(bad(format!("the config must be a JSON object, received {other}"))),
    };
    let valid: Vec<&str> = defaults.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
    for (key, v) in map {
        match defaults.get(key) {
            None => return Err(bad(unknown_key(key, &valid))),
            Some(Value::Bool(_)) if !v.is_boolean() => {
                return Err(bad(format!("expected true or false, received {key}={v}")))
            }
            Some(Value::Bool(_)) => {}
            Some(_) => check_number(key, v).map_err(bad)?,
        }
    }
    let opt: O = serde_json::from_value(Value::Object(map.clone())).map_err(|e| bad(e.to_string()))?;
    Ok(Box::new(opt))
}

/// One hyperparameter: a finite number (as f32) in the range Keras gives it.
fn check_number(key: &str, v: &Value) -> std::result::Result<(), String> {
    let (range, ok): (&str, fn(f32) -> bool) = match key {
        "learning_rate" | "epsilon" => ("a positive number", |x| x > 0.0),
        "momentum" | "rho" | "beta_1" | "beta_2" => ("a number in [0, 1)", |x| (0.0..1.0).contains(&x)),
        _ => ("a number >= 0", |x| x >= 0.0),
    };
    match v.as_f64().map(|x| x as f32) {
        Some(x) if x.is_finite() && ok(x) => Ok(()),
        _ => Err(format!("expected {range}, received {key}={v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_parse_with_keras_defaults_and_round_trip_their_config() {
        assert_eq!(names(), ["sgd", "rmsprop", "adam", "adamw", "adagrad"]);
        for name in names() {
            let opt = from_name(name).unwrap();
            assert_eq!(opt.name(), name);
            let again = from_config(name, &opt.config()).unwrap();
            assert_eq!(again.config(), opt.config());
        }
        assert_eq!(from_name("rmsprop").unwrap().learning_rate(), 0.001);
        assert_eq!(from_name("SGD").unwrap().learning_rate(), 0.01);
        let err = from_name("adamax").err().unwrap();
        assert_eq!(err.to_string(), "unknown optimizer 'adamax'; valid optimizers: sgd, rmsprop, adam, adamw, adagrad");
    }

    #[test]
    fn missing_keys_take_the_defaults_and_bad_ones_are_errors() {
        let adamw = from_config("adamw", &json!({"weight_decay": 0.1, "beta_2": 0.99})).unwrap();
        assert_eq!(
            adamw.config(),
            json!({"learning_rate": 0.001f32, "beta_1": 0.9f32, "beta_2": 0.99f32, "epsilon": 1e-7f32,
                   "weight_decay": 0.1f32})
        );
        let err = |name: &str, c: Value| from_config(name, &c).err().unwrap().to_string();
        assert_eq!(err("adagrad", json!([1])), "optimizer 'adagrad': the config must be a JSON object, received [1]");
        assert_eq!(
            err("adamw", json!({"weight_decay": -1})),
            "optimizer 'adamw': expected a number >= 0, received weight_decay=-1"
        );
        assert_eq!(
            err("sgd", json!({"momentun": 0.5})),
            "optimizer 'sgd': unknown key 'momentun' (did you mean 'momentum'?); valid keys: learning_rate, \
             momentum, nesterov"
        );
    }
}
