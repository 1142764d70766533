//! Save and load end to end: whole models (architecture, weights, optimizer state) in one
//! safetensors file, weights alone, atomic writes, and clear errors for bad files.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use kiln::io::{load_model, read_architecture, write_atomic_with};
use kiln::layers::{Activation, BatchNormalization, Dense, Dropout};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::Tensor;
use safetensors::{Dtype, SafeTensors};

/// 64 samples of 8 features, 3 classes decided by the features (so training makes progress).
fn data() -> (Tensor, Tensor) {
    let (n, d) = (64, 8);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
    let y: Vec<f32> =
        (0..n).map(|r| (x[r * d..(r + 1) * d].iter().sum::<f32>() * 2.0).rem_euclid(3.0).floor()).collect();
    (Tensor::from_vec(&[n, d], x).unwrap(), Tensor::from_vec(&[n], y).unwrap())
}

/// Dense → BatchNormalization → (Dropout) → Dense softmax, compiled with adam and accuracy.
fn mlp(seed: u64, hidden: usize, dropout: bool) -> Sequential {
    let mut m = Sequential::named("mlp").seed(seed);
    m.add(Dense::new(hidden).activation(Activation::Relu).name("hidden").input_shape(&[8]));
    m.add(BatchNormalization::new());
    if dropout {
        m.add(Dropout::new(0.3));
    }
    m.add(Dense::new(3).activation(Activation::Softmax).name("output"));
    m.compile(Compile::new("sparse_categorical_crossentropy").optimizer("adam").metrics(&["accuracy"])).unwrap();
    m
}

fn quiet() -> FitOptions<'static> {
    FitOptions { epochs: 2, batch_size: 16, verbose: 0, ..Default::default() }
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.data().iter().map(|v| v.to_bits()).collect()
}

fn weight_bits(m: &Sequential) -> Vec<(String, Vec<u32>)> {
    m.weights().into_iter().map(|(n, w)| (n, bits(w))).collect()
}

