//! `kiln evaluate MODEL`: loss and accuracy of a saved model on the validation or test split,
//! optionally with its confusion matrix.

use std::path::PathBuf;

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::viz::ConfusionMatrix;
use kiln::Result;

use super::common::{check_output_path, check_ten_classes, image_input_shape, Lesson, Split};
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
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    if let Some(p) = &args.confusion {
        check_output_path("--confusion", p)?;
        kiln::io::check_distinct(&[("MODEL", &args.model)], &[("--confusion", p)])?;
    }
    let mut model = kiln::io::load_model(&args.model)?;
    check_ten_classes(&model, &args.model)?;
    let data = Lesson::load(&args.data, 0.2, &image_input_shape(&model)?, false)?;
    let (x, y, _) = data.split(args.split);
    let result = model.evaluate_with(x, y, args.batch_size, 1)?;
    kiln::outln!("{result}");
    if let Some(path) = &args.confusion {
        let predicted = model.predict(x)?.argmax_rows();
        let truth: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
        let matrix =
            ConfusionMatrix::from_predictions(&predicted, &truth, CLASS_NAMES.len())?.with_class_names(&CLASS_NAMES)?;
        kiln::outln!("\n{}", matrix.to_string().trim_end());
        matrix.save_png(path)?;
        kiln::outln!("confusion matrix written to {}", path.display());
    }
    Ok(())
}
