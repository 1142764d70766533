//! The operations layers, losses, optimizers and `fit` compute with: they say what to compute;
//! the backend (today the CPU's, `tensor::cpu`) decides how and where — threads, splits,
//! scratch and packing buffers, the kernel (GEMM, im2col, Winograd).
//!
//! Operands are [`Mat`] descriptors (shape and strides over a tensor's values), so a product
//! reads a transposed operand, a range of rows or one time step of a sequence where it lies.
//! Output buffers are the caller's (a layer's named fields, sized once): no operation allocates
//! on a steady-state step.
//!
//! ```
//! use kiln::tensor::{ops, Activation, Mat};
//! // z = x·w + bias, out = relu(z): x (2, 3), w (3, 2)
//! let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let w = [1.0, 0.0, 0.0, 1.0, -1.0, 0.0];
//! let (mut z, mut out) = ([0.0; 4], [0.0; 4]);
//! ops::matmul_bias_act(Mat::new(&x, 2, 3), Mat::new(&w, 3, 2), Some(&[0.5, -3.0]), Activation::Relu, &mut z, &mut out);
//! assert_eq!(z, [-1.5, -1.0, -1.5, 2.0]);
//! assert_eq!(out, [0.0, 0.0, 0.0, 2.0]);
//! ```

mod conv;
mod pool;

pub use conv::{conv2d, conv2d_backward, Conv2d, Conv2dGrads, Conv2dWork};
#[cfg(test)]
pub(crate) use conv::{uses_winograd, KEEP_COLS_MAX};
pub use pool::{average_pool2d, average_pool2d_backward, max_pool2d, max_pool2d_backward};

use super::cpu;
use super::{Activation, Mat};

/// `c = a·b + beta·c`: a (m, k), b (k, n), c (m, n) row-major. `beta` 0 overwrites `c`, 1
/// accumulates into it (gradients). Every output value is summed in the same order (over k)
/// whatever the threads, so the bits do not depend on them. Panics naming the shapes when they
/// do not agree.
#[track_caller]
pub fn matmul(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    cpu::matmul(a, b, c, beta)
}

/// [`matmul`] run inline on the calling thread, with no packing, no thread hand-off and no
/// allocation: for products whose `b` or result is small (at most [`SMALL_MAX`] values) —
/// the recurrent layers' per-step products, where the latency of 100 dependent small products
/// is the cost, and their weight gradients, a small result summed over many rows. Right for
/// any shape. Each value is `beta·c` plus the products over k in order, fused multiply-adds,
/// so the bits depend on the values alone. Panics naming the shapes when they do not agree.
#[track_caller]
pub fn small_matmul(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    cpu::small_matmul(a, b, c, beta)
}

/// The size (values) of a `b` or a result up to which [`small_matmul`] is the faster product.
pub const SMALL_MAX: usize = cpu::SMALL_B_MAX;

/// `z = x·w + bias` (bias: one value per column; `None`: `z = x·w`): a dense layer's
/// pre-activation, z: (x.rows, w.cols) row-major. A large `w` (a kernel of 65,536 values or
/// more) is summed as two partial sums over its two halves of rows, added after: the bits then
/// depend on the shape alone, never on the threads.
#[track_caller]
pub fn matmul_bias(x: Mat, w: Mat, bias: Option<&[f32]>, z: &mut [f32]) {
    cpu::matmul_bias(x, w, bias, z)
}

/// [`matmul_bias`], then `out = act(z)` over rows of `w.cols` values; `z` keeps the
/// pre-activation (the logits a fused loss reads).
#[track_caller]
pub fn matmul_bias_act(x: Mat, w: Mat, bias: Option<&[f32]>, act: Activation, z: &mut [f32], out: &mut [f32]) {
    let n = x.rows() * w.cols();
    cpu::matmul_bias(x, w, bias, z);
    act.forward(&z[..n], &mut out[..n], w.cols());
}

/// `out = act(z)` over rows of `width` values (softmax is per row).
#[track_caller]
pub fn activation(act: Activation, z: &[f32], out: &mut [f32], width: usize) {
    act.forward(z, out, width)
}

/// `v = act(v + bias)` in place over rows of `width` values (`bias` empty: none).
#[track_caller]
pub fn bias_activation_in_place(act: Activation, v: &mut [f32], bias: &[f32], width: usize) {
    act.forward_in_place(v, bias, width)
}

