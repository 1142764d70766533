//! The transforms of Winograd's F(2×2, 3×3) (`winograd.rs` runs them over a batch): the
//! kernel's `U = G g Gᵀ` and its adjoint, an input tile's `V = Bᵀ d B`, an output tile's
//! `Y = Aᵀ M A` and its adjoint, each written for [`LANES`] channels at a time as whole-array
//! operations that the compiler turns into vector instructions.
//!
//! Layouts: U is `[ξ][c][f]`; a block's V is `[ξ][tile][c]` and M `[ξ][tile][f]`, the 16
//! matrices [`xi_stride`] floats apart.

use super::winograd::BLOCK;

/// Channels handled together by the transforms: one AVX-512 vector of f32.
pub(crate) const LANES: usize = 16;

/// Floats between the 16 matrices of a block's V (`c` channels) or M: one cache line more than
/// a matrix, so that the 16 rows a tile's transform writes or reads do not all fall in the
/// same L1 cache set (a power-of-two stride would put them there).
pub(crate) fn xi_stride(c: usize) -> usize {
    BLOCK * c + LANES
}

/// `U_ξ = G g Gᵀ` for every (c, f) of a (3, 3, C, F) kernel, into `u[ξ][c][f]`: the same
/// arithmetic for every (c, f), LANES of them at a time.
pub fn winograd_kernel(w: &[f32], c: usize, f: usize, u: &mut [f32]) {
    let cf = c * f;
    assert!(w.len() >= 9 * cf && u.len() >= 16 * cf, "winograd_kernel: buffers too small");
    assert!(cf.is_multiple_of(LANES), "winograd_kernel: {c} x {f} is not a multiple of {LANES}");
    let half = [0.5; LANES];
    for i in (0..cf).step_by(LANES) {
        // G g: 4×3, column by column of g.
        let mut gg = [[[0.0; LANES]; 3]; 4];
        for s in 0..3 {
            let (g0, g1, g2) = (ld(w, s * cf + i), ld(w, (3 + s) * cf + i), ld(w, (6 + s) * cf + i));
            let column = [g0, mul(half, add(add(g0, g1), g2)), mul(half, add(sub(g0, g1), g2)), g2];
            for (row, v) in gg.iter_mut().zip(column) {
                row[s] = v;
            }
        }
        // (G g) Gᵀ: 4×4, row by row.
        for (r, [g0, g1, g2]) in gg.into_iter().enumerate() {
            st(g0, u, (r * 4) * cf + i);
            st(mul(half, add(add(g0, g1), g2)), u, (r * 4 + 1) * cf + i);
            st(mul(half, add(sub(g0, g1), g2)), u, (r * 4 + 2) * cf + i);
            st(g2, u, (r * 4 + 3) * cf + i);
        }
    }
}

/// The transformed kernel of the input gradient, from the forward's `u` (`[ξ][c][f]`): the
/// input gradient of a "same" 3×3 convolution is the "same" convolution of the output gradient
/// with the kernel rotated 180° and its channels swapped, and rotating g reverses the rows of
/// G g (G·R = P·G, P swapping rows 0 and 3), so its U is `u_t[ξ][f][c] = u[P(ξ)][c][f]`.
pub fn winograd_kernel_flipped(u: &[f32], c: usize, f: usize, u_t: &mut [f32]) {
    const P: [usize; 4] = [3, 1, 2, 0];
    let cf = c * f;
    for (xi, out) in u_t[..16 * cf].chunks_exact_mut(cf).enumerate() {
        let src = &u[(P[xi / 4] * 4 + P[xi % 4]) * cf..][..cf];
        super::transpose::transpose(c, f, src, out);
    }
}

/// LANES channels of one position, handled as a unit: written as whole-array operations,
/// which the compiler turns into single vector instructions.
type Lanes = [f32; LANES];

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    let mut r = a;
    r.iter_mut().zip(b).for_each(|(r, b)| *r += b);
    r
}

#[inline(always)]
fn mul(a: Lanes, b: Lanes) -> Lanes {
    let mut r = a;
    r.iter_mut().zip(b).for_each(|(r, b)| *r *= b);
    r
}

