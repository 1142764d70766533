//! The `kiln` command as a user meets it: each command on the real data, and bad input giving a
//! clear error (exit status 1, a message naming the problem) instead of a panic.

use std::path::Path;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("run kiln")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command failed cleanly: exit status 1 and `error: ...` on stderr, no panic.
fn error_of(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected a clean failure, got {:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    err.trim().strip_prefix("error: ").unwrap_or_else(|| panic!("no 'error:' line: {err}")).to_string()
}

#[test]
fn data_and_devices_report_what_they_find() {
    let data = kiln(&["data"]);
    assert!(data.status.success());
    let text = stdout(&data);
    assert!(text.contains("train: images (60000, 28, 28) labels (60000,)"), "{text}");
    assert!(text.contains("    9  Ankle boot     6000   1000"), "{text}");

    let devices = stdout(&kiln(&["devices"]));
    assert!(devices.contains("logical cores:"), "{devices}");
    let gpu_line = devices.lines().any(|l| l.starts_with("GPU 0:"));
    assert!(gpu_line || devices.contains("No NVIDIA GPU or driver found"), "{devices}");
}

#[test]
fn a_saved_model_evaluates_predicts_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.safetensors");
    let m = model.to_str().unwrap();
    let spec = "flatten, dense(32, activation=relu, name=hidden), dense(10, activation=softmax, name=output)";
    let logs = dir.path().join("logs");
    let tb = logs.to_str().unwrap();
    let train = kiln(&["train", "--layers", spec, "--epochs", "1", "--verbose", "0", "--save", m, "--tensorboard", tb]);
    assert!(train.status.success(), "{}", String::from_utf8_lossy(&train.stderr));
    for (split, tags) in [
        ("train", &["epoch_loss", "epoch_accuracy", "epoch_learning_rate"][..]),
        ("validation", &["epoch_loss", "epoch_accuracy"]),
    ] {
        let files: Vec<_> = std::fs::read_dir(logs.join(split)).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let events = kiln::io::tfevents::read_events(&files[0]).unwrap();
        let found: Vec<(&str, i64)> = events
            .iter()
            .flat_map(|e| e.summary.iter().flat_map(move |s| s.value.iter().map(move |v| (v.tag.as_str(), e.step))))
            .collect();
        assert_eq!(found, tags.iter().map(|t| (*t, 0)).collect::<Vec<_>>(), "{split}");
    }

    let summary = stdout(&kiln(&["summary", m]));
    assert!(summary.contains(" hidden (Dense)              (None, 32)                25120"), "{summary}");
    assert!(summary.contains("Total params: 25,450"), "{summary}");

    let confusion = dir.path().join("confusion.png");
    let eval = kiln(&["evaluate", m, "--split", "val", "--confusion", confusion.to_str().unwrap()]);
    assert!(eval.status.success());
    let text = stdout(&eval);
    let result = text.lines().find(|l| l.starts_with('[')).expect("[loss, accuracy] line");
    let accuracy: f64 = result.trim_matches(['[', ']']).split(", ").nth(1).unwrap().parse().unwrap();
    assert!(accuracy > 0.8, "{result}");
    assert!(text.contains("of 12000 correct"), "{text}");
    assert!(confusion.metadata().unwrap().len() > 1000);

    let onnx = dir.path().join("model.onnx");
    let export = kiln(&["export", m, "--onnx", onnx.to_str().unwrap()]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let proto = kiln::io::onnx::read_onnx(&onnx, &std::fs::read(&onnx).unwrap()).unwrap();
    assert_eq!(proto.op_types(), ["Flatten", "MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"]);

    let json = dir.path().join("predictions.json");
    let predict = kiln(&["predict", m, "--index", "0", "1", "--json", json.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let probs = report["probabilities"].as_array().unwrap();
    assert_eq!((report["index"].clone(), probs.len()), (serde_json::json!([0, 1]), 2));
    let sum: f64 = probs[0].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-5, "{sum}");
    let predict = stdout(&predict);
    assert!(predict.starts_with("    0: "), "{predict}");
    assert!(predict.contains("true: Ankle boot"), "test image 0 is an ankle boot: {predict}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let err = error_of(&kiln(&["train", "--layers", "flatten, dense2(10)"]));
    assert!(err.starts_with("--layers: column 10: unknown layer 'dense2'; valid layers: dense,"), "{err}");

    let err = error_of(&kiln(&["train", "--layers", "dense(0)"]));
    assert!(err.ends_with("expected a positive integer, received units=0"), "{err}");

    let err = error_of(&kiln(&["train", "--optimizer", "adamax"]));
    assert_eq!(err, "unknown optimizer 'adamax'; valid optimizers: sgd, rmsprop, adam, adamw, adagrad");

    let err = error_of(&kiln(&["train", "--nesterov", "--optimizer", "adam"]));
    assert_eq!(err, "--nesterov applies to sgd, not adam");

    // Checked before any training: a checkpoint or plot in a directory that does not exist.
    let err = error_of(&kiln(&["train", "--plot", "/nonexistent/dir/history.png"]));
    assert_eq!(err, "--plot /nonexistent/dir/history.png: directory /nonexistent/dir does not exist");
    let err = error_of(&kiln(&["train", "--epochs", "1", "--checkpoint", "/nonexistent/best.safetensors"]));
    assert!(err.contains("/nonexistent/best.safetensors") && err.contains("does not exist"), "{err}");

    let err = error_of(&kiln(&["train", "--validation-split", "0"]));
    assert_eq!(err, "--validation-split must be in (0, 1), received 0");

    let err = error_of(&kiln(&["train", "--batch-size", "0"]));
    assert_eq!(err, "batch_size must be a positive integer, received batch_size=0");

    let err = error_of(&kiln(&["train", "--layers", "conv2d(8, 3), dense(10, activation=softmax)"]));
    assert!(err.contains("(Dense) expects 1-D samples") && err.contains("add a Flatten layer"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a model at all").unwrap();
    let err = error_of(&kiln(&["evaluate", garbage.to_str().unwrap()]));
    assert!(err.starts_with(&format!("{}: ", garbage.display())), "{err}");

    let err = error_of(&kiln(&["show", "--count", "20000", "--split", "test", "--out", "/tmp/x.png"]));
    assert_eq!(err, "--count 20000 is more than the 10000 images of the test split");

    // A model saved from the library with 5 outputs is not a Fashion-MNIST classifier.
    let five = dir.path().join("five.safetensors");
    let mut m = kiln::model::Sequential::new();
    m.add(kiln::layers::Dense::new(5).activation(kiln::layers::Activation::Softmax).input_shape(&[784]));
    m.compile(kiln::model::Compile::new("sparse_categorical_crossentropy")).unwrap();
    m.save(&five).unwrap();
    let err = error_of(&kiln(&["predict", five.to_str().unwrap()]));
    assert_eq!(
        err,
        format!(
            "{}: the model's output has shape [5] per sample; Fashion-MNIST needs 10 class probabilities",
            five.display()
        )
    );

    let missing = Path::new("/nonexistent/model.safetensors");
    let err = error_of(&kiln(&["predict", missing.to_str().unwrap()]));
    assert!(err.starts_with("/nonexistent/model.safetensors"), "{err}");
}
