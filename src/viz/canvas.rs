//! An RGB picture in memory: pixels drawn directly, text and charts through plotters' bitmap
//! backend over the same buffer, written out as PNG (the `png` crate) atomically.

use std::io::Cursor;
use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::backend::GlyphBackend;
use super::glyphs::FONT_BYTES;
use crate::error::{Error, Result};
use crate::fs::write_atomic;

/// One pixel's colour.
pub type Rgb = [u8; 3];

/// The background.
pub const WHITE_RGB: Rgb = [255, 255, 255];
/// Text and axes.
pub const BLACK_RGB: Rgb = [0, 0, 0];
/// Wrong predictions (matplotlib's `tab:red`).
pub const RED_RGB: Rgb = [214, 39, 40];
/// Right predictions (matplotlib's `tab:green`, darkened for text on white).
pub const GREEN_RGB: Rgb = [20, 120, 20];

/// Registers the bundled font as plotters' "sans-serif" (once per process): plotters measures
/// multi-line text (legends) with it; everything is drawn by [`GlyphBackend`].
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the bundled DejaVuSans.ttf is not a valid font");
        }
    });
}

/// A picture of `width × height` RGB pixels, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

/// Where a piece of text hangs from its anchor point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Align {
    /// The anchor is the top-left corner of the text.
    TopLeft,
    /// The anchor is the middle of the text's top edge.
    TopCenter,
    /// The anchor is the middle of the text's left edge.
    CenterLeft,
    /// The anchor is the middle of the text's right edge.
    CenterRight,
    /// The anchor is the middle of the text.
    Center,
}

impl Canvas {
    /// A picture filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Canvas {
        let n = width as usize * height as usize;
        Canvas { width, height, rgb: background.repeat(n) }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixel at column `x`, row `y`.
    #[track_caller]
    pub fn pixel(&self, x: u32, y: u32) -> Rgb {
        assert!(x < self.width && y < self.height, "pixel ({x}, {y}) outside {}×{}", self.width, self.height);
        let i = 3 * (y as usize * self.width as usize + x as usize);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Sets one pixel; pixels outside the picture are ignored.
    pub fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && x < self.width as i64 && y < self.height as i64 {
            let i = 3 * (y as usize * self.width as usize + x as usize);
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills the `w × h` rectangle whose top-left corner is `(x, y)` (clipped to the picture).
    pub fn fill_rect(&mut self, x: i64, y: i64, w: u32, h: u32, c: Rgb) {
        for yy in y..y + h as i64 {
            for xx in x..x + w as i64 {
                self.set(xx, yy, c);
            }
        }
    }

    /// A frame `thickness` pixels wide just inside the `w × h` rectangle at `(x, y)`.
    pub fn stroke_rect(&mut self, x: i64, y: i64, w: u32, h: u32, thickness: u32, c: Rgb) {
        let t = thickness.min(w).min(h);
        self.fill_rect(x, y, w, t, c);
        self.fill_rect(x, y + (h - t) as i64, w, t, c);
        self.fill_rect(x, y, t, h, c);
        self.fill_rect(x + (w - t) as i64, y, t, h, c);
    }

    /// Draws a `rows × cols` image at `(x, y)`, each source pixel a `scale × scale` block of the
    /// colour `color(row, col)` (nearest-neighbour, as `imshow` shows small images).
    pub fn draw_image(
        &mut self,
        x: i64,
        y: i64,
        rows: usize,
        cols: usize,
        scale: u32,
        color: impl Fn(usize, usize) -> Rgb,
    ) {
        let s = scale as i64;
        for r in 0..rows {
            for c in 0..cols {
                self.fill_rect(x + c as i64 * s, y + r as i64 * s, scale, scale, color(r, c));
            }
        }
    }

    /// Draws `text` in the bundled font, `size` pixels high, hanging from `(x, y)` as `align` says.
    pub fn text(&mut self, (x, y): (i32, i32), text: &str, size: f64, color: Rgb, align: Align) -> Result<()> {
        let (h, v) = match align {
            Align::TopLeft => (HPos::Left, VPos::Top),
            Align::TopCenter => (HPos::Center, VPos::Top),
            Align::CenterLeft => (HPos::Left, VPos::Center),
            Align::CenterRight => (HPos::Right, VPos::Center),
            Align::Center => (HPos::Center, VPos::Center),
        };
        let rgb = RGBColor(color[0], color[1], color[2]);
        let style = font(size).color(&rgb).pos(Pos::new(h, v));
        self.with_plotters(|area| area.draw_text(text, &style, (x, y)).map_err(draw_error))
    }

    /// Draws `text` turned a quarter left, reading bottom to top (a y-axis name), centred on `(x, y)`.
    pub fn text_up(&mut self, (x, y): (i32, i32), text: &str, size: f64, color: Rgb) -> Result<()> {
        let rgb = RGBColor(color[0], color[1], color[2]);
        let style =
            font(size).color(&rgb).pos(Pos::new(HPos::Center, VPos::Center)).transform(FontTransform::Rotate270);
        self.with_plotters(|area| area.draw_text(text, &style, (x, y)).map_err(draw_error))
    }

    /// Like [`Canvas::text`], shrinking the font (down to 7 px) until the text is at most
    /// `max_width` pixels wide: long class names still fit under a small image.
    pub fn text_fit(
        &mut self,
        (x, y): (i32, i32),
        text: &str,
        size: f64,
        max_width: u32,
        color: Rgb,
        align: Align,
    ) -> Result<()> {
        let mut s = size;
        while s > 7.0 && self.text_width(text, s)? > max_width {
            s -= 0.5;
        }
        self.text((x, y), text, s, color, align)
    }

    /// How many pixels wide `text` is at `size`.
    pub fn text_width(&mut self, text: &str, size: f64) -> Result<u32> {
        let style = font(size);
        self.with_plotters(|area| area.estimate_text_size(text, &style).map(|(w, _)| w).map_err(draw_error))
    }

    /// Runs `draw` on a plotters drawing area over this picture (charts, text).
    pub fn with_plotters<T>(
        &mut self,
        draw: impl FnOnce(&DrawingArea<GlyphBackend, plotters::coord::Shift>) -> Result<T>,
    ) -> Result<T> {
        register_font();
        let size = (self.width, self.height);
        let area = GlyphBackend::with_buffer(&mut self.rgb, size).into_drawing_area();
        let out = draw(&area)?;
        area.present().map_err(draw_error)?;
        Ok(out)
    }

    /// The picture as PNG bytes (8-bit RGB).
    pub fn encode_png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let encode_error = |e: png::EncodingError| Error::value(format!("PNG encoding failed: {e}"));
        let mut w = enc.write_header().map_err(encode_error)?;
        w.write_image_data(&self.rgb).map_err(encode_error)?;
        w.finish().map_err(encode_error)?;
        Ok(out)
    }

    /// Writes the picture to `path` as PNG, atomically; errors name the path.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.encode_png()?)
    }

