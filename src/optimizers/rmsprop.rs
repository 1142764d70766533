//! RMSprop (Keras's rule, not centered): v = rho·v + (1 − rho)·g²;
//! inc = lr·g / sqrt(v + epsilon); with momentum m = momentum·m + inc, w −= m; else w −= inc.

use serde::{Deserialize, Serialize};

use super::{flush, read_config, Optimizer, OptimizerKind};

/// Keras's `RMSprop` optimizer; its fields are its config, a missing key taking [`Default`]'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RMSprop {
    /// The step size.
    pub learning_rate: f32,
    /// The decay of the moving average of squared gradients.
    pub rho: f32,
    /// The fraction of the previous update kept (0: none).
    pub momentum: f32,
    /// Added to the denominator for stability.
    pub epsilon: f32,
}

impl Default for RMSprop {
    fn default() -> Self {
        RMSprop { learning_rate: 0.001, rho: 0.9, momentum: 0.0, epsilon: 1e-7 }
    }
}

impl RMSprop {
    /// RMSprop in the optimizer table: its name and its config reader.
    pub const KIND: OptimizerKind = OptimizerKind { name: "rmsprop", from_config: read_config::<RMSprop> };
}

impl Optimizer for RMSprop {
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
        if self.momentum > 0.0 {
            &["velocity", "momentum"]
        } else {
            &["velocity"]
        }
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], _step: u64) {
        self.rule::<false>(w, g, &[], state)
    }

    fn update_sparse(&self, w: &mut [f32], g: &[f32], sq: &[f32], state: &mut [&mut [f32]], _step: u64) {
        self.rule::<true>(w, g, sq, state)
    }
}

impl RMSprop {
    /// The rule, with g² per value from `sq` when `SPARSE` (see [`Optimizer::update_sparse`]).
    fn rule<const SPARSE: bool>(&self, w: &mut [f32], g: &[f32], sq: &[f32], state: &mut [&mut [f32]]) {
        let (lr, rho, eps, mu) = (self.learning_rate, self.rho, self.epsilon, self.momentum);
        // Compiled twice: the dense rule never reads `sq`.
        let g2 = |i: usize, g: f32| if SPARSE { sq[i] } else { g * g };
        match state {
            [v, m] => {
                for (i, (((w, &g), v), m)) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(m.iter_mut()).enumerate() {
                    *v = flush(rho * *v + (1.0 - rho) * g2(i, g));
                    *m = flush(mu * *m + lr * g / (*v + eps).sqrt());
                    *w -= *m;
                }
            }
            [v] => {
                for (i, ((w, &g), v)) in w.iter_mut().zip(g).zip(v.iter_mut()).enumerate() {
                    *v = flush(rho * *v + (1.0 - rho) * g2(i, g));
                    *w -= lr * g / (*v + eps).sqrt();
                }
            }
            _ => unreachable!("RMSprop keeps one or two state vectors"),
        }
    }
}
