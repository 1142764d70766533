//! `kiln export`: a saved model as an ONNX graph of standard operators, for ONNX Runtime.

use std::path::PathBuf;

use kiln::Result;

use super::common::check_output_path;

/// Options of `kiln export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A saved model (.safetensors, .keras or .h5).
    model: PathBuf,
    /// Write the model as ONNX (opset 17; input `input`, output `output`, dynamic batch).
    #[arg(long, value_name = "PATH", required = true)]
    onnx: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<()> {
    check_output_path("--onnx", &args.onnx)?;
    let model = kiln::io::load_model(&args.model)?;
    model.save_onnx(&args.onnx)?;
    kiln::outln!(
        "wrote {} (ONNX opset {}, input 'input', output 'output')",
        args.onnx.display(),
        kiln::io::onnx::OPSET
    );
    Ok(())
}
