//! A model's architecture as Keras-like JSON:
//! `{"class_name": "Sequential", "config": {"name", "input_shape", "layers": [...]}}`, each layer
//! as [`layer_to_config`] writes it. Saved model files carry it in their metadata, and
//! `kiln train --model FILE` reads a file holding just this JSON.

use serde_json::{json, Value};

use super::Sequential;
use crate::error::{Error, Result};
use crate::layers::config::unknown_key;
use crate::layers::{layer_from_config, layer_to_config};

impl Sequential {
    /// The architecture (no weights) as JSON; [`Sequential::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        let layers = self.layers.iter().map(|l| layer_to_config(l.as_ref())).collect();
        architecture_json(&self.name, self.input_shape.as_deref(), layers)
    }

    /// Rebuilds the layers from [`Sequential::to_json`]'s JSON, and builds the model (weights
    /// initialised from seed 0) when the input shape is known. Keras's leading `InputLayer`
    /// (`batch_shape: [null, 784]`) is accepted in place of `input_shape`.
    pub fn from_json(json: &Value) -> Result<Sequential> {
        let bad = |what: &str| Error::value(format!("not a Sequential model architecture: {what}"));
        match json.get("class_name").and_then(Value::as_str) {
            Some("Sequential") => {}
            Some(other) => return Err(bad(&format!("class_name is '{other}', expected 'Sequential'"))),
            None => return Err(bad("no 'class_name'")),
        }
        only_keys("the model", json, &["class_name", "config"])?;
        let config = json.get("config").filter(|c| c.is_object()).ok_or_else(|| bad("no 'config' object"))?;
        only_keys("the model's config", config, &["name", "input_shape", "layers"])?;
        let layers = config.get("layers").and_then(Value::as_array).ok_or_else(|| bad("no 'layers' list"))?;
        let mut model = match config.get("name") {
            None | Some(Value::Null) => Sequential::new(),
            Some(Value::String(name)) => Sequential::named(name),
            Some(other) => return Err(bad(&format!("the name must be a string, received {other}"))),
        };
        let mut input_shape = shape(config.get("input_shape"))?;
        // Explicit names first, so an unnamed layer never takes a later layer's name.
        for entry in layers {
            if let Some(name) = entry.get("config").and_then(|c| c.get("name")).and_then(Value::as_str) {
                model.names.reserve(name);
            }
        }
        for (i, entry) in layers.iter().enumerate() {
            let class = entry.get("class_name").and_then(Value::as_str);
            let class = class.ok_or_else(|| bad(&format!("layer {i} has no 'class_name'")))?;
            only_keys(&format!("layer {i}"), entry, &["class_name", "config"])?;
            let layer_config = entry.get("config").cloned().unwrap_or_else(|| json!({}));
            if class == "InputLayer" && i == 0 {
                only_keys("the InputLayer's config", &layer_config, &INPUT_LAYER_KEYS)?;
                let batch_shape = shape(layer_config.get("batch_shape"))?.map(|s| s[1..].to_vec());
                input_shape = input_shape.or(batch_shape).or(shape(layer_config.get("input_shape"))?);
                continue;
            }
            model.add_boxed(layer_from_config(class, &layer_config)?);
        }
        if let Some(shape) = input_shape {
            if shape.contains(&0) {
                return Err(bad(&format!("the input shape must be positive integers, received {shape:?}")));
            }
            model.input_shape = Some(shape);
        }
        if let Some(shape) = model.input_shape.clone() {
            model.build(&shape)?;
        }
        Ok(model)
    }
}

/// `{"class_name": "Sequential", "config": {"name", "input_shape", "layers"}}`: the one place
/// that writes the architecture JSON ([`Sequential::to_json`], [`super::ModelState::architecture`]).
pub(super) fn architecture_json(name: &str, input_shape: Option<&[usize]>, layers: Vec<Value>) -> Value {
    json!({
        "class_name": "Sequential",
        "config": { "name": name, "input_shape": input_shape, "layers": layers },
    })
}

