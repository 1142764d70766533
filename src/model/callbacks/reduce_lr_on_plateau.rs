//! ReduceLROnPlateau: multiply the learning rate by `factor` when the monitored quantity stalls.

use super::{log_value, warn_missing, Callback, Logs, Mode};
use crate::error::{Error, Result};
use crate::model::Sequential;

/// After `patience` epochs without an improvement of more than `min_delta`, sets the
/// optimizer's learning rate to `max(lr * factor, min_lr)`, then waits `cooldown` epochs
/// before counting again (Keras's callback and defaults).
pub struct ReduceLROnPlateau {
    monitor: String,
    factor: f64,
    patience: usize,
    min_delta: f64,
    cooldown: usize,
    min_lr: f64,
    mode: Mode,
    verbose: u8,
    wait: usize,
    cooldown_counter: usize,
    best: f64,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        ReduceLROnPlateau::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras's defaults: val_loss, factor 0.1, patience 10, min_delta 1e-4, no cooldown, min_lr 0.
    pub fn new() -> ReduceLROnPlateau {
        ReduceLROnPlateau {
            monitor: "val_loss".into(),
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            mode: Mode::Auto,
            verbose: 0,
            wait: 0,
            cooldown_counter: 0,
            best: f64::INFINITY,
        }
    }

