//! A grid of test images with the predicted and the true class; wrong predictions are framed
//! and captioned in red.

use std::path::Path;

use super::canvas::{Canvas, BLACK_RGB, GREEN_RGB, RED_RGB};
use super::samples::{image_dims, render_tiles, Tile, SCALE};
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;

/// `images` (`[n, rows, cols]`) in rows of `columns`, each captioned with its predicted class
/// (green when right) and, when wrong, framed in red with its true class underneath.
pub fn render_predictions(
    images: &U8Tensor,
    predicted: &[usize],
    truth: &[usize],
    class_names: &[&str],
    columns: usize,
) -> Result<Canvas> {
    let (n, rows, cols, channels) = image_dims(images)?;
    if predicted.len() != n || truth.len() != n {
        let msg = format!(
            "{n} images, {} predictions and {} true labels: expected as many of each",
            predicted.len(),
            truth.len()
        );
        return Err(Error::shape(msg));
    }
    let name = |c: usize| class_names.get(c).map_or_else(|| c.to_string(), |s| s.to_string());
    let size = rows * cols * channels;
    let tiles: Vec<Tile> = (0..n)
        .map(|i| {
            let (p, t) = (predicted[i], truth[i]);
            let pixels = &images.data()[i * size..(i + 1) * size];
            if p == t {
                Tile { pixels, captions: vec![(name(p), GREEN_RGB)], frame: None }
            } else {
                let captions = vec![(name(p), RED_RGB), (format!("true: {}", name(t)), BLACK_RGB)];
                Tile { pixels, captions, frame: Some(RED_RGB) }
            }
        })
        .collect();
    let wrong = (0..n).filter(|&i| predicted[i] != truth[i]).count();
    let title = format!("Predicted class (wrong in red, true class below): {wrong} of {n} wrong");
    render_tiles(&tiles, rows, cols, columns, SCALE, &title)
}

/// [`render_predictions`] written to `path` as PNG.
pub fn save_predictions(
    path: &Path,
    images: &U8Tensor,
    predicted: &[usize],
    truth: &[usize],
    class_names: &[&str],
    columns: usize,
) -> Result<()> {
    render_predictions(images, predicted, truth, class_names, columns)?.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_wrong_predictions_in_red() {
        let images = U8Tensor::from_vec(&[4, 2, 2], vec![0; 16]).unwrap();
        let c = render_predictions(&images, &[0, 1, 2, 3], &[0, 2, 2, 3], &["a", "b", "c", "d"], 2).unwrap();
        let red =
            |x0: u32, y0: u32| (x0..x0 + 6 * SCALE).any(|x| (y0..y0 + 6 * SCALE).any(|y| c.pixel(x, y) == RED_RGB));
        // Image 1 (top right) is wrong: red frame around it; image 0 (top left) is right: none
        // (looked for in the frame's band, left of and above each image).
        let (cell, top) = (2 * SCALE + 14, 12 + 28);
        assert!(red(12 + cell - 5, top - 5));
        assert!(!red(7, top - 5));
        assert!(render_predictions(&images, &[0], &[0], &[], 2).is_err());
    }
}
