//! Where an optimizer's elementwise update runs. A parameter of at least
//! [`SPLIT_MIN`](super::matmul::SPLIT_MIN) values is updated in two halves, the first by the
//! calling thread and the second by the pool's other thread when it is free. Dense kernels of
//! this size have their gradient computed in two halves of rows on the same two threads
//! (`matmul.rs`; for an even input width the halves are these, for an odd one they differ by
//! half a row), so each half's value, gradient and state stay in one core's cache from step to
//! step. Splitting an update whose gradient one core just computed whole costs more than it
//! saves: moving half of the arrays to the other core's cache is slower than the update (~50 µs
//! for the MLP's 78,400 weights, against 22 µs on one core).

use super::matmul::SPLIT_MIN;

/// The most state vectors an update may keep per parameter (Adam: 2).
const MAX_SLOTS: usize = 4;

/// An update of `value` from `grad` and its state vectors, each value's new value depending on
/// that value alone.
pub(crate) type Rule<'a> = &'a (dyn Fn(&mut [f32], &[f32], &mut [&mut [f32]]) + Sync);

/// Runs `rule` over the whole parameter, or over its two halves on two threads when it is large
/// (and every state vector is as long as it). The bits are the same either way.
pub(crate) fn elementwise_update(value: &mut [f32], grad: &[f32], state: &mut [&mut [f32]], rule: Rule) {
    let n = value.len();
    if n < SPLIT_MIN || state.len() > MAX_SLOTS || state.iter().any(|s| s.len() != n) {
        rule(value, grad, state);
        return;
    }
    let mid = n / 2;
    let (v_lo, v_hi) = value.split_at_mut(mid);
    let (g_lo, g_hi) = grad.split_at(mid);
    let mut lo: [&mut [f32]; MAX_SLOTS] = Default::default();
    let mut hi: [&mut [f32]; MAX_SLOTS] = Default::default();
    for ((s, l), h) in state.iter_mut().zip(lo.iter_mut()).zip(hi.iter_mut()) {
        (*l, *h) = std::mem::take(s).split_at_mut(mid);
    }
    let k = state.len();
    rayon::join(|| rule(v_lo, g_lo, &mut lo[..k]), || rule(v_hi, g_hi, &mut hi[..k]));
}
