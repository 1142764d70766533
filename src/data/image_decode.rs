//! One picture file to bytes in the shape a model takes: decoded (PNG, JPEG, BMP, GIF; the
//! format is read from the content, as TensorFlow's `decode_image` does), converted to the
//! colour mode's channels, and resized with bilinear interpolation as `tf.image.resize` does
//! (half-pixel centres, no antialiasing), rounded back to bytes.

use std::path::Path;

use image::DynamicImage;

use crate::error::{Error, Result};

/// The channels a picture is converted to (Keras's `color_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorMode {
    /// One channel (luma, as Pillow's `L` conversion).
    Grayscale,
    #[default]
    /// Three channels.
    Rgb,
    /// Four channels, with alpha.
    Rgba,
}

impl ColorMode {
    /// Keras's words: "grayscale", "rgb", "rgba".
    pub fn parse(s: &str) -> Result<ColorMode> {
        match s {
            "grayscale" => Ok(ColorMode::Grayscale),
            "rgb" => Ok(ColorMode::Rgb),
            "rgba" => Ok(ColorMode::Rgba),
            _ => {
                Err(Error::value(format!("color_mode must be one of \"rgb\", \"rgba\", \"grayscale\", received: {s}")))
            }
        }
    }

    /// The mode with this many channels: 1, 3 or 4.
    pub fn from_channels(c: usize) -> Result<ColorMode> {
        match c {
            1 => Ok(ColorMode::Grayscale),
            3 => Ok(ColorMode::Rgb),
            4 => Ok(ColorMode::Rgba),
            _ => Err(Error::shape(format!(
                "a picture can be given as 1 (grayscale), 3 (rgb) or 4 (rgba) channels, not {c}"
            ))),
        }
    }

    /// The number of channels: 1, 3 or 4.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
            ColorMode::Rgba => 4,
        }
    }

    /// Keras's word for it: "grayscale", "rgb" or "rgba".
    pub fn name(self) -> &'static str {
        match self {
            ColorMode::Grayscale => "grayscale",
            ColorMode::Rgb => "rgb",
            ColorMode::Rgba => "rgba",
        }
    }
}

/// Reads and decodes `path` into `out`: `(height, width, channels)` bytes, row-major.
/// `out.len()` must be `height * width * mode.channels()`.
pub fn load_picture(path: &Path, (height, width): (usize, usize), mode: ColorMode, out: &mut [u8]) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| Error::format(path, format!("cannot decode the picture (corrupt or truncated?): {e}")))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let pixels = convert(img, mode);
    if (h, w) == (height, width) {
        out.copy_from_slice(&pixels);
    } else {
        resize_bilinear(&pixels, (h, w), (height, width), mode.channels(), out);
    }
    Ok(())
}

/// The picture's pixels as `mode`'s channels, 8 bits each.
fn convert(img: DynamicImage, mode: ColorMode) -> Vec<u8> {
    match mode {
        ColorMode::Grayscale => img.into_luma8().into_raw(),
        ColorMode::Rgb => img.into_rgb8().into_raw(),
        ColorMode::Rgba => img.into_rgba8().into_raw(),
    }
}

/// `tf.image.resize(method="bilinear")`: source coordinate `(o + 0.5) * in / out - 0.5`,
/// clamped at the edges; results rounded to the nearest byte.
pub fn resize_bilinear(src: &[u8], (ih, iw): (usize, usize), (oh, ow): (usize, usize), c: usize, out: &mut [u8]) {
    let axis = |o: usize, n_in: usize, n_out: usize| {
        let x = ((o as f32 + 0.5) * (n_in as f32 / n_out as f32) - 0.5).max(0.0);
        let lo = (x.floor() as usize).min(n_in - 1);
        (lo, (lo + 1).min(n_in - 1), x - x.floor())
    };
    let cols: Vec<_> = (0..ow).map(|x| axis(x, iw, ow)).collect();
    for y in 0..oh {
        let (y0, y1, fy) = axis(y, ih, oh);
        for (x, &(x0, x1, fx)) in cols.iter().enumerate() {
            for k in 0..c {
                let p = |yy: usize, xx: usize| src[(yy * iw + xx) * c + k] as f32;
                let top = p(y0, x0) + (p(y0, x1) - p(y0, x0)) * fx;
                let bottom = p(y1, x0) + (p(y1, x1) - p(y1, x0)) * fx;
                out[(y * ow + x) * c + k] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_matches_tensorflow() {
        // tf.image.resize([[0, 100], [200, 255]] as (2, 2, 1), (4, 4)) by TensorFlow's formula
        // (lower = max(floor(in), 0), upper = min(ceil(in), size - 1)): rows [0, 25, 75, 100], [50, 72.1875, 116.5625, 138.75], [150, 166.5625, 199.6875, 216.25],
        // [200, 213.75, 241.25, 255].
        let mut out = [0u8; 16];
        resize_bilinear(&[0, 100, 200, 255], (2, 2), (4, 4), 1, &mut out);
        assert_eq!(out, [0, 25, 75, 100, 50, 72, 117, 139, 150, 167, 200, 216, 200, 214, 241, 255]);
        // Downsizing 4 -> 2 averages the two middle pixels of each pair of pairs.
        let mut out = [0u8; 2];
        resize_bilinear(&[0, 10, 20, 30], (1, 4), (1, 2), 1, &mut out);
        assert_eq!(out, [5, 25]);
    }

    #[test]
    fn parses_colour_modes() {
        assert_eq!(ColorMode::parse("rgba").unwrap().channels(), 4);
        let e = ColorMode::parse("cmyk").unwrap_err().to_string();
        assert_eq!(e, "color_mode must be one of \"rgb\", \"rgba\", \"grayscale\", received: cmyk");
        let e = ColorMode::from_channels(2).unwrap_err().to_string();
        assert_eq!(e, "a picture can be given as 1 (grayscale), 3 (rgb) or 4 (rgba) channels, not 2");
    }
}
