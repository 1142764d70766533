//! LSTM, Keras's: gates `z = x·kernel + h·recurrent_kernel + bias` split i, f, c, o;
//! `c' = σ(f)·c + σ(i)·tanh(c̃)`, `h' = σ(o)·tanh(c')` (σ the recurrent activation, tanh the
//! activation). Forward runs one product of the whole batch per step; backward walks the steps
//! back carrying dL/dh and dL/dc.

use super::base::{RnnCore, Step};
use super::gate_math::{act, deriv, with_acts};
use crate::error::Result;
use crate::layers::registry::{ArgKind::*, LayerKind};
use crate::layers::{Backward, Ctx, Layer, Param, Rng};
use crate::tensor::{ops, Mat, Tensor};

/// Keras's `LSTM(units, activation, recurrent_activation, use_bias, return_sequences,
/// go_backwards, dropout, recurrent_dropout, unit_forget_bias)`.
#[allow(clippy::upper_case_acronyms)]
pub struct LSTM {
    core: RnnCore,
    unit_forget_bias: bool,
    cs: Tensor, // (T + 1, B, U): cell states, cs[0] = 0
    tc: Tensor, // (T, B, U): activation(c) of each step
    dc: Tensor, // (B, U): dL/dc carried back
}

impl LSTM {
    /// LSTM in the registry: class name, grammar row `lstm(8, dropout=0.3, return_sequences=true)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "LSTM",
        positional: &["units"],
        required: 1,
        args: &[
            ("units", PositiveInt),
            ("activation", Word),
            ("recurrent_activation", Word),
            ("use_bias", Bool),
            ("return_sequences", Bool),
            ("go_backwards", Bool),
            ("dropout", Number),
            ("recurrent_dropout", Number),
            ("unit_forget_bias", Bool),
        ],
        from_config: |c| {
            let mut layer = LSTM::new(1);
            layer.core = RnnCore::from_config(c)?;
            layer.unit_forget_bias = c.bool("unit_forget_bias")?.unwrap_or(true);
            Ok(Box::new(layer))
        },
    };

    /// An LSTM of `units` units with Keras's defaults.
    pub fn new(units: usize) -> LSTM {
        LSTM {
            core: RnnCore::new(units),
            unit_forget_bias: true,
            cs: Tensor::default(),
            tc: Tensor::default(),
            dc: Tensor::default(),
        }
    }

    /// Start the forget gate's bias at 1 (Keras's default true).
    pub fn unit_forget_bias(mut self, on: bool) -> Self {
        self.unit_forget_bias = on;
        self
    }

    super::rnn_builders!();
    layer_builders!(core);
}

/// One step forward: `z += h_in·U`, then the gates in place of `z`, the new cell state, its
/// activation and the new state.
fn forward_step<const A: u8, const R: u8>(st: Step, c_prev: &[f32], c: &mut [f32], tc: &mut [f32]) {
    let (b, u) = (st.b, st.u);
    ops::matmul(Mat::new(st.h_in, b, u), Mat::new(st.rk, u, 4 * u), st.z, 1.0);
    let (bi, rest) = st.bias.split_at(u);
    let (bf, rest) = rest.split_at(u);
    let (bc, bo) = rest.split_at(u);
    for (r, z) in st.z.chunks_exact_mut(4 * u).enumerate() {
        let (zi, rest) = z.split_at_mut(u);
        let (zf, rest) = rest.split_at_mut(u);
        let (zc, zo) = rest.split_at_mut(u);
        let rows = r * u..(r + 1) * u;
        let (cp, c, tc, h) = (&c_prev[rows.clone()], &mut c[rows.clone()], &mut tc[rows.clone()], &mut st.h[rows]);
        for j in 0..u {
            let i = act::<R>(zi[j] + bi[j]);
            let f = act::<R>(zf[j] + bf[j]);
            let g = act::<A>(zc[j] + bc[j]);
            let o = act::<R>(zo[j] + bo[j]);
            let cn = f * cp[j] + i * g;
            let t = act::<A>(cn);
            (zi[j], zf[j], zc[j], zo[j]) = (i, f, g, o);
            (c[j], tc[j], h[j]) = (cn, t, o * t);
        }
    }
}

