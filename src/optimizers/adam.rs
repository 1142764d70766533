//! Adam (Keras's rule): alpha = lr·sqrt(1 − β2^t) / (1 − β1^t); m += (g − m)(1 − β1);
//! v += (g² − v)(1 − β2); w −= alpha·m / (sqrt(v) + epsilon).

use serde::{Deserialize, Serialize};

use super::{flush, read_config, Optimizer, OptimizerKind};

/// Keras's `Adam` optimizer; its fields are its config, a missing key taking [`Default`]'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adam {
    /// The step size.
    pub learning_rate: f32,
    /// The decay of the first moment.
    pub beta_1: f32,
    /// The decay of the second moment.
    pub beta_2: f32,
    /// Added to the denominator for stability.
    pub epsilon: f32,
}

impl Default for Adam {
    fn default() -> Self {
        Adam { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 }
    }
}

impl Adam {
    /// Adam in the optimizer table: its name and its config reader.
    pub const KIND: OptimizerKind = OptimizerKind { name: "adam", from_config: read_config::<Adam> };
}

impl Optimizer for Adam {
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
        &["m", "v"]
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], step: u64) {
        self.rule::<false>(w, g, &[], state, step)
    }

    fn update_sparse(&self, w: &mut [f32], g: &[f32], sq: &[f32], state: &mut [&mut [f32]], step: u64) {
        self.rule::<true>(w, g, sq, state, step)
    }
}

impl Adam {
    /// The rule, with g² per value from `sq` when `SPARSE` (see [`Optimizer::update_sparse`]).
    pub(crate) fn rule<const SPARSE: bool>(
        &self,
        w: &mut [f32],
        g: &[f32],
        sq: &[f32],
        state: &mut [&mut [f32]],
        step: u64,
    ) {
        let [m, v] = state else { unreachable!("Adam keeps two state vectors") };
        // Compiled twice: the dense rule never reads `sq`.
        let g2 = |i: usize, g: f32| if SPARSE { sq[i] } else { g * g };
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let t = step as f32;
        let alpha = self.learning_rate * (1.0 - b2.powf(t)).sqrt() / (1.0 - b1.powf(t));
        for (i, (((w, &g), m), v)) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()).enumerate() {
            *m = flush(*m + (g - *m) * (1.0 - b1));
            *v = flush(*v + (g2(i, g) - *v) * (1.0 - b2));
            *w -= alpha * *m / (v.sqrt() + eps);
        }
    }
}
