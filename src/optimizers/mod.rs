//! Optimizers with Keras's defaults and Keras's exact update rules.
//!
//! An [`Optimizer`] is its configuration and its update rule, one plain loop over `&mut [f32]`;
//! the per-parameter state (momenta, accumulators) lives in [`OptimizerState`], created on the
//! first step (as Keras's `build`) and saved with the model.

mod adagrad;
mod adam;
mod adamw;
mod config;
mod rmsprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use config::{from_config, from_name, names, read_config, OptimizerKind, OPTIMIZERS};
pub use rmsprop::RMSprop;
pub use sgd::Sgd;

use crate::layers::Param;
use crate::tensor::ops;

/// Flushes a subnormal value to zero, as TensorFlow's CPU kernels do (they run with the
/// flush-to-zero and denormals-are-zero modes on). A decaying state — RMSprop's average of g²,
/// Adam's moments — of a weight that never gets a gradient (the always-black border pixels of
/// Fashion-MNIST) shrinks into the subnormal range within a thousand steps, where every
/// arithmetic operation on it costs ~100 cycles; flushed, the update runs at full speed and
/// matches Keras's arithmetic. Branch-free, so the loops still vectorise.
#[inline(always)]
pub(crate) fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// An optimizer's update rule.
pub trait Optimizer: Send + Sync {
    /// Keras's name: "sgd", "rmsprop", "adam", "adagrad", "adamw" (its [`OptimizerKind::name`]).
    fn name(&self) -> &'static str;
    /// The current learning rate.
    fn learning_rate(&self) -> f32;
    /// Sets the learning rate (ReduceLROnPlateau).
    fn set_learning_rate(&mut self, learning_rate: f32);
    /// The hyperparameters as Keras's optimizer config (JSON): the struct serialized.
    fn config(&self) -> serde_json::Value;
    /// Names of the state vectors kept per parameter ("momentum"; "m", "v").
    fn slot_names(&self) -> &'static [&'static str];
    /// The value state vectors start from (Adagrad's initial accumulator).
    fn slot_init(&self) -> f32 {
        0.0
    }
    /// Updates `value` from `grad`; `state` holds one vector per slot name; `step` counts from 1.
    /// Each value's update must depend on that value alone: large parameters are updated in
    /// parts, on two threads.
    fn update(&self, value: &mut [f32], grad: &[f32], state: &mut [&mut [f32]], step: u64);
    /// [`Optimizer::update`] for a lookup table (an Embedding's, Keras's `IndexedSlices`
    /// gradient): `sq` holds per value the sum over its row's uses of each use's gradient
    /// squared, which Keras's rules use where the dense rule squares `grad`. By default the
    /// dense rule (right for rules that do not square the gradient: SGD).
    fn update_sparse(&self, value: &mut [f32], grad: &[f32], sq: &[f32], state: &mut [&mut [f32]], step: u64) {
        let _ = sq;
        self.update(value, grad, state, step);
    }
}

/// The optimizer's per-parameter state and its step counter (Keras's `iterations`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    /// Steps taken (Keras's `optimizer.iterations`).
    pub iterations: u64,
    /// `slots[p][s]`: state vector `s` of trainable parameter `p`, in the model's parameter order.
    pub slots: Vec<Vec<Vec<f32>>>,
}

impl OptimizerState {
    /// Applies one step of `opt` to `params` (trainable ones, in a stable order).
    pub fn begin_step(&mut self) {
        self.iterations += 1;
    }

    /// Updates the `index`-th trainable parameter; allocates its state the first time only.
    pub fn apply(&mut self, opt: &dyn Optimizer, index: usize, param: &mut Param) {
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, Vec::new);
        }
        let state = &mut self.slots[index];
        if state.is_empty() {
            let n = param.value.len();
            *state = opt.slot_names().iter().map(|_| vec![opt.slot_init(); n]).collect();
        }
        let k = state.len();
        assert!(k <= MAX_SLOTS, "{} keeps {k} state vectors; at most {MAX_SLOTS} are supported", opt.name());
        let mut slots: [&mut [f32]; MAX_SLOTS] = Default::default();
        for (slot, v) in slots.iter_mut().zip(state.iter_mut()) {
            *slot = &mut v[..];
        }
        let step = self.iterations;
        match param.value_grad_sq() {
            // An embedding table: Keras squares each use's gradient before summing (whole, unsplit).
            (value, grad, Some(sq)) => opt.update_sparse(value, grad, sq, &mut slots[..k], step),
            (value, grad, None) => {
                ops::elementwise_update(value, grad, &mut slots[..k], &|v, g, s| opt.update(v, g, s, step))
            }
        }
    }
}

/// The most state vectors an optimizer keeps per parameter (Adam: 2).
const MAX_SLOTS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    /// A parameter large enough to be updated in two halves on two threads ends with the same
    /// bits, and the same state, as one updated in one piece.
    #[test]
    fn large_parameters_update_in_halves_with_the_same_bits() {
        let n = (1 << 16) + 7; // past the backend's split into halves
        let value: Vec<f32> = (0..n).map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5).collect();
        let grad: Vec<f32> = (0..n).map(|i| ((i * 53) % 97) as f32 / 97.0 - 0.4).collect();
        for name in names() {
            let opt = from_name(name).unwrap();
            let mut param = Param::new("kernel", Tensor::from_vec(&[n], value.clone()).unwrap());
            param.grad_accumulator().0.copy_from_slice(&grad);
            let mut state = OptimizerState::default();
            crate::tensor::cpu::on_threads(2, || {
                for _ in 0..3 {
                    state.begin_step();
                    state.apply(opt.as_ref(), 0, &mut param);
                }
            });
            // The same three steps in one piece.
            let mut w = value.clone();
            let mut slots: Vec<Vec<f32>> = opt.slot_names().iter().map(|_| vec![opt.slot_init(); n]).collect();
            for step in 1..=3 {
                let mut views: Vec<&mut [f32]> = slots.iter_mut().map(|v| &mut v[..]).collect();
                opt.update(&mut w, &grad, &mut views, step);
            }
            assert!(param.value.data() == &w[..], "{name}: weights differ");
            assert_eq!(state.slots[0], slots, "{name}: state differs");
        }
    }

    #[test]
    fn flush_zeroes_subnormals_only() {
        assert_eq!(flush(1e-39), 0.0);
        assert_eq!(flush(-1e-40), 0.0);
        assert_eq!(flush(f32::MIN_POSITIVE), f32::MIN_POSITIVE);
        assert_eq!(flush(-0.5), -0.5);
        // A state decaying with no gradient ends at exactly zero instead of lingering subnormal.
        let mut v = 1e-3f32;
        for _ in 0..2000 {
            v = flush(0.9 * v);
        }
        assert_eq!(v, 0.0);
    }
}
