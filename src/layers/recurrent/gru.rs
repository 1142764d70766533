//! GRU, Keras's: gates z, r, h along the kernels' columns; `h' = z·h + (1 - z)·h̃`. With
//! `reset_after` (Keras 3's default) the reset gate multiplies the recurrent product:
//! `h̃ = tanh(x·W_h + b_h + r·(h·U_h + b'_h))`, with separate input and recurrent biases
//! (bias shape (2, 3·units)); without it, it multiplies the state before the product:
//! `h̃ = tanh(x·W_h + b_h + (r·h)·U_h)`, one bias (3·units).

use super::base::{product, RnnCore, Step};
use super::gate_math::{act, deriv, load, store, with_acts, LANES};
use super::halves::rows_of;
use crate::error::Result;
use crate::layers::registry::{ArgKind::*, LayerKind};
use crate::layers::{Backward, Ctx, Layer, Param, Rng};
use crate::tensor::{ops, Mat, Tensor};

/// Keras's `GRU(units, activation, recurrent_activation, use_bias, return_sequences,
/// go_backwards, dropout, recurrent_dropout, reset_after)`.
#[allow(clippy::upper_case_acronyms)]
pub struct GRU {
    core: RnnCore,
    reset_after: bool,
    /// reset_after: (T, B, 3U) the recurrent product plus its bias, per step. Without
    /// reset_after: (T, B, U) `r·h_prev`, what U_h multiplied.
    rec: Tensor,
    /// reset_after: (T, B, 3U) dL/d(the recurrent product). Without: (B, 2U + U) scratch.
    drec: Tensor,
    scratch: Tensor, // without reset_after: (B, 3U) the step's recurrent products
    du: Tensor,      // without reset_after: (U, 3U) parts of the recurrent kernel's gradient
}

impl GRU {
    /// GRU in the registry: class name, grammar row `gru(8)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "GRU",
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
            ("reset_after", Bool),
        ],
        from_config: |c| {
            let mut layer = GRU::new(1);
            layer.core = RnnCore::from_config(c)?;
            layer.reset_after = c.bool("reset_after")?.unwrap_or(true);
            Ok(Box::new(layer))
        },
    };

    /// A GRU of `units` units with Keras's defaults.
    pub fn new(units: usize) -> GRU {
        GRU {
            core: RnnCore::new(units),
            reset_after: true,
            rec: Tensor::default(),
            drec: Tensor::default(),
            scratch: Tensor::default(),
            du: Tensor::default(),
        }
    }

    /// Apply the reset gate after the recurrent product (Keras 3's default true).
    pub fn reset_after(mut self, on: bool) -> Self {
        self.reset_after = on;
        self
    }

    super::rnn_builders!();
    layer_builders!(core);
}

/// One step forward with reset_after: `rec = h_in·U` (B, 3U), then the gates in place of `z`
/// and `rec`'s h part replaced by itself plus its bias (what backward needs).
/// Keras's defaults at 8 units take the fused rows of `fused8`, with the same bits.
fn forward_after<const A: u8, const R: u8>(st: Step, rec: &mut [f32]) {
    if (A, R, st.u) == (3, 2, 8) {
        return super::fused8::gru_forward(st, rec);
    }
    forward_after_rows::<A, R>(st, rec)
}

/// [`forward_after`] for any activations and units: the product over the rows, then the cells.
fn forward_after_rows<const A: u8, const R: u8>(st: Step, rec: &mut [f32]) {
    let (b, u) = (st.b, st.u);
    product(Mat::new(st.h_in, b, u), Mat::new(st.rk, u, 3 * u), rec, 0.0);
    let rows = st.z.chunks_exact_mut(3 * u).zip(rec.chunks_exact_mut(3 * u));
    for ((x3, r3), (hp, h)) in rows.zip(st.h_prev.chunks_exact(u).zip(st.h.chunks_exact_mut(u))) {
        let mut j = 0;
        while j + LANES <= u {
            forward_after_lanes::<A, R, LANES>(j, x3, r3, st.bias, hp, h);
            j += LANES;
        }
        for j in j..u {
            forward_after_lanes::<A, R, 1>(j, x3, r3, st.bias, hp, h);
        }
    }
}

