//! The lesson's history graph: loss and val_loss, accuracy and val_accuracy per epoch, one
//! panel per quantity with labelled axes, the best epoch marked, and a legend (files are read
//! in `history_file`).

use std::path::Path;

use plotters::prelude::*;

use super::axis::{short_number, Axis};
use super::backend::GlyphBackend;
use super::canvas::{Canvas, WHITE_RGB};
use super::glyphs;
use crate::error::{Error, Result};
use crate::model::History;

const PANEL_WIDTH: u32 = 520;
const HEIGHT: u32 = 400;
/// matplotlib's first two colours: training blue, validation orange.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(255, 127, 14);
/// The best epoch's ring, and its line (lighter).
const BEST: RGBColor = RGBColor(60, 60, 60);
const BEST_LINE: RGBColor = RGBColor(150, 150, 150);
const LABEL_SIZE: f64 = 13.0;

impl History {
    /// Draws the history graph ([`plot_history`]) to `path` as PNG.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        plot_history(self, path)
    }
}

/// Draws `history` to `path` as PNG: one panel per quantity (loss, accuracy, ...), its training
/// and `val_` curves against the epoch.
pub fn plot_history(history: &History, path: &Path) -> Result<()> {
    render_history(history)?.save_png(path)
}

/// The quantities of `history`, each with its keys (`loss` with `loss` and `val_loss`): loss
/// first, the others in order of first appearance, training before validation (a CSV log's
/// alphabetical columns draw the same picture as a report).
fn panels(history: &History) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for key in history.keys() {
        let base = key.strip_prefix("val_").unwrap_or(key).to_string();
        match out.iter_mut().find(|(b, _)| *b == base) {
            Some((_, keys)) => keys.push(key.to_string()),
            None => out.push((base, vec![key.to_string()])),
        }
    }
    out.sort_by_key(|(base, _)| base != "loss");
    for (_, keys) in &mut out {
        keys.sort_by_key(|k| k.starts_with("val_"));
    }
    out
}

/// The history graph as a picture, `520 × 400` pixels per panel. Values that are not finite
/// (NaN, written `null` in JSON and `NA` in a CSV log) leave gaps ([`gap_notes`] lists them).
pub fn render_history(history: &History) -> Result<Canvas> {
    let panels = panels(history);
    let epochs = history.keys().filter_map(|k| history.get(k)).map(<[f64]>::len).max().unwrap_or(0);
    if panels.is_empty() || epochs == 0 {
        return Err(Error::value("the history holds no values to plot (expected loss, accuracy, ... per epoch)"));
    }
    let mut canvas = Canvas::new(PANEL_WIDTH * panels.len() as u32, HEIGHT, WHITE_RGB);
    canvas.with_plotters(|root| {
        let areas = root.split_evenly((1, panels.len()));
        for (area, (base, keys)) in areas.iter().zip(&panels) {
            draw_panel(area, history, base, keys, epochs)
                .map_err(|e| Error::value(format!("drawing the {base} plot failed: {e}")))?;
        }
        Ok(())
    })?;
    Ok(canvas)
}

/// One line per quantity with values that are not finite, naming the epochs (counted from 1,
/// as plotted): "note: val_loss is not a number at epochs 3, 4: drawn as a gap".
pub fn gap_notes(history: &History) -> Vec<String> {
    history
        .keys()
        .filter_map(|key| {
            let values = history.get(key)?;
            let bad: Vec<String> =
                values.iter().enumerate().filter(|(_, v)| !v.is_finite()).map(|(i, _)| (i + 1).to_string()).collect();
            let epochs = match bad.len() {
                0 => return None,
                n if n == values.len() => return Some(format!("note: {key} has no finite value: nothing to draw")),
                1 => format!("epoch {}", bad[0]),
                n if n <= 10 => format!("epochs {}", bad.join(", ")),
                n => format!("epochs {} and {} more", bad[..10].join(", "), n - 10),
            };
            Some(format!("note: {key} is not a number at {epochs}: drawn as a gap"))
        })
        .collect()
}

type Area<'a> = DrawingArea<GlyphBackend<'a>, plotters::coord::Shift>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The runs of finite values of one key, as `(epoch, value)` points, epochs counted from 1.
fn segments(values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, &v) in values.iter().enumerate() {
        match (v.is_finite(), out.last_mut()) {
            (true, Some(run)) => run.push(((i + 1) as f64, v)),
            (false, Some(run)) if !run.is_empty() => out.push(Vec::new()),
            _ => {}
        }
    }
    out.retain(|run| !run.is_empty());
    out
}

