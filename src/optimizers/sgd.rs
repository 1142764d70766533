//! SGD, with optional momentum and Nesterov momentum (Keras's rule):
//! m = momentum·m − lr·g; w += m, or w += momentum·m − lr·g with Nesterov.

use serde_json::json;

use super::{flush, Optimizer};

#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    pub learning_rate: f32,
    pub momentum: f32,
    pub nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false }
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        json!({"learning_rate": self.learning_rate, "momentum": self.momentum, "nesterov": self.nesterov})
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
