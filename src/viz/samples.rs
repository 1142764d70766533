//! A row (or grid) of images with captions: the lesson's first picture,
//! `axs[i].imshow(train_input[i], cmap='gray_r')` for ten images with their class names.

use std::path::Path;

use super::canvas::{Align, Canvas, Rgb, BLACK_RGB, WHITE_RGB};
use super::pixel_rgb;
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;

/// The most images one sheet holds (a 100 × 10 grid is already ~11,000 pixels tall).
pub const MAX_IMAGES: usize = 1000;
/// Images per row of a sheet, as the lesson's `plt.subplots(1, 10)`.
pub const COLUMNS: usize = 10;
/// A 28-pixel image is drawn 84 pixels wide.
pub const SCALE: u32 = 3;

const PAD: u32 = 12;
const GAP: u32 = 14;
const LINE: u32 = 15;
/// Between an image and its caption, clear of a frame around the image.
const CAPTION_GAP: u32 = 7;
const CAPTION_SIZE: f64 = 12.0;
const TITLE: u32 = 28;

/// One image of a sheet: its pixels (rows × cols × channels bytes: one channel drawn `gray_r`,
/// three or four in colour), caption lines below it, and an optional frame (wrong predictions
/// are framed in red).
#[derive(Clone, Debug)]
pub struct Tile<'a> {
    /// `rows × cols × channels` bytes: grayscale 0 white to 255 black, or RGB(A).
    pub pixels: &'a [u8],
    /// Lines of text under the image, each with its colour.
    pub captions: Vec<(String, Rgb)>,
    /// A frame around the image in this colour.
    pub frame: Option<Rgb>,
}

/// Checks that images `start..start + count` of a split of `n` images exist, phrased for the
/// CLI's `--start` and `--count` ("--count 20000 is more than the 10000 images of the test split").
pub fn check_selection(split: &str, n: usize, start: usize, count: usize) -> Result<()> {
    if count == 0 {
        return Err(Error::value("--count must be at least 1, received 0"));
    }
    if count > n {
        return Err(Error::value(format!("--count {count} is more than the {n} images of the {split} split")));
    }
    if start >= n {
        return Err(Error::value(format!(
            "--start {start} is out of range: the {split} split has {n} images (0 to {})",
            n - 1
        )));
    }
    if start + count > n {
        return Err(Error::value(format!(
            "--start {start} with --count {count} runs past the end of the {split} split ({n} images): \
             the last start for {count} images is {}",
            n - count
        )));
    }
    if count > MAX_IMAGES {
        return Err(Error::value(format!("--count {count} is more than the {MAX_IMAGES} images one picture holds")));
    }
    Ok(())
}

/// Images `start..start + count` of `images` (`[n, rows, cols]`) in rows of ten, each captioned
/// with its class name (`labels[i]` indexes `class_names`), dark ink on white; `title` above
/// them unless empty.
pub fn render_samples(
    images: &U8Tensor,
    labels: &U8Tensor,
    start: usize,
    count: usize,
    class_names: &[&str],
    title: &str,
) -> Result<Canvas> {
    let (n, rows, cols, channels) = image_dims(images)?;
    if labels.rows() != n {
        return Err(Error::shape(format!("{n} images but {} labels", labels.rows())));
    }
    check_selection("given", n, start, count)?;
    let size = rows * cols * channels;
    let tiles = (start..start + count)
        .map(|i| {
            let label = labels.data()[i] as usize;
            let name = class_names.get(label).map_or_else(|| label.to_string(), |s| s.to_string());
            Tile { pixels: &images.data()[i * size..(i + 1) * size], captions: vec![(name, BLACK_RGB)], frame: None }
        })
        .collect::<Vec<_>>();
    render_tiles(&tiles, rows, cols, COLUMNS.min(count), SCALE, title)
}

/// [`render_samples`] written to `path` as PNG.
pub fn save_samples(
    path: &Path,
    images: &U8Tensor,
    labels: &U8Tensor,
    start: usize,
    count: usize,
    class_names: &[&str],
    title: &str,
) -> Result<()> {
    render_samples(images, labels, start, count, class_names, title)?.save_png(path)
}

