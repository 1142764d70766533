//! A linear chart axis with round ticks, computed in a bounded number of steps for any finite
//! range: huge (`-1e308..1e308`, whose width overflows), tiny (`1..1 + 2e-16`) or empty (a
//! constant series). plotters' own float axis loops forever on the first and panics on
//! non-finite ones, so the history plot gives plotters this axis instead.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, KeyPointWeight, Ranged};

/// At most this many ticks on an axis.
const MAX_TICKS: usize = 12;

/// The span `lo..hi` of a chart axis, with its ticks and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    labels: Vec<String>,
}

impl Axis {
    /// An axis over `values` (the finite ones), padded by 8% of their spread on each side (a
    /// constant series by 5% of its size, at least 0.05), with about `target` ticks.
    pub fn for_values(values: impl IntoIterator<Item = f64>, target: usize) -> Axis {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if lo > hi { (0.0, 1.0) } else { (lo, hi) };
        // Halves: the width of -1e308..1e308 overflows, half of it does not.
        let pad = if hi > lo { 0.16 * (hi / 2.0 - lo / 2.0) } else { 0.05 * hi.abs().max(1.0) };
        let (lo, hi) = ((lo - pad).max(-f64::MAX), (hi + pad).min(f64::MAX));
        Axis::new(lo, hi, nice_ticks(lo, hi, target, false))
    }

    /// The epoch axis of `epochs` epochs numbered from 1: whole-number ticks only.
    pub fn epochs(epochs: usize, target: usize) -> Axis {
        let n = epochs.max(1) as f64;
        let pad = if epochs <= 1 { 0.5 } else { 0.02 * (n - 1.0) };
        Axis::new(1.0 - pad, n + pad, nice_ticks(1.0, n, target, true))
    }

    /// The axis from `lo` to `hi`, unpadded (a colour bar's), with about `target` ticks.
    pub fn between(lo: f64, hi: f64, target: usize) -> Axis {
        Axis::new(lo, hi, nice_ticks(lo, hi, target, false))
    }

    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Axis {
        let labels = labels(&ticks);
        Axis { lo, hi, ticks, labels }
    }

    /// The ticks, lowest first.
    pub fn ticks(&self) -> &[f64] {
        &self.ticks
    }

    /// The tick labels, one per tick, as short as keeps them distinct ("0.42", "1e+308").
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The label of `v` if it is a tick (what plotters asks for), else an empty string.
    pub fn label(&self, v: f64) -> String {
        self.ticks.iter().position(|&t| t == v).map_or_else(String::new, |i| self.labels[i].clone())
    }

    /// Where `v` falls between `lo` (0) and `hi` (1).
    pub fn fraction(&self, v: f64) -> f64 {
        (v / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0)
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let pixels = f64::from(limit.1) - f64::from(limit.0);
        (f64::from(limit.0) + self.fraction(*v) * pixels).round().clamp(-1e6, 1e6) as i32
    }

