//! Winograd's minimal filtering F(2×2, 3×3) for 3×3, stride-1, "same" convolutions on
//! channels-last images (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//! 2015): each 2×2 block of outputs comes from a 4×4 block of inputs with 16 multiplies per
//! channel pair instead of 36, so the convolution's products shrink 2.25×.
//!
//! With d a 4×4 input tile, g a 3×3 kernel and Y the 2×2 output tile:
//! `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. Summed over the input channels, the element-wise
//! products are, for each of the 16 positions ξ of the 4×4 tile, one matrix product
//! `M_ξ (tiles, F) = V_ξ (tiles, C) · U_ξ (C, F)`.
//!
//! [`winograd_conv`] works through blocks of [`BLOCK`] tiles: it transforms a block's inputs,
//! runs its 16 products and transforms them back, all within a buffer small enough to stay in
//! the core's L2 cache. (A first version that transformed whole chunks of samples at once was
//! slower than im2col + GEMM: its buffers went through memory.) The same function computes a
//! layer's input gradient with the kernel of [`winograd_kernel_flipped`]. The kernel gradient
//! is summed in Winograd's domain, `dU_ξ = Σ V_ξᵀ · dM_ξ` over tiles with `dM = A dY Aᵀ`
//! ([`winograd_kernel_grad_part`], per chunk of samples), and brought back once per step,
//! `dg = Gᵀ dU G` ([`winograd_kernel_grad`]).
//!
//! Layouts: U is `[ξ][c][f]`; a block's V is `[ξ][tile][c]` and M `[ξ][tile][f]`. Tiles are
//! numbered sample by sample, row by row, `ceil(H/2) × ceil(W/2)` per sample.

use super::gemm::gemm;
use super::winograd_tiles::{input_tile, output_grad_tile, output_tile, xi_stride, LANES};
pub use super::winograd_tiles::{winograd_kernel, winograd_kernel_flipped, winograd_kernel_grad};
use crate::tensor::Mat;

/// Tiles per block: 8 slivers of the GEMM's 8-row kernel; V and M of a block take
/// 16·64·(C + F) floats (384 KiB for 32 → 64 channels).
pub const BLOCK: usize = 64;

/// Floats of scratch [`winograd_conv`] needs for `c` input and `f` output channels on
/// `h × w` samples: a block's V and M, and one sample padded with zeros.
pub fn winograd_scratch_len(h: usize, w: usize, c: usize, f: usize) -> usize {
    16 * (xi_stride(c) + xi_stride(f)) + padded_len(h, w, c)
}

/// Floats in one sample padded by a zero border: one row/column before, and after enough
/// to make whole 4×4 tiles of a 2×2-tiled output.
fn padded_len(h: usize, w: usize, c: usize) -> usize {
    (2 * h.div_ceil(2) + 2) * (2 * w.div_ceil(2) + 2) * c
}

/// `out` (n, H, W, F) = the "same" 3×3 stride-1 convolution (no bias) of `x` (n, H, W, C),
/// C and F multiples of 16,
/// with the kernel transformed by [`winograd_kernel`] (or [`winograd_kernel_flipped`] for an
/// input gradient), through `buf` ([`winograd_scratch_len`] floats). Runs on the calling
/// thread; results do not depend on how a batch is cut into calls.
#[allow(clippy::too_many_arguments)]
pub fn winograd_conv(
    x: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    f: usize,
    u: &[f32],
    buf: &mut [f32],
    out: &mut [f32],
) {
    assert!(u.len() >= 16 * c * f && out.len() >= n * h * w * f, "winograd_conv: kernel or output too small");
    let (sample_out, (xc, xf)) = (h * w * f, (xi_stride(c), xi_stride(f)));
    each_block(
        x,
        (n, h, w, c, f),
        buf,
        |_, _, _, _, _| {},
        |v, m, _, nb| {
            for xi in 0..16 {
                // M_ξ (nb, F) = V_ξ (nb, C) · U_ξ (C, F)
                let (a, b, cm) = (&v[xi * xc..], &u[xi * c * f..], &mut m[xi * xf..]);
                gemm(1, Mat::new(a, nb, c), Mat::new(b, c, f), cm, 0.0);
            }
        },
        |m, t, s, ty, tx| output_tile(m, t, h, w, f, ty, tx, &mut out[s * sample_out..][..sample_out]),
    );
}

