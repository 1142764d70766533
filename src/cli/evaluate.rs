//! `kiln evaluate MODEL`: loss and accuracy of a saved model on the validation or test split
//! of Fashion-MNIST (or of `--dataset mnist|cifar10|imdb`), or on the user's own labelled data
//! (`--data PATH`), optionally with its confusion matrix.

use std::path::PathBuf;

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::model::{Samples, Sequential};
use kiln::viz::ConfusionMatrix;
use kiln::{Error, Result, Tensor};

use kiln::data::{InputKind, InputSpec};
use kiln::losses::Loss;

use super::common::{
    byte_divisor, check_model_outputs, check_output_path, check_ten_classes, model_input_shape, targets, Lesson, Split,
};
use super::text_data::{self, TextOptions};
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
    /// A built-in dataset: fashion_mnist (default), mnist, cifar10 or imdb (its test reviews,
    /// read with the --num-words and --maxlen the model was trained with).
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

/// `--data PATH` or `--dataset mnist|cifar10|imdb`.
fn other_data(args: &EvaluateArgs, model: &mut Sequential) -> Result<()> {
    let ((x, y), spec) = match &args.own {
        Some(path) => {
            let spec = super::predict_files::model_spec(model, &args.model)?;
            (user_data::load_labelled(path, args.target.as_deref(), &spec)?, spec)
        }
        None if args.dataset == BuiltIn::Imdb => text_data::load_test(None, text_options(model))?,
        None => user_data::built_in_split(args.dataset, args.split == Split::Test)?,
    };
    let classes = spec.class_names.len();
    let loss = model.loss().unwrap_or(Loss::SparseCategoricalCrossentropy);
    check_model_outputs(model, loss, classes).map_err(|e| {
        let names = spec.class_names.join(", ");
        Error::shape(format!("{}: {e} (the data's classes: {names})", args.model.display()))
    })?;
    let x = x.into_samples(&model_input_shape(model, &spec.sample_shape)?, byte_divisor(model))?;
    report(args, model, x.as_ref(), &targets(loss, y, classes)?, &spec.class_names)
}

/// How IMDB is read for a model: as its data description says (`--num-words`, `--maxlen` of the
/// run that trained it), else cut to its Embedding's `input_dim` words and padded to its input
/// length.
fn text_options(model: &Sequential) -> TextOptions {
    if let Some(spec) = model.data_spec().and_then(|d| InputSpec::from_data_spec(d).ok()) {
        if spec.kind == InputKind::Sequence {
            return TextOptions::default().or_model(&spec);
        }
    }
    let first = model.layers().first().filter(|l| l.class_name() == "Embedding");
    TextOptions {
        num_words: first.and_then(|l| l.config()["input_dim"].as_u64()).map(|n| n as usize),
        maxlen: model.input_shape().and_then(|s| s.first().copied()),
    }
}

/// Prints `[loss, accuracy]` and, with `--confusion`, the confusion matrix.
fn report(args: &EvaluateArgs, model: &mut Sequential, x: &dyn Samples, y: &Tensor, names: &[String]) -> Result<()> {
    let result = model.evaluate_with(x, y, args.batch_size, 1)?;
    kiln::outln!("{result}");
    if let Some(path) = &args.confusion {
        let probs = model.predict(x)?;
        // One sigmoid output: class 1 when its probability passes 0.5 (binary accuracy's rule).
        let predicted = match probs.row_len() {
            1 => probs.data().iter().map(|&p| (p > 0.5) as usize).collect(),
            _ => probs.argmax_rows(),
        };
        let truth: Vec<usize> = match y.row_len() {
            1 => y.data().iter().map(|&v| v as usize).collect(),
            _ => y.argmax_rows(),
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let matrix = ConfusionMatrix::from_predictions(&predicted, &truth, names.len())?.with_class_names(&names)?;
        kiln::outln!("\n{}", matrix.to_string().trim_end());
        matrix.save_png(path)?;
        kiln::outln!("confusion matrix written to {}", path.display());
    }
    Ok(())
}
