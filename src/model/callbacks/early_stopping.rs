//! EarlyStopping: stop when the monitored quantity stops improving (Keras 3's rule, exactly).

use super::{log_value, warn_missing, Callback, Logs, Mode};
use crate::error::Result;
use crate::model::Sequential;
use crate::Tensor;

/// Stops `fit` once `monitor` has not improved by more than `min_delta` for `patience` epochs.
///
/// `EarlyStopping::new().monitor("val_loss").patience(3).restore_best_weights(true)`
pub struct EarlyStopping {
    monitor: String,
    min_delta: f64,
    patience: usize,
    mode: Mode,
    restore_best_weights: bool,
    start_from_epoch: usize,
    baseline: Option<f64>,
    verbose: u8,
    // State of the current run, reset by on_train_begin.
    wait: usize,
    best: f64,
    best_epoch: Option<usize>,
    best_weights: Option<Vec<Tensor>>,
    stopped_epoch: Option<usize>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping::new()
    }
}

impl EarlyStopping {
    /// Keras's defaults: monitor val_loss, min_delta 0, patience 0, mode auto, no baseline.
    pub fn new() -> EarlyStopping {
        EarlyStopping {
            monitor: "val_loss".into(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            restore_best_weights: false,
            start_from_epoch: 0,
            baseline: None,
            verbose: 0,
            wait: 0,
            best: f64::INFINITY,
            best_epoch: None,
            best_weights: None,
            stopped_epoch: None,
        }
    }

    /// The logged quantity to watch (default "val_loss").
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor = monitor.into();
        self
    }

    /// An improvement must beat the best by more than this (its sign is ignored, as Keras's `abs`).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Epochs without improvement before training stops (default 0).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Whether lower or higher is better; [`Mode::Auto`] decides by the name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// At the end of training, set the weights of the best epoch (Keras 3 restores them whether
    /// or not training stopped early).
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Epochs (0-based) before this one are a warm-up: not monitored at all.
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The patience counter restarts only on epochs that also beat the baseline.
    pub fn baseline(mut self, baseline: Option<f64>) -> Self {
        self.baseline = baseline;
        self
    }

    /// 1 prints a line when training stops early.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// The epoch (0-based) at which training was stopped; `None` when it ran to the end.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// The epoch (0-based) with the best monitored value so far.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The best monitored value so far; `None` before any epoch improved.
    pub fn best(&self) -> Option<f64> {
        self.best.is_finite().then_some(self.best)
    }

    fn maximizes(&self) -> bool {
        self.mode.maximizes(&self.monitor)
    }

    /// Keras's `_is_improvement`: `current` beats `reference` by more than `min_delta`.
    fn is_improvement(&self, current: f64, reference: f64) -> bool {
        if self.maximizes() {
            current - self.min_delta > reference
        } else {
            current + self.min_delta < reference
        }
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        self.wait = 0;
        self.best = if self.maximizes() { f64::NEG_INFINITY } else { f64::INFINITY };
        self.best_epoch = None;
        self.best_weights = None;
        self.stopped_epoch = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential) -> Result<()> {
        let Some(current) = log_value(logs, &self.monitor) else {
            warn_missing("Early stopping conditioned on metric", &self.monitor, logs);
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            // Until something improves, the first monitored epoch's weights are the best.
            self.best_weights = Some(model.get_weights());
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if self.is_improvement(current, self.best) {
            self.best = current;
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(model.get_weights());
            }
            if self.baseline.is_none_or(|b| self.is_improvement(current, b)) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            model.stop_training = true;
        }
        Ok(())
    }

