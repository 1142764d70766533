//! Model files and model descriptions a hostile or careless user could give kiln: each case
//! was seen to load silently wrong, abort or panic, and must now be an error naming the file,
//! the key and the value (or, for NaN weights, a warning naming the tensor).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::io::{load_model, non_finite_warning, read_architecture};
use kiln::layers::{parse_layers, Activation, Dense, Flatten};
use kiln::model::{Compile, Sequential};
use kiln::Tensor;
use safetensors::SafeTensors;
use serde_json::{json, Value};

fn err_text<T>(r: kiln::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// Flatten (4, 2) → Dense(3, relu) "hidden" → Dense(2, softmax) "output", compiled with adam.
fn small() -> Sequential {
    let mut m = Sequential::named("small");
    m.add(Flatten::new().input_shape(&[4, 2]));
    m.add(Dense::new(3).activation(Activation::Relu).name("hidden"));
    m.add(Dense::new(2).activation(Activation::Softmax).name("output"));
    m.compile(Compile::new("sparse_categorical_crossentropy").optimizer("adam")).unwrap();
    m
}

/// Writes `json` as an architecture file and reads it back.
fn read_json(dir: &Path, json: &Value) -> (PathBuf, kiln::Result<Sequential>) {
    let path = dir.join("arch.json");
    std::fs::write(&path, json.to_string()).unwrap();
    let r = read_architecture(&path);
    (path, r)
}

/// The small model's architecture with `edit` applied to the output layer's config.
fn edited_output(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut json = small().to_json();
    edit(json["config"]["layers"][2]["config"].as_object_mut().unwrap());
    json
}

/// Saves `model` to `path` with its metadata changed by `edit`, tensors kept.
fn save_with_metadata(model: &Sequential, path: &Path, edit: impl FnOnce(&mut HashMap<String, String>)) {
    let bytes = model.to_bytes().unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    edit(&mut meta);
    let tensors: Vec<(String, safetensors::tensor::TensorView)> = file.tensors();
    std::fs::write(path, safetensors::serialize(tensors, Some(meta)).unwrap()).unwrap();
}

#[test]
fn misspelt_unknown_and_mistyped_config_keys_are_errors_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            edited_output(|c| drop(c.insert("activatiom".into(), json!("softmax")))),
            "layer 'output' (Dense): unknown key 'activatiom' (did you mean 'activation'?); valid keys: name, units, \
             activation, use_bias, kernel_initializer, bias_initializer, input_shape",
        ),
        (
            edited_output(|c| drop(c.insert("activation".into(), json!("softmaxx")))),
            "layer 'output' (Dense): unknown activation 'softmaxx'; valid activations: linear, relu, sigmoid, tanh, \
             softmax",
        ),
        (
            edited_output(|c| drop(c.insert("units".into(), json!("2")))),
            "layer 'output' (Dense): expected a positive integer, received units=2",
        ),
        (
            edited_output(|c| drop(c.insert("use_bias".into(), json!(1)))),
            "layer 'output' (Dense): expected true or false, received use_bias=1",
        ),
        (edited_output(|c| drop(c.insert("name".into(), json!(7)))), "Dense: expected a string, received name=7"),
        (
            edited_output(|c| drop(c.insert("trainable".into(), json!(false)))),
            "layer 'output' (Dense): expected true, received trainable=false",
        ),
    ];
    for (json, want) in cases {
        let (path, r) = read_json(dir.path(), &json);
        assert_eq!(err_text(r), format!("{}: {want}", path.display()));
    }
    let mut json = small().to_json();
    json["config"]["layerz"] = json!([]);
    let (path, r) = read_json(dir.path(), &json);
    assert_eq!(
        err_text(r),
        format!(
            "{}: not a Sequential model architecture: the model's config: unknown key 'layerz' (did you mean \
             'layers'?); valid keys: name, input_shape, layers",
            path.display()
        )
    );
}

#[test]
fn channels_first_and_garbage_values_in_convolutions_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let conv = |extra: Value| {
        let mut config = json!({"filters": 4, "kernel_size": 3, "name": "c"});
        config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({"class_name": "Sequential", "config": {"input_shape": [8, 8, 1], "layers": [
            {"class_name": "Conv2D", "config": config}]}})
    };
    let cases = [
        (
            json!({"data_format": "channels_first"}),
            "layer 'c' (Conv2D): expected \"channels_last\" (kiln's only layout), received data_format=channels_first",
        ),
        (json!({"padding": "full"}), "layer 'c' (Conv2D): unknown padding 'full'; valid paddings: valid, same"),
        (
            json!({"dilation_rate": 2}),
            "layer 'c' (Conv2D): unknown key 'dilation_rate'; valid keys: name, filters, \
             kernel_size, strides, padding, data_format, activation, use_bias, kernel_initializer, bias_initializer, \
             input_shape",
        ),
    ];
    for (extra, want) in cases {
        let (path, r) = read_json(dir.path(), &conv(extra));
        assert_eq!(err_text(r), format!("{}: {want}", path.display()));
    }
}

