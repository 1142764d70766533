use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::io::load_model;
use crate::layers::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D,
    Padding, Rescaling, Reshape,
};
use crate::model::Sequential;
use crate::Tensor;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/keras_models").join(name)
}

/// Keras's files of five models (the lesson, MLP, CNN, a CNN with every other layer kiln
/// shares with Keras, and Embedding → LSTM(return_sequences) → GRU → Dense), its predictions on
/// given inputs and its parameter counts (tests/reference/keras_models, made by
/// make_keras_model_files.py with `--more` for the last two).
#[test]
fn keras_files_predict_what_keras_predicted() {
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("expected.json")).unwrap()).unwrap();
    for name in ["lesson", "mlp", "cnn", "cnn_more", "rnn"] {
        let case = &expected["models"][name];
        let rows: Vec<Vec<f64>> = serde_json::from_value(flatten_rows(&case["input"])).unwrap();
        let want: Vec<Vec<f64>> = serde_json::from_value(case["output"].clone()).unwrap();
        for ext in ["keras", "h5"] {
            let mut model = load_model(fixture(&format!("{name}.{ext}"))).unwrap();
            assert_eq!(model.count_params().0 as u64, case["total_params"].as_u64().unwrap(), "{name}.{ext}");
            let shape: Vec<usize> =
                std::iter::once(rows.len()).chain(model.input_shape().unwrap().iter().copied()).collect();
            let x = Tensor::from_vec(&shape, rows.iter().flatten().map(|&v| v as f32).collect()).unwrap();
            let y = model.predict(&x).unwrap();
            for (r, want_row) in want.iter().enumerate() {
                for (got, want) in y.row(r).iter().zip(want_row) {
                    assert!((*got as f64 - want).abs() < 1e-5, "{name}.{ext} row {r}: {got} vs {want}");
                }
            }
        }
    }
}

/// The inputs as rows of numbers, whatever the per-sample shape.
fn flatten_rows(v: &Value) -> Value {
    fn leaves(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
            other => out.push(other.clone()),
        }
    }
    Value::Array(
        v.as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let mut out = Vec::new();
                leaves(row, &mut out);
                Value::Array(out)
            })
            .collect(),
    )
}

#[test]
fn keras_files_keep_names_paddings_strides_and_statistics() {
    let model = load_model(fixture("cnn.h5")).unwrap();
    let arch = model.to_json();
    let layers = arch["config"]["layers"].as_array().unwrap();
    let classes: Vec<&str> = layers.iter().map(|l| l["class_name"].as_str().unwrap()).collect();
    assert_eq!(classes, ["Conv2D", "MaxPooling2D", "BatchNormalization", "Conv2D", "Activation", "Flatten", "Dense"]);
    assert_eq!(
        (layers[0]["config"]["padding"].as_str(), layers[0]["config"]["activation"].as_str()),
        (Some("same"), Some("relu"))
    );
    assert_eq!(layers[3]["config"]["strides"], serde_json::json!([2, 2]));
    assert_eq!(model.layers()[3].name(), "conv2d_1");
    let weights: std::collections::HashMap<String, &Tensor> = model.weights().into_iter().collect();
    // The generator adds 1 to every moving variance: non-trivial statistics were read.
    assert!(weights["batch_normalization.moving_variance"].data().iter().all(|&v| v > 0.0 && v != 1.0));
    let keras = load_model(fixture("cnn.keras")).unwrap();
    assert_eq!(keras.weights_sha256(), model.weights_sha256());
}

fn every_layer() -> Sequential {
    let mut m = Sequential::named("every").seed(5);
    m.add(Reshape::new(&[6, 5, 1]).input_shape(&[30]));
    m.add(Conv2D::new(3, 3).padding(Padding::Same).activation(Activation::Relu).name("c"));
    m.add(MaxPooling2D::new(2).padding(Padding::Same));
    m.add(BatchNormalization::new().momentum(0.9).epsilon(1e-5));
    m.add(Conv2D::new(2, (2, 1)).use_bias(false));
    m.add(AveragePooling2D::new(1));
    m.add(ActivationLayer::new(Activation::Tanh));
    m.add(Flatten::new());
    m.add(Dropout::new(0.25));
    m.add(Dense::new(4).activation(Activation::Softmax).name("out"));
    m.build(&[30]).unwrap();
    // Non-trivial statistics, so the round trip proves they travel.
    let w: Vec<Tensor> = m
        .get_weights()
        .into_iter()
        .map(|t| Tensor::from_vec(t.shape(), t.data().iter().map(|v| v * 0.5 + 0.25).collect()).unwrap())
        .collect();
    m.set_weights(&w).unwrap();
    m
}

