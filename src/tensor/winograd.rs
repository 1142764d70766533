//! Winograd's minimal filtering F(2×2, 3×3) for 3×3, stride-1, "same" convolutions on
//! channels-last images (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//! 2015): each 2×2 block of outputs comes from a 4×4 block of inputs with 16 multiplies per
//! channel pair instead of 36, so the convolution's products shrink 2.25×.
//!
//! With d a 4×4 input tile, g a 3×3 kernel and Y the 2×2 output tile:
//! `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, and the sum over input channels of the element-wise
//! products is, for each of the 16 positions ξ of the 4×4 tile, one matrix product
//! `M_ξ (tiles, F) = V_ξ (tiles, C) · U_ξ (C, F)`. The transforms here produce U and V and
//! turn M back into outputs; the products go through the GEMM.
//!
//! Layouts: U is `[ξ][c][f]`, V is `[ξ][tile][c]`, M is `[ξ][tile][f]`; a sample's tiles are
//! numbered row by row, `ceil(H/2) × ceil(W/2)` of them.

/// Tiles per sample for an `h × w` output: 2×2 outputs each.
pub fn winograd_tiles(h: usize, w: usize) -> usize {
    h.div_ceil(2) * w.div_ceil(2)
}

/// `U_ξ = G g Gᵀ` for every (c, f) of a (3, 3, C, F) kernel, into `u[ξ][c][f]`. With
/// `flipped`, the kernel of the input gradient instead: rotated 180° with C and F swapped,
/// `g'(i, j, f, c) = g(2 − i, 2 − j, c, f)`, into `u[ξ][f][c]`.
pub fn winograd_kernel(w: &[f32], c: usize, f: usize, flipped: bool, u: &mut [f32]) {
    assert!(w.len() >= 9 * c * f && u.len() >= 16 * c * f, "winograd_kernel: buffers too small");
    let (rows, cols) = if flipped { (f, c) } else { (c, f) };
    for r in 0..rows {
        for q in 0..cols {
            // g[i][j] of the (r, q) kernel slice.
            let at = |i: usize, j: usize| {
                if flipped {
                    w[((2 - i) * 3 + (2 - j)) * c * f + q * f + r]
                } else {
                    w[(i * 3 + j) * c * f + r * f + q]
                }
            };
            // G g: 4×3, then (G g) Gᵀ: 4×4.
            let mut gg = [[0f32; 3]; 4];
            for j in 0..3 {
                let (g0, g1, g2) = (at(0, j), at(1, j), at(2, j));
                gg[0][j] = g0;
                gg[1][j] = 0.5 * (g0 + g1 + g2);
                gg[2][j] = 0.5 * (g0 - g1 + g2);
                gg[3][j] = g2;
            }
            for (i, row) in gg.iter().enumerate() {
                let [g0, g1, g2] = *row;
                let out = [g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2];
                for (j, v) in out.into_iter().enumerate() {
                    u[((i * 4 + j) * rows + r) * cols + q] = v;
                }
            }
        }
    }
}

/// Channels handled together by the transforms: one AVX-512 vector of f32.
const LANES: usize = 16;

/// Copies `n` ≤ LANES values; a whole vector's worth with a length known at compile time (a
/// `memcpy` call per 64 bytes would cost more than the copy).
#[inline(always)]
fn copy(src: &[f32], dst: &mut [f32], n: usize) {
    if n == LANES {
        let d: &mut [f32; LANES] = (&mut dst[..LANES]).try_into().expect("LANES values");
        *d = src[..LANES].try_into().expect("LANES values");
    } else {
        dst[..n].copy_from_slice(&src[..n]);
    }
}

