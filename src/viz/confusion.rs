//! The confusion matrix: how many images of each true class were predicted as each class, with
//! per-class accuracy (recall), as a terminal table (`Display`) and as a PNG heat map.

use std::fmt;
use std::path::Path;

use super::canvas::{Align, Canvas, BLACK_RGB, WHITE_RGB};
use super::Colormap;
use crate::error::{Error, Result};

/// The heat map's cells, the strip for the turned-up "True class", the row names, the head
/// (title, "Predicted class", column names) and the accuracy column, in pixels.
const CELL: u32 = 64;
const AXIS_LABEL: u32 = 26;
const ROW_LABELS: u32 = 112;
const HEAD: u32 = 78;
const ACC: u32 = 86;

/// Counts of (true class, predicted class) pairs; row = true class, column = predicted.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<usize>,
    names: Vec<String>,
}

impl ConfusionMatrix {
    /// Counts `pred[i]` against `truth[i]`; both must have the same length and hold classes
    /// `0..n_classes`. Classes are named by their index until [`ConfusionMatrix::with_class_names`].
    pub fn from_predictions(pred: &[usize], truth: &[usize], n_classes: usize) -> Result<ConfusionMatrix> {
        if pred.len() != truth.len() {
            return Err(Error::shape(format!("{} predictions but {} true labels", pred.len(), truth.len())));
        }
        if n_classes == 0 {
            return Err(Error::value("a confusion matrix needs at least 1 class, received n_classes=0"));
        }
        let mut counts = vec![0; n_classes * n_classes];
        for (i, (&p, &t)) in pred.iter().zip(truth).enumerate() {
            if p >= n_classes || t >= n_classes {
                return Err(Error::value(format!(
                    "image {i}: predicted class {p}, true class {t}; expected classes 0 to {}",
                    n_classes - 1
                )));
            }
            counts[t * n_classes + p] += 1;
        }
        let names = (0..n_classes).map(|i| i.to_string()).collect();
        Ok(ConfusionMatrix { n_classes, counts, names })
    }

    /// Names the classes (`CLASS_NAMES` for Fashion-MNIST); there must be one per class.
    pub fn with_class_names(mut self, names: &[&str]) -> Result<ConfusionMatrix> {
        if names.len() != self.n_classes {
            return Err(Error::value(format!("{} class names for {} classes", names.len(), self.n_classes)));
        }
        self.names = names.iter().map(|s| s.to_string()).collect();
        Ok(self)
    }

    /// The number of classes (rows and columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Images of true class `truth` predicted as `pred`.
    pub fn count(&self, truth: usize, pred: usize) -> usize {
        self.counts[truth * self.n_classes + pred]
    }

    /// All the evaluated images.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Images predicted right (the diagonal).
    pub fn correct(&self) -> usize {
        (0..self.n_classes).map(|c| self.count(c, c)).sum()
    }

    /// Overall accuracy (NaN with no images).
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// For each class, the fraction of its images predicted right (`None` when it has none).
    pub fn per_class_accuracy(&self) -> Vec<Option<f64>> {
        (0..self.n_classes)
            .map(|t| {
                let row: usize = (0..self.n_classes).map(|p| self.count(t, p)).sum();
                (row > 0).then(|| self.count(t, t) as f64 / row as f64)
            })
            .collect()
    }

    /// The heat map: rows true classes (named on a turned-up "True class" axis label), columns
    /// predicted classes, counts in the cells, per-class accuracy on the right.
    pub fn render(&self) -> Result<Canvas> {
        let n = self.n_classes as u32;
        let grid_x = AXIS_LABEL + ROW_LABELS;
        let (width, height) = (grid_x + n * CELL + ACC + 16, HEAD + n * CELL + 16);
        let mut c = Canvas::new(width, height, WHITE_RGB);
        let title = format!(
            "Confusion matrix: {} of {} correct ({:.1}%)",
            self.correct(),
            self.total(),
            100.0 * self.accuracy()
        );
        c.text_fit((width as i32 / 2, 8), &title, 17.0, width - 16, BLACK_RGB, Align::TopCenter)?;
        c.text(((grid_x + n * CELL / 2) as i32, 36), "Predicted class", 14.0, BLACK_RGB, Align::TopCenter)?;
        c.text_up((AXIS_LABEL as i32 / 2 + 2, (HEAD + n * CELL / 2) as i32), "True class", 14.0, BLACK_RGB)?;
        let acc_x = (grid_x + n * CELL + ACC / 2 + 4) as i32;
        c.text((acc_x, HEAD as i32 - 10), "Accuracy", 13.0, BLACK_RGB, Align::Center)?;
        for (i, name) in self.names.iter().enumerate() {
            let mid = (i as u32 * CELL + CELL / 2) as i32;
            let column = (grid_x as i32 + mid, HEAD as i32 - 10);
            c.text_fit(column, name, 12.0, CELL - 3, BLACK_RGB, Align::Center)?;
            let row = (grid_x as i32 - 6, HEAD as i32 + mid);
            c.text_fit(row, name, 13.0, ROW_LABELS - 10, BLACK_RGB, Align::CenterRight)?;
        }
        let max = self.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
        for t in 0..self.n_classes {
            let y = HEAD + t as u32 * CELL;
            for p in 0..self.n_classes {
                let x = grid_x + p as u32 * CELL;
                let v = self.count(t, p) as f32 / max;
                c.fill_rect(x as i64, y as i64, CELL, CELL, Colormap::Blues.color(v));
                let ink = if v > 0.5 { WHITE_RGB } else { BLACK_RGB };
                let (cx, cy) = ((x + CELL / 2) as i32, (y + CELL / 2) as i32);
                c.text_fit((cx, cy), &self.count(t, p).to_string(), 14.0, CELL - 4, ink, Align::Center)?;
            }
            let acc = self.per_class_accuracy()[t].map_or("-".to_string(), |a| format!("{:.1}%", 100.0 * a));
            c.text((acc_x, (y + CELL / 2) as i32), &acc, 14.0, BLACK_RGB, Align::Center)?;
        }
        c.stroke_rect(grid_x as i64 - 1, HEAD as i64 - 1, n * CELL + 2, n * CELL + 2, 1, [120; 3]);
        Ok(c)
    }