/// The loop of both passes over a batch's tiles, BLOCK at a time, with `dims` = (samples, H,
/// W, C, F). Each sample is copied inside a zero border before its tiles are read; for each
/// tile of a block, its V goes to row t of the block's 16 V matrices (C channels) and
/// `before(m, t, sample, ty, tx)` may fill row t of the 16 other matrices (F channels); then
/// `products(v, m, t0, nb)` runs once for the block, then `after(m, t, sample, ty, tx)` per tile.
#[allow(clippy::type_complexity)]
fn each_block(
    x: &[f32],
    dims: (usize, usize, usize, usize, usize),
    buf: &mut [f32],
    mut before: impl FnMut(&mut [f32], usize, usize, usize, usize),
    mut products: impl FnMut(&[f32], &mut [f32], usize, usize),
    mut after: impl FnMut(&[f32], usize, usize, usize, usize),
) {
    let (n, h, w, c, f) = dims;
    assert!(
        c.is_multiple_of(LANES) && f.is_multiple_of(LANES),
        "winograd: {c} -> {f} channels, not multiples of {LANES}"
    );
    assert!(
        x.len() >= n * h * w * c && buf.len() >= winograd_scratch_len(h, w, c, f),
        "winograd: input or scratch buffer too small"
    );
    let (v, rest) = buf.split_at_mut(16 * xi_stride(c));
    let (m, padded) = rest.split_at_mut(16 * xi_stride(f));
    let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
    let wp = 2 * tw + 2;
    let padded = &mut padded[..padded_len(h, w, c)];
    padded.fill(0.0);
    let per_sample = th * tw;
    let tiles = n * per_sample;
    let mut in_padded = usize::MAX; // the sample now in `padded`
    for t0 in (0..tiles).step_by(BLOCK) {
        let nb = BLOCK.min(tiles - t0);
        for t in 0..nb {
            let (s, ts) = ((t0 + t) / per_sample, (t0 + t) % per_sample);
            if s != in_padded {
                pad_sample(&x[s * h * w * c..][..h * w * c], w, c, wp, padded);
                in_padded = s;
            }
            input_tile(padded, wp, c, ts / tw, ts % tw, v, t);
            before(m, t, s, ts / tw, ts % tw);
        }
        products(v, m, t0, nb);
        for t in 0..nb {
            let (s, ts) = ((t0 + t) / per_sample, (t0 + t) % per_sample);
            after(m, t, s, ts / tw, ts % tw);
        }
    }
}

/// Copies one (H, W, C) sample inside the zero border of `padded` (`wp` positions wide; the
/// border stays zero from the first fill).
fn pad_sample(x: &[f32], w: usize, c: usize, wp: usize, padded: &mut [f32]) {
    for (row, src) in x.chunks_exact(w * c).enumerate() {
        padded[((row + 1) * wp + 1) * c..][..w * c].copy_from_slice(src);
    }
}

