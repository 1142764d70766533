//! `kiln convert A B`: a saved model from one format to another, chosen by B's extension:
//! `.keras` (Keras 3), `.h5` (Keras 2's legacy format) or `.safetensors` (kiln's own).

use std::path::PathBuf;

use kiln::Result;

use super::common::check_output_path;

/// Options of `kiln convert`.
#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// The model to read (.safetensors, .keras or .h5).
    input: PathBuf,
    /// The file to write; its extension picks the format (.keras, .h5, else safetensors).
    output: PathBuf,
}

pub fn run(args: ConvertArgs) -> Result<()> {
    check_output_path("OUTPUT", &args.output)?;
    let model = kiln::io::load_model(&args.input)?;
    model.save(&args.output)?;
    kiln::outln!("wrote {}", args.output.display());
    Ok(())
}
