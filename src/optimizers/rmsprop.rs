//! RMSprop (Keras's rule, not centered): v = rho·v + (1 − rho)·g²;
//! inc = lr·g / sqrt(v + epsilon); with momentum m = momentum·m + inc, w −= m; else w −= inc.

use serde_json::json;

use super::{flush, Optimizer};

#[derive(Clone, Debug, PartialEq)]
pub struct RMSprop {
    pub learning_rate: f32,
    pub rho: f32,
    pub momentum: f32,
    pub epsilon: f32,
}

impl Default for RMSprop {
    fn default() -> Self {
        RMSprop { learning_rate: 0.001, rho: 0.9, momentum: 0.0, epsilon: 1e-7 }
    }
}

impl Optimizer for RMSprop {
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
    fn config(&self) -> serde_json::Value {
        json!({"learning_rate": self.learning_rate, "rho": self.rho, "momentum": self.momentum,
               "epsilon": self.epsilon})
    }
    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum > 0.0 {
            &["velocity", "momentum"]
        } else {
            &["velocity"]
        }
    }

    fn update(&self, w: &mut [f32], g: &[f32], state: &mut [&mut [f32]], _step: u64) {
        let (lr, rho, eps, mu) = (self.learning_rate, self.rho, self.epsilon, self.momentum);
        match state {
            [v, m] => {
                for (((w, &g), v), m) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(m.iter_mut()) {
                    *v = flush(rho * *v + (1.0 - rho) * g * g);
                    *m = flush(mu * *m + lr * g / (*v + eps).sqrt());
                    *w -= *m;
                }
            }
            [v] => {
                for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                    *v = flush(rho * *v + (1.0 - rho) * g * g);
                    *w -= lr * g / (*v + eps).sqrt();
                }
            }
            _ => unreachable!("RMSprop keeps one or two state vectors"),
        }
    }
}
