//! Keras's model config (`config.json` of a `.keras` file, `model_config` of an `.h5` file) to
//! kiln's architecture JSON and back.
//!
//! Every option of a Keras layer is either one kiln reads, or one kiln can ignore because it
//! holds Keras's default (`trainable: true`, `dilation_rate: [1, 1]`, no regularizer, ...);
//! anything else is an error naming the layer, the option and the file, so nothing is dropped
//! silently. Initializers may be strings or `{"class_name": "GlorotUniform", "config": {...}}`.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::layers::names::snake_case;
use crate::model::ModelState;

/// The options kiln reads, per class (besides `name`): the layer kind's arguments.
fn kiln_keys(class: &str) -> Option<Vec<&'static str>> {
    crate::layers::registry::layer_kind(class).map(|k| k.args.iter().map(|a| a.0).collect())
}

/// Whether an option kiln does not read holds the value under which ignoring it changes nothing.
fn ignorable(key: &str, v: &Value) -> bool {
    match key {
        "trainable" => v == &json!(true),
        "dtype" => is_float32(v),
        "data_format" => v.is_null() || v == "channels_last",
        "dilation_rate" => v == &json!([1, 1]) || v == &json!(1),
        "groups" => v == &json!(1),
        "axis" => v == &json!(-1) || v == &json!([-1]),
        "noise_shape" | "seed" | "lora_rank" | "quantization_config" | "renorm_clipping" => v.is_null(),
        "synchronized" | "renorm" => v == &json!(false),
        // The recurrent layers' options kiln does not have, at the values that change nothing;
        // `implementation` (Keras 2) picks how the same numbers are computed.
        "return_state" | "stateful" | "unroll" | "zero_output_for_mask" | "time_major" => v == &json!(false),
        "lora_alpha" | "renorm_momentum" | "batch_input_shape" | "input_shape" | "build_config" | "implementation" => {
            true
        }
        k if k.ends_with("_regularizer") || k.ends_with("_constraint") => v.is_null(),
        // Initializers of layers that do not read them must be the ones kiln's layer uses.
        "kernel_initializer" => initializer_name(v).as_deref() == Ok("glorot_uniform"),
        "bias_initializer" => initializer_name(v).as_deref() == Ok("zeros"),
        "recurrent_initializer" => is_default_keras_initializer(v, "Orthogonal", &[("gain", 1.0)]),
        "embeddings_initializer" => {
            v == "uniform" || is_default_keras_initializer(v, "RandomUniform", &[("minval", -0.05), ("maxval", 0.05)])
        }
        // BatchNormalization's initializers only matter before the statistics are loaded.
        k if k.ends_with("_initializer") => initializer_name(v).is_ok(),
        _ => false,
    }
}

/// Whether `v` is Keras's initializer `class` (as a string in snake case, or an object) whose
/// config holds no seed and only the given default values.
fn is_default_keras_initializer(v: &Value, class: &str, defaults: &[(&str, f64)]) -> bool {
    match v {
        Value::String(s) => *s == snake_case(class),
        Value::Object(o) => {
            let config = o.get("config").and_then(Value::as_object);
            o.get("class_name").and_then(Value::as_str) == Some(class)
                && config
                    .into_iter()
                    .flatten()
                    .all(|(k, val)| val.is_null() || defaults.iter().any(|(d, dv)| d == k && val.as_f64() == Some(*dv)))
        }
        _ => false,
    }
}

fn is_float32(v: &Value) -> bool {
    v.is_null() || v == "float32" || v.pointer("/config/name").and_then(Value::as_str) == Some("float32")
}

/// An initializer as kiln's name: "glorot_uniform" or `{"class_name": "GlorotUniform"}` (whose
/// config may only hold Keras's defaults: no seed).
fn initializer_name(v: &Value) -> std::result::Result<String, String> {
    let name = match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let class = o.get("class_name").and_then(Value::as_str).ok_or("an initializer without class_name")?;
            let config = o.get("config").and_then(Value::as_object);
            if let Some((k, val)) = config.into_iter().flatten().find(|(_, val)| !val.is_null()) {
                return Err(format!("{class} with {k}={val}"));
            }
            snake_case(class)
        }
        other => return Err(other.to_string()),
    };
    crate::layers::Initializer::parse(&name).map(|i| i.name().to_string()).map_err(|_| name)
}

/// A shape after its batch dimension: `[null, 28, 28]` → `[28, 28]`.
fn per_sample(v: &Value) -> Option<Value> {
    v.as_array().filter(|a| !a.is_empty()).map(|a| Value::Array(a[1..].to_vec()))
}

/// kiln's architecture JSON from Keras's model config. `file` names the file in errors.
pub(crate) fn from_keras(keras: &Value, file: &str) -> Result<Value> {
    let bad = |what: String| Error::value(format!("{file}: {what}"));
    match keras.get("class_name").and_then(Value::as_str) {
        Some("Sequential") => {}
        Some(other) => {
            return Err(bad(format!("model class '{other}' is not supported; kiln reads Sequential models")))
        }
        None => return Err(bad("the model config has no 'class_name'".into())),
    }
    let config = keras.get("config").ok_or_else(|| bad("the model config has no 'config'".into()))?;
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the model config has no 'layers' list".into()))?;
    let mut input_shape = Value::Null;
    let mut out = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let class = layer
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("layer {i} has no class_name")))?;
        let cfg =
            layer.get("config").and_then(Value::as_object).ok_or_else(|| bad(format!("layer {i} has no config")))?;
        let shape = cfg.get("batch_shape").or(cfg.get("batch_input_shape")).and_then(per_sample);
        if class == "InputLayer" {
            input_shape = shape.ok_or_else(|| bad("the InputLayer has no batch_shape".into()))?;
            continue;
        }
        if let (true, Some(s)) = (input_shape.is_null(), shape) {
            input_shape = s;
        }
        out.push(layer_from_keras(class, cfg, file)?);
    }
    // kiln's convention: the first layer carries the model's input shape.
    if let (Some(first), false) = (out.first_mut(), input_shape.is_null()) {
        first["config"]["input_shape"] = input_shape.clone();
    }
    Ok(
        json!({"class_name": "Sequential", "config": {"name": config.get("name"), "input_shape": input_shape, "layers": out}}),
    )
}

