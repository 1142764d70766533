//! Keras 2's progress bar: `1500/1500 [==============================] - 0s 30us/step - loss: 0.6071`.
//!
//! On a terminal (verbose 1) the line is redrawn, rate-limited, with an ETA, through indicatif;
//! otherwise, and at verbose 2, one plain line is printed when the epoch ends.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const WIDTH: usize = 30;
const REDRAW: Duration = Duration::from_millis(100);

/// One epoch's (or one evaluation's) progress display.
pub struct Progbar {
    target: usize,
    verbose: u8,
    start: Instant,
    after_first_step: Option<Instant>,
    last_draw: Option<Instant>,
    bar: Option<ProgressBar>,
}

impl Progbar {
    /// A bar for `target` steps; `verbose` as `fit`'s.
    pub fn new(target: usize, verbose: u8) -> Progbar {
        // Quiet, or standard output closed: nothing to draw.
        let verbose = if crate::console::stdout_enabled() { verbose } else { 0 };
        let bar = (verbose == 1).then(|| {
            let bar = ProgressBar::with_draw_target(Some(target as u64), ProgressDrawTarget::stdout());
            bar.set_style(ProgressStyle::with_template("{msg}").expect("static template"));
            bar
        });
        Progbar { target, verbose, start: Instant::now(), after_first_step: None, last_draw: None, bar }
    }

    /// Called after step `current` (1-based) with the running means of the metrics.
    pub fn update(&mut self, current: usize, values: &[(&str, f64)]) {
        let now = Instant::now();
        if current == 1 {
            self.after_first_step = Some(now);
        }
        let Some(bar) = &self.bar else { return };
        if bar.is_hidden() || self.last_draw.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        self.last_draw = Some(now);
        let eta = self.step_duration(current, now) * (self.target - current) as f64;
        let mut line = self.bar_text(current);
        line.push_str(&format!(" - ETA: {}", format_eta(eta)));
        push_values(&mut line, values);
        bar.set_message(line);
    }

    /// Prints the epoch's final line (values include the validation metrics, if any).
    pub fn finish(&mut self, values: &[(&str, f64)]) {
        let now = Instant::now();
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let elapsed = (now - self.start).as_secs_f64();
        let per_step = self.step_duration(self.target, now);
        let line = match self.verbose {
            0 => return,
            1 => {
                let mut line = self.bar_text(self.target);
                line.push_str(&format!(" - {elapsed:.0}s{}", format_time(per_step, "step")));
                push_values(&mut line, values);
                line
            }
            _ => {
                let mut line = format!("{}/{} - {elapsed:.0}s", self.target, self.target);
                push_values(&mut line, values);
                line.push_str(&format!(" -{}", format_time(elapsed, "epoch")));
                line.push_str(&format!(" -{}", format_time(elapsed / self.target.max(1) as f64, "step")));
                line
            }
        };
        crate::outln!("{line}");
    }

    /// Seconds per step, leaving out the first step (compilation/warm-up) as Keras does.
    fn step_duration(&self, current: usize, now: Instant) -> f64 {
        match self.after_first_step {
            Some(t) if current > 1 => (now - t).as_secs_f64() / (current - 1) as f64,
            _ => (now - self.start).as_secs_f64() / current.max(1) as f64,
        }
    }

    fn bar_text(&self, current: usize) -> String {
        let digits = self.target.max(1).ilog10() as usize + 1;
        let filled = WIDTH * current / self.target.max(1);
        let mut s = format!("{current:>digits$}/{} [", self.target);
        if filled > 0 {
            s.push_str(&"=".repeat(filled - 1));
            s.push(if current < self.target { '>' } else { '=' });
        }
        s.push_str(&".".repeat(WIDTH - filled));
        s.push(']');
        s
    }
}

fn push_values(line: &mut String, values: &[(&str, f64)]) {
    for (k, v) in values {
        if v.abs() > 1e-3 {
            line.push_str(&format!(" - {k}: {v:.4}"));
        } else {
            line.push_str(&format!(" - {k}: {}", format_sci(*v)));
        }
    }
}

/// Python's `%.4e`: two-digit exponent with a sign (1.2340e-05).
fn format_sci(v: f64) -> String {
    let s = format!("{v:.4e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Keras's `_format_time`: " 2s/step", " 30ms/step", " 30us/step".
pub fn format_time(seconds: f64, unit: &str) -> String {
    if seconds >= 1.0 || seconds == 0.0 {
        format!(" {seconds:.0}s/{unit}")
    } else if seconds >= 1e-3 {
        format!(" {:.0}ms/{unit}", seconds * 1e3)
    } else {
        format!(" {:.0}us/{unit}", seconds * 1e6)
    }
}

fn format_eta(eta: f64) -> String {
    let e = eta as u64;
    if eta > 3600.0 {
        format!("{}:{:02}:{:02}", e / 3600, (e % 3600) / 60, e % 60)
    } else if eta > 60.0 {
        format!("{}:{:02}", e / 60, e % 60)
    } else {
        format!("{e}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_and_numbers_follow_keras_2() {
        let p = Progbar::new(1500, 0);
        assert_eq!(p.bar_text(1500), format!("1500/1500 [{}]", "=".repeat(30)));
        assert_eq!(p.bar_text(750), format!(" 750/1500 [{}>{}]", "=".repeat(14), ".".repeat(15)));
        assert_eq!(p.bar_text(1), format!("   1/1500 [{}]", ".".repeat(30)));
        assert_eq!(format_time(30e-6, "step"), " 30us/step");
        assert_eq!(format_time(0.0123, "step"), " 12ms/step");
        assert_eq!(format_time(2.4, "epoch"), " 2s/epoch");
        assert_eq!(format_eta(75.0), "1:15");
        let mut line = String::new();
        push_values(&mut line, &[("loss", 0.60714), ("accuracy", 0.00001234)]);
        assert_eq!(line, " - loss: 0.6071 - accuracy: 1.2340e-05");
    }
}
