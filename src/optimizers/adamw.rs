//! AdamW (Keras's rule): decoupled weight decay w −= w·weight_decay·lr, then Adam's update.

use serde_json::json;

use super::{Adam, Optimizer};

#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    pub adam: Adam,
    pub weight_decay: f32,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { adam: Adam::default(), weight_decay: 0.004 }
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "adamw"
    }
    fn learning_rate(&self) -> f32 {
        self.adam.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.adam.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        let mut c = self.adam.config();
        c["weight_decay"] = json!(self.weight_decay);
        c
    }
    fn slot_names(&self) -> &'static [&'static str] {
        self.adam.slot_names()
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [Vec<f32>], step: u64) {
        let decay = self.weight_decay * self.adam.learning_rate;
        w.iter_mut().for_each(|w| *w -= *w * decay);
        self.adam.update(w, g, state, step);
    }
}
