//! AdamW (Keras's rule): decoupled weight decay w −= w·weight_decay·lr, then Adam's update.

use serde::{Deserialize, Serialize};

use super::{read_config, Adam, Optimizer, OptimizerKind};

/// Keras's `AdamW` optimizer; its fields are its config, a missing key taking [`Default`]'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamW {
    /// Adam's hyperparameters, flat in the config.
    #[serde(flatten)]
    pub adam: Adam,
    /// The decoupled weight decay, per unit of learning rate.
    pub weight_decay: f32,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { adam: Adam::default(), weight_decay: 0.004 }
    }
}

impl AdamW {
    /// AdamW in the optimizer table: its name and its config reader.
    pub const KIND: OptimizerKind = OptimizerKind { name: "adamw", from_config: read_config::<AdamW> };
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        Self::KIND.name
    }
    fn learning_rate(&self) -> f32 {
        self.adam.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.adam.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a config serializes")
    }
    fn slot_names(&self) -> &'static [&'static str] {
        self.adam.slot_names()
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], step: u64) {
        let decay = self.weight_decay * self.adam.learning_rate;
        w.iter_mut().for_each(|w| *w -= *w * decay);
        self.adam.update(w, g, state, step);
    }

    fn update_sparse(&self, w: &mut [f32], g: &[f32], sq: &[f32], state: &mut [&mut [f32]], step: u64) {
        let decay = self.weight_decay * self.adam.learning_rate;
        w.iter_mut().for_each(|w| *w -= *w * decay);
        self.adam.rule::<true>(w, g, sq, state, step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_then_steps_like_adam() {
        // Keras: w -= w·weight_decay·lr, then Adam. One step from w = 1, g = 0.5 with defaults:
        // decay to 1 - 0.004·0.001; Adam's first step moves by ~lr (m/sqrt(v) = 1 at t = 1).
        let opt = AdamW::default();
        let (mut w, g) = (vec![1.0f32, -2.0], vec![0.5f32, 0.0]);
        let (mut m, mut v) = ([0.0f32; 2], [0.0f32; 2]);
        opt.update(&mut w, &g, &mut [&mut m[..], &mut v[..]], 1);
        let decayed = 1.0 - 0.004 * 0.001;
        let alpha = 0.001 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9);
        let step = alpha * 0.05 / ((0.00025f64).sqrt() + 1e-7);
        assert!((w[0] as f64 - (decayed - step)).abs() < 1e-7, "{}", w[0]);
        // No gradient: only the decay.
        assert!((w[1] as f64 - (-2.0 * decayed)).abs() < 1e-7, "{}", w[1]);
    }
}
