//! TerminateOnNaN: stop training when a batch's loss is NaN or infinite.

use super::{log_value, Callback, Logs};
use crate::error::Result;
use crate::model::Sequential;

/// Sets `stop_training` as soon as the running loss is NaN or ±inf (Keras's callback).
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminateOnNaN;

impl TerminateOnNaN {
    /// Stops training at the first batch whose loss is NaN or infinite.
    pub fn new() -> TerminateOnNaN {
        TerminateOnNaN
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_batch_end(&mut self, batch: usize, logs: &Logs, model: &mut Sequential) -> Result<()> {
        if log_value(logs, "loss").is_some_and(|l| !l.is_finite()) {
            crate::outln!("Batch {batch}: Invalid loss, terminating training");
            model.stop_training = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{logs, tiny_model};
    use super::*;

    #[test]
    fn stops_on_nan_or_inf_loss_only() {
        let mut m = tiny_model();
        let mut t = TerminateOnNaN::new();
        for (batch, loss) in [0.5, 1e30, 0.4].into_iter().enumerate() {
            t.on_train_batch_end(batch, &logs(&[("loss", loss)]), &mut m).unwrap();
        }
        t.on_train_batch_end(3, &logs(&[("accuracy", f64::NAN)]), &mut m).unwrap();
        assert!(!m.stop_training);
        t.on_train_batch_end(4, &logs(&[("loss", f64::NAN)]), &mut m).unwrap();
        assert!(m.stop_training);
        m.stop_training = false;
        t.on_train_batch_end(5, &logs(&[("loss", f64::INFINITY)]), &mut m).unwrap();
        assert!(m.stop_training);
    }
}
