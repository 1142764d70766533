//! GRU's backward without reset_after (Keras 2's GRU): the reset gate multiplies the state
//! before U_h's product, so dL/dr comes through that product, and U's gradient is two products
//! (U_zr from the states, U_h from `r·h`).

use super::super::base::{product, BackStep};
use super::super::gate_math::{deriv, with_acts};
use super::GRU;
use crate::tensor::{ops, Mat, Tensor};

/// One step back: dL/d(pre-activations) into `st.dz`, the direct part `dh·z` left in `st.dh`
/// and dL/d(state as the products read it) into `part`; `drhp` (B, U) scratch.
fn backward_before<const A: u8, const R: u8>(st: &mut BackStep, drhp: &mut [f32], part: &mut [f32]) {
    let (b, u) = (st.b, st.u);
    for (r, (g3, d3)) in st.gates.chunks_exact(3 * u).zip(st.dz.chunks_exact_mut(3 * u)).enumerate() {
        for j in 0..u {
            let (z, hh, dh) = (g3[j], g3[2 * u + j], st.dh[r * u + j]);
            d3[j] = dh * (st.h_prev[r * u + j] - hh) * deriv::<R>(z);
            d3[2 * u + j] = dh * (1.0 - z) * deriv::<A>(hh);
            st.dh[r * u + j] = dh * z;
        }
    }
    // d(r·h_in) = dph · U_hᵀ, U_h = rk[:, 2U..] with row stride 3U.
    let (rk_zr_t, rk_h_t) = (Mat::new(&st.rk_t[..2 * u * u], 2 * u, u), Mat::new(&st.rk_t[2 * u * u..], u, u));
    product(Mat::new(st.dz, b, 3 * u).col_range(2 * u..3 * u), rk_h_t, drhp, 0.0);
    for (r, (g3, d3)) in st.gates.chunks_exact(3 * u).zip(st.dz.chunks_exact_mut(3 * u)).enumerate() {
        for j in 0..u {
            let (rg, i) = (g3[u + j], r * u + j);
            d3[u + j] = drhp[i] * st.h_in[i] * deriv::<R>(rg);
            part[i] = drhp[i] * rg;
        }
    }
    // + [dpz, dpr] · U_zrᵀ
    product(Mat::new(st.dz, b, 3 * u).col_range(0..2 * u), rk_zr_t, part, 1.0);
}

impl GRU {
    pub(super) fn backward_before_steps(&mut self, dout: &Tensor) {
        let ((t, b, _), u) = (self.core.dims, self.core.units);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        self.drec.ensure_shape(b, &[2 * u]);
        self.core.backward_steps(dout, [(self.drec.data_mut(), 2 * u)], |s, mut st, [scratch]| {
            let (drhp, part) = scratch.step(0).split_at_mut(st.b * u);
            with_acts!(a, r, backward_before(&mut st, drhp, part));
            if s > 0 {
                st.carry_add(part);
            }
        });
        // dU_zr = h_inᵀ · dz_zr (computed with the h columns too, then dropped); dU_h = rhpᵀ · dz_h.
        let (n, w) = (t * b, 3 * u);
        self.du.ensure_shape(u, &[w + u]);
        let (du, du_h) = self.du.data_mut().split_at_mut(u * w);
        let core = &mut self.core;
        let h_in_all = core.recurrent_inputs();
        let dzs = Mat::new(core.dzs.data(), n, w);
        product(Mat::new(h_in_all, n, u).t(), dzs, du, 0.0);
        product(Mat::new(self.rec.data(), n, u).t(), dzs.col_range(2 * u..w), du_h, 0.0);
        let (drk, beta) = core.recurrent_kernel.grad_accumulator();
        for (i, row) in drk.chunks_exact_mut(w).enumerate() {
            for (c, d) in row.iter_mut().enumerate() {
                let g = if c < 2 * u { du[i * w + c] } else { du_h[i * u + c - 2 * u] };
                *d = if beta == 0.0 { g } else { *d + g };
            }
        }
        if core.use_bias {
            let (db, beta) = core.bias.grad_accumulator();
            ops::col_sums(dzs, db, beta);
        }
    }
}