/// One step back: from dL/dh (`dh`) and the carried dL/dc (`dc`, updated to the step
/// before's), dL/d(pre-activation) of the four gates into `dz`.
fn backward_step<const A: u8, const R: u8>(
    u: usize,
    gates: &[f32],
    c_prev: &[f32],
    tc: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    dz: &mut [f32],
) {
    for (r, (g4, d4)) in gates.chunks_exact(4 * u).zip(dz.chunks_exact_mut(4 * u)).enumerate() {
        let rows = r * u..(r + 1) * u;
        let (cp, tc, dh, dc) = (&c_prev[rows.clone()], &tc[rows.clone()], &dh[rows.clone()], &mut dc[rows]);
        let (gi, rest) = g4.split_at(u);
        let (gf, rest) = rest.split_at(u);
        let (gg, go) = rest.split_at(u);
        let (di, rest) = d4.split_at_mut(u);
        let (df, rest) = rest.split_at_mut(u);
        let (dg, d_o) = rest.split_at_mut(u);
        for j in 0..u {
            let (i, f, g, o) = (gi[j], gf[j], gg[j], go[j]);
            let dcj = dc[j] + dh[j] * o * deriv::<A>(tc[j]);
            di[j] = dcj * g * deriv::<R>(i);
            df[j] = dcj * cp[j] * deriv::<R>(f);
            dg[j] = dcj * i * deriv::<A>(g);
            d_o[j] = dh[j] * tc[j] * deriv::<R>(o);
            dc[j] = dcj * f;
        }
    }
}

impl Layer for LSTM {
    layer_identity!(core);

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let u = self.core.units;
        let out = self.core.build(Self::KIND.class, 4, &[4 * u], input_shape, rng)?;
        if self.unit_forget_bias && self.core.use_bias {
            self.core.bias.value.data_mut()[u..2 * u].fill(1.0);
        }
        Ok(out)
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        self.core.weights_len(4, 4 * self.core.units, input_shape)
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        self.core.begin_forward(x, ctx, 4);
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        self.cs.ensure_shape(t + 1, &[b, u]);
        self.cs.data_mut()[..b * u].fill(0.0);
        self.tc.ensure_shape(t, &[b, u]);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        for s in 0..t {
            let (before, after) = self.cs.data_mut().split_at_mut((s + 1) * b * u);
            let (c_prev, c) = (&before[s * b * u..], &mut after[..b * u]);
            let tc = &mut self.tc.data_mut()[s * b * u..(s + 1) * b * u];
            with_acts!(a, r, forward_step(self.core.step(s), c_prev, c, tc));
        }
        self.core.finish_forward();
    }

    fn output(&self) -> &Tensor {
        self.core.output()
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        let need_dinput = how.need_dinput;
        self.core.begin_backward(4);
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        self.dc.ensure_shape(b, &[u]);
        self.dc.data_mut().fill(0.0);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        let n = b * u;
        for s in (0..t).rev() {
            self.core.add_dout(dout, s);
            let core = &mut self.core;
            let (gates, dz) = (&core.zs.data()[s * 4 * n..][..4 * n], &mut core.dzs.data_mut()[s * 4 * n..][..4 * n]);
            let (c_prev, tc) = (&self.cs.data()[s * n..][..n], &self.tc.data()[s * n..][..n]);
            with_acts!(a, r, backward_step(u, gates, c_prev, tc, core.dh.data(), self.dc.data_mut(), dz));
            if s > 0 {
                self.core.carry_through_recurrent(s, None, 0.0);
            }
        }
        if self.core.use_bias {
            let (db, beta) = self.core.bias.grad_accumulator();
            ops::col_sums(Mat::new(self.core.dzs.data(), t * b, 4 * u), db, beta);
        }
        self.core.recurrent_kernel_grad(None);
        self.core.finish_backward(need_dinput);
    }

    fn dinput(&self) -> &Tensor {
        self.core.dinput()
    }

    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        self.core.visit_params(f);
    }

    fn params(&self) -> Vec<&Param> {
        self.core.params()
    }

    fn config(&self) -> serde_json::Value {
        let mut config = self.core.config();
        config.insert("unit_forget_bias".into(), self.unit_forget_bias.into());
        config.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::layers::Activation;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(LSTM::new(3)), &[4, 2], 2);
        check_layer(|| Box::new(LSTM::new(2).return_sequences(true).go_backwards(true)), &[3, 2], 2);
        check_layer(|| Box::new(LSTM::new(2).activation(Activation::Relu).use_bias(false)), &[3, 2], 2);
        check_layer(|| Box::new(LSTM::new(3).dropout(0.3).recurrent_dropout(0.4)), &[4, 3], 3);
    }
}