/// Units `j..j + L` of one row of [`forward_after`]: x3 and r3 (3U each) the input and
/// recurrent products, bias (6U) the input then the recurrent bias.
#[inline(always)]
fn forward_after_lanes<const A: u8, const R: u8, const L: usize>(
    j: usize,
    x3: &mut [f32],
    r3: &mut [f32],
    bias: &[f32],
    hp: &[f32],
    h: &mut [f32],
) {
    let u = hp.len();
    let [xz, xr, xh] = [load::<L>(x3, j), load(x3, u + j), load(x3, 2 * u + j)];
    let [rz, rr, rh] = [load::<L>(r3, j), load(r3, u + j), load(r3, 2 * u + j)];
    let [bz, br, bh] = [load::<L>(bias, j), load(bias, u + j), load(bias, 2 * u + j)];
    let [cz, cr, ch] = [load::<L>(bias, 3 * u + j), load(bias, 4 * u + j), load(bias, 5 * u + j)];
    let hpv = load::<L>(hp, j);
    let mut out = [[0.0; L]; 5];
    for l in 0..L {
        let rhl = rh[l] + ch[l];
        let z = act::<R>(xz[l] + bz[l] + (rz[l] + cz[l]));
        let rg = act::<R>(xr[l] + br[l] + (rr[l] + cr[l]));
        let hh = act::<A>(xh[l] + bh[l] + rg * rhl);
        [out[0][l], out[1][l], out[2][l], out[3][l]] = [z, rg, hh, rhl];
        out[4][l] = z * hpv[l] + (1.0 - z) * hh;
    }
    for (g, v) in out[..3].iter().enumerate() {
        store(x3, g * u + j, v);
    }
    store(r3, 2 * u + j, &out[3]);
    store(h, j, &out[4]);
}

/// One step back with reset_after: dL/d(pre-activations) on the input side into `dx`, on the
/// recurrent side into `drec`, and `dh` becomes its direct part `dh·z`.
fn backward_after<const A: u8, const R: u8>(
    u: usize,
    gates: &[f32],
    rec: &[f32],
    h_prev: &[f32],
    dh: &mut [f32],
    dx: &mut [f32],
    drec: &mut [f32],
) {
    let rows = gates.chunks_exact(3 * u).zip(rec.chunks_exact(3 * u)).zip(dx.chunks_exact_mut(3 * u));
    let per_row = h_prev.chunks_exact(u).zip(dh.chunks_exact_mut(u)).zip(drec.chunks_exact_mut(3 * u));
    for (((g3, r3), d3), ((hp, dh), dr3)) in rows.zip(per_row) {
        let mut j = 0;
        while j + LANES <= u {
            backward_after_lanes::<A, R, LANES>(j, [g3, r3, hp], dh, d3, dr3);
            j += LANES;
        }
        for j in j..u {
            backward_after_lanes::<A, R, 1>(j, [g3, r3, hp], dh, d3, dr3);
        }
    }
}

/// Units `j..j + L` of one row of [`backward_after`]; `row` is the gates, the recurrent
/// products and the state before.
#[inline(always)]
fn backward_after_lanes<const A: u8, const R: u8, const L: usize>(
    j: usize,
    row: [&[f32]; 3],
    dh: &mut [f32],
    d3: &mut [f32],
    dr3: &mut [f32],
) {
    let u = dh.len();
    let [g3, r3, hp] = row;
    let [z, rg, hh] = [load::<L>(g3, j), load(g3, u + j), load(g3, 2 * u + j)];
    let (rh, hpv, mut dhv) = (load::<L>(r3, 2 * u + j), load::<L>(hp, j), load::<L>(dh, j));
    let mut d = [[0.0; L]; 4];
    for l in 0..L {
        let dph = dhv[l] * (1.0 - z[l]) * deriv::<A>(hh[l]);
        let dpz = dhv[l] * (hpv[l] - hh[l]) * deriv::<R>(z[l]);
        let dpr = dph * rh[l] * deriv::<R>(rg[l]);
        [d[0][l], d[1][l], d[2][l], d[3][l]] = [dpz, dpr, dph, dph * rg[l]];
        dhv[l] *= z[l];
    }
    for (g, v) in d[..3].iter().enumerate() {
        store(d3, g * u + j, v);
    }
    store(dr3, j, &d[0]);
    store(dr3, u + j, &d[1]);
    store(dr3, 2 * u + j, &d[3]);
    store(dh, j, &dhv);
}

/// One step forward without reset_after: z and r from `h_in·U_zr`, then `r·h_in` into `rhp`
/// and h̃ from `rhp·U_h`. `scratch` is (B, 3U).
fn forward_before<const A: u8, const R: u8>(st: Step, rhp: &mut [f32], scratch: &mut [f32]) {
    let (b, u) = (st.b, st.u);
    let (rzr, rh) = scratch.split_at_mut(2 * b * u);
    let (h_in, rk) = (Mat::new(st.h_in, b, u), Mat::new(st.rk, u, 3 * u));
    product(h_in, rk.col_range(0..2 * u), rzr, 0.0);
    for (r, x3) in st.z.chunks_exact_mut(3 * u).enumerate() {
        for j in 0..u {
            let z = act::<R>(x3[j] + st.bias[j] + rzr[r * 2 * u + j]);
            let rg = act::<R>(x3[u + j] + st.bias[u + j] + rzr[r * 2 * u + u + j]);
            (x3[j], x3[u + j]) = (z, rg);
            rhp[r * u + j] = rg * st.h_in[r * u + j];
        }
    }
    product(Mat::new(rhp, b, u), rk.col_range(2 * u..3 * u), rh, 0.0);
    for (r, x3) in st.z.chunks_exact_mut(3 * u).enumerate() {
        for j in 0..u {
            let hh = act::<A>(x3[2 * u + j] + st.bias[2 * u + j] + rh[r * u + j]);
            x3[2 * u + j] = hh;
            let z = x3[j];
            st.h[r * u + j] = z * st.h_prev[r * u + j] + (1.0 - z) * hh;
        }
    }
}

