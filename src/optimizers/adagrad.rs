//! Adagrad (Keras's rule): acc += g²; w −= lr·g / sqrt(acc + epsilon); acc starts at 0.1.

use serde::{Deserialize, Serialize};

use super::{read_config, Optimizer, OptimizerKind};

/// Keras's `Adagrad` optimizer; its fields are its config, a missing key taking [`Default`]'s value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adagrad {
    /// The step size.
    pub learning_rate: f32,
    /// The value the accumulators start from.
    pub initial_accumulator_value: f32,
    /// Added to the denominator for stability.
    pub epsilon: f32,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad { learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 }
    }
}

impl Adagrad {
    /// Adagrad in the optimizer table: its name and its config reader.
    pub const KIND: OptimizerKind = OptimizerKind { name: "adagrad", from_config: read_config::<Adagrad> };
}

impl Optimizer for Adagrad {
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
        &["accumulator"]
    }
    fn slot_init(&self) -> f32 {
        self.initial_accumulator_value
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], _step: u64) {
        let [acc] = state else { unreachable!("Adagrad keeps one state vector") };
        let lr = self.learning_rate;
        for ((w, &g), a) in w.iter_mut().zip(g).zip(acc.iter_mut()) {
            *a += g * g;
            *w -= lr * g / (*a + self.epsilon).sqrt();
        }
    }

    fn update_sparse(&self, w: &mut [f32], g: &[f32], sq: &[f32], state: &mut [&mut [f32]], _step: u64) {
        let [acc] = state else { unreachable!("Adagrad keeps one state vector") };
        let lr = self.learning_rate;
        for (((w, &g), a), &s) in w.iter_mut().zip(g).zip(acc.iter_mut()).zip(sq) {
            *a += s;
            *w -= lr * g / (*a + self.epsilon).sqrt();
        }
    }
}
