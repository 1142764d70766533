//! Pictures, as the Keras lesson shows them with matplotlib: sample images with their class
//! names ([`samples`], and [`terminal`] for the same row drawn with half blocks), the training
//! history graph ([`history_plot`]), the confusion matrix ([`confusion`]), a grid of predictions
//! ([`predictions`]) and convolution kernels / feature maps ([`feature_maps`]).
//!
//! Every picture is a [`Canvas`] first (tests read its pixels), then a PNG written atomically.

pub mod axis;
pub mod backend;
pub mod canvas;
pub mod confusion;
pub mod feature_maps;
mod glyphs;
pub mod history_file;
pub mod history_plot;
pub mod predictions;
pub mod samples;
pub mod terminal;

pub use canvas::{Align, Canvas, Rgb};
pub use confusion::ConfusionMatrix;
pub use feature_maps::{FeatureMaps, MapScale};
pub use history_file::read_history;
pub use history_plot::{gap_notes, plot_history, render_history};
pub use predictions::{render_predictions, save_predictions};
pub use samples::{check_selection, render_samples, save_samples, SheetLayout};

/// matplotlib's colour maps, the few the pictures use; `color(t)` takes `t` in `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    /// Black (0) to white (1).
    Gray,
    /// White (0) to black (1): `cmap='gray_r'`, dark ink on white, as the lesson shows clothes.
    GrayR,
    /// matplotlib's default, dark purple to yellow (feature maps).
    Viridis,
    /// White to dark blue (confusion matrix).
    Blues,
    /// Diverging, dark blue (0) through white (0.5) to dark red (1): `cmap='RdBu_r'`, for
    /// values on both sides of zero (kernels).
    RdBuR,
}

#[rustfmt::skip]
const VIRIDIS: [Rgb; 9] = [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const BLUES: [Rgb; 5] = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
/// ColorBrewer's RdBu as matplotlib has it, reversed: blue for low values.
#[rustfmt::skip]
const RDBU_R: [Rgb; 11] = [
    [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
    [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

impl Colormap {
    /// The colour of `t` (clamped to `[0, 1]`; NaN counts as 0).
    pub fn color(self, t: f32) -> Rgb {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            Colormap::Gray => [(t * 255.0).round() as u8; 3],
            Colormap::GrayR => [((1.0 - t) * 255.0).round() as u8; 3],
            Colormap::Viridis => interpolate(&VIRIDIS, t),
            Colormap::Blues => interpolate(&BLUES, t),
            Colormap::RdBuR => interpolate(&RDBU_R, t),
        }
    }
}

/// A byte pixel as `imshow(x, cmap='gray_r')` shows it: 0 white, 255 black.
pub fn gray_r(v: u8) -> Rgb {
    [255 - v; 3]
}

/// The colour of pixel `i` of a picture with `channels` values a pixel: one channel is drawn
/// `gray_r` (dark ink on white, as the lesson's `imshow(..., cmap='gray_r')`), three as the
/// colour they are, four as that colour over a white background by its alpha.
pub fn pixel_rgb(pixels: &[u8], i: usize, channels: usize) -> Rgb {
    let p = &pixels[i * channels..(i + 1) * channels];
    match channels {
        1 => gray_r(p[0]),
        3 => [p[0], p[1], p[2]],
        _ => {
            let a = p[3] as u32;
            let over_white = |v: u8| ((v as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            [over_white(p[0]), over_white(p[1]), over_white(p[2])]
        }
    }
}

/// Linear interpolation between evenly spaced anchor colours.
fn interpolate(anchors: &[Rgb], t: f32) -> Rgb {
    let pos = t * (anchors.len() - 1) as f32;
    let i = (pos.floor() as usize).min(anchors.len() - 2);
    let f = pos - i as f32;
    let (a, b) = (anchors[i], anchors[i + 1]);
    std::array::from_fn(|k| (a[k] as f32 + f * (b[k] as f32 - a[k] as f32)).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormaps_run_end_to_end() {
        assert_eq!((gray_r(0), gray_r(255)), ([255; 3], [0; 3]));
        assert_eq!((Colormap::GrayR.color(0.0), Colormap::GrayR.color(1.0)), ([255; 3], [0; 3]));
        assert_eq!((Colormap::Gray.color(-1.0), Colormap::Gray.color(2.0)), ([0; 3], [255; 3]));
        assert_eq!((Colormap::Viridis.color(0.0), Colormap::Viridis.color(1.0)), (VIRIDIS[0], VIRIDIS[8]));
        assert_eq!(Colormap::Blues.color(0.5), BLUES[2]);
        assert_eq!(Colormap::Blues.color(f32::NAN), BLUES[0]);
        let rdbu = (Colormap::RdBuR.color(0.0), Colormap::RdBuR.color(0.5), Colormap::RdBuR.color(1.0));
        assert_eq!(rdbu, ([5, 48, 97], [247, 247, 247], [103, 0, 31]));
    }
}
