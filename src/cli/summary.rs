//! `kiln summary`: Keras's table of layers, output shapes and parameter counts.

use std::path::PathBuf;

use kiln::Result;

use super::common::ModelArgs;

/// Options of `kiln summary`: a saved model, or a model from `--layers` / `--model`.
#[derive(clap::Args, Debug)]
pub struct SummaryArgs {
    /// A saved model file (or give --layers / --model).
    #[arg(conflicts_with_all = ["layers", "model"])]
    saved: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: SummaryArgs) -> Result<()> {
    let model = match &args.saved {
        Some(path) => kiln::io::load_model(path)?,
        None => args.model.build(0)?,
    };
    kiln::out!("{}", model.summary()?);
    Ok(())
}
