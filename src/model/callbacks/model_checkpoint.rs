//! ModelCheckpoint: save the model (or its weights) after each epoch, or only when the monitored
//! quantity improves (Keras's callback; files are written atomically by `save`).

use std::path::{Path, PathBuf};

use super::{check_writable, log_value, warn_missing, Callback, Logs, Mode, PathTemplate};
use crate::error::Result;
use crate::model::Sequential;

/// Saves at every epoch end, or with `save_best_only` when `monitor` beats the best so far
/// (strictly). The path may hold Keras's placeholders, filled per epoch:
/// `ckpt/model-{epoch:02d}-{val_loss:.2f}.safetensors` (epoch counted from 1, as Keras).
pub struct ModelCheckpoint {
    path: String,
    monitor: String,
    save_best_only: bool,
    save_weights_only: bool,
    mode: Mode,
    verbose: u8,
    initial_value_threshold: Option<f64>,
    best: Option<f64>,
    best_epoch: Option<usize>,
    last_saved: Option<PathBuf>,
}

impl ModelCheckpoint {
    /// Keras's defaults: monitor val_loss, save every epoch, the full model, mode auto.
    pub fn new(path: impl AsRef<Path>) -> ModelCheckpoint {
        ModelCheckpoint {
            path: path.as_ref().to_string_lossy().into_owned(),
            monitor: "val_loss".into(),
            save_best_only: false,
            save_weights_only: false,
            mode: Mode::Auto,
            verbose: 0,
            initial_value_threshold: None,
            best: None,
            best_epoch: None,
            last_saved: None,
        }
    }