/// `(n, rows, cols, channels)` of a `[n, rows, cols]` (grayscale) or `[n, rows, cols, channels]`
/// (1, 3 or 4 channels) byte array.
pub(crate) fn image_dims(images: &U8Tensor) -> Result<(usize, usize, usize, usize)> {
    match *images.shape() {
        [n, rows, cols] if rows > 0 && cols > 0 => Ok((n, rows, cols, 1)),
        [n, rows, cols, c @ (1 | 3 | 4)] if rows > 0 && cols > 0 => Ok((n, rows, cols, c)),
        _ => Err(Error::shape(format!(
            "expected images of shape (n, rows, cols) or (n, rows, cols, 1|3|4), found {}",
            images.shape_str()
        ))),
    }
}

/// Where the images of a sheet go: `count` images of `rows × cols` pixels drawn `scale` times
/// larger, in rows of `columns`, `lines` caption lines under each, a title line above all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SheetLayout {
    /// Number of images.
    pub count: usize,
    /// Pixel rows of one image.
    pub rows: usize,
    /// Pixel columns of one image.
    pub cols: usize,
    /// Images per row of the sheet.
    pub columns: usize,
    /// Each pixel drawn as `scale × scale`.
    pub scale: u32,
    /// Caption lines under each image.
    pub lines: usize,
    /// Whether a title line goes above the sheet.
    pub titled: bool,
}

impl SheetLayout {
    /// The layout of [`render_samples`]: one caption line, a title.
    pub fn samples(count: usize, rows: usize, cols: usize) -> SheetLayout {
        SheetLayout { count, rows, cols, columns: COLUMNS.min(count), scale: SCALE, lines: 1, titled: true }
    }

    fn cell(&self) -> (u32, u32) {
        let (cw, ih) = (self.cols as u32 * self.scale, self.rows as u32 * self.scale);
        (cw, ih + CAPTION_GAP + self.lines as u32 * LINE)
    }

    fn top(&self) -> u32 {
        PAD + if self.titled { TITLE } else { 0 }
    }

    /// The picture's `(width, height)`.
    pub fn size(&self) -> (u32, u32) {
        let ((cw, ch), columns) = (self.cell(), self.columns.max(1) as u32);
        let grid_rows = self.count.div_ceil(columns as usize).max(1) as u32;
        (2 * PAD + columns * cw + (columns - 1) * GAP, self.top() + PAD + grid_rows * ch + (grid_rows - 1) * GAP)
    }

    /// The top-left corner of image `i`; its pixel `(r, c)` covers the `scale × scale` block
    /// from `(x + c * scale, y + r * scale)`.
    pub fn origin(&self, i: usize) -> (u32, u32) {
        let ((cw, ch), columns) = (self.cell(), self.columns.max(1));
        (PAD + (i % columns) as u32 * (cw + GAP), self.top() + (i / columns) as u32 * (ch + GAP))
    }
}

