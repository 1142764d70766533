//! `kiln predict MODEL --index N...`: class and probabilities for test images, a picture, and
//! with --json every probability at full precision;
//! `kiln predict MODEL IMAGE...`: the top-3 classes of picture files ([`super::predict_files`]);
//! `kiln predict MODEL --data FILE.npz --json OUT`: the model's raw outputs for an array `x`.

use std::path::PathBuf;

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::{Error, Result};

use super::common::{check_output_path, check_ten_classes, Lesson, Split};
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
    check_ten_classes(&model, &args.model)?;
    let data = Lesson::load(&args.data, 0.2, &model, false)?;
    let (x, y, images) = data.split(args.split);
    let index = if args.index.is_empty() { (0..10.min(x.rows())).collect() } else { args.index.clone() };
    if let Some(&bad) = index.iter().find(|&&i| i >= x.rows()) {
        return Err(Error::value(format!(
            "--index {bad} is out of range: the {} split has {} images (0..{})",
            args.split.name(),
            x.rows(),
            x.rows()
        )));
    }
    let probs = model.predict(&x.select_rows(&index))?;
    let predicted = probs.argmax_rows();
    let truth: Vec<usize> = index.iter().map(|&i| y.data()[i] as usize).collect();
    for (row, &i) in index.iter().enumerate() {
        let p = probs.row(row);
        let mark = if predicted[row] == truth[row] { "" } else { "  (wrong)" };
        kiln::outln!(
            "{i:>5}: {:<12} {:.1}%  true: {}{mark}",
            CLASS_NAMES[predicted[row]],
            100.0 * p[predicted[row]],
            CLASS_NAMES[truth[row]]
        );
        let all: Vec<String> = p.iter().zip(CLASS_NAMES).map(|(v, c)| format!("{c} {v:.3}")).collect();
        kiln::outln!("       {}", all.join(", "));
    }
    if let Some(path) = &args.json {
        let rows: Vec<&[f32]> = (0..index.len()).map(|r| probs.row(r)).collect();
        let report = serde_json::json!({"split": args.split.name(), "index": index, "probabilities": rows});
        kiln::io::write_atomic(path, report.to_string().as_bytes())?;
    }
    if let Some(path) = &args.out {
        kiln::viz::save_predictions(path, &images.select_rows(&index), &predicted, &truth, &CLASS_NAMES, 10)?;
        kiln::outln!("predictions drawn to {}", path.display());
    }
    Ok(())
}
