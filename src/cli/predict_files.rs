//! `kiln predict MODEL IMAGE...` and `kiln predict MODEL --data FILE.npz`: new samples from
//! files, prepared as the model was trained (the data description the model carries and its
//! file keeps, checkpoints included; for a model saved without one, its input shape decides).

use std::path::Path;

use serde_json::json;

use kiln::data::{load_picture, Array, ColorMode, InputKind, InputSpec, Npz};
use kiln::model::Sequential;
use kiln::{Error, Result, Tensor};

use super::common::{check_output_path, model_input_shape, shaped};

pub fn run(
    model_path: &Path,
    images: &[std::path::PathBuf],
    npz: Option<&Path>,
    json_out: Option<&Path>,
) -> Result<()> {
    if let Some(p) = json_out {
        check_output_path("--json", p)?;
    }
    let mut model = kiln::io::load_model(model_path)?;
    let spec = model_spec(&model, model_path)?;
    match npz {
        Some(path) => raw_outputs(&mut model, &spec, path, json_out),
        None => top_classes(&mut model, &spec, model_path, images, json_out),
    }
}

/// What the model at `path` was trained on: the `data` description its file keeps, or, for a
/// file without one, what its input shape says ([`spec_from_model`]).
pub fn model_spec(model: &Sequential, path: &Path) -> Result<InputSpec> {
    match model.data_spec() {
        Some(spec) => InputSpec::from_data_spec(spec).map_err(|e| Error::format(path, e.to_string())),
        None => spec_from_model(model, path),
    }
}

/// For a model file without a `data` description: pictures of its input shape — `(784,)` is
/// Fashion-MNIST's 28×28 grayscale (the lesson's model), `(H, W)` grayscale, `(H, W, C)` with C
/// channels — named by Fashion-MNIST's classes when it has 10 outputs and 784 inputs.
fn spec_from_model(model: &Sequential, path: &Path) -> Result<InputSpec> {
    let input = model.input_shape().unwrap_or(&[]).to_vec();
    let outputs = model.layer_output_shapes().last().map_or(0, |s| s.iter().product());
    let (size, mode) = match input[..] {
        [784] => ((28, 28), ColorMode::Grayscale),
        [h, w] => ((h, w), ColorMode::Grayscale),
        [h, w, c] => ((h, w), ColorMode::from_channels(c).map_err(|e| Error::format(path, e.to_string()))?),
        _ => {
            return Ok(InputSpec::plain(InputKind::Array, vec![], input));
        }
    };
    let names: Vec<String> = match (outputs, input.iter().product::<usize>()) {
        (10, 784) => kiln::datasets::fashion_mnist::CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
        _ => (0..outputs).map(|i| i.to_string()).collect(),
    };
    Ok(InputSpec { scale: (1.0 / super::common::byte_divisor(model)) as f32, ..InputSpec::image(names, size, mode) })
}

/// Decodes each picture as the model was trained on pictures, prints the 3 likeliest classes.
fn top_classes(
    model: &mut Sequential,
    spec: &InputSpec,
    model_path: &Path,
    images: &[std::path::PathBuf],
    json_out: Option<&Path>,
) -> Result<()> {
    let (Some(size), Some(mode), InputKind::Image) = (spec.image_size, spec.color_mode, spec.kind) else {
        return Err(Error::value(format!(
            "{}: this model takes no pictures: it was trained on {} with samples of shape {:?}",
            model_path.display(),
            match spec.kind {
                InputKind::Table => "a CSV table",
                InputKind::Sequence => "word-id sequences",
                _ => "arrays",
            },
            spec.sample_shape
        )));
    };
    let len = size.0 * size.1 * mode.channels();
    let mut bytes = vec![0u8; images.len() * len];
    for (path, out) in images.iter().zip(bytes.chunks_exact_mut(len)) {
        load_picture(path, size, mode, out)?;
    }
    let mut shape = vec![images.len()];
    shape.extend(&spec.sample_shape);
    let x = Tensor::from_vec(&shape, bytes.iter().map(|&b| b as f32 * spec.scale).collect())?;
    let probs = model.predict(&shaped(x, &model_input_shape(model, &spec.sample_shape)?)?)?;
    let mut report = Vec::new();
    for (i, path) in images.iter().enumerate() {
        let p = probs.row(i);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let name = |c: usize| spec.class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
        let top: Vec<(String, f32)> = order.iter().take(3).map(|&c| (name(c), p[c])).collect();
        let shown: Vec<String> = top.iter().map(|(n, v)| format!("{n} {:.1}%", 100.0 * v)).collect();
        kiln::outln!("{}: {}", path.display(), shown.join(", "));
        let top = top.iter().map(|(n, v)| json!({"class": n, "probability": v}));
        report.push(json!({"file": path.display().to_string(), "top": top.collect::<Vec<_>>()}));
    }
    if let Some(out) = json_out {
        let text = serde_json::to_string_pretty(&json!({ "predictions": report })).expect("JSON");
        kiln::io::write_atomic(out, text.as_bytes())?;
    }
    Ok(())
}

/// The model's outputs for the array `x` of a `.npz`, one row per sample, in order.
fn raw_outputs(model: &mut Sequential, spec: &InputSpec, path: &Path, json_out: Option<&Path>) -> Result<()> {
    let x = match Npz::open(path)?.array("x")? {
        Array::U8(t) => t.div((1.0 / spec.scale as f64).round()),
        Array::F32(t) => t,
    };
    let sample: Vec<usize> = x.shape()[1..].to_vec();
    let probs = model.predict(&shaped(x, &model_input_shape(model, &sample)?)?)?;
    let rows: Vec<&[f32]> = (0..probs.rows()).map(|i| probs.row(i)).collect();
    let text = serde_json::to_string(&json!({ "outputs": rows })).expect("JSON");
    match json_out {
        Some(out) => kiln::io::write_atomic(out, text.as_bytes()),
        None => {
            kiln::outln!("{text}");
            Ok(())
        }
    }
}
