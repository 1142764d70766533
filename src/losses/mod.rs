//! Losses with Keras's semantics: probabilities normalised and clipped to [1e-7, 1 - 1e-7],
//! per-sample losses averaged over the batch. After a softmax (sigmoid) output layer the
//! crossentropies fuse with it: the loss is computed from the logits, stably, and the gradient
//! with respect to the logits is simply `(p - y) / B` (Keras does the same in `fit`).

mod crossentropy;
mod mse;

use crate::error::{Error, Result};
use crate::layers::Activation;
use crate::tensor::ops::{self, Targets};
use crate::tensor::Tensor;

/// Keras's fuzz factor `epsilon()`.
pub const EPSILON: f32 = 1e-7;

/// The losses kiln knows, parsed from Keras's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Class indices against class probabilities.
    SparseCategoricalCrossentropy,
    /// One-hot rows against class probabilities.
    CategoricalCrossentropy,
    /// 0/1 targets against one probability each.
    BinaryCrossentropy,
    /// The mean of squared differences.
    MeanSquaredError,
}

impl Loss {
    /// Keras's names of the losses, in the order above.
    pub const NAMES: [&'static str; 4] =
        ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mean_squared_error"];

    /// Parses Keras's name (or its alias "mse"); the error lists the valid names.
    pub fn parse(name: &str) -> Result<Loss> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "sparse_categorical_crossentropy" => Loss::SparseCategoricalCrossentropy,
            "categorical_crossentropy" => Loss::CategoricalCrossentropy,
            "binary_crossentropy" => Loss::BinaryCrossentropy,
            "mean_squared_error" | "mse" => Loss::MeanSquaredError,
            other => {
                return Err(Error::value(format!("unknown loss '{other}'; valid losses: {}", Self::NAMES.join(", "))))
            }
        })
    }

    /// Keras's name: "sparse_categorical_crossentropy", ...
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The output activation this loss fuses with, if any.
    pub fn fuses_with(self, act: Activation) -> bool {
        matches!(
            (self, act),
            (Loss::SparseCategoricalCrossentropy | Loss::CategoricalCrossentropy, Activation::Softmax)
                | (Loss::BinaryCrossentropy, Activation::Sigmoid)
        )
    }

    /// Checks targets `y` against a model output of `width` values per sample: row counts,
    /// shapes, label range. Errors name both sides.
    pub fn check_targets(self, y: &Tensor, width: usize) -> Result<()> {
        let n = y.rows();
        match self {
            Loss::SparseCategoricalCrossentropy => {
                if y.row_len() != 1 {
                    return Err(Error::shape(format!(
                        "{} expects one integer label per sample, got targets of shape {}",
                        self.name(),
                        y.shape_str()
                    )));
                }
                if let Some((i, &v)) =
                    y.data().iter().enumerate().find(|(_, &v)| !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < width))
                {
                    return Err(Error::value(format!(
                        "label {v} at index {i} is not a class index of the model's {width} outputs \
                         (expected an integer in 0..{width})"
                    )));
                }
            }
            _ => {
                if y.row_len() != width {
                    return Err(Error::shape(format!(
                        "{} needs targets of {width} values per sample to match the model's \
                         output (None, {width}); got targets of shape {} for {n} samples",
                        self.name(),
                        y.shape_str()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Sum over the batch of the per-sample losses of `y_pred` (B, width) against `y_true`;
    /// with `grad`, also writes d(mean loss)/d(y_pred) — or d/d(logits) when `logits` is given
    /// (fused) — into it. `logits` are the pre-activation values of the fused output layer.
    pub fn compute(self, y_pred: &Tensor, logits: Option<&Tensor>, y_true: &Tensor, grad: Option<&mut Tensor>) -> f64 {
        let width = y_pred.row_len();
        if let Some(g) = grad.as_deref() {
            debug_assert_eq!(g.shape(), y_pred.shape());
        }
        let grad = grad.map(|g| g.data_mut());
        let (p, y) = (y_pred.data(), y_true.data());
        match (self, logits) {
            (Loss::SparseCategoricalCrossentropy, Some(z)) => {
                ops::softmax_crossentropy(z.data(), p, Targets::Indices(y), width, grad)
            }
            (Loss::CategoricalCrossentropy, Some(z)) => {
                ops::softmax_crossentropy(z.data(), p, Targets::Probabilities(y), width, grad)
            }
            (Loss::BinaryCrossentropy, Some(z)) => ops::sigmoid_crossentropy(z.data(), p, y, width, grad),
            (Loss::SparseCategoricalCrossentropy, None) => crossentropy::categorical(p, y, width, true, grad),
            (Loss::CategoricalCrossentropy, None) => crossentropy::categorical(p, y, width, false, grad),
            (Loss::BinaryCrossentropy, None) => crossentropy::binary(p, y, width, grad),
            (Loss::MeanSquaredError, _) => mse::mean_squared_error(p, y, width, grad),
        }
    }
}

#[cfg(test)]
mod tests;