#[inline(always)]
fn sub(a: Lanes, b: Lanes) -> Lanes {
    let mut r = a;
    r.iter_mut().zip(b).for_each(|(r, b)| *r -= b);
    r
}

/// The kernel gradient (3, 3, C, F) from its Winograd-domain sum `du` (`[ξ][c][f]`): the adjoint
/// of [`winograd_kernel`]'s `U = G g Gᵀ`, `dg = Gᵀ dU G`. Written to `dw`, or added to it when
/// `beta` is 1.
pub fn winograd_kernel_grad(du: &[f32], c: usize, f: usize, dw: &mut [f32], beta: f32) {
    let cf = c * f;
    assert!(du.len() >= 16 * cf && dw.len() >= 9 * cf, "winograd_kernel_grad: buffers too small");
    assert!(cf.is_multiple_of(LANES), "winograd_kernel_grad: {c} x {f} is not a multiple of {LANES}");
    let half = [0.5; LANES];
    // Gᵀ applied to four values [a0, a1, a2, a3]: [a0 + (a1 + a2)/2, (a1 − a2)/2, (a1 + a2)/2 + a3].
    let gt = |a: [Lanes; 4]| -> [Lanes; 3] {
        let (p, q) = (mul(half, add(a[1], a[2])), mul(half, sub(a[1], a[2])));
        [add(a[0], p), q, add(p, a[3])]
    };
    for i in (0..cf).step_by(LANES) {
        // Gᵀ dU: over the rows of each column s.
        let mut cols = [[[0.0; LANES]; 4]; 3];
        for s in 0..4 {
            let column = gt(ld4(du, s * cf + i, 4 * cf));
            for (row, v) in cols.iter_mut().zip(column) {
                row[s] = v;
            }
        }
        // (Gᵀ dU) G: across each resulting row.
        for (a, row) in cols.into_iter().enumerate() {
            for (b, v) in gt(row).into_iter().enumerate() {
                let at = (a * 3 + b) * cf + i;
                st(if beta == 0.0 { v } else { add(ld(dw, at), v) }, dw, at);
            }
        }
    }
}

/// `dM_ξ = A dY Aᵀ` for tile (ty, tx) of one (H, W, F) output gradient (zero past an odd edge),
/// written at row `t` of dM's ξ-th (BLOCK, f) matrix: the adjoint of [`output_tile`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn output_grad_tile(
    dz: &[f32],
    h: usize,
    w: usize,
    f: usize,
    ty: usize,
    tx: usize,
    dm: &mut [f32],
    t: usize,
) {
    let xs = xi_stride(f);
    let full = 2 * ty + 1 < h && 2 * tx + 1 < w;
    for k0 in (0..f).step_by(LANES) {
        let at = |i: usize, j: usize| {
            let (oy, ox) = (2 * ty + i, 2 * tx + j);
            if full || (oy < h && ox < w) {
                ld(dz, (oy * w + ox) * f + k0)
            } else {
                [0.0; LANES]
            }
        };
        let (y00, y01, y10, y11) = (at(0, 0), at(0, 1), at(1, 0), at(1, 1));
        // A dY: rows [y0, y0 + y1, y0 − y1, −y1], then the same across the columns.
        let zero = [0.0; LANES];
        let rows = [
            [y00, y01],
            [add(y00, y10), add(y01, y11)],
            [sub(y00, y10), sub(y01, y11)],
            [sub(zero, y10), sub(zero, y11)],
        ];
        for (r, [a, b]) in rows.into_iter().enumerate() {
            let out = [a, add(a, b), sub(a, b), sub(zero, b)];
            for (s, o) in out.into_iter().enumerate() {
                st(o, dm, (r * 4 + s) * xs + t * f + k0);
            }
        }
    }
}

