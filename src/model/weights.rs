//! The model's weights: named access, Keras's get_weights/set_weights, and a hash for
//! reproducibility checks.

use sha2::{Digest, Sha256};

use super::Sequential;
use crate::error::{Error, Result};
use crate::layers::names::param_name;
use crate::tensor::{shape_str, Tensor};

impl Sequential {
    /// Every parameter value, named `layer.param` (`hidden.kernel`), in layer order.
    pub fn weights(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for layer in &self.layers {
            for p in layer.params() {
                out.push((param_name(layer.name(), p.name), &p.value));
            }
        }
        out
    }

    /// The weights holding NaN or infinite values, with how many: `("hidden.kernel", 3)`.
    pub fn non_finite_weights(&self) -> Vec<(String, usize)> {
        let count = |w: &Tensor| w.data().iter().filter(|v| !v.is_finite()).count();
        self.weights().into_iter().map(|(name, w)| (name, count(w))).filter(|&(_, n)| n > 0).collect()
    }

    /// SHA-256 of all weights as little-endian f32, in layer order: equal hashes, equal models.
    pub fn weights_sha256(&self) -> String {
        let mut h = Sha256::new();
        for (_, w) in self.weights() {
            for v in w.data() {
                h.update(v.to_le_bytes());
            }
        }
        hex::encode(h.finalize())
    }

    /// Copies of all weights in layer order (Keras's `get_weights`).
    pub fn get_weights(&self) -> Vec<Tensor> {
        self.weights().into_iter().map(|(_, w)| w.clone()).collect()
    }

    /// Replaces all weights, in layer order (Keras's `set_weights`); shapes must match exactly.
    pub fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        let names: Vec<(String, Vec<usize>)> =
            self.weights().into_iter().map(|(n, w)| (n, w.shape().to_vec())).collect();
        if names.len() != weights.len() {
            return Err(Error::shape(format!(
                "model '{}' has {} weight tensors, got {}",
                self.name,
                names.len(),
                weights.len()
            )));
        }
        for ((name, shape), w) in names.iter().zip(weights) {
            if w.shape() != shape.as_slice() {
                return Err(Error::shape(format!(
                    "weight '{name}' has shape {}, got {}",
                    shape_str(shape),
                    w.shape_str()
                )));
            }
        }
        let mut it = weights.iter();
        for layer in &mut self.layers {
            layer.visit_params(&mut |p| {
                p.value.data_mut().copy_from_slice(it.next().expect("counted").data());
            });
        }
        Ok(())
    }
}
