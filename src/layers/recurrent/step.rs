//! One time step's view of a recurrent layer's buffers ([`Step`], [`BackStep`]) and the
//! products the layers run ([`product`]): what a cell's loop body reads and writes.

use super::RnnCore;
use crate::tensor::{ops, Mat};

impl RnnCore {
    /// Step `s`'s slices: its gate block, its state before as the recurrent product reads it
    /// (times the recurrent dropout mask) and as it is, the state it writes, and the weights.
    pub fn step(&mut self, s: usize) -> Step<'_> {
        let ((_, b, _), u) = (self.dims, self.units);
        let w = self.zs.row_len() / b.max(1);
        let z = &mut self.zs.data_mut()[s * b * w..(s + 1) * b * w];
        let (before, after) = self.hs.data_mut().split_at_mut((s + 1) * b * u);
        let (h_prev, h) = (&before[s * b * u..], &mut after[..b * u]);
        let h_in = if self.rec_masked {
            let hd = &mut self.hd.data_mut()[s * b * u..(s + 1) * b * u];
            hd.iter_mut().zip(h_prev).zip(self.rec_mask.data()).for_each(|((d, &v), &m)| *d = v * m);
            &*hd
        } else {
            h_prev
        };
        let bias = if self.use_bias { self.bias.value.data() } else { &self.zero_bias };
        Step { b, u, z, h_in, h_prev, h, rk: self.recurrent_kernel.value.data(), bias }
    }

    /// Step `s`'s slices for backward (see [`BackStep`]).
    pub fn back_step(&mut self, s: usize) -> BackStep<'_> {
        let ((t, b, _), u) = (self.dims, self.units);
        let w = self.zs.row_len() / b.max(1);
        let hin = if self.rec_masked { self.hd.data() } else { &self.hs.data()[..t * b * u] };
        BackStep {
            b,
            u,
            gates: &self.zs.data()[s * b * w..(s + 1) * b * w],
            dz: &mut self.dzs.data_mut()[s * b * w..(s + 1) * b * w],
            h_in: &hin[s * b * u..(s + 1) * b * u],
            h_prev: &self.hs.data()[s * b * u..(s + 1) * b * u],
            dh: self.dh.data_mut(),
            rk: self.recurrent_kernel.value.data(),
        }
    }
}

/// The recurrent layers' products, `c = a·b + beta·c`: inline on this thread when `b` (a
/// recurrent kernel, the kernel) or the result (a weight gradient) is small
/// (`ops::small_matmul`), else the GEMM. Which one depends on the shape alone, so the bits
/// never depend on the threads.
#[track_caller]
pub(crate) fn product(a: Mat, b: Mat, c: &mut [f32], beta: f32) {
    if b.len() <= ops::SMALL_MAX || a.rows() * b.cols() <= ops::SMALL_MAX {
        ops::small_matmul(a, b, c, beta)
    } else {
        ops::matmul(a, b, c, beta)
    }
}

/// One step's slices (see [`RnnCore::step`]); `bias` is zeros without `use_bias`.
pub(crate) struct Step<'a> {
    pub b: usize,
    pub u: usize,
    /// (B, gates·U): `x·kernel` of this step on entry; the cell leaves its gates here.
    pub z: &'a mut [f32],
    /// (B, U): the state before, as the recurrent product reads it.
    pub h_in: &'a [f32],
    /// (B, U): the state before.
    pub h_prev: &'a [f32],
    /// (B, U): the state after.
    pub h: &'a mut [f32],
    /// (U, gates·U).
    pub rk: &'a [f32],
    pub bias: &'a [f32],
}

/// One step's slices for backward (see [`RnnCore::back_step`]).
pub(crate) struct BackStep<'a> {
    pub b: usize,
    pub u: usize,
    /// (B, gates·U): the gates forward left.
    pub gates: &'a [f32],
    /// (B, gates·U): dL/d(pre-activations), to write.
    pub dz: &'a mut [f32],
    /// (B, U): the state before, as the recurrent product read it.
    pub h_in: &'a [f32],
    /// (B, U): the state before.
    pub h_prev: &'a [f32],
    /// (B, U): the carried dL/dh.
    pub dh: &'a mut [f32],
    /// (U, gates·U).
    pub rk: &'a [f32],
}