/// `V_ξ = Bᵀ d B` for tile (ty, tx) of a zero-padded sample `xp` (`wp` positions wide), written
/// at row `t` of V's ξ-th (BLOCK, c) matrix. `c` is a multiple of LANES.
#[inline(always)]
pub(crate) fn input_tile(xp: &[f32], wp: usize, c: usize, ty: usize, tx: usize, v: &mut [f32], t: usize) {
    let xs = xi_stride(c);
    let base = (2 * ty * wp + 2 * tx) * c;
    let xp = &xp[base..base + (3 * wp + 4) * c];
    let v = &mut v[t * c..15 * xs + t * c + c];
    for c0 in (0..c).step_by(LANES) {
        // Row r of the 4×4 tile: padded rows 2ty + r, columns 2tx .. 2tx + 4.
        let (d0, d1, d2, d3) =
            (ld4(xp, c0, c), ld4(xp, wp * c + c0, c), ld4(xp, 2 * wp * c + c0, c), ld4(xp, 3 * wp * c + c0, c));
        // Bᵀ d, over the rows, then (Bᵀ d) B, over each result's columns.
        let rows = [sub4(&d0, &d2), add4(&d1, &d2), sub4(&d2, &d1), sub4(&d1, &d3)];
        for (i, r) in rows.iter().enumerate() {
            st(sub(r[0], r[2]), v, (4 * i) * xs + c0);
            st(add(r[1], r[2]), v, (4 * i + 1) * xs + c0);
            st(sub(r[2], r[1]), v, (4 * i + 2) * xs + c0);
            st(sub(r[1], r[3]), v, (4 * i + 3) * xs + c0);
        }
    }
}

/// Four vectors of `src`, from `at` on, `step` apart.
#[inline(always)]
fn ld4(src: &[f32], at: usize, step: usize) -> [Lanes; 4] {
    [ld(src, at), ld(src, at + step), ld(src, at + 2 * step), ld(src, at + 3 * step)]
}

/// LANES values of `src` from `at`.
#[inline(always)]
fn ld(src: &[f32], at: usize) -> Lanes {
    src[at..at + LANES].try_into().expect("LANES values")
}

/// Stores LANES values at `dst[at..]`.
#[inline(always)]
fn st(v: Lanes, dst: &mut [f32], at: usize) {
    let d: &mut Lanes = (&mut dst[at..at + LANES]).try_into().expect("LANES values");
    *d = v;
}

#[inline(always)]
fn add4(a: &[Lanes; 4], b: &[Lanes; 4]) -> [Lanes; 4] {
    [add(a[0], b[0]), add(a[1], b[1]), add(a[2], b[2]), add(a[3], b[3])]
}

#[inline(always)]
fn sub4(a: &[Lanes; 4], b: &[Lanes; 4]) -> [Lanes; 4] {
    [sub(a[0], b[0]), sub(a[1], b[1]), sub(a[2], b[2]), sub(a[3], b[3])]
}

/// `Y = Aᵀ M A` for the tile at row `t` of M's 16 (BLOCK, f) matrices: tile (ty, tx) of one
/// (H, W, F) output sample. Outputs past an odd edge are dropped. `f` is a multiple of LANES.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn output_tile(m: &[f32], t: usize, h: usize, w: usize, f: usize, ty: usize, tx: usize, out: &mut [f32]) {
    let xs = xi_stride(f);
    let m = &m[t * f..15 * xs + t * f + f];
    let full = 2 * ty + 1 < h && 2 * tx + 1 < w;
    for k0 in (0..f).step_by(LANES) {
        let (m0, m1, m2, m3) =
            (ld4(m, k0, xs), ld4(m, 4 * xs + k0, xs), ld4(m, 8 * xs + k0, xs), ld4(m, 12 * xs + k0, xs));
        // Aᵀ M (2×4), then (Aᵀ M) A (2×2).
        let rows = [add4(&add4(&m0, &m1), &m2), sub4(&sub4(&m1, &m2), &m3)];
        for (i, r) in rows.iter().enumerate() {
            let y = [add(add(r[0], r[1]), r[2]), sub(sub(r[1], r[2]), r[3])];
            let oy = 2 * ty + i;
            for (j, &yj) in y.iter().enumerate() {
                let ox = 2 * tx + j;
                if full || (oy < h && ox < w) {
                    st(yj, out, (oy * w + ox) * f + k0);
                }
            }
        }
    }
}