    /// [`ConfusionMatrix::render`] written to `path` as PNG.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        self.render()?.save_png(path)
    }
}

/// The table: one row per true class with its counts per predicted class and its accuracy.
impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self.names.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(10) + 3;
        let cell_w =
            self.counts.iter().max().map_or(1, |m| m.to_string().len()).max(self.n_classes.to_string().len()) + 2;
        writeln!(f, "Confusion matrix (rows: true class, columns: predicted class)")?;
        write!(f, "{:<name_w$}", "true \\ pred")?;
        for p in 0..self.n_classes {
            write!(f, "{p:>cell_w$}")?;
        }
        writeln!(f, "  accuracy")?;
        for (t, acc) in self.per_class_accuracy().iter().enumerate() {
            write!(f, "{:<name_w$}", format!("{t:>w$} {}", self.names[t], w = (self.n_classes - 1).to_string().len()))?;
            for p in 0..self.n_classes {
                write!(f, "{:>cell_w$}", self.count(t, p))?;
            }
            match acc {
                Some(a) => writeln!(f, "  {:>7.1}%", 100.0 * a)?,
                None => writeln!(f, "  {:>8}", "-")?,
            }
        }
        write!(f, "{} of {} correct ({:.2}%)", self.correct(), self.total(), 100.0 * self.accuracy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_to_the_images_and_render() {
        let truth = [0, 0, 1, 1, 1, 2, 2, 2, 2];
        let pred = [0, 1, 1, 1, 2, 2, 2, 2, 0];
        let m = ConfusionMatrix::from_predictions(&pred, &truth, 3)
            .unwrap()
            .with_class_names(&["Bag", "Coat", "Dress"])
            .unwrap();
        assert_eq!(m.total(), truth.len());
        assert_eq!((m.count(0, 1), m.count(2, 0), m.count(1, 1), m.correct()), (1, 1, 2, 6));
        assert_eq!(m.per_class_accuracy(), [Some(0.5), Some(2.0 / 3.0), Some(0.75)]);
        let table = m.to_string();
        assert!(table.contains("1 Coat"), "{table}");
        assert!(table.contains("   50.0%"), "{table}");
        assert!(table.ends_with("6 of 9 correct (66.67%)"), "{table}");
        let c = m.render().unwrap();
        let grid_x = AXIS_LABEL + ROW_LABELS;
        assert_eq!((c.width(), c.height()), (grid_x + 3 * CELL + ACC + 16, HEAD + 3 * CELL + 16));
        // The fullest cell (true 2, predicted 2: 3 images) is the darkest blue, an empty one white-ish.
        let corner = |t: u32, p: u32| c.pixel(grid_x + p * CELL + 3, HEAD + t * CELL + 3);
        assert_eq!((corner(2, 2), corner(0, 2)), (Colormap::Blues.color(1.0), Colormap::Blues.color(0.0)));
        // "True class" stands turned up in the strip left of the row names, centred on the rows:
        // its ink is tall and narrow; nothing is written under the grid.
        let ink: Vec<(u32, u32)> = (0..c.height())
            .flat_map(|y| (0..AXIS_LABEL).map(move |x| (x, y)))
            .filter(|&(x, y)| c.pixel(x, y)[0] < 128)
            .collect();
        let (ys, xs) = (ink.iter().map(|p| p.1), ink.iter().map(|p| p.0));
        let (y0, y1, x0, x1) =
            (ys.clone().min().unwrap(), ys.max().unwrap(), xs.clone().min().unwrap(), xs.max().unwrap());
        assert!(y1 - y0 > 50 && x1 - x0 < 14, "ink from ({x0}, {y0}) to ({x1}, {y1})");
        assert!((y0 + y1).abs_diff(2 * HEAD + 3 * CELL) <= 4, "centred on the rows: {y0}..{y1}");
        let below = (HEAD + 3 * CELL + 2..c.height()).flat_map(|y| (0..c.width()).map(move |x| (x, y)));
        assert!(below.into_iter().all(|(x, y)| c.pixel(x, y) == WHITE_RGB));
    }

    #[test]
    fn rejects_mismatched_or_out_of_range_input() {
        assert!(ConfusionMatrix::from_predictions(&[0, 1], &[0], 2)
            .unwrap_err()
            .to_string()
            .contains("2 predictions but 1"));
        let e = ConfusionMatrix::from_predictions(&[0, 5], &[0, 1], 3).unwrap_err().to_string();
        assert_eq!(e, "image 1: predicted class 5, true class 1; expected classes 0 to 2");
        let m = ConfusionMatrix::from_predictions(&[], &[], 2).unwrap();
        assert_eq!(m.per_class_accuracy(), [None, None]);
        assert!(m.with_class_names(&["a"]).is_err());
    }
}