/// One layer's kiln config from Keras's.
fn layer_from_keras(class: &str, cfg: &Map<String, Value>, file: &str) -> Result<Value> {
    let name = cfg.get("name").and_then(Value::as_str).unwrap_or("");
    let who = format!("{file}: layer '{name}' ({class})");
    let keys = kiln_keys(class)
        .ok_or_else(|| Error::value(format!("{file}: layer '{name}' has class '{class}', which kiln does not have")))?;
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    for (key, v) in cfg {
        if key == "name" {
            continue;
        }
        if keys.contains(&key.as_str()) {
            let v = if key.ends_with("_initializer") {
                json!(initializer_name(v).map_err(|e| Error::value(format!("{who}: unsupported {key} {e}")))?)
            } else {
                v.clone()
            };
            out.insert(key.clone(), v);
        } else if !ignorable(key, v) {
            return Err(Error::value(format!("{who}: option {key}={v} is not supported by kiln")));
        }
    }
    Ok(json!({"class_name": class, "config": out}))
}

/// Keras 3's model config (`config.json`) of a built model's state (`input_shape`: its input
/// shape), which `keras.models.load_model` reads.
pub(crate) fn to_keras(state: &ModelState, input_shape: &[usize]) -> Value {
    let mut batch_shape = vec![Value::Null];
    batch_shape.extend(input_shape.iter().map(|&d| json!(d)));
    // A model that starts with Embedding takes integer ids, as Keras's `Input(dtype="int32")`.
    let input_dtype = match state.layers.first() {
        Some(l) if l.class == "Embedding" => "int32",
        _ => "float32",
    };
    let mut layers = vec![json!({
        "module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
        "config": {"batch_shape": batch_shape, "dtype": input_dtype, "sparse": false, "name": "input_layer"},
    })];
    for layer in &state.layers {
        let mut config: Map<String, Value> = layer.config.as_object().cloned().unwrap_or_default();
        config.remove("input_shape");
        config.insert("name".into(), json!(layer.name));
        config.insert("trainable".into(), json!(true));
        config.insert("dtype".into(), json!("float32"));
        let mut batch = vec![Value::Null];
        batch.extend(layer.input_shape.iter().map(|&d| json!(d)));
        layers.push(json!({
            "module": "keras.layers", "class_name": layer.class, "registered_name": null, "config": config,
            "build_config": {"input_shape": batch},
        }));
    }
    json!({
        "module": "keras", "class_name": "Sequential", "registered_name": null,
        "config": {"name": state.name, "trainable": true, "dtype": "float32", "layers": layers},
        "build_config": {"input_shape": batch_shape},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initializer_objects_and_strings_both_read() {
        let keras = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "trainable": true, "dtype": "float32",
             "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": null}},
             "bias_initializer": "zeros", "kernel_regularizer": null}},
        ]}});
        let kiln = from_keras(&keras, "m.keras").unwrap();
        assert_eq!(kiln["config"]["input_shape"], json!([3]));
        let d = &kiln["config"]["layers"][0]["config"];
        assert_eq!(
            (d["kernel_initializer"].as_str(), d["bias_initializer"].as_str()),
            (Some("he_normal"), Some("zeros"))
        );
    }

    #[test]
    fn unknown_classes_and_options_are_errors_naming_them_and_the_file() {
        let model = |layer: Value| json!({"class_name": "Sequential", "config": {"layers": [layer]}});
        let err = |layer: Value| from_keras(&model(layer), "m.h5").unwrap_err().to_string();
        assert_eq!(
            err(json!({"class_name": "ConvLSTM2D", "config": {"name": "lstm"}})),
            "m.h5: layer 'lstm' has class 'ConvLSTM2D', which kiln does not have"
        );
        assert_eq!(
            err(json!({"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "dilation_rate": [2, 2]}})),
            "m.h5: layer 'c' (Conv2D): option dilation_rate=[2,2] is not supported by kiln"
        );
        let l2 = json!({"class_name": "L2", "config": {"l2": 0.01}});
        assert_eq!(
            err(json!({"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_regularizer": l2}})),
            "m.h5: layer 'd' (Dense): option kernel_regularizer={\"class_name\":\"L2\",\"config\":{\"l2\":0.01}} is not supported by kiln"
        );
        let seeded = json!({"class_name": "GlorotUniform", "config": {"seed": 7}});
        assert_eq!(
            err(json!({"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_initializer": seeded}})),
            "m.h5: layer 'd' (Dense): unsupported kernel_initializer GlorotUniform with seed=7"
        );
        let functional = json!({"class_name": "Functional", "config": {}});
        assert_eq!(
            from_keras(&functional, "m.keras").unwrap_err().to_string(),
            "m.keras: model class 'Functional' is not supported; kiln reads Sequential models"
        );
    }
}
