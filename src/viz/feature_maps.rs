//! Sets of 2-D float maps as grids, each map normalised to its own range: a Conv2D's kernels
//! `(kh, kw, 1, F)` or the activations `(H, W, C)` of one image after each Conv2D. Written
//! against plain `&[f32]` and dimensions, channels last, so it does not depend on the layer type.

use std::path::Path;

use super::canvas::{Align, Canvas, BLACK_RGB, WHITE_RGB};
use super::Colormap;
use crate::error::{Error, Result};

const PAD: u32 = 12;
const GAP: u32 = 4;
const TITLE: u32 = 26;
/// Each map is drawn at least this many pixels wide (a 3×3 kernel becomes 48×48).
const MIN_SIDE: u32 = 48;

/// One titled grid of maps.
#[derive(Clone, Debug)]
struct Section {
    title: String,
    rows: usize,
    cols: usize,
    /// Each map's `rows × cols` values, row-major.
    maps: Vec<Vec<f32>>,
}

/// Titled grids of maps stacked top to bottom (one per Conv2D layer), drawn with one colour map.
#[derive(Clone, Debug)]
pub struct FeatureMaps {
    sections: Vec<Section>,
    colormap: Colormap,
    columns: usize,
}

impl Default for FeatureMaps {
    fn default() -> Self {
        FeatureMaps { sections: Vec::new(), colormap: Colormap::Viridis, columns: 16 }
    }
}

impl FeatureMaps {
    /// No maps yet; viridis (`imshow`'s default), 16 maps per row.
    pub fn new() -> FeatureMaps {
        FeatureMaps::default()
    }

    pub fn colormap(mut self, colormap: Colormap) -> FeatureMaps {
        self.colormap = colormap;
        self
    }

    /// Maps per row of a grid (at least 1).
    pub fn columns(mut self, columns: usize) -> FeatureMaps {
        self.columns = columns.max(1);
        self
    }

    /// Adds a grid titled `title` of the `channels` maps of `data`, laid out channels last:
    /// value `(y, x, c)` at `data[(y * cols + x) * channels + c]`. Activations `(H, W, C)` go in
    /// as they are; kernels `(kh, kw, 1, F)` as `rows = kh, cols = kw, channels = F`.
    pub fn add(
        &mut self,
        title: impl Into<String>,
        data: &[f32],
        rows: usize,
        cols: usize,
        channels: usize,
    ) -> Result<&mut FeatureMaps> {
        let title = title.into();
        if rows == 0 || cols == 0 || channels == 0 {
            return Err(Error::shape(format!("{title}: maps of shape ({rows}, {cols}, {channels}) hold nothing")));
        }
        if data.len() != rows * cols * channels {
            let msg = format!(
                "{title}: {} values, but shape ({rows}, {cols}, {channels}) needs {}",
                data.len(),
                rows * cols * channels
            );
            return Err(Error::shape(msg));
        }
        let maps = (0..channels).map(|c| (0..rows * cols).map(|p| data[p * channels + c]).collect()).collect();
        self.sections.push(Section { title, rows, cols, maps });
        Ok(self)
    }

    /// The grids as one picture: each map scaled to at least 48 pixels, normalised from its own
    /// minimum (colour map's 0) to maximum (1); a constant map is drawn at 0.
    pub fn render(&self) -> Result<Canvas> {
        if self.sections.is_empty() {
            return Err(Error::value("no maps to draw"));
        }
        let layout: Vec<(u32, u32, u32, u32)> = self
            .sections
            .iter()
            .map(|s| {
                let scale = MIN_SIDE.div_ceil(s.rows.max(s.cols) as u32).max(1);
                let columns = self.columns.min(s.maps.len()) as u32;
                let grid_rows = s.maps.len().div_ceil(columns as usize) as u32;
                (scale, columns, grid_rows, TITLE + grid_rows * (s.rows as u32 * scale + GAP))
            })
            .collect();
        let width = self
            .sections
            .iter()
            .zip(&layout)
            .map(|(s, &(scale, columns, _, _))| columns * (s.cols as u32 * scale + GAP) - GAP)
            .max()
            .unwrap_or(0)
            .max(360)
            + 2 * PAD;
        let height = 2 * PAD + layout.iter().map(|l| l.3 + PAD).sum::<u32>();
        let mut canvas = Canvas::new(width, height, WHITE_RGB);
        let mut y0 = PAD as i64;
        for (s, &(scale, columns, _, section_h)) in self.sections.iter().zip(&layout) {
            canvas.text_fit((PAD as i32, y0 as i32 + 2), &s.title, 15.0, width - 2 * PAD, BLACK_RGB, Align::TopLeft)?;
            let (mw, mh) = (s.cols as u32 * scale, s.rows as u32 * scale);
            for (i, map) in s.maps.iter().enumerate() {
                let x = (PAD + (i as u32 % columns) * (mw + GAP)) as i64;
                let y = y0 + (TITLE + (i as u32 / columns) * (mh + GAP)) as i64;
                let (lo, hi) = map
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                let span = if hi > lo { hi - lo } else { f32::INFINITY };
                canvas.draw_image(x, y, s.rows, s.cols, scale, |r, c| {
                    self.colormap.color((map[r * s.cols + c] - lo) / span)
                });
            }
            y0 += (section_h + PAD) as i64;
        }
        Ok(canvas)
    }

    /// [`FeatureMaps::render`] written to `path` as PNG.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        self.render()?.save_png(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_channels_and_normalises_each_map() {
        // (2, 2, 2): channel 0 rises 0..3, channel 1 falls 30..0 (ten times larger).
        let data = [0.0, 30.0, 1.0, 20.0, 2.0, 10.0, 3.0, 0.0];
        let mut fm = FeatureMaps::new().colormap(Colormap::Gray);
        fm.add("conv2d (2, 2, 2)", &data, 2, 2, 2).unwrap();
        let c = fm.render().unwrap();
        let scale = MIN_SIDE / 2;
        let px = |map: u32, r: u32, col: u32| {
            c.pixel(PAD + map * (2 * scale + GAP) + col * scale + 1, PAD + TITLE + r * scale + 1)
        };
        // Each map spans black to white whatever its range.
        assert_eq!((px(0, 0, 0), px(0, 1, 1)), ([0; 3], [255; 3]));
        assert_eq!((px(1, 0, 0), px(1, 1, 1)), ([255; 3], [0; 3]));
        assert_eq!(px(0, 0, 1), [85; 3]);
        assert_eq!((c.width(), c.height()), (360 + 2 * PAD, 2 * PAD + TITLE + 2 * scale + GAP + PAD));
        let e = fm.add("k", &[0.0; 5], 3, 3, 1).unwrap_err().to_string();
        assert_eq!(e, "k: 5 values, but shape (3, 3, 1) needs 9");
        // Kernels (3, 3, 1, 4) and a constant map draw too.
        fm.add("kernels", &[1.0; 36], 3, 3, 4).unwrap();
        assert!(fm.render().unwrap().height() > c.height());
        assert!(FeatureMaps::new().render().is_err());
    }
}