/// Lays `tiles` (each `rows × cols` pixels of 1, 3 or 4 channels, drawn `scale` times larger) out in rows of
/// `columns`, captions centred under each image, `title` (unless empty) above all.
pub fn render_tiles(
    tiles: &[Tile],
    rows: usize,
    cols: usize,
    columns: usize,
    scale: u32,
    title: &str,
) -> Result<Canvas> {
    if tiles.is_empty() || tiles.len() > MAX_IMAGES {
        return Err(Error::value(format!("a sheet holds 1 to {MAX_IMAGES} images, received {}", tiles.len())));
    }
    let lines = tiles.iter().map(|t| t.captions.len()).max().unwrap_or(0);
    let columns = columns.clamp(1, tiles.len());
    let layout = SheetLayout { count: tiles.len(), rows, cols, columns, scale, lines, titled: !title.is_empty() };
    let (width, height) = layout.size();
    let (cw, ih) = (cols as u32 * scale, rows as u32 * scale);
    let mut canvas = Canvas::new(width, height, WHITE_RGB);
    if !title.is_empty() {
        canvas.text_fit(
            (width as i32 / 2, PAD as i32 - 2),
            title,
            16.0,
            width - 2 * PAD,
            BLACK_RGB,
            Align::TopCenter,
        )?;
    }
    for (i, tile) in tiles.iter().enumerate() {
        let channels = tile.pixels.len() / (rows * cols).max(1);
        if !matches!(channels, 1 | 3 | 4) || tile.pixels.len() != rows * cols * channels {
            return Err(Error::shape(format!(
                "tile {i} has {} values, expected {rows}×{cols} pixels of 1, 3 or 4 channels",
                tile.pixels.len()
            )));
        }
        let (x, y) = layout.origin(i);
        let (x, y) = (x as i64, y as i64);
        canvas.draw_image(x, y, rows, cols, scale, |r, c| pixel_rgb(tile.pixels, r * cols + c, channels));
        if let Some(color) = tile.frame {
            canvas.stroke_rect(x - 4, y - 4, cw + 8, ih + 8, 3, color);
        }
        for (k, (text, color)) in tile.captions.iter().enumerate() {
            let ty = (y as u32 + ih + CAPTION_GAP + k as u32 * LINE) as i32;
            let cx = x as i32 + cw as i32 / 2;
            canvas.text_fit((cx, ty), text, CAPTION_SIZE, cw + GAP - 2, *color, Align::TopCenter)?;
        }
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three 2×3 images: image i has one pixel of value 255 at (i % 2, i).
    fn tiny() -> (U8Tensor, U8Tensor) {
        let mut data = vec![0u8; 18];
        for i in 0..3 {
            data[i * 6 + (i % 2) * 3 + i] = 255;
        }
        (U8Tensor::from_vec(&[3, 2, 3], data).unwrap(), U8Tensor::from_vec(&[3], vec![0, 1, 9]).unwrap())
    }

    #[test]
    fn places_pixels_gray_r_in_a_row() {
        let (x, y) = tiny();
        let c = render_samples(&x, &y, 0, 3, &["a", "b"], "").unwrap();
        let (cw, ch) = (3 * SCALE, 2 * SCALE + CAPTION_GAP + LINE);
        assert_eq!((c.width(), c.height()), (2 * PAD + 3 * cw + 2 * GAP, 2 * PAD + ch));
        for i in 0..3u32 {
            let x0 = PAD + i * (cw + GAP);
            let (r, col) = (i % 2, i);
            // The bright pixel is black, the others white; a frame-free gap separates images.
            assert_eq!(c.pixel(x0 + col * SCALE + 1, PAD + r * SCALE + 1), [0; 3]);
            assert_eq!(c.pixel(x0 + ((col + 1) % 3) * SCALE, PAD + r * SCALE), [255; 3]);
        }
        // Captions (class names, or the label itself past the names) are drawn below.
        let below =
            |x0: u32| (x0..x0 + cw).any(|x| (PAD + 2 * SCALE + 4..c.height()).any(|y| c.pixel(x, y) != [255; 3]));
        assert!((0..3).all(|i| below(PAD + i * (cw + GAP))));
    }

    #[test]
    fn rejects_bad_selections() {
        let e = |start, count| check_selection("test", 10000, start, count).unwrap_err().to_string();
        assert_eq!(e(0, 20000), "--count 20000 is more than the 10000 images of the test split");
        assert_eq!(e(10000, 1), "--start 10000 is out of range: the test split has 10000 images (0 to 9999)");
        assert!(e(9995, 10).contains("runs past the end of the test split"), "{}", e(9995, 10));
        assert!(e(0, 0).contains("at least 1"));
        assert!(check_selection("test", 10000, 9990, 10).is_ok());
        let (x, y) = tiny();
        assert!(render_samples(&x, &y, 2, 2, &[], "").is_err());
    }
}