    /// The logged quantity to watch (default "val_loss").
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor = monitor.into();
        self
    }

    /// Must be in (0, 1); checked by `validate` (and so at `on_train_begin`).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before the rate is reduced (default 10).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// An improvement must beat the best by more than this (default 1e-4).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Epochs to wait after a reduction before counting again (default 0).
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The rate is never reduced below this (default 0).
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Whether lower or higher is better; [`Mode::Auto`] decides by the name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// 1 prints a line at each reduction.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// The best monitored value of this run; `None` before the first epoch.
    pub fn best(&self) -> Option<f64> {
        self.best.is_finite().then_some(self.best)
    }

    /// Keras rejects `factor >= 1.0`; a factor of 0 or less, or NaN, would not be a rate either.
    pub fn validate(&self) -> Result<()> {
        if self.factor >= 1.0 {
            return Err(Error::value(format!(
                "ReduceLROnPlateau does not support a factor >= 1.0. Received factor={}",
                self.factor
            )));
        }
        if self.factor.is_nan() || self.factor <= 0.0 {
            return Err(Error::value(format!(
                "ReduceLROnPlateau needs a factor in (0, 1). Received factor={}",
                self.factor
            )));
        }
        if self.min_lr.is_nan() || self.min_lr < 0.0 {
            return Err(Error::value(format!("ReduceLROnPlateau needs min_lr >= 0. Received min_lr={}", self.min_lr)));
        }
        Ok(())
    }

    fn maximizes(&self) -> bool {
        self.mode.maximizes(&self.monitor)
    }

    fn improves(&self, current: f64) -> bool {
        if self.maximizes() {
            current > self.best + self.min_delta
        } else {
            current < self.best - self.min_delta
        }
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, model: &mut Sequential) -> Result<()> {
        self.validate()?;
        if model.optimizer().is_none() {
            return Err(Error::value("ReduceLROnPlateau needs a compiled model: call compile(...) first"));
        }
        self.best = if self.maximizes() { f64::NEG_INFINITY } else { f64::INFINITY };
        self.wait = 0;
        self.cooldown_counter = 0;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential) -> Result<()> {
        let Some(current) = log_value(logs, &self.monitor) else {
            warn_missing("Learning rate reduction is conditioned on metric", &self.monitor, logs);
            return Ok(());
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.improves(current) {
            self.best = current;
            self.wait = 0;
            return Ok(());
        }
        if self.cooldown_counter > 0 {
            return Ok(());
        }
        self.wait += 1;
        if self.wait >= self.patience {
            let Some(optimizer) = model.optimizer_mut() else {
                return Err(Error::value("ReduceLROnPlateau needs a compiled model: call compile(...) first"));
            };
            let old_lr = optimizer.learning_rate() as f64;
            // Keras compares with min_lr as float32, the optimizer's precision.
            if old_lr > self.min_lr as f32 as f64 {
                let new_lr = (old_lr * self.factor).max(self.min_lr);
                optimizer.set_learning_rate(new_lr as f32);
                if self.verbose > 0 {
                    crate::outln!("Epoch {}: ReduceLROnPlateau reducing learning rate to {new_lr}.", epoch + 1);
                }
                self.cooldown_counter = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{logs, tiny_model};
    use super::*;

    /// The learning rate after each scripted val_loss, starting from 1.0.
    fn rates(cb: &mut ReduceLROnPlateau, values: &[f64]) -> Vec<f32> {
        let mut m = tiny_model();
        m.optimizer_mut().unwrap().set_learning_rate(1.0);
        cb.on_train_begin(&mut m).unwrap();
        values
            .iter()
            .enumerate()
            .map(|(e, v)| {
                cb.on_epoch_end(e, &logs(&[("val_loss", *v)]), &mut m).unwrap();
                m.optimizer().unwrap().learning_rate()
            })
            .collect()
    }

    #[test]
    fn reduces_after_patience_epochs_without_improvement() {
        let mut cb = ReduceLROnPlateau::new().patience(2).factor(0.5);
        // 1.0 best; 1.0 and 0.99995 (within min_delta 1e-4) do not improve → halve at epoch 2.
        assert_eq!(rates(&mut cb, &[1.0, 1.0, 0.99995, 0.5, 0.6, 0.7]), [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
        assert_eq!(cb.best(), Some(0.5));
    }

    #[test]
    fn respects_min_lr() {
        let mut cb = ReduceLROnPlateau::new().patience(1).factor(0.1).min_lr(0.05);
        assert_eq!(rates(&mut cb, &[1.0, 2.0, 2.0, 2.0]), [1.0, 0.1, 0.05, 0.05]);
    }

    #[test]
    fn cooldown_pauses_the_count() {
        // patience 1, cooldown 2: reduce at epoch 1; epoch 2 cools down; at epoch 3 the counter
        // reaches 0 first and counting resumes in the same epoch (Keras's order) → reduce.
        let mut cb = ReduceLROnPlateau::new().patience(1).factor(0.5).cooldown(2);
        assert_eq!(rates(&mut cb, &[1.0, 2.0, 2.0, 2.0, 2.0, 2.0]), [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]);
        // Without cooldown: every epoch without improvement halves the rate.
        let mut cb = ReduceLROnPlateau::new().patience(1).factor(0.5);
        assert_eq!(rates(&mut cb, &[1.0, 2.0, 2.0, 2.0]), [1.0, 0.5, 0.25, 0.125]);
    }

    #[test]
    fn max_mode_for_accuracy() {
        let mut m = tiny_model();
        m.optimizer_mut().unwrap().set_learning_rate(1.0);
        let mut cb = ReduceLROnPlateau::new().monitor("val_accuracy").patience(1).factor(0.5);
        cb.on_train_begin(&mut m).unwrap();
        cb.on_epoch_end(0, &logs(&[("val_accuracy", 0.5)]), &mut m).unwrap();
        cb.on_epoch_end(1, &logs(&[("val_accuracy", 0.9)]), &mut m).unwrap();
        assert_eq!(m.optimizer().unwrap().learning_rate(), 1.0);
        cb.on_epoch_end(2, &logs(&[("val_accuracy", 0.8)]), &mut m).unwrap();
        assert_eq!(m.optimizer().unwrap().learning_rate(), 0.5);
    }

    #[test]
    fn factor_of_one_or_more_is_an_error_before_training() {
        let mut m = tiny_model();
        let err = ReduceLROnPlateau::new().factor(1.0).on_train_begin(&mut m).unwrap_err().to_string();
        assert_eq!(err, "ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1");
        assert!(ReduceLROnPlateau::new().factor(0.0).validate().is_err());
        assert!(ReduceLROnPlateau::new().validate().is_ok());
    }
}
