//! SGD, with optional momentum and Nesterov momentum (Keras's rule):
//! m = momentum·m − lr·g; w += m, or w += momentum·m − lr·g with Nesterov.

use serde::{Deserialize, Serialize};

use super::{flush, read_config, Optimizer, OptimizerKind};

/// Keras's `SGD` optimizer; its fields are its config, a missing key taking [`Default`]'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sgd {
    /// The step size.
    pub learning_rate: f32,
    /// The fraction of the previous update kept (0: none).
    pub momentum: f32,
    /// Whether to use Nesterov momentum.
    pub nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false }
    }
}

impl Sgd {
    /// Sgd in the optimizer table: its name and its config reader.
    pub const KIND: OptimizerKind = OptimizerKind { name: "sgd", from_config: read_config::<Sgd> };
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        Self::KIND.name
    }
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a config serializes")
    }
    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum"]
        } else {
            &[]
        }
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], _step: u64) {
        let (lr, mu) = (self.learning_rate, self.momentum);
        match state {
            [m] => {
                for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                    *m = flush(mu * *m - lr * g);
                    *w += if self.nesterov { mu * *m - lr * g } else { *m };
                }
            }
            _ => w.iter_mut().zip(g).for_each(|(w, &g)| *w -= lr * g),
        }
    }
}
