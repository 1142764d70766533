//! TensorBoard: epoch scalars in TensorBoard's event files, laid out as Keras's callback does.

use std::path::{Path, PathBuf};

use super::{Callback, Logs};
use crate::error::Result;
use crate::fs::tfevents::EventWriter;
use crate::model::Sequential;

/// Writes, at the end of each epoch, `epoch_<key>` for the training logs (with
/// `epoch_learning_rate`, the optimizer's current rate) to `log_dir/train`, and the `val_` logs
/// without their prefix to `log_dir/validation`, at step = epoch (from 0), as Keras does.
/// The files are created when training begins; each scalar is flushed as it is written.
pub struct TensorBoard {
    log_dir: PathBuf,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
}

impl TensorBoard {
    /// Keras's `log_dir` (it defaults to "logs" there).
    pub fn new(log_dir: impl AsRef<Path>) -> TensorBoard {
        TensorBoard { log_dir: log_dir.as_ref().to_path_buf(), train: None, validation: None }
    }

    /// The event files written so far: (train, validation).
    pub fn files(&self) -> (Option<&Path>, Option<&Path>) {
        (self.train.as_ref().map(EventWriter::path), self.validation.as_ref().map(EventWriter::path))
    }
}

impl Callback for TensorBoard {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        self.train = Some(EventWriter::create(&self.log_dir.join("train"))?);
        self.validation = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential) -> Result<()> {
        let step = epoch as i64;
        let train = match self.train.as_mut() {
            Some(w) => w,
            None => self.train.insert(EventWriter::create(&self.log_dir.join("train"))?),
        };
        for (key, value) in logs.iter().filter(|(k, _)| !k.starts_with("val_")) {
            train.scalar(&format!("epoch_{key}"), *value, step)?;
        }
        if let Some(opt) = model.optimizer() {
            train.scalar("epoch_learning_rate", opt.learning_rate() as f64, step)?;
        }
        let mut val = logs.iter().filter_map(|(k, v)| k.strip_prefix("val_").map(|k| (k, *v))).peekable();
        if val.peek().is_some() {
            let writer = match self.validation.as_mut() {
                Some(w) => w,
                None => self.validation.insert(EventWriter::create(&self.log_dir.join("validation"))?),
            };
            for (key, value) in val {
                writer.scalar(&format!("epoch_{key}"), value, step)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, tiny_model};
    use super::*;
    use crate::fs::tfevents::{read_events, scalar_value};
    use crate::model::FitOptions;

    /// (tag, step, value) of every scalar in the file.
    fn scalars(path: &Path) -> Vec<(String, i64, f32)> {
        let events = read_events(path).unwrap();
        assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
        let mut out = Vec::new();
        for e in &events[1..] {
            for v in &e.summary.as_ref().unwrap().value {
                out.push((v.tag.clone(), e.step, scalar_value(v).unwrap()));
            }
        }
        out
    }

    #[test]
    fn writes_keras_tags_per_epoch_to_train_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = tiny_model();
        let (x, y) = data();
        let mut tb = TensorBoard::new(dir.path().join("logs"));
        let options = FitOptions {
            epochs: 2,
            batch_size: 4,
            verbose: 0,
            validation_data: Some((&x, &y)),
            callbacks: vec![&mut tb],
            ..Default::default()
        };
        let history = m.fit(&x, &y, options).unwrap();
        let (train, val) = tb.files();
        assert!(train.unwrap().starts_with(dir.path().join("logs/train")));
        assert!(val.unwrap().starts_with(dir.path().join("logs/validation")));
        let lr = m.optimizer().unwrap().learning_rate();
        let loss = history.loss();
        let train = scalars(train.unwrap());
        assert_eq!(
            train,
            vec![
                ("epoch_loss".into(), 0, loss[0] as f32),
                ("epoch_learning_rate".into(), 0, lr),
                ("epoch_loss".into(), 1, loss[1] as f32),
                ("epoch_learning_rate".into(), 1, lr),
            ]
        );
        let val = scalars(val.unwrap());
        let val_loss = history.get("val_loss").unwrap();
        assert_eq!(
            val,
            vec![("epoch_loss".into(), 0, val_loss[0] as f32), ("epoch_loss".into(), 1, val_loss[1] as f32)]
        );
    }
}
