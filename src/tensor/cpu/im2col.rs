//! The im2col / col2im copies that turn a 2-D convolution into one matrix product. Images are
//! channels-last: one sample is (H, W, C).

use crate::tensor::Window2d;

/// x: (H, W, C) → cols: (OH·OW, KH·KW·C), each row one window in the kernel's (kh, kw, c) order,
/// zeros where the window hangs over the padding.
pub fn im2col(g: &Window2d, x: &[f32], cols: &mut [f32]) {
    // Row segments of kw·c values (3 for a 3×3 kernel on one channel, 96 on 32 channels) are
    // copied with a length known at compile time, as a few vector moves: a `memcpy` call costs
    // more than such a copy.
    match g.kw * g.c {
        3 => im2col_n::<3>(g, x, cols),
        5 => im2col_n::<5>(g, x, cols),
        7 => im2col_n::<7>(g, x, cols),
        9 => im2col_n::<9>(g, x, cols),
        15 => im2col_n::<15>(g, x, cols),
        48 => im2col_n::<48>(g, x, cols),
        96 => im2col_n::<96>(g, x, cols),
        192 => im2col_n::<192>(g, x, cols),
        _ => im2col_n::<0>(g, x, cols),
    }
}

/// [`im2col`] with segments of `N` = kw·c values (0: any length).
#[inline(always)]
fn im2col_n<const N: usize>(g: &Window2d, x: &[f32], cols: &mut [f32]) {
    let (c, wc) = (g.c, g.w * g.c);
    let kwc = if N > 0 { N } else { g.kw * c };
    let mut rows = cols[..g.positions() * g.patch_len()].chunks_exact_mut(g.patch_len());
    for oh in 0..g.oh {
        let ih0 = (oh * g.sh) as isize - g.pad_top as isize;
        for ow in 0..g.ow {
            let iw0 = (ow * g.sw) as isize - g.pad_left as isize;
            let row = rows.next().expect("im2col: cols too short");
            let inside = iw0 >= 0 && iw0 as usize + g.kw <= g.w;
            for (i, seg) in row.chunks_exact_mut(kwc).enumerate() {
                let ih = ih0 + i as isize;
                if ih < 0 || ih as usize >= g.h {
                    seg.fill(0.0);
                } else if inside {
                    let start = ih as usize * wc + iw0 as usize * c;
                    seg[..kwc].copy_from_slice(&x[start..start + kwc]);
                } else {
                    let xrow = &x[ih as usize * wc..][..wc];
                    for (j, dst) in seg.chunks_exact_mut(c).enumerate() {
                        match usize::try_from(iw0 + j as isize) {
                            Ok(iw) if iw < g.w => dst.copy_from_slice(&xrow[iw * c..][..c]),
                            _ => dst.fill(0.0),
                        }
                    }
                }
            }
        }
    }
}

/// dcols: (OH·OW, KH·KW·C) → dx: (H, W, C), the adjoint of [`im2col`]: dx is overwritten with the
/// sum, over the windows that cover each input value, of its entries in dcols (fixed order).
pub fn col2im(g: &Window2d, dcols: &[f32], dx: &mut [f32]) {
    let (c, kwc, wc) = (g.c, g.kw * g.c, g.w * g.c);
    dx[..g.in_len()].fill(0.0);
    let mut rows = dcols[..g.positions() * g.patch_len()].chunks_exact(g.patch_len());
    for oh in 0..g.oh {
        let ih0 = (oh * g.sh) as isize - g.pad_top as isize;
        for ow in 0..g.ow {
            let iw0 = (ow * g.sw) as isize - g.pad_left as isize;
            let row = rows.next().expect("col2im: dcols too short");
            let inside = iw0 >= 0 && iw0 as usize + g.kw <= g.w;
            for (i, seg) in row.chunks_exact(kwc).enumerate() {
                let ih = ih0 + i as isize;
                if ih < 0 || ih as usize >= g.h {
                    continue;
                }
                let xrow = &mut dx[ih as usize * wc..][..wc];
                if inside {
                    // The window's row lies whole in the image: one run of kw·c values.
                    let dst = &mut xrow[iw0 as usize * c..][..kwc];
                    dst.iter_mut().zip(seg).for_each(|(d, &s)| *d += s);
                    continue;
                }
                for (j, src) in seg.chunks_exact(c).enumerate() {
                    let iw = iw0 + j as isize;
                    if iw >= 0 && (iw as usize) < g.w {
                        let dst = &mut xrow[iw as usize * c..][..c];
                        dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Padding, Size2};

    /// col2im is im2col's adjoint: <im2col(x), d> = <x, col2im(d)>.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        for (padding, s) in [(Padding::Valid, 1), (Padding::Same, 1), (Padding::Same, 2)] {
            let g = Window2d::new([5, 4, 2], Size2(3, 2), Size2(s, s), padding).unwrap();
            let x: Vec<f32> = (0..g.in_len()).map(|i| (i as f32 * 0.7).sin()).collect();
            let d: Vec<f32> = (0..g.positions() * g.patch_len()).map(|i| (i as f32 * 0.3).cos()).collect();
            let mut cols = vec![0.0; d.len()];
            let mut dx = vec![0.0; x.len()];
            im2col(&g, &x, &mut cols);
            col2im(&g, &d, &mut dx);
            let lhs: f64 = cols.iter().zip(&d).map(|(&a, &b)| a as f64 * b as f64).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(&a, &b)| a as f64 * b as f64).sum();
            assert!((lhs - rhs).abs() < 1e-4, "{padding:?} {s}: {lhs} vs {rhs}");
        }
    }
}