    /// The ticks for the labelled (bold) grid lines; no light lines between them.
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        match hint.weight() {
            KeyPointWeight::Bold => self.ticks.clone(),
            KeyPointWeight::Any => Vec::new(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// About `target` round ticks (1, 2, 2.5 or 5 times a power of ten apart) inside `lo..=hi`, at
/// least one; `whole` keeps them whole numbers. Every loop here is bounded by `MAX_TICKS`.
fn nice_ticks(lo: f64, hi: f64, target: usize, whole: bool) -> Vec<f64> {
    let target = target.clamp(2, MAX_TICKS);
    if !(lo < hi) {
        return vec![lo];
    }
    let raw = (hi / 2.0 - lo / 2.0) / (target as f64 / 2.0);
    let power = 10f64.powi((raw.log10().floor() as i32).clamp(-307, 307));
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|&s| s >= raw).unwrap_or(10.0 * power);
    let step = if whole { step.round().max(1.0) } else { step };
    let (first, last) = ((lo / step).ceil(), (hi / step).floor());
    let mut ticks: Vec<f64> = Vec::new();
    if first.is_finite() && last.is_finite() && last >= first && last - first < MAX_TICKS as f64 {
        for i in 0..=(last - first) as usize {
            let t = (first + i as f64) * step;
            if (lo..=hi).contains(&t) && ticks.last() != Some(&t) {
                ticks.push(t);
            }
        }
    }
    if ticks.len() < 2 {
        // Too narrow for round numbers between the floats: label the ends.
        ticks = if whole { vec![lo.ceil()] } else { vec![lo, hi] };
    }
    ticks
}

/// The shortest labels that tell the ticks apart and read back as them: fixed-point while the
/// numbers stay between 1e-4 and 1e9, scientific notation beyond ("1.5e308").
fn labels(ticks: &[f64]) -> Vec<String> {
    let biggest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let fixed = biggest == 0.0 || (1e-4..1e9).contains(&biggest);
    let format = |t: f64, digits: usize| match (t == 0.0, fixed) {
        (true, _) => "0".to_string(),
        (false, true) => format!("{t:.digits$}"),
        (false, false) => trim_mantissa(&format!("{t:.digits$e}")),
    };
    let mut digits = 0;
    let mut out: Vec<String> = ticks.iter().map(|&t| format(t, digits)).collect();
    // A step of 0.025 needs three decimals; ticks a few floats apart need up to 17 digits.
    while digits < 17 && (out.windows(2).any(|w| w[0] == w[1]) || !exact(ticks, &out)) {
        digits += 1;
        out = ticks.iter().map(|&t| format(t, digits)).collect();
    }
    out
}

/// `v` in a few significant digits: "0.3520", "1.5e308", "1e-300".
pub fn short_number(v: f64) -> String {
    match v.abs() {
        a if a == 0.0 || !a.is_finite() => format!("{v}"),
        a if (1e-3..1e6).contains(&a) => format!("{v:.4}"),
        _ => trim_mantissa(&format!("{v:.3e}")),
    }
}

/// "9.60e307" as "9.6e307", "1.00e308" as "1e308".
fn trim_mantissa(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
        _ => s.to_string(),
    }
}

/// Whether every label reads back as its tick, to a millionth of the step between ticks.
fn exact(ticks: &[f64], labels: &[String]) -> bool {
    let step = ticks.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    let tolerance = if step.is_finite() { step * 1e-6 } else { ticks[0].abs() * 1e-6 };
    ticks.iter().zip(labels).all(|(&t, l)| l.parse::<f64>().is_ok_and(|v| (v - t).abs() <= tolerance))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(values: &[f64]) -> Vec<String> {
        Axis::for_values(values.iter().copied(), 8).labels().to_vec()
    }

    #[test]
    fn ticks_are_round_and_labels_short() {
        assert_eq!(labels_of(&[0.61, 0.43]), ["0.45", "0.50", "0.55", "0.60"]);
        assert_eq!(labels_of(&[0.8, 0.86]), ["0.80", "0.81", "0.82", "0.83", "0.84", "0.85", "0.86"]);
        assert_eq!(labels_of(&[3.0, 2.0, 1.0]), ["1.0", "1.5", "2.0", "2.5", "3.0"]);
        let a = Axis::for_values([0.61, 0.43], 10);
        assert_eq!(a.labels(), ["0.425", "0.450", "0.475", "0.500", "0.525", "0.550", "0.575", "0.600"]);
        assert_eq!((a.label(0.45), a.label(0.46)), ("0.450".to_string(), String::new()));
        assert_eq!(labels_of(&[123456.0, 123457.0])[..2], ["123456.0", "123456.2"]);
        assert_eq!(Axis::epochs(5, 10).labels(), ["1", "2", "3", "4", "5"]);
        assert_eq!(Axis::epochs(1, 10).labels(), ["1"]);
        assert_eq!(Axis::epochs(12, 10).labels(), ["2", "4", "6", "8", "10", "12"]);
        assert_eq!(Axis::epochs(1000, 10).ticks().len(), 10);
        assert_eq!(Axis::between(-0.5, 0.5, 4).labels(), ["-0.50", "-0.25", "0", "0.25", "0.50"]);
    }

    #[test]
    fn any_finite_range_gets_ticks_in_bounded_steps() {
        // Huge: the spread overflows f64, the axis does not.
        let huge = Axis::for_values([-1e308, 1e308], 8);
        assert_eq!(huge.range(), -1.16e308..1.16e308);
        assert_eq!(huge.labels(), ["-1e308", "-5e307", "0", "5e307", "1e308"]);
        assert_eq!((huge.map(&0.0, (0, 100)), huge.map(&1e308, (100, 0))), (50, 7));
        assert_eq!(labels_of(&[-5.0, 1e308]), ["0", "2e307", "4e307", "6e307", "8e307", "1e308"]);
        // Constant series, of any size.
        assert_eq!(labels_of(&[0.5, 0.5]), ["0.46", "0.48", "0.50", "0.52", "0.54"]);
        assert_eq!(labels_of(&[1e308]), ["9.6e307", "9.8e307", "1e308", "1.02e308", "1.04e308"]);
        assert_eq!(labels_of(&[-f64::MAX]), ["-1.78e308", "-1.76e308", "-1.74e308", "-1.72e308"]);
        assert_eq!(labels_of(&[0.0]), ["-0.04", "-0.02", "0", "0.02", "0.04"]);
        // Tiny: values a few floats apart (labelled to 16 decimals), subnormal ones (the ends).
        let near_one = labels_of(&[1.0, 1.0 + 4.0 * f64::EPSILON]);
        assert_eq!(near_one[..2], ["1.0000000000000000", "1.0000000000000002"]);
        assert_eq!(labels_of(&[0.0, 1e-320]), ["-8e-322", "1.08e-320"]);
        assert_eq!(labels_of(&[1e-300, 3e-300]), ["1e-300", "1.5e-300", "2e-300", "2.5e-300", "3e-300"]);
        assert_eq!([short_number(0.352), short_number(-1e308), short_number(1.5e-7)], ["0.3520", "-1e308", "1.5e-7"]);
        // Nothing finite: a unit axis.
        assert_eq!(Axis::for_values([f64::NAN, f64::INFINITY], 8).range(), -0.08..1.08);
    }
}
