//! `kiln plot`: redraws the history graph (loss and accuracy per epoch) from a `kiln train
//! --json` report or a Keras CSVLogger file.

use std::path::PathBuf;

use kiln::viz::{gap_notes, plot_history, read_history};
use kiln::Result;

/// Options of `kiln plot`.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// A `kiln train --json` report, a history JSON ({"loss": [...], ...}) or a CSV log
    /// (epoch,accuracy,loss,val_accuracy,val_loss).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the PNG (default: FILE with the extension .png).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: PlotArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| args.file.with_extension("png"));
    kiln::io::check_writable(&out, "--out")?;
    kiln::io::check_distinct(&[("FILE", &args.file)], &[("--out", &out)])?;
    let history = read_history(&args.file)?;
    plot_history(&history, &out)?;
    for note in gap_notes(&history) {
        kiln::outln!("{note}");
    }
    let keys: Vec<&str> = history.keys().collect();
    kiln::outln!("wrote {} ({} epochs of {})", out.display(), history.epochs.len(), keys.join(", "));
    Ok(())
}
