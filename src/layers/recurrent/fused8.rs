//! The book's cells, 8 units with tanh and sigmoid (Keras's defaults), one time step row by
//! row with the recurrent kernel held in registers ([`V16`]): each row's recurrent product,
//! bias, gates and cell state are computed while in registers, two rows at a time for the
//! 8-value parts, instead of a product over the batch and passes over memory after it. The sums
//! and functions are the generic step's, in the same order, so the bits are too (tests compare).

use super::base::Step;
use super::lanes::{tanh_sigmoid, V16};

/// Sigmoid in every lane; tanh in the first 8 lanes only.
const SIGMOID: u16 = 0;
const TANH_LOW: u16 = 0x00FF;
const TANH: u16 = 0xFFFF;

/// `acc + h·rk` for one row's state `h` (8 values), `rk` a block of 16 columns.
#[inline(always)]
fn product_row(h: &[f32], rk: &[V16; 8], mut acc: V16) -> V16 {
    for (k, &r) in rk.iter().enumerate() {
        acc = V16::splat(h[k]).mul_add(r, acc);
    }
    acc
}

/// Columns `col..col + 16` of the 8 rows of a recurrent kernel of width `w`.
#[inline(always)]
fn kernel_block(rk: &[f32], w: usize, col: usize) -> [V16; 8] {
    std::array::from_fn(|k| V16::load(&rk[k * w + col..]))
}

/// LSTM(8): `z += h_in·U`, the gates i, f (sigmoid), c̃ (tanh), o (sigmoid) left in `z`, then
/// `c = f·c_prev + i·c̃`, `tc = tanh(c)`, `h = o·tc`.
pub(crate) fn lstm_forward(st: Step, c_prev: &[f32], c: &mut [f32], tc: &mut [f32]) {
    assert_eq!(st.u, 8, "fused8::lstm_forward: 8 units");
    let (rk0, rk1) = (kernel_block(st.rk, 32, 0), kernel_block(st.rk, 32, 16));
    let (b0, b1) = (V16::load(st.bias), V16::load(&st.bias[16..]));
    let gates = |z: &mut [f32], h: &[f32]| {
        let a0 = product_row(h, &rk0, V16::load(z)).add(b0);
        let a1 = product_row(h, &rk1, V16::load(&z[16..])).add(b1);
        tanh_sigmoid(a0, SIGMOID).store(z);
        tanh_sigmoid(a1, TANH_LOW).store(&mut z[16..]);
    };
    let rows = st.z.chunks_exact_mut(64).zip(st.h_in.chunks_exact(16));
    let cells =
        c_prev.chunks_exact(16).zip(c.chunks_exact_mut(16)).zip(tc.chunks_exact_mut(16).zip(st.h.chunks_exact_mut(16)));
    for ((z2, h2), ((cp, c), (tc, h))) in rows.zip(cells) {
        let (z, y) = z2.split_at_mut(32);
        gates(z, &h2[..8]);
        gates(y, &h2[8..]);
        let [i, f, g, o] = [0, 8, 16, 24].map(|j| V16::load2(&z[j..], &y[j..]));
        let cn = f.mul(V16::load(cp)).add(i.mul(g));
        let t = tanh_sigmoid(cn, TANH);
        cn.store(c);
        t.store(tc);
        o.mul(t).store(h);
    }
    if st.b % 2 == 1 {
        let (r, n, junk) = (st.b - 1, 8 * (st.b - 1), &mut [0.0; 8]);
        let z = &mut st.z[32 * r..];
        gates(z, &st.h_in[n..]);
        let [i, f, g, o] = [0, 8, 16, 24].map(|j| V16::load2(&z[j..], &z[j..]));
        let cn = f.mul(V16::load2(&c_prev[n..], &c_prev[n..])).add(i.mul(g));
        let t = tanh_sigmoid(cn, TANH);
        cn.store2(&mut c[n..], junk);
        t.store2(&mut tc[n..], junk);
        o.mul(t).store2(&mut st.h[n..], junk);
    }
}

/// GRU(8) with reset_after: `rec = h_in·U` (its h part plus the recurrent bias left there),
/// z, r (sigmoid) and h̃ (tanh) left in `x3`, `h = z·h_prev + (1 - z)·h̃`.
pub(crate) fn gru_forward(st: Step, rec: &mut [f32]) {
    assert_eq!(st.u, 8, "fused8::gru_forward: 8 units");
    let (rk0, rk1) = (kernel_block(st.rk, 24, 0), kernel_block(st.rk, 24, 8));
    let bias = st.bias;
    let (bx, bzr) = (V16::load(bias), V16::load(&bias[24..]));
    // z and r of one row in `x3`, its recurrent product in `r3` (h part with its bias).
    let gates = |x3: &mut [f32], r3: &mut [f32], h: &[f32]| {
        let zr = product_row(h, &rk0, V16::splat(0.0));
        let rh = product_row(h, &rk1, V16::splat(0.0));
        let g = tanh_sigmoid(V16::load(x3).add(bx).add(zr.add(bzr)), SIGMOID);
        g.store(x3);
        zr.store(r3);
        rh.add(V16::load(&bias[32..])).store2(&mut [0.0; 8], &mut r3[16..]);
    };
    let one = V16::splat(1.0);
    let bh = V16::load2(&bias[16..], &bias[16..]);
    // h̃ and the new state of rows (x, rx) and (y, ry): 8 values each.
    let cell = |(x, rx): (&[f32], &[f32]), (y, ry): (&[f32], &[f32]), hp: V16| {
        let [z, rg, xh] = [0, 8, 16].map(|j| V16::load2(&x[j..], &y[j..]));
        let hh = tanh_sigmoid(xh.add(bh).add(rg.mul(V16::load2(&rx[16..], &ry[16..]))), TANH);
        (hh, z.mul(hp).add(one.sub(z).mul(hh)))
    };
    let rows = st.z.chunks_exact_mut(48).zip(rec.chunks_exact_mut(48));
    for ((x6, r6), ((h2, hp), hn)) in
        rows.zip(st.h_in.chunks_exact(16).zip(st.h_prev.chunks_exact(16)).zip(st.h.chunks_exact_mut(16)))
    {
        let ((x, y), (rx, ry)) = (x6.split_at_mut(24), r6.split_at_mut(24));
        gates(x, rx, &h2[..8]);
        gates(y, ry, &h2[8..]);
        let (hh, h) = cell((x, rx), (y, ry), V16::load(hp));
        hh.store2(&mut x[16..], &mut y[16..]);
        h.store(hn);
    }
    if st.b % 2 == 1 {
        let (r, n, junk) = (st.b - 1, 8 * (st.b - 1), &mut [0.0; 8]);
        let (x, rx) = (&mut st.z[24 * r..], &mut rec[24 * r..]);
        gates(x, rx, &st.h_in[n..]);
        let (hh, h) = cell((x, rx), (x, rx), V16::load2(&st.h_prev[n..], &st.h_prev[n..]));
        hh.store2(&mut x[16..], junk);
        h.store2(&mut st.h[n..], junk);
    }
}
