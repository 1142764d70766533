//! `kiln evaluate MODEL`: loss and accuracy of a saved model on the validation or test split
//! of Fashion-MNIST (or of `--dataset mnist|cifar10`), or on the user's own labelled data
//! (`--data PATH`), optionally with its confusion matrix.

use std::path::PathBuf;

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::model::{Samples, Sequential};
use kiln::viz::ConfusionMatrix;
use kiln::{Error, Result, Tensor};

use super::common::{byte_divisor, check_output_path, check_ten_classes, model_input_shape, Lesson, Split};
use super::user_data::{self, BuiltIn};
use super::DataArgs;

/// Options of `kiln evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// A model saved by `kiln train --save` or `--checkpoint`.
    model: PathBuf,
    /// Which split to evaluate on.
    #[arg(long, value_enum, default_value = "test")]
    split: Split,
    /// Samples per forward pass (Keras's default, 32).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Also print the confusion matrix and draw it to this PNG.
    #[arg(long, value_name = "PNG")]
    confusion: Option<PathBuf>,
    /// Your own labelled data instead: a folder of class folders, a .csv table (with --target)
    /// or a .npz with arrays x and y, read as the model was trained (picture size, colour
    /// mode, class names).
    #[arg(long = "data", value_name = "PATH", conflicts_with_all = ["dataset", "split"])]
    own: Option<PathBuf>,
    /// The CSV column holding the labels.
    #[arg(long, value_name = "COLUMN", requires = "own")]
    target: Option<String>,
    /// A built-in dataset: fashion_mnist (default), mnist or cifar10.
    #[arg(long, value_enum, default_value_t = BuiltIn::FashionMnist)]
    dataset: BuiltIn,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    if let Some(p) = &args.confusion {
        check_output_path("--confusion", p)?;
        kiln::io::check_distinct(&[("MODEL", &args.model)], &[("--confusion", p)])?;
    }
    let mut model = kiln::io::load_model(&args.model)?;
    if args.own.is_some() || args.dataset != BuiltIn::FashionMnist {
        return other_data(&args, &mut model);
    }
    check_ten_classes(&model, &args.model)?;
    let data = Lesson::load(&args.data, 0.2, &model, false)?;
    let (x, y, _) = data.split(args.split);
    let names: Vec<String> = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
    report(&args, &mut model, x, y, &names)
}

/// `--data PATH` or `--dataset mnist|cifar10`.
fn other_data(args: &EvaluateArgs, model: &mut Sequential) -> Result<()> {
    let ((x, y), spec) = match &args.own {
        Some(path) => {
            let spec = super::predict_files::model_spec(model, &args.model)?;
            (user_data::load_labelled(path, args.target.as_deref(), &spec)?, spec)
        }
        None => user_data::built_in_split(args.dataset, args.split == Split::Test)?,
    };
    let outputs: usize = model.layer_output_shapes().last().map_or(0, |s| s.iter().product());
    if outputs != spec.class_names.len() {
        return Err(Error::shape(format!(
            "{}: the model has {outputs} outputs, but the data has {} classes ({})",
            args.model.display(),
            spec.class_names.len(),
            spec.class_names.join(", ")
        )));
    }
    let x = x.into_samples(&model_input_shape(model, &spec.sample_shape)?, byte_divisor(model))?;
    report(args, model, x.as_ref(), &y, &spec.class_names)
}

/// Prints `[loss, accuracy]` and, with `--confusion`, the confusion matrix.
fn report(args: &EvaluateArgs, model: &mut Sequential, x: &dyn Samples, y: &Tensor, names: &[String]) -> Result<()> {
    let result = model.evaluate_with(x, y, args.batch_size, 1)?;
    kiln::outln!("{result}");
    if let Some(path) = &args.confusion {
        let predicted = model.predict(x)?.argmax_rows();
        let truth: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let matrix = ConfusionMatrix::from_predictions(&predicted, &truth, names.len())?.with_class_names(&names)?;
        kiln::outln!("\n{}", matrix.to_string().trim_end());
        matrix.save_png(path)?;
        kiln::outln!("confusion matrix written to {}", path.display());
    }
    Ok(())
}