/// `V_ξ = Bᵀ d B` for every tile of one (H, W, C) sample padded by one zero row/column on
/// each side ("same" for a 3×3 kernel), written at tile `t0 + tile` of `v[ξ][tile][c]`, whose
/// tile dimension is `stride` long.
pub fn winograd_input(x: &[f32], h: usize, w: usize, c: usize, v: &mut [f32], t0: usize, stride: usize) {
    let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
    assert!(x.len() >= h * w * c && t0 + th * tw <= stride && v.len() >= 16 * stride * c);
    for ty in 0..th {
        for tx in 0..tw {
            let t = t0 + ty * tw + tx;
            for c0 in (0..c).step_by(LANES) {
                let n = LANES.min(c - c0);
                // The 4×4 tile: rows 2ty − 1 .. 2ty + 3, columns 2tx − 1 .. 2tx + 3, zero outside.
                let mut d = [[0f32; LANES]; 16];
                for (p, dp) in d.iter_mut().enumerate() {
                    let (i, j) = ((2 * ty + p / 4).wrapping_sub(1), (2 * tx + p % 4).wrapping_sub(1));
                    if i < h && j < w {
                        copy(&x[(i * w + j) * c + c0..], dp, n);
                    }
                }
                // Bᵀ d (rows), then (Bᵀ d) B (columns), all 16 channels at once.
                let mut bd = [[0f32; LANES]; 16];
                for q in 0..4 {
                    for l in 0..LANES {
                        let (d0, d1, d2, d3) = (d[q][l], d[4 + q][l], d[8 + q][l], d[12 + q][l]);
                        bd[q][l] = d0 - d2;
                        bd[4 + q][l] = d1 + d2;
                        bd[8 + q][l] = d2 - d1;
                        bd[12 + q][l] = d1 - d3;
                    }
                }
                for i in 0..4 {
                    let mut out = [[0f32; LANES]; 4];
                    for l in 0..LANES {
                        let (r0, r1, r2, r3) = (bd[4 * i][l], bd[4 * i + 1][l], bd[4 * i + 2][l], bd[4 * i + 3][l]);
                        out[0][l] = r0 - r2;
                        out[1][l] = r1 + r2;
                        out[2][l] = r2 - r1;
                        out[3][l] = r1 - r3;
                    }
                    for (j, o) in out.iter().enumerate() {
                        copy(o, &mut v[((i * 4 + j) * stride + t) * c + c0..], n);
                    }
                }
            }
        }
    }
}