/// The InputLayer config keys Keras writes; the shape is read, the others must be neutral.
const INPUT_LAYER_KEYS: [&str; 6] = ["batch_shape", "input_shape", "name", "dtype", "sparse", "ragged"];

/// `value` (an object) may hold only the `valid` keys; `what` names it in the error.
fn only_keys(what: &str, value: &Value, valid: &[&str]) -> Result<()> {
    let Some(map) = value.as_object() else {
        return Err(Error::value(format!(
            "not a Sequential model architecture: {what} must be a JSON object, received {value}"
        )));
    };
    for (key, v) in map {
        if !valid.contains(&key.as_str()) {
            return Err(Error::value(format!(
                "not a Sequential model architecture: {what}: {}",
                unknown_key(key, valid)
            )));
        }
        let neutral = match key.as_str() {
            "sparse" | "ragged" => v == &Value::Bool(false),
            "dtype" => v == "float32",
            _ => true,
        };
        if !neutral {
            return Err(Error::value(format!(
                "not a Sequential model architecture: {what}: kiln does not support {key}={v}"
            )));
        }
    }
    Ok(())
}

/// A shape from JSON: positive integers, `null` entries (Keras's batch dimension) kept as 0.
fn shape(v: Option<&Value>) -> Result<Option<Vec<usize>>> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(None) };
    let dims: Option<Vec<usize>> = v.as_array().and_then(|items| {
        items.iter().map(|d| if d.is_null() { Some(0) } else { d.as_u64().map(|d| d as usize) }).collect()
    });
    match dims {
        Some(d) if !d.is_empty() => Ok(Some(d)),
        _ => Err(Error::value(format!("expected a shape (a list of positive integers), received {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Activation, BatchNormalization, Dense, Dropout, Flatten};

    fn mlp() -> Sequential {
        let mut m = Sequential::named("mlp");
        m.add(Flatten::new().input_shape(&[4, 2]));
        m.add(Dense::new(5).activation(Activation::Relu).name("hidden"));
        m.add(BatchNormalization::new());
        m.add(Dropout::new(0.2));
        m.add(Dense::new(3).activation(Activation::Softmax).name("output"));
        m
    }

    #[test]
    fn architecture_round_trips_and_builds() {
        let m = mlp();
        let json = m.to_json();
        assert_eq!(json["config"]["input_shape"], json!([4, 2]));
        assert_eq!(json["config"]["layers"][2]["class_name"], "BatchNormalization");
        let again = Sequential::from_json(&json).unwrap();
        assert_eq!(again.to_json(), json);
        assert_eq!(again.name(), "mlp");
        assert!(again.is_built());
        assert_eq!(again.layer_output_shapes().last().unwrap(), &vec![3]);
        let names: Vec<String> = again.weights().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[..3], ["hidden.kernel", "hidden.bias", "batch_normalization.gamma"]);
    }

    #[test]
    fn keras_input_layer_and_unnamed_layers() {
        let json = json!({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 6]}},
            {"class_name": "Dense", "config": {"units": 2}},
            {"class_name": "Dense", "config": {"units": 2}},
        ]}});
        let m = Sequential::from_json(&json).unwrap();
        assert_eq!(m.input_shape(), Some(&[6][..]));
        assert_eq!(m.layers()[1].name(), "dense_1");
        assert!(m.is_built());
    }

    #[test]
    fn bad_architectures_are_errors() {
        let err = |v: Value| Sequential::from_json(&v).err().unwrap().to_string();
        assert_eq!(
            err(json!({"class_name": "Functional"})),
            "not a Sequential model architecture: class_name is 'Functional', expected 'Sequential'"
        );
        assert_eq!(err(json!([1])), "not a Sequential model architecture: no 'class_name'");
        assert_eq!(
            err(json!({"class_name": "Sequential", "config": {}})),
            "not a Sequential model architecture: no 'layers' list"
        );
        let unknown =
            json!({"class_name": "Sequential", "config": {"layers": [{"class_name": "Conv3D", "config": {}}]}});
        assert!(err(unknown).starts_with("unknown layer class 'Conv3D'; valid classes: Dense"));
    }
}
