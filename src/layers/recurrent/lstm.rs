//! LSTM, Keras's: gates `z = x·kernel + h·recurrent_kernel + bias` split i, f, c, o;
//! `c' = σ(f)·c + σ(i)·tanh(c̃)`, `h' = σ(o)·tanh(c')` (σ the recurrent activation, tanh the
//! activation). Forward runs one product of the whole batch per step; backward walks the steps
//! back carrying dL/dh and dL/dc.

use super::base::{product, RnnCore, Step};
use super::gate_math::{act, deriv, load, store, with_acts, LANES};
use super::halves::rows_of;
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
/// Keras's defaults at 8 units take the fused rows of `fused8`, with the same bits.
fn forward_step<const A: u8, const R: u8>(st: Step, c_prev: &[f32], c: &mut [f32], tc: &mut [f32]) {
    if (A, R, st.u) == (3, 2, 8) {
        return super::fused8::lstm_forward(st, c_prev, c, tc);
    }
    forward_rows::<A, R>(st, c_prev, c, tc)
}

/// [`forward_step`] for any activations and units: the product over the rows, then the cells.
fn forward_rows<const A: u8, const R: u8>(st: Step, c_prev: &[f32], c: &mut [f32], tc: &mut [f32]) {
    let (b, u) = (st.b, st.u);
    product(Mat::new(st.h_in, b, u), Mat::new(st.rk, u, 4 * u), st.z, 1.0);
    let rows = st.z.chunks_exact_mut(4 * u).zip(c_prev.chunks_exact(u)).zip(c.chunks_exact_mut(u));
    for (((z, cp), c), (tc, h)) in rows.zip(tc.chunks_exact_mut(u).zip(st.h.chunks_exact_mut(u))) {
        let mut j = 0;
        while j + LANES <= u {
            forward_lanes::<A, R, LANES>(j, z, st.bias, cp, [c, tc, h]);
            j += LANES;
        }
        for j in j..u {
            forward_lanes::<A, R, 1>(j, z, st.bias, cp, [c, tc, h]);
        }
    }
}

