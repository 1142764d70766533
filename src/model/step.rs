//! One training step: forward → loss → zero_grad → backward → update, on the batch in the
//! model's buffers, following the fusion plan `compile` settled. Allocates nothing once the
//! buffers have seen a batch this size.

use super::Sequential;
use crate::layers::{Backward, Ctx, Fold};
use crate::tensor::cpu;

impl Sequential {
    /// Forward pass of the batch in `self.batch_x` through every layer.
    pub(crate) fn forward_batch(&mut self, training: bool) {
        // The backend's buffers, grown to what the last step needed, before any product runs.
        cpu::between_steps();
        let plan = self.compiled.as_ref().map(|c| &c.plan);
        for i in 0..self.layers.len() {
            let (done, rest) = self.layers.split_at_mut(i);
            let x = done.last().map_or(&self.batch_x, |l| l.output());
            let fold = plan.map_or(Fold::None, |p| p.fold(done, rest[0].as_ref(), x, training));
            rest[0].forward(x, &mut Ctx { training, rng: &mut self.dropout_rng, fold });
        }
    }

    /// The loss of the last forward pass over `batch_y` (summed over the batch), from the logits
    /// when the plan fuses the loss with the output activation; with `grad`, also dL/d(output)
    /// (dL/d(logits) when fused) into the model's loss gradient.
    pub(crate) fn batch_loss(&mut self, grad: bool) -> f64 {
        let c = self.compiled.as_ref().expect("fit checks compile");
        let last = self.layers.last().expect("built");
        let out = last.output();
        let logits = if c.plan.loss_takes_activation { last.fusion().logits } else { None };
        if grad {
            self.loss_grad.ensure_shape(out.rows(), &out.shape()[1..]);
        }
        c.loss.compute(out, logits, &self.batch_y, grad.then_some(&mut self.loss_grad))
    }

    /// One training step on the batch in `batch_x`/`batch_y`; returns (sum of losses, metric sum).
    pub(crate) fn train_batch(&mut self) -> (f64, f64) {
        self.forward_batch(true);
        let loss = self.batch_loss(true);
        let c = self.compiled.as_mut().expect("fit checks compile");
        let metric = c.metric.map_or(0.0, |m| m.sum(self.layers.last().expect("built").output(), &self.batch_y));
        for layer in &mut self.layers {
            layer.visit_params(&mut |p| p.zero_grad()); // lazily: the first backward writes
        }
        for i in (0..self.layers.len()).rev() {
            let (before, rest) = self.layers.split_at_mut(i);
            let (cur, after) = rest.split_at_mut(1);
            let x = before.last().map_or(&self.batch_x, |l| l.output());
            let dout = after.first().map_or(&self.loss_grad, |l| l.dinput());
            // Below the first layer with parameters nobody needs dL/dx: skip computing it.
            let planned = c.plan.backward.get(i).copied().unwrap_or_default();
            cur[0].backward(x, dout, Backward { need_dinput: i > self.first_with_params, ..planned });
            if i <= self.first_with_params {
                break;
            }
        }
        c.state.begin_step();
        let mut index = 0;
        for layer in &mut self.layers {
            layer.visit_params(&mut |p| {
                if p.trainable {
                    c.state.apply(c.optimizer.as_ref(), index, p);
                    index += 1;
                }
            });
        }
        (loss, metric)
    }
}