    /// The logged quantity that decides the best model (default "val_loss").
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor = monitor.into();
        self
    }

    /// Save only when the monitored quantity improves (default: every epoch).
    pub fn save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// `save_weights` instead of `save`.
    pub fn save_weights_only(mut self, save_weights_only: bool) -> Self {
        self.save_weights_only = save_weights_only;
        self
    }

    /// Whether lower or higher is better; [`Mode::Auto`] decides by the name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// 1 prints a line at each save.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// With `save_best_only`, the value the first save must beat (Keras's
    /// `initial_value_threshold`).
    pub fn initial_value_threshold(mut self, threshold: Option<f64>) -> Self {
        self.initial_value_threshold = threshold;
        self
    }

    /// The best monitored value saved so far (`save_best_only` only).
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The epoch (0-based) of that best value.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The file written last, if any.
    pub fn last_saved(&self) -> Option<&Path> {
        self.last_saved.as_deref()
    }

    /// Fails unless the checkpoint's directory exists and accepts files; `on_train_begin` calls
    /// it, so a bad path ends `fit` before the first epoch rather than after it.
    pub fn check_writable(&self) -> Result<()> {
        PathTemplate::parse(&self.path)?;
        // A directory part with placeholders is only known per epoch; check the name alone then.
        match Path::new(&self.path).parent() {
            Some(dir) if dir.to_string_lossy().contains('{') => Ok(()),
            _ => check_writable(Path::new(&self.path), "checkpoint"),
        }
    }

    fn improves(&self, current: f64) -> bool {
        let max = self.mode.maximizes(&self.monitor);
        let unset = if max { f64::NEG_INFINITY } else { f64::INFINITY };
        let reference = self.best.or(self.initial_value_threshold).unwrap_or(unset);
        if max {
            current > reference
        } else {
            current < reference
        }
    }

    fn save(&mut self, path: PathBuf, model: &Sequential) -> Result<()> {
        if self.save_weights_only {
            model.save_weights(path.as_path())?;
        } else {
            model.save(path.as_path())?;
        }
        self.last_saved = Some(path);
        Ok(())
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        self.check_writable()
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential) -> Result<()> {
        let path = PathBuf::from(PathTemplate::parse(&self.path)?.fill(epoch, logs)?);
        if !self.save_best_only {
            if self.verbose > 0 {
                crate::outln!("Epoch {}: saving model to {}", epoch + 1, path.display());
            }
            return self.save(path, model);
        }
        let Some(current) = log_value(logs, &self.monitor) else {
            warn_missing("Can save best model only with", &self.monitor, logs);
            return Ok(());
        };
        let best = self.best.or(self.initial_value_threshold);
        let best_str = best.map_or("None".into(), |b| format!("{b:.5}"));
        if self.improves(current) {
            if self.verbose > 0 {
                crate::outln!(
                    "Epoch {}: {} improved from {best_str} to {current:.5}, saving model to {}",
                    epoch + 1,
                    self.monitor,
                    path.display()
                );
            }
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            self.save(path, model)
        } else {
            if self.verbose > 0 {
                crate::outln!("Epoch {}: {} did not improve from {best_str}", epoch + 1, self.monitor);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, fill_weights, logs, tiny_model};
    use super::*;
    use crate::model::FitOptions;

    #[test]
    fn saves_only_on_strict_improvement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("best.safetensors");
        let mut m = tiny_model();
        let mut ck = ModelCheckpoint::new(&path).save_best_only(true).save_weights_only(true);
        ck.on_train_begin(&mut m).unwrap();
        // (val_loss, saved?): equal is not better; a missing key warns and skips.
        let script = [(Some(1.0), true), (Some(1.0), false), (Some(0.8), true), (None, false), (Some(0.9), false)];
        for (epoch, (val_loss, saved)) in script.into_iter().enumerate() {
            fill_weights(&mut m, epoch as f32);
            let _ = std::fs::remove_file(&path);
            let l = match val_loss {
                Some(v) => logs(&[("loss", 2.0), ("val_loss", v)]),
                None => logs(&[("loss", 2.0)]),
            };
            ck.on_epoch_end(epoch, &l, &mut m).unwrap();
            assert_eq!(path.exists(), saved, "epoch {epoch}");
        }
        assert_eq!((ck.best(), ck.best_epoch()), (Some(0.8), Some(2)));
        assert_eq!(ck.last_saved(), Some(path.as_path()));
    }

    #[test]
    fn max_mode_and_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let mut m = tiny_model();
        // Auto mode maximizes accuracy; the first save must beat 0.5.
        let mut ck = ModelCheckpoint::new(&path)
            .monitor("val_accuracy")
            .save_best_only(true)
            .save_weights_only(true)
            .initial_value_threshold(Some(0.5));
        ck.on_train_begin(&mut m).unwrap();
        for (epoch, acc) in [0.4, 0.6, 0.55, 0.7].into_iter().enumerate() {
            ck.on_epoch_end(epoch, &logs(&[("val_accuracy", acc)]), &mut m).unwrap();
        }
        assert_eq!((ck.best(), ck.best_epoch()), (Some(0.7), Some(3)));
    }

    #[test]
    fn errors_before_training_for_a_missing_directory() {
        let mut m = tiny_model();
        let (x, y) = data();
        let before = m.weights_sha256();
        let mut ck = ModelCheckpoint::new("/nope/best.safetensors");
        let opts = FitOptions { epochs: 2, verbose: 0, callbacks: vec![&mut ck], ..Default::default() };
        let err = m.fit(&x, &y, opts).unwrap_err();
        assert_eq!(err.to_string(), "checkpoint path /nope/best.safetensors: directory /nope does not exist");
        assert_eq!(m.weights_sha256(), before, "no step was taken");
    }

    #[test]
    fn saves_every_epoch_during_fit_with_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("m-{epoch:02d}-{loss:.3f}.safetensors");
        let mut m = tiny_model();
        let (x, y) = data();
        let mut ck = ModelCheckpoint::new(&template);
        let opts = FitOptions { epochs: 3, batch_size: 8, verbose: 0, callbacks: vec![&mut ck], ..Default::default() };
        let history = m.fit(&x, &y, opts).unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        let want: Vec<String> =
            history.loss().iter().enumerate().map(|(e, l)| format!("m-{:02}-{l:.3}.safetensors", e + 1)).collect();
        assert_eq!(names, want);
    }
}