/// `dz = dout · act'(z)`, from the forward output `out` = act(z) (each derivative can be written
/// with it), over rows of `width` values.
#[track_caller]
pub fn activation_backward(act: Activation, out: &[f32], dout: &[f32], dz: &mut [f32], width: usize) {
    act.backward(out, dout, dz, width)
}

/// `out = beta·out + Σ_rows x`: a bias gradient from dL/dz. `beta` 0 overwrites.
#[track_caller]
pub fn col_sums(x: Mat, out: &mut [f32], beta: f32) {
    cpu::col_sums(x, out, beta)
}

/// `dst = src`, for the many short rows of a change of layout (a recurrent layer's time-major
/// input): no call to `memmove` per row. Panics when the lengths differ.
#[track_caller]
#[inline]
pub fn copy_row(dst: &mut [f32], src: &[f32]) {
    cpu::copy_row(dst, src)
}

/// `dst (cols, rows) = src (rows, cols)ᵀ`, both row-major (a kernel transposed once for a
/// backward pass).
#[track_caller]
pub fn transpose(rows: usize, cols: usize, src: &[f32], dst: &mut [f32]) {
    cpu::transpose(rows, cols, src, dst)
}

/// `out[r] = table[idx[r]]` (an embedding's lookup), out: (idx.len(), table.cols) row-major.
/// Panics naming the index when one is past the table.
#[track_caller]
pub fn gather_rows(table: Mat, idx: &[usize], out: &mut [f32]) {
    cpu::gather_rows(table, idx, out)
}

/// `table[idx[r]] += rows[r]` (an embedding's gradient), in the order of `idx`.
#[track_caller]
pub fn scatter_add_rows(rows: Mat, idx: &[usize], table: &mut [f32]) {
    cpu::scatter_add_rows(rows, idx, table)
}

/// [`scatter_add_rows`] of row-major `rows` into `table` and of their squares into `squares`,
/// in one pass (an embedding's gradient and the sum of each use's gradient squared).
#[track_caller]
pub fn scatter_add_rows_and_squares(rows: &[f32], idx: &[usize], table: &mut [f32], squares: &mut [f32]) {
    cpu::scatter_add_rows_and_squares(rows, idx, table, squares)
}

/// What a crossentropy compares the model's output with.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// One class index per row (sparse labels).
    Indices(&'a [f32]),
    /// A row of class probabilities per row (one-hot or soft labels).
    Probabilities(&'a [f32]),
}

/// The crossentropy of `p` = softmax(`z`) (the output layer's values and its logits, rows of
/// `width`) against `targets`, summed over the rows and computed stably from the logits; with
/// `grad`, also d(mean loss)/dz = (p − y) / rows, in the same pass over the rows.
pub fn softmax_crossentropy(z: &[f32], p: &[f32], targets: Targets, width: usize, grad: Option<&mut [f32]>) -> f64 {
    cpu::softmax_crossentropy(z, p, targets, width, grad)
}

/// The binary crossentropy of `p` = sigmoid(`z`) against 0/1 targets `y`, averaged over each
/// row's `width` values and summed over the rows, from the logits; with `grad`, also
/// d(mean loss)/dz = (p − y) / values, in the same pass.
pub fn sigmoid_crossentropy(z: &[f32], p: &[f32], y: &[f32], width: usize, grad: Option<&mut [f32]>) -> f64 {
    cpu::sigmoid_crossentropy(z, p, y, width, grad)
}

/// An optimizer's fused elementwise update: `rule(value, grad, state)` (one plain loop over the
/// slices, each value's update depending on that value alone), run by the backend where it
/// decides (a large parameter in two halves on two threads). The bits do not depend on it.
pub fn elementwise_update(
    value: &mut [f32],
    grad: &[f32],
    state: &mut [&mut [f32]],
    rule: &(dyn Fn(&mut [f32], &[f32], &mut [&mut [f32]]) + Sync),
) {
    cpu::elementwise_update(value, grad, state, rule)
}

/// Whether every value is finite (the backend may scan a large array on every core).
pub fn all_finite(values: &[f32]) -> bool {
    cpu::all_finite(values)
}

#[cfg(test)]
mod tests;