    /// Reads an 8-bit RGB or grayscale PNG (what [`Canvas::save_png`] writes; tests read pictures back).
    pub fn read_png(path: &Path) -> Result<Canvas> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |e: png::DecodingError| Error::format(path, format!("not a readable PNG: {e}"));
        let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().map_err(bad)?;
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut buf).map_err(bad)?;
        buf.truncate(info.buffer_size());
        let rgb = match (info.color_type, info.bit_depth) {
            (png::ColorType::Rgb, png::BitDepth::Eight) => buf,
            (png::ColorType::Grayscale, png::BitDepth::Eight) => buf.iter().flat_map(|&g| [g, g, g]).collect(),
            (c, d) => return Err(Error::format(path, format!("expected 8-bit RGB or grayscale, found {c:?} {d:?}"))),
        };
        Ok(Canvas { width: info.width, height: info.height, rgb })
    }
}

/// The bundled font at `size` (plotters looks the font up when the style is made).
fn font(size: f64) -> TextStyle<'static> {
    register_font();
    TextStyle::from(("sans-serif", size).into_font())
}

fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::value(format!("drawing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_blocks_and_text_and_round_trips_png() {
        let mut c = Canvas::new(60, 30, WHITE_RGB);
        c.draw_image(2, 2, 2, 2, 3, |r, col| if r == col { BLACK_RGB } else { RED_RGB });
        assert_eq!(
            (c.pixel(2, 2), c.pixel(4, 4), c.pixel(5, 2), c.pixel(8, 8)),
            (BLACK_RGB, BLACK_RGB, RED_RGB, WHITE_RGB)
        );
        let before = c.clone();
        c.text((30, 15), "Bag", 12.0, BLACK_RGB, Align::Center).unwrap();
        assert_ne!(c, before, "the bundled font draws text");
        assert!(c.text_width("Ankle boot", 12.0).unwrap() > c.text_width("Bag", 12.0).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        c.save_png(&path).unwrap();
        assert_eq!(Canvas::read_png(&path).unwrap(), c);
        let err = c.save_png(&dir.path().join("missing/c.png")).unwrap_err().to_string();
        assert!(err.contains("missing/c.png"), "{err}");
    }

    /// The holes between runs of inked columns in `c` (widest last), each with the column it starts after.
    fn holes(c: &Canvas) -> Vec<(u32, u32)> {
        let inked: Vec<bool> = (0..c.width()).map(|x| (0..c.height()).any(|y| c.pixel(x, y)[0] < 200)).collect();
        let mut holes = Vec::new();
        let (mut last_ink, mut run) = (None, 0);
        for (x, &ink) in inked.iter().enumerate() {
            match (ink, last_ink) {
                (true, Some(end)) if run > 0 => holes.push((run, end)),
                _ => {}
            }
            if ink {
                (last_ink, run) = (Some(x as u32), 0);
            } else {
                run += 1;
            }
        }
        holes.sort();
        holes
    }

    #[test]
    fn letters_are_spaced_as_words() {
        // As the pictures set them: every hole inside a word is narrower than a space
        // (plotters' own text drew "train im ages", "Predi cted cl ass").
        for (text, size) in
            [("Fashion-MNIST train images 0 to 9", 16.0), ("Predicted class", 14.0), ("Ankle boot", 12.0)]
        {
            let mut c = Canvas::new(320, 30, WHITE_RGB);
            c.text((4, 4), text, size, BLACK_RGB, Align::TopLeft).unwrap();
            let holes = holes(&c);
            let (inner, spaces) = holes.split_at(holes.len() - text.matches(' ').count());
            let widest_inner = inner.last().map_or(0, |h| h.0);
            assert!(widest_inner + 2 <= spaces[0].0, "{text:?}: holes (width, after column) {holes:?}");
        }
    }

    /// The smallest box `(x0, y0, x1, y1)` around the pixels darker than mid-grey.
    fn ink_box(c: &Canvas) -> (u32, u32, u32, u32) {
        let ink: Vec<(u32, u32)> = (0..c.height())
            .flat_map(|y| (0..c.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| c.pixel(x, y)[0] < 128)
            .collect();
        let (xs, ys) = (ink.iter().map(|p| p.0), ink.iter().map(|p| p.1));
        (xs.clone().min().unwrap(), ys.clone().min().unwrap(), xs.max().unwrap(), ys.max().unwrap())
    }

    #[test]
    fn text_turned_up_reads_bottom_to_top_around_its_centre() {
        let mut flat = Canvas::new(200, 200, WHITE_RGB);
        flat.text((100, 100), "True class", 14.0, BLACK_RGB, Align::Center).unwrap();
        let mut up = Canvas::new(200, 200, WHITE_RGB);
        up.text_up((100, 100), "True class", 14.0, BLACK_RGB).unwrap();
        let ((fx0, fy0, fx1, fy1), (ux0, uy0, ux1, uy1)) = (ink_box(&flat), ink_box(&up));
        // The same ink, a quarter turn: width and height swap, both centred near (100, 100).
        assert!((fx1 - fx0).abs_diff(uy1 - uy0) <= 1 && (fy1 - fy0).abs_diff(ux1 - ux0) <= 1);
        assert!((uy1 - uy0) > 4 * (ux1 - ux0), "tall and narrow: {:?}", ink_box(&up));
        assert!((ux0 + ux1).abs_diff(200) <= 6 && (uy0 + uy1).abs_diff(200) <= 3, "{:?}", ink_box(&up));
        // Pixel for pixel: what lies `d` pixels right of the centre in the flat text lies `d`
        // pixels above it turned up (the text reads bottom to top).
        for (x, y) in (fy0..=fy1).flat_map(|y| (fx0..=fx1).map(move |x| (x, y))) {
            assert_eq!(flat.pixel(x, y), up.pixel(y, 200 - x), "({x}, {y})");
        }
    }
}
