//! Sets of 2-D float maps as grids, as the lesson draws them with `imshow`: a Conv2D's kernels
//! `(kh, kw, 1, F)` on one shared scale with a colour bar (`vmin=-0.5, vmax=0.5`), the input
//! image, and its activations `(H, W, C)` after each Conv2D, each map on its own scale. Written
//! against plain `&[f32]` and dimensions, channels last, so it does not depend on the layer type.

use std::path::Path;

use super::axis::Axis;
use super::canvas::{Align, Canvas, BLACK_RGB, WHITE_RGB};
use super::Colormap;
use crate::error::{Error, Result};

const PAD: u32 = 12;
const GAP: u32 = 4;
const TITLE: u32 = 26;
/// Each map is drawn at least this many pixels wide (a 3×3 kernel becomes 48×48).
const MIN_SIDE: u32 = 48;
/// The colour bar: its distance from the grid, width, least height, and room for its labels.
const BAR_GAP: u32 = 16;
const BAR_WIDTH: u32 = 14;
const BAR_MIN_HEIGHT: u32 = 100;
const BAR_LABELS: u32 = 56;
const LABEL_SIZE: f64 = 12.0;

/// How the values of a grid's maps become colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MapScale {
    /// Each map from its own minimum (the colour map's 0) to its maximum (1), as `imshow`
    /// scales by default; a constant map is drawn at 0.
    PerMap(Colormap),
    /// Every map on one scale, `vmin` to `vmax` (values beyond are drawn at the ends), with a
    /// colour bar beside the grid: `imshow(w, vmin=-0.5, vmax=0.5)`.
    Shared {
        /// The colour map.
        colormap: Colormap,
        /// The value drawn at the colour map's 0.
        vmin: f32,
        /// The value drawn at the colour map's 1.
        vmax: f32,
    },
}

/// One titled grid of maps.
#[derive(Clone, Debug)]
struct Section {
    title: String,
    rows: usize,
    cols: usize,
    /// Each map's `rows × cols` values, row-major.
    maps: Vec<Vec<f32>>,
    scale: MapScale,
}

/// Titled grids of maps stacked top to bottom (kernels, the input, one per Conv2D layer).
#[derive(Clone, Debug)]
pub struct FeatureMaps {
    sections: Vec<Section>,
    columns: usize,
}

impl Default for FeatureMaps {
    fn default() -> Self {
        FeatureMaps { sections: Vec::new(), columns: 16 }
    }
}

/// Where a section's pieces go: map scale (pixels per value), maps per row, grid size, height.
struct Placement {
    scale: u32,
    columns: u32,
    grid: (u32, u32),
    height: u32,
}

impl FeatureMaps {
    /// No maps yet; 16 maps per row.
    pub fn new() -> FeatureMaps {
        FeatureMaps::default()
    }

    /// Maps per row of a grid (at least 1).
    pub fn columns(mut self, columns: usize) -> FeatureMaps {
        self.columns = columns.max(1);
        self
    }

    /// Adds a grid titled `title` of the `channels` maps of `data`, laid out channels last:
    /// value `(y, x, c)` at `data[(y * cols + x) * channels + c]`. Activations `(H, W, C)` go in
    /// as they are; kernels `(kh, kw, 1, F)` as `(kh, kw, F)`; an image as `(H, W, 1)`.
    pub fn add(
        &mut self,
        title: impl Into<String>,
        data: &[f32],
        (rows, cols, channels): (usize, usize, usize),
        scale: MapScale,
    ) -> Result<&mut FeatureMaps> {
        let title = title.into();
        let size = rows.checked_mul(cols).and_then(|n| n.checked_mul(channels));
        if size == Some(0) {
            return Err(Error::shape(format!("{title}: maps of shape ({rows}, {cols}, {channels}) hold nothing")));
        }
        if size != Some(data.len()) {
            let needs = size.map_or("more than memory holds".to_string(), |n| n.to_string());
            let msg = format!("{title}: {} values, but shape ({rows}, {cols}, {channels}) needs {needs}", data.len());
            return Err(Error::shape(msg));
        }
        if let MapScale::Shared { vmin, vmax, .. } = scale {
            if !(vmin.is_finite() && vmax.is_finite() && vmin < vmax) {
                return Err(Error::value(format!("{title}: expected vmin < vmax, received {vmin} and {vmax}")));
            }
        }
        let maps = (0..channels).map(|c| (0..rows * cols).map(|p| data[p * channels + c]).collect()).collect();
        self.sections.push(Section { title, rows, cols, maps, scale });
        Ok(self)
    }

