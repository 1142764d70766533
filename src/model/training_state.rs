//! The state a resumed `fit` needs beyond weights and optimizer: the epochs trained and where
//! the shuffle and dropout streams stand. Saved with the model as the `training` metadata.

use serde_json::{json, Value};

use super::Sequential;
use crate::error::{Error, Result};

impl Sequential {
    /// `{"epochs": 2, "shuffle_rng": "1234", "dropout_rng": "0"}`: stream positions (128-bit
    /// word counts) as decimal strings, which JSON numbers cannot hold exactly.
    pub(crate) fn training_state(&self) -> Value {
        json!({
            "epochs": self.epochs_trained,
            "shuffle_rng": self.shuffle_rng.get_word_pos().to_string(),
            "dropout_rng": self.dropout_rng.get_word_pos().to_string(),
        })
    }

    /// Restores what [`Sequential::training_state`] wrote (after the seed is set); `what` names
    /// the file in errors.
    pub(crate) fn restore_training_state(&mut self, what: &str, text: &str) -> Result<()> {
        let bad = |why: &str| Error::value(format!("{what}: malformed 'training' metadata ({why}): '{text}'"));
        let state: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let epochs = state.get("epochs").and_then(Value::as_u64).ok_or_else(|| bad("epochs"))?;
        let position = |key: &str| {
            state.get(key).and_then(Value::as_str).and_then(|s| s.parse::<u128>().ok()).ok_or_else(|| bad(key))
        };
        let (shuffle, dropout) = (position("shuffle_rng")?, position("dropout_rng")?);
        self.epochs_trained = usize::try_from(epochs).map_err(|_| bad("epochs"))?;
        self.shuffle_rng.set_word_pos(shuffle);
        self.dropout_rng.set_word_pos(dropout);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::{Dense, Dropout};
    use crate::model::{Compile, FitOptions, Sequential};
    use crate::Tensor;

    fn model() -> Sequential {
        let mut m = Sequential::new().seed(3);
        m.add(Dense::new(8).input_shape(&[4]));
        m.add(Dropout::new(0.5));
        m.add(Dense::new(2));
        m.compile(Compile::new("mse").optimizer("adam")).unwrap();
        m
    }

    #[test]
    fn a_resumed_fit_matches_one_that_never_stopped() {
        let x = Tensor::from_vec(&[20, 4], (0..80).map(|i| (i % 7) as f32 / 7.0).collect()).unwrap();
        let y = Tensor::from_vec(&[20, 2], (0..40).map(|i| (i % 3) as f32).collect()).unwrap();
        let opts = |initial_epoch, epochs| FitOptions {
            epochs,
            initial_epoch,
            batch_size: 4,
            verbose: 0,
            ..Default::default()
        };
        let mut straight = model();
        straight.fit(&x, &y, opts(0, 4)).unwrap();
        let mut first = model();
        first.fit(&x, &y, opts(0, 2)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        first.save(&path).unwrap();
        let mut resumed = crate::io::load_model(&path).unwrap();
        assert_eq!(resumed.epochs_trained(), 2);
        let history = resumed.fit(&x, &y, opts(resumed.epochs_trained(), 4)).unwrap();
        assert_eq!(history.epochs, [2, 3]);
        assert_eq!(resumed.epochs_trained(), 4);
        assert_eq!(resumed.weights_sha256(), straight.weights_sha256());
        let err = resumed.restore_training_state("m", r#"{"epochs": 1}"#).unwrap_err().to_string();
        assert_eq!(err, r#"m: malformed 'training' metadata (shuffle_rng): '{"epochs": 1}'"#);
    }
}
