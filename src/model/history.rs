//! History: what `fit` returns, per-epoch values of every logged quantity (Keras's `history`).

use serde_json::{Map, Value};

/// Per-epoch logs in Keras's order: loss, accuracy, val_loss, val_accuracy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs logged (from 0; from the resumed epoch on with `initial_epoch`).
    pub epochs: Vec<usize>,
    series: Vec<(String, Vec<f64>)>,
}

impl History {
    /// Appends one epoch's logs.
    pub fn push(&mut self, epoch: usize, logs: &[(String, f64)]) {
        self.epochs.push(epoch);
        for (key, value) in logs {
            match self.series.iter_mut().find(|(k, _)| k == key) {
                Some((_, values)) => values.push(*value),
                None => self.series.push((key.clone(), vec![*value])),
            }
        }
    }

    /// The values of one key ("loss", "val_accuracy", ...).
    pub fn get(&self, key: &str) -> Option<&[f64]> {
        self.series.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
    }

    /// The logged keys in Keras's order ("loss", "accuracy", "val_loss", ...).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.series.iter().map(|(k, _)| k.as_str())
    }

    /// The training loss per epoch.
    pub fn loss(&self) -> &[f64] {
        self.get("loss").unwrap_or(&[])
    }

    /// `{"loss": [...], "accuracy": [...], ...}`
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self.series.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect();
        Value::Object(map)
    }

    /// Reads what [`History::to_json`] wrote; `null` (how JSON writes NaN) reads as NaN.
    pub fn from_json(value: &Value) -> Option<History> {
        let mut h = History::default();
        for (k, v) in value.as_object()? {
            let number = |x: &Value| if x.is_null() { Some(f64::NAN) } else { x.as_f64() };
            let values: Option<Vec<f64>> = v.as_array()?.iter().map(number).collect();
            h.series.push((k.clone(), values?));
        }
        let n = h.series.first().map_or(0, |(_, v)| v.len());
        h.epochs = (0..n).collect();
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keras_order_and_round_trips_json() {
        let mut h = History::default();
        h.push(0, &[("loss".into(), 0.6), ("accuracy".into(), 0.8)]);
        h.push(1, &[("loss".into(), 0.5), ("accuracy".into(), 0.85)]);
        assert_eq!(h.keys().collect::<Vec<_>>(), ["loss", "accuracy"]);
        assert_eq!(h.loss(), &[0.6, 0.5]);
        let json = h.to_json();
        assert_eq!(json.to_string(), r#"{"loss":[0.6,0.5],"accuracy":[0.8,0.85]}"#);
        assert_eq!(History::from_json(&json).unwrap(), h);
        // A NaN loss is written as null and read back as NaN.
        h.push(2, &[("loss".into(), f64::NAN), ("accuracy".into(), 0.1)]);
        let json = h.to_json();
        assert_eq!(json.to_string(), r#"{"loss":[0.6,0.5,null],"accuracy":[0.8,0.85,0.1]}"#);
        assert!(History::from_json(&json).unwrap().loss()[2].is_nan());
        assert_eq!(History::from_json(&serde_json::json!({"loss": [0.5, "x"]})), None);
    }
}
