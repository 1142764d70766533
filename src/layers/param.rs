//! A parameter: its value and the gradient that backward writes.

use crate::tensor::Tensor;

/// A layer's weight tensor with its gradient. Non-trainable parameters (batch norm's moving
/// statistics) are saved and loaded but never updated by an optimizer.
#[derive(Clone, Debug)]
pub struct Param {
    /// The name inside the layer: "kernel", "bias", "moving_mean".
    pub name: &'static str,
    pub value: Tensor,
    pub grad: Tensor,
    pub trainable: bool,
}

impl Param {
    pub fn new(name: &'static str, value: Tensor) -> Param {
        let grad = Tensor::zeros(value.shape());
        Param { name, value, grad, trainable: true }
    }

    pub fn non_trainable(name: &'static str, value: Tensor) -> Param {
        Param { name, grad: Tensor::default(), value, trainable: false }
    }

    pub fn zero_grad(&mut self) {
        self.grad.data_mut().fill(0.0);
    }
}