/// `Y = Aᵀ M A` for every tile of one sample: the (H, W, F) output, tiles read from tile
/// `t0 + tile` of `m[ξ][tile][f]` (tile dimension `stride` long). Outputs past an odd edge are
/// dropped.
pub fn winograd_output(m: &[f32], t0: usize, stride: usize, h: usize, w: usize, f: usize, out: &mut [f32]) {
    let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
    assert!(t0 + th * tw <= stride && m.len() >= 16 * stride * f && out.len() >= h * w * f);
    for ty in 0..th {
        for tx in 0..tw {
            let t = t0 + ty * tw + tx;
            for k0 in (0..f).step_by(LANES) {
                let n = LANES.min(f - k0);
                let mut mm = [[0f32; LANES]; 16];
                for (p, mp) in mm.iter_mut().enumerate() {
                    copy(&m[(p * stride + t) * f + k0..], mp, n);
                }
                // Aᵀ M (2×4), then (Aᵀ M) A (2×2).
                let mut am = [[0f32; LANES]; 8];
                for j in 0..4 {
                    for l in 0..LANES {
                        let (m0, m1, m2, m3) = (mm[j][l], mm[4 + j][l], mm[8 + j][l], mm[12 + j][l]);
                        am[j][l] = m0 + m1 + m2;
                        am[4 + j][l] = m1 - m2 - m3;
                    }
                }
                for i in 0..2 {
                    let mut y = [[0f32; LANES]; 2];
                    for l in 0..LANES {
                        let (r0, r1, r2, r3) = (am[4 * i][l], am[4 * i + 1][l], am[4 * i + 2][l], am[4 * i + 3][l]);
                        y[0][l] = r0 + r1 + r2;
                        y[1][l] = r1 - r2 - r3;
                    }
                    for (j, yj) in y.iter().enumerate() {
                        let (oy, ox) = (2 * ty + i, 2 * tx + j);
                        if oy < h && ox < w {
                            copy(yj, &mut out[(oy * w + ox) * f + k0..], n);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×3 "same" convolution through the transforms and a plain product per ξ.
    fn conv(x: &[f32], h: usize, w: usize, c: usize, kernel: &[f32], f: usize, flipped: bool) -> Vec<f32> {
        let (ci, co) = if flipped { (f, c) } else { (c, f) };
        let t = winograd_tiles(h, w);
        let mut u = vec![0.0; 16 * c * f];
        winograd_kernel(kernel, c, f, flipped, &mut u);
        let mut v = vec![0.0; 16 * t * ci];
        winograd_input(x, h, w, ci, &mut v, 0, t);
        let mut m = vec![0.0; 16 * t * co];
        for xi in 0..16 {
            for tile in 0..t {
                for o in 0..co {
                    m[(xi * t + tile) * co + o] =
                        (0..ci).map(|i| v[(xi * t + tile) * ci + i] * u[(xi * ci + i) * co + o]).sum();
                }
            }
        }
        let mut out = vec![0.0; h * w * co];
        winograd_output(&m, 0, t, h, w, co, &mut out);
        out
    }

    /// The direct "same" 3×3 convolution, in f64.
    fn direct(x: &[f32], h: usize, w: usize, c: usize, kernel: &[f32], f: usize) -> Vec<f64> {
        let mut out = vec![0.0; h * w * f];
        for (oy, ox, k) in (0..h).flat_map(|a| (0..w).flat_map(move |b| (0..f).map(move |k| (a, b, k)))) {
            let mut s = 0.0f64;
            for (i, j, ch) in (0..3).flat_map(|i| (0..3).flat_map(move |j| (0..c).map(move |ch| (i, j, ch)))) {
                let (y, xx) = ((oy + i).wrapping_sub(1), (ox + j).wrapping_sub(1));
                if y < h && xx < w {
                    s += x[(y * w + xx) * c + ch] as f64 * kernel[((i * 3 + j) * c + ch) * f + k] as f64;
                }
            }
            out[(oy * w + ox) * f + k] = s;
        }
        out
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104729) % 1009) as f32 / 1009.0) - 0.5).collect()
    }

    #[test]
    fn equals_the_direct_convolution_on_even_and_odd_sizes() {
        for (h, w, c, f) in [(4, 4, 1, 1), (6, 5, 3, 17), (7, 7, 20, 5), (14, 14, 32, 64)] {
            let (x, kernel) = (values(h * w * c, 1), values(9 * c * f, 2));
            let got = conv(&x, h, w, c, &kernel, f, false);
            let want = direct(&x, h, w, c, &kernel, f);
            for (i, (&g, &d)) in got.iter().zip(&want).enumerate() {
                assert!((g as f64 - d).abs() <= 1e-5 * (1.0 + d.abs()), "{h}x{w}x{c}->{f} at {i}: {g} vs {d}");
            }
        }
    }

    /// With the flipped kernel the transforms compute the convolution's adjoint, the input
    /// gradient: <conv(x), dz> = <x, conv_flipped(dz)>.
    #[test]
    fn the_flipped_kernel_gives_the_adjoint() {
        for (h, w, c, f) in [(5, 4, 3, 2), (8, 6, 17, 9)] {
            let (x, kernel, dz) = (values(h * w * c, 3), values(9 * c * f, 4), values(h * w * f, 5));
            let y = direct(&x, h, w, c, &kernel, f);
            let dx = conv(&dz, h, w, c, &kernel, f, true);
            let lhs: f64 = y.iter().zip(&dz).map(|(&a, &b)| a * b as f64).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(&a, &b)| a as f64 * b as f64).sum();
            assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{h}x{w}x{c}->{f}: {lhs} vs {rhs}");
        }
    }
}
