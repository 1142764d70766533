//! Callbacks: a small trait with no-op defaults, called by `fit` (Keras's skeleton), and
//! Keras's stock callbacks, one per file.

mod csv_logger;
mod early_stopping;
mod model_checkpoint;
mod path_template;
mod reduce_lr_on_plateau;
mod tensorboard;
mod terminate_on_nan;

use std::path::Path;
use std::str::FromStr;

use super::Sequential;
use crate::error::{Error, Result};

pub use csv_logger::CSVLogger;
pub use early_stopping::EarlyStopping;
pub use model_checkpoint::ModelCheckpoint;
pub use path_template::PathTemplate;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use tensorboard::TensorBoard;
pub use terminate_on_nan::TerminateOnNaN;

/// One epoch's logs: ("loss", 0.43), ("accuracy", 0.85), ("val_loss", ...), ...
pub type Logs = [(String, f64)];

/// The value of `key` in `logs`.
pub fn log_value(logs: &Logs, key: &str) -> Option<f64> {
    logs.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// Hooks into `fit`. Set `model.stop_training = true` to end training after this epoch.
/// An error from a hook ends `fit` with that error (a checkpoint that cannot be written, say).
pub trait Callback: Send {
    /// Before the first epoch.
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// Before each epoch (`epoch` counts from 0).
    fn on_epoch_begin(&mut self, _epoch: usize, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After each batch with the running logs of the epoch (loss and metrics so far).
    fn on_train_batch_end(&mut self, _batch: usize, _logs: &Logs, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After each epoch with its logs (loss, metrics, and the validation ones when there is validation data).
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
    /// After the last epoch, also when training stopped early.
    fn on_train_end(&mut self, _model: &mut Sequential) -> Result<()> {
        Ok(())
    }
}

/// Which way the monitored quantity should go (Keras's `mode="auto"|"min"|"max"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Max for names containing "acc" (`accuracy`, `val_accuracy`), min otherwise.
    #[default]
    Auto,
    /// Lower is better (losses).
    Min,
    /// Higher is better (accuracies).
    Max,
}

impl Mode {
    /// Whether larger values of `monitor` are better under this mode.
    pub fn maximizes(self, monitor: &str) -> bool {
        match self {
            Mode::Auto => monitor.contains("acc"),
            Mode::Min => false,
            Mode::Max => true,
        }
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Mode::Auto),
            "min" => Ok(Mode::Min),
            "max" => Ok(Mode::Max),
            other => Err(Error::value(format!("mode must be one of auto, min, max, received mode='{other}'"))),
        }
    }
}

/// Prints Keras's warning for a monitored key missing from the logs, to stderr.
fn warn_missing(what: &str, monitor: &str, logs: &Logs) {
    let available: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
    crate::errln!("WARNING: {what} `{monitor}` which is not available. Available metrics are: {}", available.join(","));
}

/// Checks, before training, that a file can be written at `path` (see
/// [`crate::fs::check_writable`]); `what` names the file in the message ("checkpoint", "CSV log").
pub(crate) fn check_writable(path: &Path, what: &str) -> Result<()> {
    crate::fs::check_writable(path, &format!("{what} path"))
}

/// `v` as Python's `repr(float)` writes it (what Keras's CSV files and paths hold): shortest
/// round-trip digits, `1.0` not `1`, exponent form below 1e-4 and from 1e16 (`1e-05`).
pub(crate) fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{v:e}"); // shortest digits: "4.3e-1", "1e-5", "-2.5e16"
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    if v == 0.0 || (-4..16).contains(&exp) {
        let s = v.to_string();
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// A tiny compiled model (Dense 3 → 2, MSE, SGD) and synthetic data for the callbacks' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::layers::Dense;
    use crate::model::{Compile, Sequential};
    use crate::Tensor;

    pub fn tiny_model() -> Sequential {
        let mut m = Sequential::new().seed(7);
        m.add(Dense::new(2).name("dense").input_shape(&[3]));
        m.build(&[3]).unwrap();
        m.compile(Compile::new("mse").optimizer("sgd")).unwrap();
        m
    }

    /// Every weight of `m` set to `v`: the model's state at a scripted epoch.
    pub fn fill_weights(m: &mut Sequential, v: f32) {
        let w: Vec<Tensor> = m
            .get_weights()
            .into_iter()
            .map(|t| Tensor::from_vec(t.shape(), vec![v; t.data().len()]).unwrap())
            .collect();
        m.set_weights(&w).unwrap();
    }

    pub fn logs(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// 16 samples of a linear map from 3 inputs to 2 outputs.
    pub fn data() -> (Tensor, Tensor) {
        let x: Vec<f32> = (0..48).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let y: Vec<f32> = x.chunks(3).flat_map(|r| [r[0] - r[1], 0.5 * r[2] + r[0]]).collect();
        (Tensor::from_vec(&[16, 3], x).unwrap(), Tensor::from_vec(&[16, 2], y).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_auto_maximizes_accuracy_only() {
        assert!(Mode::Auto.maximizes("val_accuracy"));
        assert!(!Mode::Auto.maximizes("val_loss"));
        assert!(Mode::Max.maximizes("loss"));
        assert_eq!("MAX".parse::<Mode>().unwrap(), Mode::Max);
        let err = "up".parse::<Mode>().unwrap_err().to_string();
        assert!(err.contains("received mode='up'"), "{err}");
    }

    #[test]
    fn check_writable_names_the_missing_directory() {
        let err = check_writable(Path::new("/nope/best.safetensors"), "checkpoint").unwrap_err();
        assert_eq!(err.to_string(), "checkpoint path /nope/best.safetensors: directory /nope does not exist");
        let dir = tempfile::tempdir().unwrap();
        check_writable(&dir.path().join("ok.csv"), "CSV log").unwrap();
        let err = check_writable(dir.path(), "CSV log").unwrap_err().to_string();
        assert!(err.ends_with("is a directory, expected a file path"), "{err}");
    }

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
            (0.8500000238418579, "0.8500000238418579"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (v, want) in cases {
            assert_eq!(py_float(v), want, "{v:e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn check_writable_rejects_a_read_only_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        // root writes through permission bits: then there is nothing to test.
        let writable = tempfile::tempfile_in(&ro).is_ok();
        let result = check_writable(&ro.join("best.safetensors"), "checkpoint");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        if !writable {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("is not writable"), "{err}");
        }
    }
}