    fn on_train_end(&mut self, model: &mut Sequential) -> Result<()> {
        if let (Some(stopped), true) = (self.stopped_epoch, self.verbose > 0) {
            crate::outln!("Epoch {}: early stopping", stopped + 1);
        }
        if let (true, Some(weights)) = (self.restore_best_weights, &self.best_weights) {
            if self.verbose > 0 {
                crate::outln!(
                    "Restoring model weights from the end of the best epoch: {}.",
                    self.best_epoch.map_or(0, |e| e + 1)
                );
            }
            model.set_weights(weights)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, fill_weights, logs, tiny_model};
    use super::*;
    use crate::model::FitOptions;

    /// Runs `es` over scripted `val_loss` values, weights filled with the epoch index + 1;
    /// returns the epoch after which training stopped, if it did.
    fn run(es: &mut EarlyStopping, values: &[f64], m: &mut Sequential) -> Option<usize> {
        m.stop_training = false;
        es.on_train_begin(m).unwrap();
        let mut stopped = None;
        for (epoch, v) in values.iter().enumerate() {
            fill_weights(m, epoch as f32 + 1.0);
            es.on_epoch_end(epoch, &logs(&[("loss", 1.0), ("val_loss", *v)]), m).unwrap();
            if m.stop_training {
                stopped = Some(epoch);
                break;
            }
        }
        es.on_train_end(m).unwrap();
        assert_eq!(stopped, es.stopped_epoch());
        stopped
    }

    #[test]
    fn stops_after_patience_epochs_without_improvement() {
        let mut m = tiny_model();
        let mut es = EarlyStopping::new().patience(2);
        assert_eq!(run(&mut es, &[1.0, 0.9, 0.95, 0.91, 0.89], &mut m), Some(3));
        assert_eq!(es.best_epoch(), Some(1));
        assert_eq!(es.best(), Some(0.9));
        // patience 0 stops at the first epoch that does not improve, never at epoch 0.
        let mut es = EarlyStopping::new();
        assert_eq!(run(&mut es, &[1.0, 1.0, 0.5], &mut m), Some(1));
        // Reused for a second run: the state starts over.
        assert_eq!(run(&mut es, &[3.0, 2.0, 1.0], &mut m), None);
    }

    #[test]
    fn min_delta_demands_a_larger_improvement() {
        let mut m = tiny_model();
        // 0.95 and 0.92 improve on 1.0 by less than 0.1: no improvement, stop at epoch 2.
        let mut es = EarlyStopping::new().patience(2).min_delta(0.1);
        assert_eq!(run(&mut es, &[1.0, 0.95, 0.92, 0.5], &mut m), Some(2));
        assert_eq!(es.best_epoch(), Some(0));
        // Without min_delta the same values keep improving.
        let mut es = EarlyStopping::new().patience(2);
        assert_eq!(run(&mut es, &[1.0, 0.95, 0.92, 0.5], &mut m), None);
        // Max mode (auto for accuracy): 0.8 → 0.85 is not more than 0.1 up; -0.1 means 0.1.
        let mut es = EarlyStopping::new().monitor("val_accuracy").patience(1).min_delta(-0.1);
        es.on_train_begin(&mut m).unwrap();
        for (epoch, acc) in [0.5, 0.8, 0.85].iter().enumerate() {
            es.on_epoch_end(epoch, &logs(&[("val_accuracy", *acc)]), &mut m).unwrap();
        }
        assert_eq!(es.stopped_epoch(), Some(2));
        assert_eq!(es.best_epoch(), Some(1));
    }

    #[test]
    fn start_from_epoch_skips_the_warm_up() {
        let mut m = tiny_model();
        // Epochs 0–2 ignored; 0.7 at epoch 3 is the first best; 4 and 5 do not improve.
        let mut es = EarlyStopping::new().patience(2).start_from_epoch(3);
        assert_eq!(run(&mut es, &[0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 0.1], &mut m), Some(5));
        assert_eq!(es.best_epoch(), Some(3));
    }

    #[test]
    fn baseline_must_be_beaten_to_reset_patience() {
        let mut m = tiny_model();
        // Improvements above the baseline 0.5 do not reset the counter: it reaches 3 at epoch 2.
        let mut es = EarlyStopping::new().patience(3).baseline(Some(0.5));
        assert_eq!(run(&mut es, &[0.9, 0.8, 0.85, 0.86], &mut m), Some(2));
        assert_eq!(es.best_epoch(), Some(1));
        // Beating the baseline resets the counter.
        let mut es = EarlyStopping::new().patience(3).baseline(Some(0.5));
        assert_eq!(run(&mut es, &[0.9, 0.8, 0.4, 0.45, 0.46, 0.47], &mut m), Some(5));
    }

    #[test]
    fn restores_the_weights_of_the_best_epoch() {
        let mut m = tiny_model();
        let mut es = EarlyStopping::new().patience(2).restore_best_weights(true);
        assert_eq!(run(&mut es, &[1.0, 0.9, 0.95, 0.91, 0.89], &mut m), Some(3));
        // Epoch 1 (weights filled with 2.0) was the best.
        for w in m.get_weights() {
            assert!(w.data().iter().all(|&v| v == 2.0), "{:?}", w.data());
        }
        // Keras 3 restores at the end of training even without an early stop.
        let mut es = EarlyStopping::new().patience(5).restore_best_weights(true);
        assert_eq!(run(&mut es, &[1.0, 0.5, 0.7], &mut m), None);
        assert!(m.get_weights().iter().all(|w| w.data().iter().all(|&v| v == 2.0)));
        // Nothing improves on the baseline: the first monitored epoch's weights come back.
        let mut es = EarlyStopping::new().patience(2).baseline(Some(0.1)).restore_best_weights(true);
        assert_eq!(run(&mut es, &[1.0, 1.1, 1.2], &mut m), Some(1));
        assert!(m.get_weights().iter().all(|w| w.data().iter().all(|&v| v == 1.0)));
    }

    #[test]
    fn stops_a_real_fit() {
        // The training loss falls, so in max mode the second epoch is no improvement.
        let mut m = tiny_model();
        let (x, y) = data();
        let mut es = EarlyStopping::new().monitor("loss").mode(Mode::Max);
        let opts = FitOptions { epochs: 10, batch_size: 4, verbose: 0, callbacks: vec![&mut es], ..Default::default() };
        let history = m.fit(&x, &y, opts).unwrap();
        assert_eq!(es.stopped_epoch(), Some(1));
        assert_eq!(history.loss().len(), 2);
    }
}
