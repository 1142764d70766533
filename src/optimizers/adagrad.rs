//! Adagrad (Keras's rule): acc += g²; w −= lr·g / sqrt(acc + epsilon); acc starts at 0.1.

use serde_json::json;

use super::Optimizer;

#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    pub learning_rate: f32,
    pub initial_accumulator_value: f32,
    pub epsilon: f32,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad { learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 }
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "adagrad"
    }
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        json!({"learning_rate": self.learning_rate,
               "initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
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
}