    fn place(&self, s: &Section) -> Placement {
        let scale = MIN_SIDE.div_ceil(s.rows.max(s.cols) as u32).max(1);
        let columns = self.columns.min(s.maps.len()) as u32;
        let grid_rows = s.maps.len().div_ceil(columns as usize) as u32;
        let grid = (columns * (s.cols as u32 * scale + GAP) - GAP, grid_rows * (s.rows as u32 * scale + GAP) - GAP);
        let bar = if matches!(s.scale, MapScale::Shared { .. }) { grid.1.max(BAR_MIN_HEIGHT) } else { 0 };
        Placement { scale, columns, grid, height: TITLE + grid.1.max(bar) }
    }

    /// The grids as one picture, each map scaled to at least 48 pixels.
    pub fn render(&self) -> Result<Canvas> {
        if self.sections.is_empty() {
            return Err(Error::value("no maps to draw"));
        }
        let placements: Vec<Placement> = self.sections.iter().map(|s| self.place(s)).collect();
        let width = self
            .sections
            .iter()
            .zip(&placements)
            .map(|(s, p)| match s.scale {
                MapScale::Shared { .. } => p.grid.0 + BAR_GAP + BAR_WIDTH + BAR_LABELS,
                MapScale::PerMap(_) => p.grid.0,
            })
            .max()
            .unwrap_or(0)
            .max(360)
            + 2 * PAD;
        let height = 2 * PAD + placements.iter().map(|p| p.height + PAD).sum::<u32>();
        let mut canvas = Canvas::new(width, height, WHITE_RGB);
        let mut y0 = PAD as i64;
        for (s, p) in self.sections.iter().zip(&placements) {
            canvas.text_fit((PAD as i32, y0 as i32 + 2), &s.title, 15.0, width - 2 * PAD, BLACK_RGB, Align::TopLeft)?;
            let top = y0 + TITLE as i64;
            draw_grid(&mut canvas, s, p, top);
            if let MapScale::Shared { colormap, vmin, vmax } = s.scale {
                let x = (PAD + p.grid.0 + BAR_GAP) as i64;
                draw_colour_bar(&mut canvas, (x, top), p.height - TITLE, colormap, (vmin, vmax))?;
            }
            y0 += (p.height + PAD) as i64;
        }
        Ok(canvas)
    }

    /// [`FeatureMaps::render`] written to `path` as PNG.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        self.render()?.save_png(path)
    }
}

/// The maps of `s` in rows of `p.columns` from `(PAD, top)`.
fn draw_grid(canvas: &mut Canvas, s: &Section, p: &Placement, top: i64) {
    let (mw, mh) = (s.cols as u32 * p.scale, s.rows as u32 * p.scale);
    for (i, map) in s.maps.iter().enumerate() {
        let x = (PAD + (i as u32 % p.columns) * (mw + GAP)) as i64;
        let y = top + ((i as u32 / p.columns) * (mh + GAP)) as i64;
        let (colormap, lo, hi) = match s.scale {
            MapScale::Shared { colormap, vmin, vmax } => (colormap, vmin, vmax),
            MapScale::PerMap(colormap) => {
                let (lo, hi) = map
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                (colormap, lo, hi)
            }
        };
        let span = if hi > lo { hi - lo } else { f32::INFINITY };
        canvas.draw_image(x, y, s.rows, s.cols, p.scale, |r, c| colormap.color((map[r * s.cols + c] - lo) / span));
    }
}