#[test]
fn round_trips_are_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = every_layer();
    let x = Tensor::from_vec(&[2, 30], (0..60).map(|i| (i as f32 * 0.37).sin()).collect()).unwrap();
    let y = m.predict(&x).unwrap();
    for ext in ["keras", "h5"] {
        let path = dir.path().join(format!("m.{ext}"));
        m.save(&path).unwrap();
        let mut again = load_model(&path).unwrap();
        assert_eq!(again.weights_sha256(), m.weights_sha256(), "{ext}");
        assert_eq!(again.to_json(), m.to_json(), "{ext}");
        assert_eq!(again.predict(&x).unwrap().data(), y.data(), "{ext}");
        // And back out: the same bytes.
        let twice = dir.path().join(format!("twice.{ext}"));
        again.save(&twice).unwrap();
        assert_eq!(load_model(&twice).unwrap().weights_sha256(), m.weights_sha256(), "{ext}");
    }
}

/// Keras's recurrent model read, written by kiln and read again: the same weights, kept where
/// Keras keeps them (in the layer's cell), with an integer input for the Embedding.
#[test]
fn recurrent_layers_round_trip_in_keras_cell_layout() {
    let dir = tempfile::tempdir().unwrap();
    let keras = load_model(fixture("rnn.keras")).unwrap();
    assert_eq!(keras.weights_sha256(), load_model(fixture("rnn.h5")).unwrap().weights_sha256());
    let path = dir.path().join("m.keras");
    keras.save(&path).unwrap();
    assert_eq!(load_model(&path).unwrap().weights_sha256(), keras.weights_sha256());
    let bytes = std::fs::read(&path).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let mut config = String::new();
    zip.by_name("config.json").unwrap().read_to_string(&mut config).unwrap();
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["config"]["layers"][0]["config"]["dtype"], "int32");
    let mut weights = Vec::new();
    zip.by_name("model.weights.h5").unwrap().read_to_end(&mut weights).unwrap();
    let h5_path = dir.path().join("model.weights.h5");
    std::fs::write(&h5_path, weights).unwrap();
    let h5 = super::h5::H5::open(&h5_path, &h5_path).unwrap();
    for var in ["layers/lstm/cell/vars/2", "layers/gru/cell/vars/2", "layers/embedding/vars/0", "layers/dense/vars/1"] {
        assert!(h5.has(var), "{var}");
    }
    let legacy = dir.path().join("m.h5");
    keras.save(&legacy).unwrap();
    assert_eq!(load_model(&legacy).unwrap().weights_sha256(), keras.weights_sha256());
    let h5 = super::h5::H5::open(&legacy, &legacy).unwrap();
    let names = h5.strings(&h5.group("model_weights/gru").unwrap(), "weight_names").unwrap().unwrap();
    let model = keras.name().to_string();
    assert_eq!(names[1], format!("{model}/gru/gru_cell/recurrent_kernel"));
    assert!(h5.has(&format!("model_weights/gru/{}", names[1])));
}

