//! Metrics: Keras's "accuracy" resolved from the loss, as Keras resolves it.

use crate::error::{Error, Result};
use crate::losses::Loss;
use crate::tensor::{argmax, Tensor};

/// A metric given to `compile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Labels are class indices: argmax(prediction) == label.
    SparseCategoricalAccuracy,
    /// Targets are one-hot: argmax(prediction) == argmax(target).
    CategoricalAccuracy,
    /// Each output is a probability: (p > 0.5) == target, averaged over the outputs.
    BinaryAccuracy,
}

impl Metric {
    /// The metric as compile takes it: "accuracy" where that resolves to it, else its full name.
    pub fn compile_name(self, loss: crate::losses::Loss) -> &'static str {
        match self {
            m if Metric::resolve("accuracy", loss).ok() == Some(m) => "accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::BinaryAccuracy => "binary_accuracy",
        }
    }

    /// Resolves Keras's "accuracy"/"acc" from the loss; other names are errors listing the valid ones.
    pub fn resolve(name: &str, loss: Loss) -> Result<Metric> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "accuracy" | "acc" => match loss {
                Loss::SparseCategoricalCrossentropy => Metric::SparseCategoricalAccuracy,
                Loss::CategoricalCrossentropy => Metric::CategoricalAccuracy,
                Loss::BinaryCrossentropy | Loss::MeanSquaredError => Metric::BinaryAccuracy,
            },
            "sparse_categorical_accuracy" => Metric::SparseCategoricalAccuracy,
            "categorical_accuracy" => Metric::CategoricalAccuracy,
            "binary_accuracy" => Metric::BinaryAccuracy,
            other => {
                return Err(Error::value(format!(
                    "unknown metric '{other}'; valid metrics: accuracy, sparse_categorical_accuracy, \
                     categorical_accuracy, binary_accuracy"
                )))
            }
        })
    }

    /// The name shown in logs and history: Keras shows the name the user gave ("accuracy").
    pub fn name(self) -> &'static str {
        "accuracy"
    }

    /// Sum over the batch of per-sample scores (1 correct, 0 wrong; binary: fraction correct).
    pub fn sum(self, y_pred: &Tensor, y_true: &Tensor) -> f64 {
        let w = y_pred.row_len().max(1);
        let rows = y_pred.data().chunks_exact(w);
        match self {
            Metric::SparseCategoricalAccuracy => {
                rows.zip(y_true.data()).filter(|(p, &t)| argmax(p) as f32 == t).count() as f64
            }
            Metric::CategoricalAccuracy => {
                rows.zip(y_true.data().chunks_exact(w)).filter(|(p, t)| argmax(p) == argmax(t)).count() as f64
            }
            Metric::BinaryAccuracy => {
                let hits =
                    y_pred.data().iter().zip(y_true.data()).filter(|(&p, &t)| ((p > 0.5) as u8 as f32) == t).count();
                hits as f64 / w as f64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_resolves_from_the_loss_and_counts_hits() {
        let sparse = Metric::resolve("accuracy", Loss::SparseCategoricalCrossentropy).unwrap();
        assert_eq!(sparse, Metric::SparseCategoricalAccuracy);
        let p = Tensor::from_vec(&[3, 2], vec![0.9, 0.1, 0.2, 0.8, 0.6, 0.4]).unwrap();
        let y = Tensor::from_vec(&[3], vec![0.0, 1.0, 1.0]).unwrap();
        assert_eq!(sparse.sum(&p, &y), 2.0);
        let onehot = Tensor::from_vec(&[3, 2], vec![1., 0., 0., 1., 0., 1.]).unwrap();
        assert_eq!(Metric::resolve("acc", Loss::CategoricalCrossentropy).unwrap().sum(&p, &onehot), 2.0);
        let binary = Metric::resolve("accuracy", Loss::BinaryCrossentropy).unwrap();
        let yb = Tensor::from_vec(&[3, 2], vec![1., 0., 0., 0., 1., 1.]).unwrap();
        assert_eq!(binary.sum(&p, &yb), 2.0); // per-sample fractions 1 + 0.5 + 0.5
        assert!(Metric::resolve("f1", Loss::MeanSquaredError).is_err());
    }
}
