//! Callbacks: a small trait with no-op defaults, called by `fit` (Keras's skeleton).

use super::Sequential;
use crate::error::Result;

/// One epoch's logs: ("loss", 0.43), ("accuracy", 0.85), ("val_loss", ...), ...
pub type Logs = [(String, f64)];

/// The value of `key` in `logs`.
pub fn log_value(logs: &Logs, key: &str) -> Option<f64> {
    logs.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// Hooks into `fit`. Set `model.stop_training = true` to end training after this epoch.
/// An error from a hook ends `fit` with that error (a checkpoint that cannot be written, say).
pub trait Callback: Send {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    fn on_epoch_begin(&mut self, _epoch: usize, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After each batch with the running logs of the epoch (loss and metrics so far).
    fn on_train_batch_end(&mut self, _batch: usize, _logs: &Logs, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    fn on_train_end(&mut self, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
}