impl GRU {
    fn forward_steps(&mut self) {
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        if self.reset_after {
            self.rec.ensure_shape(t, &[b, 3 * u]);
            self.core.forward_steps([(self.rec.data_mut(), 3 * u)], |s, st, [rec]| {
                with_acts!(a, r, forward_after(st, rec.step(s)))
            });
        } else {
            self.rec.ensure_shape(t, &[b, u]);
            self.scratch.ensure_shape(b, &[3 * u]);
            let extra = [(self.rec.data_mut(), u), (self.scratch.data_mut(), 3 * u)];
            self.core.forward_steps(extra, |s, st, [rhp, scratch]| {
                with_acts!(a, r, forward_before(st, rhp.step(s), scratch.step(0)))
            });
        }
    }

    fn backward_after_steps(&mut self, dout: &Tensor) {
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        self.drec.ensure_shape(t, &[b, 3 * u]);
        let rec = self.rec.data();
        self.core.backward_steps(dout, [(self.drec.data_mut(), 3 * u)], |s, mut st, [drec]| {
            let (rec, drec) = (rows_of(rec, b, 3 * u, s, st.rows.clone()), drec.step(s));
            with_acts!(a, r, backward_after(u, st.gates, rec, st.h_prev, st.dh, st.dz, drec));
            if s > 0 {
                st.carry(Some(drec), 1.0);
            }
        });
        self.core.recurrent_kernel_grad(Some(&self.drec));
        if self.core.use_bias {
            let (db, beta) = self.core.bias.grad_accumulator();
            let (dbx, dbr) = db.split_at_mut(3 * u);
            ops::col_sums(Mat::new(self.core.dzs.data(), t * b, 3 * u), dbx, beta);
            ops::col_sums(Mat::new(self.drec.data(), t * b, 3 * u), dbr, beta);
        }
    }
}

impl Layer for GRU {
    layer_identity!(core);

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let u = self.core.units;
        let bias_shape = if self.reset_after { vec![2, 3 * u] } else { vec![3 * u] };
        self.core.build(Self::KIND.class, 3, &bias_shape, input_shape, rng)
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        let u = self.core.units;
        self.core.weights_len(3, if self.reset_after { 6 * u } else { 3 * u }, input_shape)
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        self.core.begin_forward(x, ctx, 3);
        self.forward_steps();
        self.core.finish_forward();
    }

    fn output(&self) -> &Tensor {
        self.core.output()
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        self.core.begin_backward(3, how.need_dinput);
        if self.reset_after {
            self.backward_after_steps(dout);
        } else {
            self.backward_before_steps(dout);
        }
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
        config.insert("reset_after".into(), self.reset_after.into());
        config.into()
    }
}

#[path = "gru_reset_before.rs"]
mod reset_before;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::layers::Activation;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(GRU::new(3)), &[4, 2], 2);
        check_layer(|| Box::new(GRU::new(2).return_sequences(true).go_backwards(true)), &[3, 2], 2);
        check_layer(|| Box::new(GRU::new(3).reset_after(false)), &[4, 2], 2);
        check_layer(|| Box::new(GRU::new(2).reset_after(false).recurrent_dropout(0.4)), &[3, 2], 3);
        check_layer(|| Box::new(GRU::new(2).activation(Activation::Linear).use_bias(false)), &[3, 2], 2);
        check_layer(|| Box::new(GRU::new(3).dropout(0.3).recurrent_dropout(0.4)), &[4, 3], 3);
    }

    #[test]
    fn the_fused_rows_give_the_generic_steps_bits() {
        let v = |n: usize, s: usize| (0..n).map(|i| ((i * 37 + s) % 101) as f32 / 25.0 - 2.0).collect::<Vec<_>>();
        let (b, u) = (5, 8); // an odd batch: the last row alone
        let (rk, bias, h_in, h_prev) = (v(u * 3 * u, 1), v(6 * u, 2), v(b * u, 3), v(b * u, 4));
        let run = |fused: bool| {
            let (mut z, mut h, mut rec) = (v(b * 3 * u, 5), vec![0.0; b * u], vec![0.0; b * 3 * u]);
            let st = Step { b, u, z: &mut z, h_in: &h_in, h_prev: &h_prev, h: &mut h, rk: &rk, bias: &bias };
            if fused {
                forward_after::<3, 2>(st, &mut rec);
            } else {
                forward_after_rows::<3, 2>(st, &mut rec);
            }
            [z, h, rec].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        assert_eq!(run(true), run(false));
    }
}