/// An option Keras's recurrent layers have and kiln's do not is read only at the value that
/// changes nothing.
#[test]
fn recurrent_options_kiln_lacks_are_errors_unless_at_keras_defaults() {
    let bytes = std::fs::read(fixture("rnn.keras")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with = |key: &str, v: Value| {
        let edited = edit_config(&bytes, |c| c["config"]["layers"][2]["config"][key] = v.clone());
        let path = dir.path().join("e.keras");
        std::fs::write(&path, edited).unwrap();
        load_model(&path).err().map(|e| e.to_string().rsplit(": ").next().unwrap().to_string())
    };
    assert_eq!(with("unroll", false.into()), None);
    assert_eq!(with("stateful", true.into()).unwrap(), "option stateful=true is not supported by kiln");
    let he = serde_json::json!({"class_name": "HeNormal", "config": {"seed": null}});
    assert!(with("kernel_initializer", he).unwrap().starts_with("option kernel_initializer="));
    let gain = serde_json::json!({"class_name": "Orthogonal", "config": {"seed": null, "gain": 2.0}});
    assert!(with("recurrent_initializer", gain).unwrap().starts_with("option recurrent_initializer="));
}

/// `.keras` bytes with `config.json` changed by `edit`.
fn with_config(edit: impl Fn(&mut Value)) -> Vec<u8> {
    edit_config(&std::fs::read(fixture("mlp.keras")).unwrap(), edit)
}

/// `bytes` of a `.keras` file with `config.json` changed by `edit`.
fn edit_config(bytes: &[u8], edit: impl Fn(&mut Value)) -> Vec<u8> {
    edit_entry(bytes, "config.json", edit)
}

/// `bytes` of a `.keras` file with the JSON entry `entry` changed by `edit`.
fn edit_entry(bytes: &[u8], entry: &str, edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == entry {
            let mut config: Value = serde_json::from_slice(&data).unwrap();
            edit(&mut config);
            data = config.to_string().into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn corrupt_truncated_and_unknown_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = load_model(&path).err().unwrap().to_string();
        let prefix = format!("{}: ", path.display());
        e.strip_prefix(&prefix).unwrap_or_else(|| panic!("{e}")).to_string()
    };
    let keras = std::fs::read(fixture("mlp.keras")).unwrap();
    let e = err("t.keras", &keras[..keras.len() / 2]);
    assert!(e.starts_with("not a valid .keras file (a zip archive; truncated or corrupt?): "), "{e}");
    let h5 = std::fs::read(fixture("mlp.h5")).unwrap();
    let e = err("t.h5", &h5[..h5.len() / 3]);
    assert!(e.starts_with("not a readable HDF5 file (truncated or corrupt?)") || e.contains("dataset"), "{e}");

    let lstm = with_config(|c| c["config"]["layers"][2]["class_name"] = "ConvLSTM2D".into());
    assert_eq!(err("lstm.keras", &lstm), "layer 'hidden' has class 'ConvLSTM2D', which kiln does not have");
    let no_input = with_config(|c| drop(c["config"]["layers"].as_array_mut().unwrap().remove(0)));
    assert_eq!(
        err("no_input.keras", &no_input),
        "the model config gives no input shape (an InputLayer with a batch_shape), so its weights cannot be placed"
    );
    let dilated = with_config(|c| c["config"]["layers"][2]["config"]["use_lora"] = true.into());
    assert_eq!(err("opt.keras", &dilated), "layer 'hidden' (Dense): option use_lora=true is not supported by kiln");

    let weights_only = dir.path().join("w.h5");
    let h5w = super::h5::H5::create(&weights_only, &weights_only).unwrap();
    drop(h5w);
    let e = load_model(&weights_only).err().unwrap().to_string();
    assert!(
        e.ends_with("not a Keras model file: no 'model_config' attribute (a weights-only file holds no architecture)"),
        "{e}"
    );
}

/// The model's data description travels in kiln's Keras files, where Keras ignores it; a
/// malformed one is an error naming the file and the place.
#[test]
fn keras_files_keep_the_data_description() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = every_layer();
    let spec = crate::model::DataSpec {
        kind: "image".into(),
        class_names: vec!["cat".into(), "dog".into(), "owl".into(), "yak".into()],
        sample_shape: vec![30],
        ..Default::default()
    };
    m.set_data_spec(Some(spec.clone()));
    for ext in ["keras", "h5"] {
        let path = dir.path().join(format!("m.{ext}"));
        m.save(&path).unwrap();
        assert_eq!(load_model(&path).unwrap().data_spec(), Some(&spec), "{ext}");
    }
    assert_eq!(load_model(fixture("mlp.keras")).unwrap().data_spec(), None);
    let bytes = std::fs::read(dir.path().join("m.keras")).unwrap();
    let edited = edit_entry(&bytes, "metadata.json", |meta| meta["kiln_data"]["class_names"] = 3.into());
    let path = dir.path().join("bad.keras");
    std::fs::write(&path, edited).unwrap();
    let e = load_model(&path).err().unwrap().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: malformed 'kiln_data' in metadata.json: invalid type: integer `3`, expected a sequence",
            path.display()
        )),
        "{e}"
    );
}

#[test]
fn a_model_with_rescaling_round_trips_through_keras_and_kiln_files() {
    let mut model = Sequential::new().seed(1);
    model.add(Rescaling::new(1.0 / 255.0).offset(-0.5).input_shape(&[4]));
    model.add(Dense::new(2));
    model.build(&[4]).unwrap();
    let x = Tensor::from_vec(&[2, 4], vec![0.0, 64.0, 128.0, 255.0, 255.0, 0.0, 10.0, 20.0]).unwrap();
    let want = model.predict(&x).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in ["m.keras", "m.h5", "m.safetensors"] {
        let path = dir.path().join(file);
        model.save(&path).unwrap();
        let mut back = load_model(&path).unwrap();
        assert_eq!(back.layers()[0].config(), model.layers()[0].config(), "{file}");
        assert_eq!(back.predict(&x).unwrap().data(), want.data(), "{file}");
    }
}
