//! Command-line parsing (clap's derive API) and dispatch, one file per command.

mod common;
mod convert;
mod data;
mod devices;
mod evaluate;
mod export;
mod inspect;
mod interrupt;
mod plot;
mod predict;
mod predict_files;
mod show;
mod summary;
mod text_data;
mod train;
mod user_data;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiln::datasets::fashion_mnist::LoadOptions;

/// kiln: Keras-style deep learning in pure Rust. Trains Fashion-MNIST the way the Keras lesson does.
#[derive(Parser, Debug)]
#[command(name = "kiln", version, about, propagate_version = true)]
pub struct Cli {
    /// Print nothing but errors (no progress, no results).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// `kiln train --help`'s list of the layers and activations `--layers` takes.
fn layers_help() -> String {
    format!("Layers for --layers (arguments by position, then key=...):\n{}", kiln::layers::grammar_help())
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load Fashion-MNIST, split it, train a model, evaluate it (the lesson).
    #[command(after_help = layers_help())]
    Train(train::TrainArgs),
    /// Where the data was found (or that it was downloaded), its shapes and per-class counts;
    /// with --data, a folder's classes and the files of each subset in Keras's order.
    Data(data::DataCmdArgs),
    /// The compute devices: CPU model, cores, SIMD level; NVIDIA GPUs through NVML.
    Devices(devices::DevicesArgs),
    /// The first images of a split with their class names, as a PNG and in the terminal.
    Show(show::ShowArgs),
    /// Keras's model summary: layers, output shapes, parameter counts.
    Summary(summary::SummaryArgs),
    /// Loss and accuracy of a saved model on the validation or test split.
    Evaluate(evaluate::EvaluateArgs),
    /// Classify test images with a saved model: class names and probabilities.
    Predict(predict::PredictArgs),
    /// A CNN's first-layer kernels and the feature maps of one image.
    Inspect(inspect::InspectArgs),
    /// Convert a saved model between .safetensors, .keras and .h5 (by the output's extension).
    Convert(convert::ConvertArgs),
    /// Export a saved model to ONNX (standard operators, opset 17).
    Export(export::ExportArgs),
    /// Redraw the history graph (loss, accuracy per epoch) from a JSON report or a CSV log.
    Plot(plot::PlotArgs),
}

/// Where to find the data (shared by the commands that load it).
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Directory holding the four Fashion-MNIST files (also KILN_DATA_DIR); looked in first.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    pub fn load_options(&self) -> LoadOptions {
        let mut opts = LoadOptions::default();
        if let Some(dir) = &self.data_dir {
            opts.data_dir = Some(dir.clone());
        }
        opts
    }
}

/// Runs the command; the exit status is 0 unless a signal stopped `train` (130 for Ctrl-C).
pub fn run(cli: Cli) -> kiln::Result<ExitCode> {
    kiln::console::set_quiet(cli.quiet);
    match cli.command {
        Command::Train(args) => return train::run(args),
        Command::Data(args) => data::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Show(args) => show::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Export(args) => export::run(args),
        Command::Convert(args) => convert::run(args),
    }
    .map(|()| ExitCode::SUCCESS)
}
