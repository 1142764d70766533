//! The `kiln` command: the Fashion-MNIST lesson from the command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            kiln::console::error(format_args!("error: {e}\n"));
            ExitCode::FAILURE
        }
    }
}
