//! Sliding-window geometry (TF's "valid"/"same" padding) of convolutions and poolings. Images are
//! channels-last: one sample is (H, W, C).

use crate::error::{Error, Result};

/// Keras's `padding`: "valid" (no padding) or "same" (TF's: out = ceil(in / stride), the extra
/// padding on the bottom/right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    #[default]
    /// No padding: windows stay inside the input.
    Valid,
    /// Zero padding so that stride 1 keeps the size (extra padding at the bottom and right, as TensorFlow).
    Same,
}

impl Padding {
    /// Keras's words: "valid", "same".
    pub fn parse(name: &str) -> Result<Padding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(Error::value(format!("unknown padding '{other}'; valid paddings: valid, same"))),
        }
    }

    /// Keras's word for it.
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

    /// Whether both sizes are at least 1.
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
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Input channels.
    pub c: usize,
    /// Window height.
    pub kh: usize,
    /// Window width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Zero rows added above the input.
    pub pad_top: usize,
    /// Zero columns added left of the input.
    pub pad_left: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
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
}
