//! What a `kiln train` run leaves behind: the callbacks the flags ask for, the saved model and
//! plot, the `--json` report, and the last words of a run stopped early.

use std::path::Path;

use serde_json::json;

use kiln::model::{
    CSVLogger, Callback, EarlyStopping, Evaluation, History, ModelCheckpoint, Sequential, TensorBoard, TerminateOnNaN,
};
use kiln::{Error, Result};

use super::TrainArgs;

/// The callbacks the flags ask for, in the order they run.
pub(super) struct Callbacks {
    nan: Option<TerminateOnNaN>,
    pub(super) early: Option<EarlyStopping>,
    checkpoint: Option<ModelCheckpoint>,
    csv: Option<CSVLogger>,
    tensorboard: Option<TensorBoard>,
}

impl Callbacks {
    pub(super) fn new(args: &TrainArgs) -> Callbacks {
        Callbacks {
            nan: args.terminate_on_nan.then(TerminateOnNaN::default),
            early: args.early_stopping.map(|p| EarlyStopping::new().patience(p).restore_best_weights(true)),
            checkpoint: args.checkpoint.as_ref().map(|p| ModelCheckpoint::new(p).save_best_only(true)),
            csv: args.csv_log.as_ref().map(CSVLogger::new),
            tensorboard: args.tensorboard.as_ref().map(TensorBoard::new),
        }
    }

    pub(super) fn list(&mut self) -> Vec<&mut dyn Callback> {
        let mut out: Vec<&mut dyn Callback> = Vec::new();
        if let Some(c) = self.nan.as_mut() {
            out.push(c);
        }
        if let Some(c) = self.early.as_mut() {
            out.push(c);
        }
        if let Some(c) = self.checkpoint.as_mut() {
            out.push(c);
        }
        if let Some(c) = self.csv.as_mut() {
            out.push(c);
        }
        if let Some(c) = self.tensorboard.as_mut() {
            out.push(c);
        }
        out
    }
}

/// `--save` (unless the weights went non-finite under --terminate-on-nan), the note on Keras
/// files, and `--plot`.
pub(super) fn save_and_plot(
    args: &TrainArgs,
    model: &Sequential,
    history: &History,
    stopped_on_nan: bool,
) -> Result<()> {
    match &args.save {
        Some(path) if !stopped_on_nan => model.save(path)?,
        _ => {}
    }
    if let Some(path) = &args.plot {
        history.plot(path)?;
        for note in kiln::viz::gap_notes(history) {
            kiln::outln!("{note}");
        }
    }
    Ok(())
}

/// What `--json` reports about the run besides the model and its scores.
pub(super) struct RunFacts {
    pub(super) train_seconds: f64,
    pub(super) steps: usize,
    pub(super) interrupted: bool,
}

/// `--json`: the history, the validation and test scores, the run and the weights' checksum.
pub(super) fn write_report(
    path: &Path,
    model: &Sequential,
    history: &History,
    (val, test): (&Evaluation, Option<&Evaluation>),
    run: RunFacts,
    early: Option<&EarlyStopping>,
) -> Result<()> {
    let mut report = json!({
        "history": history.to_json(),
        "validation": {"loss": val.loss, "accuracy": val.accuracy},
        "test": test.map(|t| json!({"loss": t.loss, "accuracy": t.accuracy})),
        "train_seconds": run.train_seconds,
        "steps": run.steps,
        "epochs_trained": model.epochs_trained(),
        "interrupted": run.interrupted,
        "weights_sha256": model.weights_sha256(),
    });
    if let Some(e) = early {
        report["stopped_epoch"] = json!(e.stopped_epoch());
        report["best_epoch"] = json!(e.best_epoch());
    }
    kiln::io::write_atomic(path, serde_json::to_string_pretty(&report).expect("JSON").as_bytes())
}

/// The error of a run --terminate-on-nan stopped: what was (not) written.
pub(super) fn not_saved_on_nan(args: &TrainArgs, history: &History) -> Error {
    let epoch = history.epochs.last().map_or(0, |e| e + 1);
    let kept = match &args.save {
        Some(p) => format!("; --save {} was not written (a model saved there before is kept)", p.display()),
        None => String::new(),
    };
    Error::value(format!("training stopped in epoch {epoch}: the loss became NaN or infinite{kept}"))
}

/// The one line an interrupted run ends with, naming what it wrote.
pub(super) fn say_interrupted(args: &TrainArgs, history: &History) {
    let written: Vec<String> = [&args.save, &args.json, &args.plot, &args.csv_log]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    let epoch = history.epochs.last().map_or(0, |e| e + 1);
    let what =
        if written.is_empty() { "nothing to write".to_string() } else { format!("wrote {}", written.join(", ")) };
    kiln::errln!("interrupted: training stopped in epoch {epoch}/{} after the current batch; {what}", args.epochs);
}
