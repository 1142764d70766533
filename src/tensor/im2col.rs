//! Sliding-window geometry (TF's "valid"/"same" padding) and the im2col / col2im copies that turn
//! a 2-D convolution into one matrix product. Images are channels-last: one sample is (H, W, C).

use crate::error::{Error, Result};

/// Keras's `padding`: "valid" (no padding) or "same" (TF's: out = ceil(in / stride), the extra
/// padding on the bottom/right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    #[default]
    Valid,
    Same,
}

impl Padding {
    pub fn parse(name: &str) -> Result<Padding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(Error::value(format!("unknown padding '{other}'; valid paddings: valid, same"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

/// A (height, width) pair: kernel sizes, pool sizes, strides. `3.into()` is `(3, 3)`, as Keras
/// accepts an int for a square window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size2(pub usize, pub usize);

impl From<usize> for Size2 {
    fn from(n: usize) -> Size2 {
        Size2(n, n)
    }
}

impl From<(usize, usize)> for Size2 {
    fn from((h, w): (usize, usize)) -> Size2 {
        Size2(h, w)
    }
}

impl Size2 {
    /// Keras's JSON: `[h, w]`.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!([self.0, self.1])
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0 && self.1 > 0
    }
}

impl std::fmt::Display for Size2 {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "({}, {})", self.0, self.1)
    }
}

/// Output size and leading padding along one axis, or None when a "valid" window does not fit.
pub fn window_axis(input: usize, k: usize, stride: usize, padding: Padding) -> Option<(usize, usize)> {
    match padding {
        Padding::Valid if k > input => None,
        Padding::Valid => Some(((input - k) / stride + 1, 0)),
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride).saturating_add(k).saturating_sub(input);
            Some((out, total / 2))
        }
    }
}

/// Where a (kh, kw) window with strides (sh, sw) lands on an (h, w, c) sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window2d {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Window2d {
    /// None when a "valid" window is larger than the input.
    pub fn new(hwc: [usize; 3], k: Size2, strides: Size2, padding: Padding) -> Option<Window2d> {
        let [h, w, c] = hwc;
        let (oh, pad_top) = window_axis(h, k.0, strides.0, padding)?;
        let (ow, pad_left) = window_axis(w, k.1, strides.1, padding)?;
        let (kh, kw, sh, sw) = (k.0, k.1, strides.0, strides.1);
        Some(Window2d { h, w, c, kh, kw, sh, sw, pad_top, pad_left, oh, ow })
    }

    /// Values in one input sample: h·w·c.
    pub fn in_len(&self) -> usize {
        self.h * self.w * self.c
    }

    /// Output positions per sample: oh·ow.
    pub fn positions(&self) -> usize {
        self.oh * self.ow
    }

    /// Length of one im2col row: kh·kw·c.
    pub fn patch_len(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Input rows `ih` covered by output row `oh` (clipped to the image).
    pub fn rows(&self, oh: usize) -> std::ops::Range<usize> {
        clip(oh * self.sh, self.pad_top, self.kh, self.h)
    }

    /// Input columns `iw` covered by output column `ow` (clipped to the image).
    pub fn cols(&self, ow: usize) -> std::ops::Range<usize> {
        clip(ow * self.sw, self.pad_left, self.kw, self.w)
    }
}

/// `[start - pad, start - pad + k) ∩ [0, n)`.
fn clip(start: usize, pad: usize, k: usize, n: usize) -> std::ops::Range<usize> {
    let lo = start.saturating_sub(pad);
    let hi = start.saturating_add(k).saturating_sub(pad).min(n);
    lo..hi.max(lo)
}

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

    #[test]
    fn same_padding_follows_tensorflow() {
        // in 5, k 3, stride 2: out 3, pad_total max(2·2 + 3 − 5, 0) = 2, top 1.
        assert_eq!(window_axis(5, 3, 2, Padding::Same), Some((3, 1)));
        // in 4, k 2, stride 2: no padding. in 5, k 2, stride 2: one extra row at the bottom.
        assert_eq!(window_axis(4, 2, 2, Padding::Same), Some((2, 0)));
        assert_eq!(window_axis(5, 2, 2, Padding::Same), Some((3, 0)));
        assert_eq!(window_axis(5, 3, 1, Padding::Valid), Some((3, 0)));
        assert_eq!(window_axis(2, 3, 1, Padding::Valid), None);
    }

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
