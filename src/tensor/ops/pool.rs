//! 2-D pooling, channels-last: x (B, H, W, C) → out (B, OH, OW, C), each window per channel.
//! Output and gradient tensors are sized here; the backend works sample by sample.

use crate::tensor::cpu::pooling;
use crate::tensor::{Tensor, Window2d};

/// `out` = the maximum of each window, per channel; `argmax` (one per output value, resized
/// here) = where it lies, as an index into its sample's (H, W, C) values: the first maximum in
/// row-major order on ties. Panics when a sample has more than `u32::MAX` values.
#[track_caller]
pub fn max_pool2d(window: &Window2d, x: &Tensor, out: &mut Tensor, argmax: &mut Vec<u32>) {
    pooling::max_forward(window, x, out, argmax)
}

/// dL/dx of [`max_pool2d`] (sized here): each output's gradient added at its maximum. With
/// `relu_out` (the forward output, when the fusion plan gives this pooling the ReLU backward of
/// the layer below), only where that maximum is positive: the same values as the ReLU's own
/// backward after the pooling's.
#[track_caller]
pub fn max_pool2d_backward(
    window: &Window2d,
    dout: &Tensor,
    argmax: &[u32],
    relu_out: Option<&Tensor>,
    dx: &mut Tensor,
) {
    pooling::max_backward(window, dout, argmax, relu_out, dx)
}

/// `out` = the mean of each window, per channel, over its positions inside the image (with
/// "same" padding a window over the edge averages fewer values, as TensorFlow does).
#[track_caller]
pub fn average_pool2d(window: &Window2d, x: &Tensor, out: &mut Tensor) {
    pooling::average_forward(window, x, out)
}

/// dL/dx of [`average_pool2d`] (sized here): each output's gradient shared equally by the
/// positions it averaged.
#[track_caller]
pub fn average_pool2d_backward(window: &Window2d, dout: &Tensor, dx: &mut Tensor) {
    pooling::average_backward(window, dout, dx)
}
