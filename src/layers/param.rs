//! A parameter: its value and the gradient that backward accumulates into.

use crate::tensor::Tensor;

/// A layer's weight tensor with its gradient. Non-trainable parameters (batch norm's moving
/// statistics) are saved and loaded but never updated by an optimizer.
///
/// Gradients accumulate: every backward that uses the parameter adds its part, so a parameter
/// used twice gets both. [`Param::zero_grad`] zeroes the gradient lazily: it only marks it, and
/// the next accumulation writes instead of adding (a product with beta = 0), which saves a
/// pass over the buffer and the product's reads of it.
#[derive(Clone, Debug)]
pub struct Param {
    /// The name inside the layer: "kernel", "bias", "moving_mean".
    pub name: &'static str,
    /// The values.
    pub value: Tensor,
    /// Whether the optimizer updates it (BatchNormalization's moving statistics are not).
    pub trainable: bool,
    grad: Tensor,
    /// For a lookup table (an Embedding's, Keras's `IndexedSlices` gradient): per value, the sum
    /// over its row's uses in the batch of each use's gradient squared. Keras's optimizers square
    /// the gradient of each use before the uses are summed, so where a dense rule has `g²` a
    /// table's update has this sum (see [`crate::optimizers::Optimizer::update_sparse`]).
    grad_sq: Option<Tensor>,
    /// The gradient is zero; `grad`'s values are stale.
    grad_is_zero: bool,
}

impl Param {
    /// A trainable parameter named `name` ("kernel", "bias").
    pub fn new(name: &'static str, value: Tensor) -> Param {
        let grad = Tensor::zeros(value.shape());
        Param { name, value, grad, grad_sq: None, trainable: true, grad_is_zero: false }
    }

    /// A lookup table's parameter (see the `grad_sq` field): its gradient also keeps the sum of
    /// the squared gradients of each use.
    pub fn table(name: &'static str, value: Tensor) -> Param {
        let grad_sq = Some(Tensor::zeros(value.shape()));
        Param { grad_sq, ..Param::new(name, value) }
    }

    /// A parameter the optimizer leaves alone.
    pub fn non_trainable(name: &'static str, value: Tensor) -> Param {
        Param { name, value, grad: Tensor::default(), grad_sq: None, trainable: false, grad_is_zero: false }
    }

    /// Sets the gradient to zero (lazily, see the type's documentation).
    pub fn zero_grad(&mut self) {
        self.grad_is_zero = true;
    }

    /// For backward: the gradient's buffer, and the `beta` that accumulates into it: 0.0 when
    /// the gradient is zero (write over the stale values), 1.0 otherwise (add). A product takes
    /// `beta` as it is; a plain loop writes when it is 0.0 and adds when it is 1.0.
    pub fn grad_accumulator(&mut self) -> (&mut [f32], f32) {
        let beta = if std::mem::take(&mut self.grad_is_zero) { 0.0 } else { 1.0 };
        (self.grad.data_mut(), beta)
    }

    /// For a lookup table's backward: [`Param::grad_accumulator`] and the sum of squares beside
    /// it (empty for other parameters), both under the same `beta`.
    pub fn table_grad_accumulator(&mut self) -> (&mut [f32], &mut [f32], f32) {
        let beta = if std::mem::take(&mut self.grad_is_zero) { 0.0 } else { 1.0 };
        let sq = self.grad_sq.as_mut().map_or(&mut [][..], |t| t.data_mut());
        (self.grad.data_mut(), sq, beta)
    }

    /// The value to update and its gradient (zero-filled first if it is lazily zero).
    pub fn value_and_grad(&mut self) -> (&mut [f32], &[f32]) {
        let (value, grad, _) = self.value_grad_sq();
        (value, grad)
    }

    /// [`Param::value_and_grad`] and, for a lookup table, the sums of squared gradients per use.
    pub fn value_grad_sq(&mut self) -> (&mut [f32], &[f32], Option<&[f32]>) {
        if std::mem::take(&mut self.grad_is_zero) {
            self.grad.data_mut().fill(0.0);
            if let Some(sq) = &mut self.grad_sq {
                sq.data_mut().fill(0.0);
            }
        }
        (self.value.data_mut(), self.grad.data(), self.grad_sq.as_ref().map(|t| t.data()))
    }

    /// A copy of the gradient's values.
    pub fn grad_to_vec(&self) -> Vec<f32> {
        if self.grad_is_zero {
            vec![0.0; self.grad.len()]
        } else {
            self.grad.data().to_vec()
        }
    }
}