/// The best epoch of a panel, as Keras's checkpoint `mode="auto"` picks it: of `val_<base>` if it
/// has values, else of `<base>`; highest for accuracy-like quantities, lowest otherwise.
fn best(history: &History, base: &str, keys: &[String]) -> Option<(String, usize, f64)> {
    let key = keys.iter().rev().find(|k| history.get(k).is_some_and(|v| v.iter().any(|x| x.is_finite())))?;
    let higher_is_better = ["acc", "auc", "precision", "recall"].iter().any(|m| base.contains(m));
    let finite = history.get(key)?.iter().enumerate().filter(|(_, v)| v.is_finite());
    let (i, &v) = if higher_is_better {
        finite.fold(None, |b: Option<(usize, &f64)>, (i, v)| if b.is_some_and(|b| b.1 >= v) { b } else { Some((i, v)) })
    } else {
        finite.fold(None, |b: Option<(usize, &f64)>, (i, v)| if b.is_some_and(|b| b.1 <= v) { b } else { Some((i, v)) })
    }?;
    Some((key.clone(), i + 1, v))
}

fn draw_panel(area: &Area, history: &History, base: &str, keys: &[String], epochs: usize) -> DrawResult {
    let values = keys.iter().flat_map(|k| history.get(k).unwrap_or(&[]).iter().copied());
    let (x_axis, y_axis) = (Axis::epochs(epochs, 10), Axis::for_values(values, 8));
    let label_width = y_axis.labels().iter().map(|l| glyphs::text_size(l, LABEL_SIZE).0).max().unwrap_or(0);
    let title = capitalise(base);
    let mut chart = ChartBuilder::on(area)
        .caption(&title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(label_width + 36)
        .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(&title)
        .x_label_formatter(&|v| x_axis.label(*v))
        .y_label_formatter(&|v| y_axis.label(*v))
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", 15))
        .bold_line_style(RGBColor(230, 230, 230))
        .draw()?;
    let mut last = f64::NEG_INFINITY;
    for key in keys {
        let color = if key.starts_with("val_") { VAL } else { TRAIN };
        let runs = segments(history.get(key).unwrap_or(&[]));
        last = runs.last().and_then(|r| r.last()).map_or(last, |p| last.max(y_axis.fraction(p.1)));
        for (k, run) in runs.iter().enumerate() {
            let line = chart.draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))?;
            if k == 0 {
                line.label(key.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2)));
            }
            chart.draw_series(run.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    if let Some((key, epoch, value)) = best(history, base, keys) {
        let (x, lo, hi) = (epoch as f64, y_axis.range().start, y_axis.range().end);
        chart.draw_series(LineSeries::new([(x, lo), (x, hi)], BEST_LINE.stroke_width(1)))?;
        chart
            .draw_series([Circle::new((x, value), 7, BEST.stroke_width(2))])?
            .label(format!("best {key}: {} (epoch {epoch})", short_number(value)))
            .legend(|(x, y)| Circle::new((x + 11, y), 5, BEST.stroke_width(2)));
    }
    // The legend goes where the curves are not: below them when they end high (accuracy).
    let position = if last > 0.5 { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
    chart
        .configure_series_labels()
        .position(position)
        .margin(10)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(200, 200, 200))
        .draw()?;
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(loss: &[f64]) -> History {
        let mut h = History::default();
        for (i, &l) in loss.iter().enumerate() {
            h.push(
                i,
                &[
                    ("loss".into(), l),
                    ("accuracy".into(), 1.0 - l / 2.0),
                    ("val_loss".into(), l + 0.05),
                    ("val_accuracy".into(), 0.9 - l / 2.0),
                ],
            );
        }
        h
    }

    /// Mean row of the training-blue pixels in columns `x0..x1`.
    fn mean_blue_row(c: &Canvas, x0: u32, x1: u32) -> f64 {
        let blue = [TRAIN.0, TRAIN.1, TRAIN.2];
        let rows: Vec<u32> = (x0..x1).flat_map(|x| (0..c.height()).filter(move |&y| c.pixel(x, y) == blue)).collect();
        assert!(!rows.is_empty(), "no curve in columns {x0}..{x1}");
        rows.iter().sum::<u32>() as f64 / rows.len() as f64
    }

    #[test]
    fn an_empty_history_is_an_error() {
        let e = render_history(&History::default()).unwrap_err().to_string();
        assert!(e.contains("no values to plot"), "{e}");
    }

    #[test]
    fn a_rising_curve_is_drawn_rising_and_a_falling_one_falling() {
        let falling = render_history(&history(&[0.9, 0.7, 0.5, 0.4, 0.3])).unwrap();
        let rising = render_history(&history(&[0.3, 0.4, 0.5, 0.7, 0.9])).unwrap();
        assert_eq!((falling.width(), falling.height()), (2 * PANEL_WIDTH, HEIGHT));
        assert_ne!(falling, rising);
        // In the loss panel (the left one), compare the curve's height early and in the middle;
        // the legend sits at the right edge.
        let (early, middle) = ((90, 200), (260, 330));
        let f = (mean_blue_row(&falling, early.0, early.1), mean_blue_row(&falling, middle.0, middle.1));
        let r = (mean_blue_row(&rising, early.0, early.1), mean_blue_row(&rising, middle.0, middle.1));
        assert!(f.0 < f.1, "falling loss goes down the picture: {f:?}");
        assert!(r.0 > r.1, "rising loss goes up the picture: {r:?}");
    }

    fn losses(loss: &[f64], val_loss: &[f64]) -> History {
        let mut h = History::default();
        for (i, (&l, &v)) in loss.iter().zip(val_loss).enumerate() {
            h.push(i, &[("loss".into(), l), ("val_loss".into(), v)]);
        }
        h
    }

    /// For each column of `c`, how many pixels have the colour `color`.
    fn column_counts(c: &Canvas, color: RGBColor) -> Vec<usize> {
        let rgb = [color.0, color.1, color.2];
        (0..c.width()).map(|x| (0..c.height()).filter(|&y| c.pixel(x, y) == rgb).count()).collect()
    }

    /// The widest run of columns without `color` between the first and the last column with it.
    fn widest_hole(c: &Canvas, color: RGBColor) -> usize {
        let inked: Vec<usize> =
            column_counts(c, color).iter().enumerate().filter(|(_, &n)| n > 0).map(|(x, _)| x).collect();
        inked.windows(2).map(|w| w[1] - w[0] - 1).max().unwrap_or(0)
    }

    #[test]
    fn a_nan_epoch_leaves_a_gap_with_a_note() {
        let val = [0.9, 0.8, 0.7, 0.65, 0.6, 0.58, 0.57, 0.56, 0.55];
        let whole = render_history(&losses(&[0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.38, 0.36, 0.35], &val)).unwrap();
        let nan = f64::NAN;
        let gapped = losses(&[0.8, 0.7, nan, 0.5, 0.45, 0.4, 0.38, nan, 0.35], &val);
        let picture = render_history(&gapped).unwrap();
        // 9 epochs over ~430 pixels: a missing epoch 3 leaves no training blue from just after
        // epoch 2 to just before epoch 4 (two epochs wide, less the markers).
        assert!(widest_hole(&whole, TRAIN) < 5, "{}", widest_hole(&whole, TRAIN));
        assert!(widest_hole(&picture, TRAIN) > 80, "{}", widest_hole(&picture, TRAIN));
        assert_eq!(widest_hole(&picture, VAL), widest_hole(&whole, VAL));
        assert_eq!(gap_notes(&gapped), ["note: loss is not a number at epochs 3, 8: drawn as a gap"]);
        let all_nan = losses(&[nan, f64::INFINITY], &[0.5, nan]);
        assert_eq!(
            gap_notes(&all_nan),
            [
                "note: loss has no finite value: nothing to draw",
                "note: val_loss is not a number at epoch 2: drawn as a gap"
            ]
        );
        assert!(render_history(&all_nan).is_ok());
    }

    #[test]
    fn the_best_epoch_is_marked_on_the_validation_curve() {
        // The lowest val_loss (epoch 2 of 3, then epoch 3) gets a grey line across the plot; the
        // highest val_accuracy would be the best one for accuracy.
        let line_column = |val: &[f64]| {
            let c = render_history(&losses(&[0.9, 0.8, 0.7], val)).unwrap();
            let counts = column_counts(&c, BEST_LINE);
            let (x, &n) = counts.iter().enumerate().max_by_key(|&(_, n)| *n).unwrap();
            assert!(n > 150, "a line across the plot, found {n} pixels");
            x
        };
        let (middle, last) = (line_column(&[0.9, 0.5, 0.7]), line_column(&[0.9, 0.7, 0.5]));
        assert!(last > middle + 150, "{middle} {last}");
        let h = history(&[0.9, 0.5, 0.7]);
        let (loss, acc) = (panels(&h)[0].1.clone(), panels(&h)[1].1.clone());
        assert_eq!(best(&h, "loss", &loss), Some(("val_loss".to_string(), 2, 0.55)));
        assert_eq!(best(&h, "accuracy", &acc), Some(("val_accuracy".to_string(), 2, 0.65)));
        let h = losses(&[0.9, 0.8], &[f64::NAN, f64::NAN]);
        assert_eq!(best(&h, "loss", &["loss".into(), "val_loss".into()]), Some(("loss".to_string(), 2, 0.8)));
    }

    #[test]
    fn extreme_values_draw() {
        // plotters' own axis loops forever on the first of these.
        let max = f64::MAX;
        for values in
            [[-1e308, 1e308], [1e308, 1e308], [5e-324, 0.0], [1.0, 1.0 + f64::EPSILON], [max, -max], [-0.0, 0.0]]
        {
            let c = render_history(&losses(&values, &values)).unwrap();
            let curve: usize = [TRAIN, VAL].iter().map(|&k| column_counts(&c, k).iter().sum::<usize>()).sum();
            assert!(curve > 400, "{values:?}: {curve} pixels of curve");
        }
    }
}
