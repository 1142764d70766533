//! `kiln predict MODEL --index N...`: class and probabilities for test images (of Fashion-MNIST
//! or `--dataset mnist|cifar10`), a picture, and
//! with --json every probability at full precision;
//! `kiln predict MODEL IMAGE...`: the top-3 classes of picture files ([`super::predict_files`]);
//! `kiln predict MODEL --data FILE.npz --json OUT`: the model's raw outputs for an array `x`.

use std::path::PathBuf;

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::model::{ScaledBytes, Sequential};
use kiln::{Error, Result, Tensor, U8Tensor};

use super::common::{byte_divisor, check_output_path, check_ten_classes, model_input_shape, Lesson, Split};
use super::user_data::{self, BuiltIn, Inputs};
use super::DataArgs;

/// Options of `kiln predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// A model saved by `kiln train --save` or `--checkpoint`.
    model: PathBuf,
    /// Picture files to classify (PNG, JPEG, BMP, GIF): each is converted to the model's input
    /// (colour mode, size) and its top-3 classes printed.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// A .npz whose array x is given to the model; its outputs go to --json as {"outputs": [...]}.
    #[arg(long = "data", value_name = "FILE.npz", conflicts_with = "images")]
    pub npz: Option<PathBuf>,
    /// Write the predictions as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Indices of the images to classify (default: the first 10).
    #[arg(long, num_args = 1.., value_name = "N")]
    index: Vec<usize>,
    /// Which split the indices refer to.
    #[arg(long, value_enum, default_value = "test")]
    split: Split,
    /// The built-in dataset the indices refer to: fashion_mnist (default), mnist or cifar10.
    #[arg(long, value_enum, default_value_t = BuiltIn::FashionMnist)]
    dataset: BuiltIn,
    /// Draw the images with predicted and true class (wrong ones marked) to this PNG.
    #[arg(long, value_name = "PNG")]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    if !args.images.is_empty() || args.npz.is_some() {
        return super::predict_files::run(&args.model, &args.images, args.npz.as_deref(), args.json.as_deref());
    }
    for (flag, path) in [("--out", &args.out), ("--json", &args.json)] {
        if let Some(p) = path {
            check_output_path(flag, p)?;
            kiln::io::check_distinct(&[("MODEL", &args.model)], &[(flag, p)])?;
        }
    }
    let mut model = kiln::io::load_model(&args.model)?;
    let chosen = if args.dataset == BuiltIn::FashionMnist {
        check_ten_classes(&model, &args.model)?;
        let data = Lesson::load(&args.data, 0.2, &model, false)?;
        let (x, y, images) = data.split(args.split);
        let index = indices(&args, x.rows())?;
        let names = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        let probs = model.predict(&x.select_rows(&index))?;
        Chosen { probs, truth: truth(y, &index), images: images.select_rows(&index), names, index }
    } else {
        built_in(&args, &mut model)?
    };
    report(&args, &chosen)
}

/// The chosen images of a split, what the model made of them and what they are.
struct Chosen {
    index: Vec<usize>,
    probs: Tensor,
    truth: Vec<usize>,
    images: U8Tensor,
    names: Vec<String>,
}

/// `--dataset mnist|cifar10`: the chosen images of the split, given to the model as it was
/// trained on them.
fn built_in(args: &PredictArgs, model: &mut Sequential) -> Result<Chosen> {
    let ((x, y), spec) = user_data::built_in_split(args.dataset, args.split == Split::Test)?;
    let outputs: usize = model.layer_output_shapes().last().map_or(0, |s| s.iter().product());
    if outputs != spec.class_names.len() {
        return Err(Error::shape(format!(
            "{}: the model has {outputs} outputs, but {} has {} classes ({})",
            args.model.display(),
            args.dataset.name(),
            spec.class_names.len(),
            spec.class_names.join(", ")
        )));
    }
    let Inputs::Bytes(bytes) = x else {
        return Err(Error::value(format!("{}: expected pictures as bytes", args.dataset.name())));
    };
    let index = indices(args, bytes.rows())?;
    let images = bytes.select_rows(&index);
    let shape = model_input_shape(model, &spec.sample_shape)?;
    let x = ScaledBytes::new(images.clone(), byte_divisor(model), &shape)?;
    let probs = model.predict(&x)?;
    Ok(Chosen { probs, truth: truth(&y, &index), images, names: spec.class_names, index })
}

/// `--index` (default: the first 10), each checked against the split's size.
fn indices(args: &PredictArgs, rows: usize) -> Result<Vec<usize>> {
    let index = if args.index.is_empty() { (0..10.min(rows)).collect() } else { args.index.clone() };
    if let Some(&bad) = index.iter().find(|&&i| i >= rows) {
        return Err(Error::value(format!(
            "--index {bad} is out of range: the {} split has {rows} images (0..{rows})",
            args.split.name()
        )));
    }
    Ok(index)
}

fn truth(y: &Tensor, index: &[usize]) -> Vec<usize> {
    index.iter().map(|&i| y.data()[i] as usize).collect()
}

/// Prints each chosen image's predicted and true class and all probabilities; `--json` and
/// `--out` write them.
fn report(args: &PredictArgs, c: &Chosen) -> Result<()> {
    let predicted = c.probs.argmax_rows();
    let name = |k: usize| c.names.get(k).map_or("?", String::as_str);
    for (row, &i) in c.index.iter().enumerate() {
        let p = c.probs.row(row);
        let mark = if predicted[row] == c.truth[row] { "" } else { "  (wrong)" };
        kiln::outln!(
            "{i:>5}: {:<12} {:.1}%  true: {}{mark}",
            name(predicted[row]),
            100.0 * p[predicted[row]],
            name(c.truth[row])
        );
        let all: Vec<String> = p.iter().zip(&c.names).map(|(v, n)| format!("{n} {v:.3}")).collect();
        kiln::outln!("       {}", all.join(", "));
    }
    if let Some(path) = &args.json {
        let rows: Vec<&[f32]> = (0..c.index.len()).map(|r| c.probs.row(r)).collect();
        let report = serde_json::json!({"split": args.split.name(), "index": c.index, "probabilities": rows});
        kiln::io::write_atomic(path, report.to_string().as_bytes())?;
    }
    if let Some(path) = &args.out {
        let names: Vec<&str> = c.names.iter().map(String::as_str).collect();
        kiln::viz::save_predictions(path, &c.images, &predicted, &c.truth, &names, 10)?;
        kiln::outln!("predictions drawn to {}", path.display());
    }
    Ok(())
}