fn err_text<T>(r: kiln::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// A safetensors file with the given tensors (all F32 unless given bytes) and metadata.
fn write_safetensors(path: &Path, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>, meta: HashMap<String, String>) {
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

#[test]
fn a_loaded_model_evaluates_to_the_same_numbers() {
    let (x, y) = data();
    let mut a = mlp(7, 16, true);
    a.fit(&x, &y, quiet()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    a.save(&path).unwrap();
    let mut b = load_model(&path).unwrap();
    assert_eq!(b.to_json(), a.to_json());
    assert_eq!(weight_bits(&b), weight_bits(&a));
    assert_eq!(b.weights_sha256(), a.weights_sha256());
    assert_eq!(b.optimizer_state(), a.optimizer_state());
    assert_eq!(b.optimizer().unwrap().config(), a.optimizer().unwrap().config());
    assert_eq!(b.metrics_names(), a.metrics_names());
    let (ea, eb) = (a.evaluate_with(&x, &y, 32, 0).unwrap(), b.evaluate_with(&x, &y, 32, 0).unwrap());
    assert_eq!(ea.loss.to_bits(), eb.loss.to_bits());
    assert_eq!(ea.accuracy.unwrap().to_bits(), eb.accuracy.unwrap().to_bits());
    assert_eq!(bits(&a.predict(&x).unwrap()), bits(&b.predict(&x).unwrap()));
    // The loaded model trains on (fit reshuffles from the seed's start, see kiln::io).
    b.fit(&x, &y, quiet()).unwrap();
}

#[test]
fn training_continues_exactly_after_a_save_and_load() {
    let (x, y) = data();
    let mut a = mlp(3, 6, false);
    for _ in 0..3 {
        a.train_on_batch(&x, &y).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    a.save(&path).unwrap();
    let mut b = load_model(&path).unwrap();
    assert_eq!(b.optimizer_state().unwrap().iterations, 3);
    for _ in 0..3 {
        let (la, lb) = (a.train_on_batch(&x, &y).unwrap(), b.train_on_batch(&x, &y).unwrap());
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    assert_eq!(weight_bits(&b), weight_bits(&a));
    assert_eq!(b.optimizer_state(), a.optimizer_state());
}

#[test]
fn the_file_is_plain_safetensors() {
    let (x, y) = data();
    let mut a = mlp(1, 5, true);
    a.train_on_batch(&x, &y).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    a.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    let mut want = vec![
        "batch_normalization.beta",
        "batch_normalization.gamma",
        "batch_normalization.moving_mean",
        "batch_normalization.moving_variance",
        "hidden.bias",
        "hidden.kernel",
        "output.bias",
        "output.kernel",
    ];
    for p in [
        "batch_normalization.beta",
        "batch_normalization.gamma",
        "hidden.bias",
        "hidden.kernel",
        "output.bias",
        "output.kernel",
    ] {
        want.push(Box::leak(format!("optimizer.{p}.m").into_boxed_str()));
        want.push(Box::leak(format!("optimizer.{p}.v").into_boxed_str()));
    }
    want.sort();
    assert_eq!(names, want);
    let kernel = file.tensor("hidden.kernel").unwrap();
    assert_eq!((kernel.dtype(), kernel.shape()), (Dtype::F32, &[8, 5][..]));
    assert_eq!(file.tensor("optimizer.output.kernel.v").unwrap().shape(), &[5, 3]);
    let values: Vec<f32> = kernel.data().chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!(values, a.weights()[0].1.data());
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["format"], "kiln");
    assert_eq!(meta["seed"], "1");
    let arch: serde_json::Value = serde_json::from_str(&meta["architecture"]).unwrap();
    assert_eq!(arch, a.to_json());
    let compile: serde_json::Value = serde_json::from_str(&meta["compile"]).unwrap();
    assert_eq!(compile["loss"], "sparse_categorical_crossentropy");
    assert_eq!(compile["metrics"], serde_json::json!(["accuracy"]));
    assert_eq!(compile["optimizer"]["name"], "adam");
    assert_eq!(compile["iterations"], 1);
}

#[test]
fn weights_round_trip_and_mismatches_are_named() {
    let (x, y) = data();
    let mut a = mlp(1, 5, true);
    a.fit(&x, &y, quiet()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("best.safetensors");
    a.save_weights(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert!(file.names().iter().all(|n| !n.starts_with("optimizer.")), "weights only");

    let mut b = mlp(2, 5, true);
    assert_ne!(b.weights_sha256(), a.weights_sha256());
    b.load_weights(&path).unwrap();
    assert_eq!(weight_bits(&b), weight_bits(&a));
    // A whole-model file serves as a weights file too.
    let full = dir.path().join("full.safetensors");
    a.save(&full).unwrap();
    let mut c = mlp(3, 5, true);
    c.load_weights(&full).unwrap();
    assert_eq!(c.weights_sha256(), a.weights_sha256());
    // A weights-only file loads as an uncompiled model.
    let d = load_model(&path).unwrap();
    assert!(d.optimizer().is_none());
    assert_eq!(d.weights_sha256(), a.weights_sha256());

    let mut wide = mlp(1, 7, true);
    let before = wide.weights_sha256();
    assert_eq!(
        err_text(wide.load_weights(&path)),
        format!("{}: weight 'hidden.kernel' has shape (8, 7) in the model but (8, 5) in the file", path.display())
    );
    assert_eq!(wide.weights_sha256(), before, "nothing changes on error");

    let mut more = mlp(1, 5, true);
    more.add(Dense::new(2).name("extra"));
    assert_eq!(
        err_text(more.load_weights(&path)),
        format!("{}: the file lacks weights of the model: 'extra.kernel', 'extra.bias'", path.display())
    );
    let mut fewer = Sequential::named("small");
    fewer.add(Dense::new(5).name("hidden").input_shape(&[8]));
    fewer.build(&[8]).unwrap();
    let e = err_text(fewer.load_weights(&path));
    assert!(
        e.starts_with(&format!("{}: the file has weights the model lacks: 'batch_normalization.beta'", path.display())),
        "{e}"
    );
}

#[test]
fn truncated_garbage_and_missing_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    mlp(1, 5, true).save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let half = dir.path().join("half.safetensors");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model file at all, just some text").unwrap();
    let tiny = dir.path().join("tiny.safetensors");
    std::fs::write(&tiny, b"abc").unwrap();
    for p in [&half, &garbage, &tiny] {
        let e = err_text(load_model(p));
        assert!(e.starts_with(&format!("{}: not a valid safetensors file", p.display())), "{e}");
        let e = err_text(mlp(1, 5, true).load_weights(p));
        assert!(e.starts_with(&p.display().to_string()), "{e}");
        assert!(err_text(read_architecture(p)).starts_with(&p.display().to_string()));
    }
    let missing = dir.path().join("missing.safetensors");
    let e = err_text(load_model(&missing));
    assert!(e.starts_with(&missing.display().to_string()) && e.contains("No such file"), "{e}");
}

#[test]
fn an_interrupted_save_leaves_the_old_file_readable() {
    let (x, y) = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let old = mlp(1, 5, true);
    old.save(&path).unwrap();
    let mut new = mlp(1, 5, true);
    new.fit(&x, &y, quiet()).unwrap();
    let bytes = new.to_bytes().unwrap();
    let err = write_atomic_with(&path, |f| {
        f.write_all(&bytes[..bytes.len() / 2])?;
        Err(std::io::Error::other("killed"))
    });
    assert!(err.is_err());
    let back = load_model(&path).unwrap();
    assert_eq!(weight_bits(&back), weight_bits(&old));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    new.save(&path).unwrap();
    assert_eq!(load_model(&path).unwrap().weights_sha256(), new.weights_sha256());
}

#[test]
fn bad_metadata_and_tensors_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.safetensors");
    let shown = p.display().to_string();
    let f32s = |n: usize| vec![0u8; 4 * n];
    write_safetensors(&p, vec![("w", Dtype::F32, vec![2], f32s(2))], HashMap::new());
    assert_eq!(err_text(load_model(&p)), format!("{shown}: not a kiln model file: no 'architecture' metadata"));

    let arch = |class: &str| {
        serde_json::json!({"class_name": "Sequential", "config": {"name": "m", "input_shape": [2],
            "layers": [{"class_name": class, "config": {"name": "hidden", "units": 3}}]}})
        .to_string()
    };
    let meta = |a: String| HashMap::from([("architecture".to_string(), a)]);
    write_safetensors(&p, vec![], meta(arch("Conv3D")));
    let e = err_text(load_model(&p));
    assert!(e.starts_with(&format!("{shown}: unknown layer class 'Conv3D'; valid classes: Dense, Flatten")), "{e}");
    assert_eq!(err_text(read_architecture(&p)), e);

    write_safetensors(&p, vec![], meta("{not json".into()));
    assert!(err_text(load_model(&p)).starts_with(&format!("{shown}: malformed 'architecture' metadata")));

    let f64_kernel = ("hidden.kernel", Dtype::F64, vec![2, 3], vec![0u8; 48]);
    write_safetensors(&p, vec![f64_kernel, ("hidden.bias", Dtype::F32, vec![3], f32s(3))], meta(arch("Dense")));
    assert_eq!(
        err_text(load_model(&p)),
        format!("{shown}: tensor 'hidden.kernel' has dtype F64; kiln reads F32 tensors only")
    );

    let good = vec![("hidden.kernel", Dtype::F32, vec![2, 3], f32s(6)), ("hidden.bias", Dtype::F32, vec![3], f32s(3))];
    let mut m = meta(arch("Dense"));
    m.insert(
        "compile".into(),
        r#"{"loss": "mse", "metrics": [], "optimizer": {"name": "adamax", "config": {}}}"#.into(),
    );
    write_safetensors(&p, good.clone(), m);
    let e = err_text(load_model(&p));
    assert!(e.starts_with(&format!("{shown}: unknown optimizer 'adamax'")), "{e}");

    let mut m = meta(arch("Dense"));
    m.insert(
        "compile".into(),
        r#"{"loss": "mse", "optimizer": {"name": "adam", "config": {}}, "iterations": 1}"#.into(),
    );
    let mut with_half_state = good.clone();
    with_half_state.push(("optimizer.hidden.kernel.m", Dtype::F32, vec![2, 3], f32s(6)));
    write_safetensors(&p, with_half_state, m.clone());
    assert_eq!(
        err_text(load_model(&p)),
        format!(
            "{shown}: incomplete optimizer state: expected 'optimizer.hidden.kernel.m', 'optimizer.hidden.kernel.v'"
        )
    );
    let mut full_state = good.clone();
    full_state.push(("optimizer.hidden.kernel.m", Dtype::F32, vec![2, 3], f32s(6)));
    full_state.push(("optimizer.hidden.kernel.v", Dtype::F32, vec![2, 3], f32s(6)));
    let mut wrong_state = full_state.clone();
    wrong_state.push(("optimizer.hidden.bias.m", Dtype::F32, vec![2], f32s(2)));
    write_safetensors(&p, wrong_state, m.clone());
    assert_eq!(
        err_text(load_model(&p)),
        format!("{shown}: optimizer state 'optimizer.hidden.bias.m' has shape (2,) in the file but the weight has shape (3,)")
    );
    // After a step every trainable parameter has its state: a file without the bias's lost it.
    write_safetensors(&p, full_state.clone(), m.clone());
    assert_eq!(
        err_text(load_model(&p)),
        format!(
            "{shown}: missing optimizer state after 1 step: expected 'optimizer.hidden.bias.m', \
             'optimizer.hidden.bias.v'"
        )
    );
    full_state.push(("optimizer.hidden.bias.m", Dtype::F32, vec![3], f32s(3)));
    full_state.push(("optimizer.hidden.bias.v", Dtype::F32, vec![3], f32s(3)));
    write_safetensors(&p, full_state, m);
    let loaded = load_model(&p).unwrap();
    assert_eq!(loaded.optimizer_state().unwrap().iterations, 1);
}

#[test]
fn architectures_read_from_json_files_and_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = mlp(1, 5, true);
    let json_path = dir.path().join("arch.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&a.to_json()).unwrap()).unwrap();
    let model_path = dir.path().join("model.safetensors");
    a.save(&model_path).unwrap();
    for p in [&json_path, &model_path] {
        let m = read_architecture(p).unwrap();
        assert_eq!(m.to_json(), a.to_json());
        assert!(m.is_built() && m.optimizer().is_none());
    }
    std::fs::write(&json_path, "{\"class_name\": \"Sequential\", ").unwrap();
    let e = err_text(read_architecture(&json_path));
    assert!(e.starts_with(&format!("{}: invalid JSON model architecture", json_path.display())), "{e}");
}

/// A model saved after 2 epochs and resumed to 4 has the weights of 4 straight epochs: the
/// file's `ModelState` carries the epochs and the shuffle and dropout streams' positions.
#[test]
fn a_resumed_fit_matches_one_that_never_stopped() {
    let model = || {
        let mut m = Sequential::new().seed(3);
        m.add(Dense::new(8).input_shape(&[4]));
        m.add(Dropout::new(0.5));
        m.add(Dense::new(2));
        m.compile(Compile::new("mse").optimizer("adam")).unwrap();
        m
    };
    let x = Tensor::from_vec(&[20, 4], (0..80).map(|i| (i % 7) as f32 / 7.0).collect()).unwrap();
    let y = Tensor::from_vec(&[20, 2], (0..40).map(|i| (i % 3) as f32).collect()).unwrap();
    let opts =
        |initial_epoch, epochs| FitOptions { epochs, initial_epoch, batch_size: 4, verbose: 0, ..Default::default() };
    let mut straight = model();
    straight.fit(&x, &y, opts(0, 4)).unwrap();
    let mut first = model();
    first.fit(&x, &y, opts(0, 2)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    first.save(&path).unwrap();
    let mut resumed = load_model(&path).unwrap();
    assert_eq!(resumed.epochs_trained(), 2);
    let history = resumed.fit(&x, &y, opts(resumed.epochs_trained(), 4)).unwrap();
    assert_eq!(history.epochs, [2, 3]);
    assert_eq!(resumed.weights_sha256(), straight.weights_sha256());
}