/// A vertical colour bar `height` pixels tall at `(x, y)`: `vmax` at the top, `vmin` at the
/// bottom, round ticks labelled on its right.
fn draw_colour_bar(
    canvas: &mut Canvas,
    (x, y): (i64, i64),
    height: u32,
    colormap: Colormap,
    (vmin, vmax): (f32, f32),
) -> Result<()> {
    for row in 0..height {
        let t = 1.0 - (row as f32 + 0.5) / height as f32;
        canvas.fill_rect(x, y + row as i64, BAR_WIDTH, 1, colormap.color(t));
    }
    canvas.stroke_rect(x, y, BAR_WIDTH, height, 1, [90; 3]);
    let axis = Axis::between(f64::from(vmin), f64::from(vmax), 4);
    for (&tick, label) in axis.ticks().iter().zip(axis.labels()) {
        let ty = y + ((1.0 - axis.fraction(tick)) * f64::from(height - 1)).round() as i64;
        canvas.fill_rect(x + BAR_WIDTH as i64, ty, 4, 1, [90; 3]);
        let at = ((x + BAR_WIDTH as i64 + 7) as i32, ty as i32);
        canvas.text_fit(at, label, LABEL_SIZE, BAR_LABELS - 8, BLACK_RGB, Align::CenterLeft)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_channels_and_normalises_each_map() {
        // (2, 2, 2): channel 0 rises 0..3, channel 1 falls 30..0 (ten times larger).
        let data = [0.0, 30.0, 1.0, 20.0, 2.0, 10.0, 3.0, 0.0];
        let mut fm = FeatureMaps::new();
        fm.add("conv2d (2, 2, 2)", &data, (2, 2, 2), MapScale::PerMap(Colormap::Gray)).unwrap();
        let c = fm.render().unwrap();
        let scale = MIN_SIDE / 2;
        let px = |map: u32, r: u32, col: u32| {
            c.pixel(PAD + map * (2 * scale + GAP) + col * scale + 1, PAD + TITLE + r * scale + 1)
        };
        // Each map spans black to white whatever its range.
        assert_eq!((px(0, 0, 0), px(0, 1, 1)), ([0; 3], [255; 3]));
        assert_eq!((px(1, 0, 0), px(1, 1, 1)), ([255; 3], [0; 3]));
        assert_eq!(px(0, 0, 1), [85; 3]);
        assert_eq!((c.width(), c.height()), (360 + 2 * PAD, 2 * PAD + TITLE + 2 * scale + PAD));
        let e = fm.add("k", &[0.0; 5], (3, 3, 1), MapScale::PerMap(Colormap::Viridis)).unwrap_err().to_string();
        assert_eq!(e, "k: 5 values, but shape (3, 3, 1) needs 9");
        let e = fm.add("k", &[0.0; 5], (usize::MAX, 3, 1), MapScale::PerMap(Colormap::Viridis)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("k: 5 values, but shape ({}, 3, 1) needs more than memory holds", usize::MAX)
        );
        let flat = MapScale::Shared { colormap: Colormap::RdBuR, vmin: 0.5, vmax: 0.5 };
        let e = fm.add("k", &[0.0; 9], (3, 3, 1), flat).unwrap_err().to_string();
        assert_eq!(e, "k: expected vmin < vmax, received 0.5 and 0.5");
        assert!(FeatureMaps::new().render().is_err());
    }

    #[test]
    fn kernels_share_one_diverging_scale_with_a_colour_bar() {
        // Two 3×3 kernels: one spans -0.5..0.5, the other is small (±0.1) and stays pale on the
        // shared scale; 0.9 is beyond vmax and drawn at its end.
        let (small, big): (Vec<f32>, Vec<f32>) =
            (0..9).map(|i| (0.025 * (i as f32 - 4.0), 0.125 * (i as f32 - 4.0))).unzip();
        let mut data: Vec<f32> = small.iter().zip(&big).flat_map(|(&s, &b)| [s, b]).collect();
        data[17] = 0.9;
        let mut fm = FeatureMaps::new();
        let shared = MapScale::Shared { colormap: Colormap::RdBuR, vmin: -0.5, vmax: 0.5 };
        fm.add("kernels", &data, (3, 3, 2), shared).unwrap();
        let c = fm.render().unwrap();
        let s = MIN_SIDE / 3;
        let px = |map: u32, r: u32, col: u32| c.pixel(PAD + map * (3 * s + GAP) + col * s + 2, PAD + TITLE + r * s + 2);
        let cm = Colormap::RdBuR;
        assert_eq!((px(1, 0, 0), px(1, 1, 1), px(1, 2, 2)), (cm.color(0.0), cm.color(0.5), cm.color(1.0)));
        assert_eq!((px(0, 0, 0), px(0, 2, 1)), (cm.color(0.4), cm.color(0.575)));
        // The bar: dark red at the top, dark blue at the bottom, white-ish (0) half way.
        let (bx, top) = (PAD + 2 * (3 * s + GAP) - GAP + BAR_GAP + BAR_WIDTH / 2, PAD + TITLE);
        let at_row = |row: u32| cm.color(1.0 - (row as f32 + 0.5) / BAR_MIN_HEIGHT as f32);
        assert_eq!((c.pixel(bx, top + 2), c.pixel(bx, top + 97)), (at_row(2), at_row(97)));
        assert_eq!((at_row(2), at_row(97)), ([122, 6, 34], [12, 61, 116]));
        assert_eq!(c.pixel(bx, top + 50), cm.color(0.495));
        assert_eq!(c.height(), 2 * PAD + TITLE + BAR_MIN_HEIGHT + PAD);
        // Its labels are ink to its right, from the top tick (0.5) to the bottom one (-0.5).
        let label_x = bx + BAR_WIDTH;
        let inked = |y: u32| (label_x..c.width()).any(|x| c.pixel(x, y)[0] < 128);
        assert!(inked(top + 1) && inked(top + BAR_MIN_HEIGHT / 2) && inked(top + BAR_MIN_HEIGHT - 2));
    }
}
