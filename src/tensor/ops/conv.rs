//! 2-D convolution, channels-last: x (B, H, W, C), kernel (KH, KW, C, F), out (B, OH, OW, F).
//! The backend picks the kernel (im2col and a GEMM, or Winograd's F(2×2, 3×3)) and keeps the
//! buffers it needs in the layer's [`Conv2dWork`].

use crate::tensor::cpu::conv::{self, Conv, ConvWork};
use crate::tensor::{Activation, Tensor, Window2d};

/// A convolution's backend buffers (im2col rows, transformed kernels, per-chunk partial
/// gradients): opaque to the layer, which keeps one; sized on the first batch and reused.
#[derive(Default)]
pub struct Conv2dWork(ConvWork);

/// What a convolution computes: where its window lands, its kernel (KH·KW·C·F values), its bias
/// (F values, or empty: none) and the activation after it.
#[derive(Clone, Copy)]
pub struct Conv2d<'a> {
    /// The window on one (H, W, C) sample: kernel size, strides, padding, output size.
    pub window: Window2d,
    /// F.
    pub filters: usize,
    /// (KH, KW, C, F), row-major.
    pub kernel: &'a [f32],
    /// F values, or empty: no bias.
    pub bias: &'a [f32],
    /// Applied in place after the bias.
    pub activation: Activation,
}

/// The gradients a convolution's backward writes.
pub struct Conv2dGrads<'a> {
    /// dL/d(out) of the last forward pass, or dL/d(pre-activation) when `activation_done`.
    pub dout: &'a Tensor,
    /// The output of the last forward pass (the activation's backward reads it).
    pub out: &'a Tensor,
    /// The loss or the layer above already did the activation's backward.
    pub activation_done: bool,
    /// dL/dkernel and its beta: 0 overwrites, 1 accumulates.
    pub dkernel: (&'a mut [f32], f32),
    /// dL/dbias (empty: none) and its beta.
    pub dbias: (&'a mut [f32], f32),
    /// dL/dx (sized here), when wanted.
    pub dinput: Option<&'a mut Tensor>,
}

impl Conv2d<'_> {
    fn backend(&self) -> Conv<'_> {
        Conv { g: self.window, filters: self.filters, kernel: self.kernel, bias: self.bias, act: self.activation }
    }
}

/// `out = activation(conv(x, kernel) + bias)`; `out` is sized here.
#[track_caller]
pub fn conv2d(cv: &Conv2d, x: &Tensor, out: &mut Tensor, work: &mut Conv2dWork) {
    conv::forward(&cv.backend(), x, out, &mut work.0)
}

/// The kernel and bias gradients and, when `grads.dinput` is given, the input gradient of the
/// last [`conv2d`] on `x`: one pass per chunk of samples, both gradients while it is in cache.
/// The kernel gradient is a sum over the batch in fixed chunks, so the bits do not depend on the
/// threads.
#[track_caller]
pub fn conv2d_backward(cv: &Conv2d, x: &Tensor, grads: Conv2dGrads, work: &mut Conv2dWork) {
    conv::backward(&cv.backend(), x, grads, &mut work.0)
}

/// Whether the backend runs this convolution through Winograd's transforms.
#[cfg(test)]
pub(crate) fn uses_winograd(window: &Window2d, filters: usize) -> bool {
    conv::uses_winograd(window, filters)
}

/// The most im2col values the forward pass keeps for backward (bigger batches rebuild them).
#[cfg(test)]
pub(crate) const KEEP_COLS_MAX: usize = conv::KEEP_COLS_MAX;
