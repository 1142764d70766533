//! The lesson's history graph: loss and val_loss, accuracy and val_accuracy per epoch, one
//! panel per quantity with labelled axes and a legend (files are read in `history_file`).

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{Canvas, WHITE_RGB};
use crate::error::{Error, Result};
use crate::model::History;

const PANEL_WIDTH: u32 = 520;
const HEIGHT: u32 = 400;
/// matplotlib's first two colours: training blue, validation orange.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(255, 127, 14);

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

/// The history graph as a picture, `520 × 400` pixels per panel.
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

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_panel(
    area: &Area,
    history: &History,
    base: &str,
    keys: &[String],
    epochs: usize,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Epochs count from 1, as Keras prints them; NaN ("NA" in a CSV log) leaves a gap.
    let series: Vec<(&str, Vec<(f64, f64)>)> = keys
        .iter()
        .map(|k| {
            let values = history.get(k).unwrap_or(&[]);
            let points = values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| ((i + 1) as f64, v));
            (k.as_str(), points.collect())
        })
        .collect();
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (lo, hi) = if lo > hi { (0.0, 1.0) } else { (lo, hi) };
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 0.05 * hi.abs().max(1.0) };
    let x_pad = if epochs == 1 { 0.5 } else { 0.02 * (epochs - 1) as f64 };

    let title = capitalise(base);
    let mut chart = ChartBuilder::on(area)
        .caption(&title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(1.0 - x_pad..epochs as f64 + x_pad, lo - pad..hi + pad)?;
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(&title)
        .x_labels(epochs.clamp(2, 10))
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round())
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{v:.3}"))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(230, 230, 230))
        .draw()?;
    for (key, points) in &series {
        let color = if key.starts_with("val_") { VAL } else { TRAIN };
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
            .label(*key)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    // The legend goes where the curves are not: below them when they end high (accuracy).
    let last = series.iter().filter_map(|(_, p)| p.last()).map(|&(_, y)| y).fold(f64::NEG_INFINITY, f64::max);
    let position =
        if last > (lo + hi) / 2.0 { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
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
}