/// The kernel gradient of [`winograd_conv`] in Winograd's domain, for one chunk of samples:
/// `du[ξ]` (C, F) = Σ over the chunk's tiles of `V_ξ(x)ᵀ · dM_ξ`, with `dM = A dY Aᵀ` the
/// adjoint of the output transform applied to the output gradient `dz` (n, H, W, F). `du`
/// (16·C·F) is overwritten; the tiles are summed in order, a block at a time. Turn the
/// chunks' sum into the kernel's gradient with [`winograd_kernel_grad`].
#[allow(clippy::too_many_arguments)]
pub fn winograd_kernel_grad_part(
    x: &[f32],
    dz: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    f: usize,
    buf: &mut [f32],
    du: &mut [f32],
) {
    assert!(
        dz.len() >= n * h * w * f && du.len() >= 16 * c * f,
        "winograd_kernel_grad_part: output gradient or kernel gradient too small"
    );
    let (sample_dz, (xc, xf)) = (h * w * f, (xi_stride(c), xi_stride(f)));
    each_block(
        x,
        (n, h, w, c, f),
        buf,
        |dm, t, s, ty, tx| output_grad_tile(&dz[s * sample_dz..][..sample_dz], h, w, f, ty, tx, dm, t),
        |v, dm, t0, nb| {
            let beta = if t0 == 0 { 0.0 } else { 1.0 };
            for xi in 0..16 {
                // du_ξ (C, F) += V_ξᵀ (C, nb) · dM_ξ (nb, F); V_ξ is stored (nb, C).
                let (a, b, cd) = (&v[xi * xc..], &dm[xi * xf..], &mut du[xi * c * f..]);
                gemm(1, Mat::new(a, nb, c).t(), Mat::new(b, nb, f), cd, beta);
            }
        },
        |_, _, _, _, _| {},
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct "same" 3×3 convolution, in f64; with `adjoint`, its transpose applied to
    /// `x` of F channels, giving C channels (the input gradient).
    #[allow(clippy::too_many_arguments)]
    fn direct(x: &[f32], n: usize, h: usize, w: usize, c: usize, kernel: &[f32], f: usize, adjoint: bool) -> Vec<f64> {
        let (ci, co) = if adjoint { (f, c) } else { (c, f) };
        let mut out = vec![0.0; n * h * w * co];
        for s in 0..n {
            for (oy, ox) in (0..h).flat_map(|a| (0..w).map(move |b| (a, b))) {
                for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                    let (y, xx) = ((oy + i).wrapping_sub(1), (ox + j).wrapping_sub(1));
                    if y >= h || xx >= w {
                        continue;
                    }
                    for (cc, ff) in (0..c).flat_map(|cc| (0..f).map(move |ff| (cc, ff))) {
                        let wk = kernel[((i * 3 + j) * c + cc) * f + ff] as f64;
                        if adjoint {
                            // dx[y, xx, cc] += dz[oy, ox, ff] · w
                            out[((s * h + y) * w + xx) * co + cc] += x[((s * h + oy) * w + ox) * ci + ff] as f64 * wk;
                        } else {
                            out[((s * h + oy) * w + ox) * co + ff] += x[((s * h + y) * w + xx) * ci + cc] as f64 * wk;
                        }
                    }
                }
            }
        }
        out
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104729) % 1009) as f32 / 1009.0) - 0.5).collect()
    }

    /// Forward and input gradient against the direct convolution in f64, on even and odd
    /// sizes, different channel counts, and batches whose tiles fill more
    /// than one block with a partial last one.
    #[test]
    fn equals_the_direct_convolution_and_its_adjoint() {
        for (n, h, w, c, f) in [(1, 4, 4, 16, 16), (3, 6, 5, 16, 48), (2, 7, 7, 32, 16), (3, 14, 14, 32, 64)] {
            let (x, kernel, dz) = (values(n * h * w * c, 1), values(9 * c * f, 2), values(n * h * w * f, 3));
            let mut u = vec![0.0; 16 * c * f];
            let mut u_t = vec![0.0; 16 * c * f];
            winograd_kernel(&kernel, c, f, &mut u);
            winograd_kernel_flipped(&u, c, f, &mut u_t);
            let mut buf = vec![f32::NAN; winograd_scratch_len(h, w, c, f).max(winograd_scratch_len(h, w, f, c))];
            let mut y = vec![f32::NAN; n * h * w * f];
            winograd_conv(&x, n, h, w, c, f, &u, &mut buf, &mut y);
            let mut dx = vec![f32::NAN; n * h * w * c];
            winograd_conv(&dz, n, h, w, f, c, &u_t, &mut buf, &mut dx);
            let close = |got: &[f32], want: &[f64], what: &str| {
                for (i, (&g, &d)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (g as f64 - d).abs() <= 1e-5 * (1.0 + d.abs()),
                        "{what} {n}x{h}x{w}x{c}->{f} at {i}: {g} vs {d}"
                    );
                }
            };
            close(&y, &direct(&x, n, h, w, c, &kernel, f, false), "output");
            close(&dx, &direct(&dz, n, h, w, c, &kernel, f, true), "input gradient");
            // The kernel gradient, in two parts (samples 0 and 1.., as two chunks would give it),
            // against dw[i, j, c, f] = Σ x[y + i − 1, x + j − 1, c] · dz[y, x, f] in f64.
            let mut du = vec![f32::NAN; 16 * c * f];
            let mut dw = vec![f32::NAN; 9 * c * f];
            let one = h * w;
            winograd_kernel_grad_part(&x, &dz, 1, h, w, c, f, &mut buf, &mut du);
            winograd_kernel_grad(&du, c, f, &mut dw, 0.0);
            if n > 1 {
                winograd_kernel_grad_part(&x[one * c..], &dz[one * f..], n - 1, h, w, c, f, &mut buf, &mut du);
                winograd_kernel_grad(&du, c, f, &mut dw, 1.0);
            }
            let mut want = vec![0f64; 9 * c * f];
            for (s, oy, ox) in (0..n).flat_map(|s| (0..h).flat_map(move |a| (0..w).map(move |b| (s, a, b)))) {
                for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                    let (y, xx) = ((oy + i).wrapping_sub(1), (ox + j).wrapping_sub(1));
                    if y >= h || xx >= w {
                        continue;
                    }
                    for (cc, ff) in (0..c).flat_map(|cc| (0..f).map(move |ff| (cc, ff))) {
                        want[((i * 3 + j) * c + cc) * f + ff] +=
                            x[((s * h + y) * w + xx) * c + cc] as f64 * dz[((s * h + oy) * w + ox) * f + ff] as f64;
                    }
                }
            }
            let tol = |d: f64| 1e-5 * (1.0 + d.abs());
            for (i, (&g, &d)) in dw.iter().zip(&want).enumerate() {
                assert!((g as f64 - d).abs() <= tol(d), "kernel gradient {n}x{h}x{w}x{c}->{f} at {i}: {g} vs {d}");
            }
        }
    }
}