/// Before: a tampered output layer ("activatiom") loaded and predicted 291.3% and negative
/// "probabilities". Now the file is refused.
#[test]
fn a_saved_model_with_a_misspelt_activation_does_not_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    save_with_metadata(&small(), &path, |meta| {
        let arch = meta["architecture"].replace("\"activation\":\"softmax\"", "\"activatiom\":\"softmax\"");
        meta.insert("architecture".into(), arch);
    });
    let e = err_text(load_model(&path));
    assert!(
        e.starts_with(&format!("{}: layer 'output' (Dense): unknown key 'activatiom' (did you mean", path.display())),
        "{e}"
    );
    save_with_metadata(&small(), &path, |meta| drop(meta.insert("compiel".into(), "{}".into())));
    assert_eq!(
        err_text(load_model(&path)),
        format!(
            "{}: metadata: unknown key 'compiel' (did you mean 'compile'?); valid keys: format, kiln_version, \
             architecture, seed, compile, data, training",
            path.display()
        )
    );
}

#[test]
fn optimizer_metadata_keras_would_reject_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let cases = [
        ("adam", json!({"learning_rate": -1}), "optimizer 'adam': expected a positive number, received learning_rate=-1"),
        (
            "adam",
            json!({"learning_rate": "fast"}),
            "optimizer 'adam': expected a positive number, received learning_rate=\"fast\"",
        ),
        ("rmsprop", json!({"rho": 5}), "optimizer 'rmsprop': expected a number in [0, 1), received rho=5"),
        ("sgd", json!({"nesterov": "yes"}), "optimizer 'sgd': expected true or false, received nesterov=\"yes\""),
        (
            "adam",
            json!({"beta1": 0.9}),
            "optimizer 'adam': unknown key 'beta1' (did you mean 'beta_1'?); valid keys: learning_rate, beta_1, beta_2, \
             epsilon",
        ),
    ];
    for (name, config, want) in cases {
        save_with_metadata(&small(), &path, |meta| {
            let compile = json!({"loss": "sparse_categorical_crossentropy", "metrics": [],
                                 "optimizer": {"name": name, "config": config}, "iterations": 0});
            meta.insert("compile".into(), compile.to_string());
        });
        assert_eq!(err_text(load_model(&path)), format!("{}: {want}", path.display()));
    }
    // The same checks for an optimizer built in code.
    let mut m = small();
    let bad = kiln::optimizers::RMSprop { rho: 5.0, ..Default::default() };
    let e = err_text(m.compile(Compile::new("mse").optimizer_with(bad)));
    assert_eq!(e, "optimizer 'rmsprop': expected a number in [0, 1), received rho=5.0");
}

/// Builds a `--layers` line on 28×28 images, as `kiln summary --layers` does.
fn build(spec: &str, input: &[usize]) -> kiln::Result<Sequential> {
    let mut m = Sequential::new();
    for layer in parse_layers(spec)? {
        m.add_boxed(layer);
    }
    m.build(input)?;
    Ok(m)
}