/// Units `j..j + L` of one row: z (4U) the pre-activations, left as the gates i, f, c̃, o;
/// `out` the new cell state, its activation and the new state (U each).
#[inline(always)]
fn forward_lanes<const A: u8, const R: u8, const L: usize>(
    j: usize,
    z: &mut [f32],
    bias: &[f32],
    c_prev: &[f32],
    out: [&mut [f32]; 3],
) {
    let u = c_prev.len();
    let [zi, zf, zc, zo] = [load::<L>(z, j), load(z, u + j), load(z, 2 * u + j), load(z, 3 * u + j)];
    let [bi, bf, bc, bo] = [load::<L>(bias, j), load(bias, u + j), load(bias, 2 * u + j), load(bias, 3 * u + j)];
    let cp = load::<L>(c_prev, j);
    let (mut gates, mut res) = ([[0.0; L]; 4], [[0.0; L]; 3]);
    for l in 0..L {
        let i = act::<R>(zi[l] + bi[l]);
        let f = act::<R>(zf[l] + bf[l]);
        let g = act::<A>(zc[l] + bc[l]);
        let o = act::<R>(zo[l] + bo[l]);
        let cn = f * cp[l] + i * g;
        let t = act::<A>(cn);
        [gates[0][l], gates[1][l], gates[2][l], gates[3][l]] = [i, f, g, o];
        [res[0][l], res[1][l], res[2][l]] = [cn, t, o * t];
    }
    for (g, v) in gates.iter().enumerate() {
        store(z, g * u + j, v);
    }
    for (dst, v) in out.into_iter().zip(&res) {
        store(dst, j, v);
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
    let rows = gates.chunks_exact(4 * u).zip(dz.chunks_exact_mut(4 * u)).zip(c_prev.chunks_exact(u));
    for (((g4, d4), cp), ((tc, dh), dc)) in
        rows.zip(tc.chunks_exact(u).zip(dh.chunks_exact(u)).zip(dc.chunks_exact_mut(u)))
    {
        let mut j = 0;
        while j + LANES <= u {
            backward_lanes::<A, R, LANES>(j, g4, [cp, tc, dh], dc, d4);
            j += LANES;
        }
        for j in j..u {
            backward_lanes::<A, R, 1>(j, g4, [cp, tc, dh], dc, d4);
        }
    }
}

/// Units `j..j + L` of one row of [`backward_step`]; `row` is c_prev, tanh(c) and dL/dh.
#[inline(always)]
fn backward_lanes<const A: u8, const R: u8, const L: usize>(
    j: usize,
    g4: &[f32],
    row: [&[f32]; 3],
    dc: &mut [f32],
    d4: &mut [f32],
) {
    let u = dc.len();
    let [gi, gf, gg, go] = [load::<L>(g4, j), load(g4, u + j), load(g4, 2 * u + j), load(g4, 3 * u + j)];
    let [cp, tc, dh] = [load::<L>(row[0], j), load(row[1], j), load(row[2], j)];
    let mut dcv = load::<L>(dc, j);
    let mut d = [[0.0; L]; 4];
    for l in 0..L {
        let (i, f, g, o) = (gi[l], gf[l], gg[l], go[l]);
        let dcj = dcv[l] + dh[l] * o * deriv::<A>(tc[l]);
        d[0][l] = dcj * g * deriv::<R>(i);
        d[1][l] = dcj * cp[l] * deriv::<R>(f);
        d[2][l] = dcj * i * deriv::<A>(g);
        d[3][l] = dh[l] * tc[l] * deriv::<R>(o);
        dcv[l] = dcj * f;
    }
    for (g, v) in d.iter().enumerate() {
        store(d4, g * u + j, v);
    }
    store(dc, j, &dcv);
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
        let extra = [(self.cs.data_mut(), u), (self.tc.data_mut(), u)];
        self.core.forward_steps(extra, |s, st, [cs, tc]| {
            let (c_prev, c) = cs.pair(s);
            with_acts!(a, r, forward_step(st, c_prev, c, tc.step(s)))
        });
        self.core.finish_forward();
    }

    fn output(&self) -> &Tensor {
        self.core.output()
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        self.core.begin_backward(4, how.need_dinput);
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        self.dc.ensure_shape(b, &[u]);
        self.dc.data_mut().fill(0.0);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        let (cs, tc) = (self.cs.data(), self.tc.data());
        self.core.backward_steps(dout, [(self.dc.data_mut(), u)], |s, mut st, [dc]| {
            let (c_prev, tc) = (rows_of(cs, b, u, s, st.rows.clone()), rows_of(tc, b, u, s, st.rows.clone()));
            with_acts!(a, r, backward_step(u, st.gates, c_prev, tc, st.dh, dc.step(0), st.dz));
            if s > 0 {
                st.carry(None, 0.0);
            }
        });
        if self.core.use_bias {
            let (db, beta) = self.core.bias.grad_accumulator();
            ops::col_sums(Mat::new(self.core.dzs.data(), t * b, 4 * u), db, beta);
        }
        self.core.recurrent_kernel_grad(None);
        self.core.finish_backward();
    }

    fn dinput(&self) -> &Tensor {
        self.core.dinput()
    }

    fn fusion(&self) -> crate::layers::Fusion<'_> {
        self.core.fusion()
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

    #[test]
    fn the_fused_rows_give_the_generic_steps_bits() {
        let v = |n: usize, s: usize| (0..n).map(|i| ((i * 37 + s) % 101) as f32 / 25.0 - 2.0).collect::<Vec<_>>();
        let (b, u) = (5, 8); // an odd batch: the last row alone
        let (rk, bias, h_in, c_prev) = (v(u * 4 * u, 1), v(4 * u, 2), v(b * u, 3), v(b * u, 4));
        let run = |fused: bool| {
            let (mut z, mut h, mut c, mut tc) = (v(b * 4 * u, 5), vec![0.0; b * u], vec![0.0; b * u], vec![0.0; b * u]);
            let st = Step { b, u, z: &mut z, h_in: &h_in, h_prev: &h_in, h: &mut h, rk: &rk, bias: &bias };
            if fused {
                forward_step::<3, 2>(st, &c_prev, &mut c, &mut tc);
            } else {
                forward_rows::<3, 2>(st, &c_prev, &mut c, &mut tc);
            }
            [z, h, c, tc].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        assert_eq!(run(true), run(false));
    }
}