#[test]
fn sizes_are_bounded_before_anything_is_allocated() {
    let cases = [
        (
            "flatten, dense(10000000)",
            "layer 'dense' (Dense): its weights need 31 GB (7,850,000,000 values), more than the 8 GB kiln allows",
        ),
        (
            "flatten, dense(18446744073709551615)",
            "layer 'dense' (Dense): its weights need 5.8e22 bytes (14,480,694,097,861,998,017,775 values), more \
             than the 8 GB kiln allows",
        ),
        (
            "reshape(28, 28, 1), conv2d(4, 4294967296)",
            "layer 'conv2d' (Conv2D): its weights need 3.0e20 bytes (73,786,976,294,838,206,468 values), more than \
             the 8 GB kiln allows",
        ),
        (
            "reshape(28, 28, 1), conv2d(1000000, 3), flatten, dense(10)",
            "layer 'dense' (Dense): the model's weights up to it need 27 GB (6,770,000,010 values), more than the \
             8 GB kiln allows",
        ),
        (
            "reshape(4294967296, 4294967296)",
            "layer 'reshape' (Reshape): cannot reshape input of shape (28, 28) (784 values) into target shape \
             (4294967296, 4294967296) (18446744073709551616 values)",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(err_text(build(spec, &[28, 28])), want, "{spec}");
    }
    // A model file asking for 10^6 filters, and an input shape that overflows.
    let dir = tempfile::tempdir().unwrap();
    let filters = json!({"class_name": "Sequential", "config": {"input_shape": [28, 28, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 1000000, "kernel_size": 3}},
        {"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 10}}]}});
    let (path, r) = read_json(dir.path(), &filters);
    assert!(err_text(r)
        .starts_with(&format!("{}: layer 'dense' (Dense): the model's weights up to it need 27 GB", path.display())));
    let wide = json!({"class_name": "Sequential", "config": {"input_shape": [4294967296u64, 4294967296u64],
        "layers": [{"class_name": "Flatten", "config": {}}]}});
    let (path, r) = read_json(dir.path(), &wide);
    assert_eq!(
        err_text(r),
        format!(
            "{}: model 'sequential': its input of shape (4294967296, 4294967296) per sample need 7.4e19 bytes \
             (18,446,744,073,709,551,616 values), more than the 8 GB kiln allows",
            path.display()
        )
    );
}

#[test]
fn batch_buffers_are_checked_before_the_first_batch() {
    // 4 filters of 1000×1000: 16 MB of weights, but 784 im2col rows of 10^6 values per sample:
    // 784,015,690 values per sample with the outputs and gradients, times 32.
    let mut m =
        build("reshape(28, 28, 1), conv2d(4, 1000, padding=same), flatten, dense(10, activation=softmax)", &[28, 28])
            .unwrap();
    m.compile(Compile::new("sparse_categorical_crossentropy")).unwrap();
    let (x, y) = (Tensor::zeros(&[64, 28, 28]), Tensor::zeros(&[64]));
    let opts = kiln::model::FitOptions { epochs: 1, verbose: 0, ..Default::default() };
    assert_eq!(
        err_text(m.fit(&x, &y, opts)),
        "model 'sequential': the buffers of a batch of 32 (training) need 100 GB (25,088,502,080 values), more than \
         the 8 GB kiln allows"
    );
}

#[test]
fn names_cannot_break_the_file_format() {
    for name in ["optimizer", "optimizer.dense"] {
        let want = format!(
            "invalid layer name '{name}': 'optimizer' and names starting with 'optimizer.' are reserved for the \
             optimizer's state"
        );
        let spec = format!("dense(2, name={name})");
        assert_eq!(err_text(parse_layers(&spec)), format!("column 1 (in '{spec}'): {want}"));
        let mut m = Sequential::new();
        m.add(Dense::new(2).name(name).input_shape(&[3]));
        assert_eq!(err_text(m.compile(Compile::new("mse"))), want);
    }
    // Names that look like the format's separators are fine and round-trip.
    let m = build("dense(2, name=optimizers), dense(2, name=a.kernel), dense(2, name=a)", &[3]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let back = load_model(&path).unwrap();
    assert_eq!(back.to_json(), m.to_json());
    assert_eq!(back.weights_sha256(), m.weights_sha256());
}

/// 20,000 unnamed layers get Keras's names (this took seconds per thousand layers when every
/// name was checked against all earlier ones).
#[test]
fn many_unnamed_layers_are_named_in_order() {
    let layers: Vec<Value> =
        (0..20_000).map(|_| json!({"class_name": "Activation", "config": {"activation": "relu"}})).collect();
    let json = json!({"class_name": "Sequential", "config": {"input_shape": [2], "layers": layers}});
    let m = Sequential::from_json(&json).unwrap();
    assert_eq!(m.layers()[0].name(), "activation");
    assert_eq!(m.layers()[19_999].name(), "activation_19999");
}

#[test]
fn non_finite_weights_warn_naming_the_tensor() {
    let mut m = small();
    let mut weights = m.get_weights();
    weights[0].data_mut()[1] = f32::NAN;
    weights[3].data_mut()[0] = f32::INFINITY;
    m.set_weights(&weights).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    m.save(&path).unwrap();
    let loaded = load_model(&path).unwrap();
    assert_eq!(loaded.non_finite_weights(), [("hidden.kernel".to_string(), 1), ("output.bias".to_string(), 1)]);
    let warning = format!(
        "WARNING: {}: non-finite weights (NaN or infinity) in 'hidden.kernel' (1 of 24 values), 'output.bias' (1 of \
         2 values); the model's outputs will not be numbers",
        path.display()
    );
    assert_eq!(non_finite_warning(&path, &loaded).unwrap(), warning);
    assert_eq!(non_finite_warning(&path, &small()), None);
    let out = Command::new(env!("CARGO_BIN_EXE_kiln")).arg("summary").arg(&path).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), warning);
}
