//! Reading a training history back: a `kiln train --json` report, a bare history object
//! (`{"loss": [...], ...}`, what Keras's `history.history` holds) or a Keras `CSVLogger` file.

use std::path::Path;

use crate::error::{Error, Result};
use crate::model::History;

/// Reads a history from a `kiln train --json` report (its `"history"`), a bare
/// `{"loss": [...], ...}` object, or a Keras `CSVLogger` file (`epoch,accuracy,loss,...`).
pub fn read_history(path: &Path) -> Result<History> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let is_json = text.trim_start().starts_with('{');
    let history = if is_json { history_from_json(&text, path)? } else { history_from_csv(&text, path)? };
    if history.epochs.is_empty() {
        return Err(Error::format(path, "the history holds no epochs"));
    }
    Ok(history)
}

fn history_from_json(text: &str, path: &Path) -> Result<History> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::format(path, format!("not valid JSON: {e}")))?;
    let h = value.get("history").unwrap_or(&value);
    let history = History::from_json(h).ok_or_else(|| {
        Error::format(
            path,
            "expected {\"history\": {\"loss\": [numbers or null, ...], ...}} or {\"loss\": [numbers or null, ...], ...}",
        )
    })?;
    let lens: Vec<usize> = history.keys().filter_map(|k| history.get(k)).map(<[f64]>::len).collect();
    if lens.windows(2).any(|w| w[0] != w[1]) {
        return Err(Error::format(path, format!("the history's series differ in length: {lens:?}")));
    }
    Ok(history)
}

fn history_from_csv(text: &str, path: &Path) -> Result<History> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').map(|s| s.trim().trim_matches('"')).collect();
    if header.len() < 2 || header[0] != "epoch" {
        return Err(Error::format(
            path,
            format!("expected a CSV log with the header epoch,loss,..., found {:?}", header.join(",")),
        ));
    }
    let mut history = History::default();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            let msg = format!("line {}: {} values, the header names {}", n + 2, cells.len(), header.len());
            return Err(Error::format(path, msg));
        }
        let number = |s: &str| -> Result<f64> {
            // Keras writes "NA" for a value an epoch did not log.
            if s == "NA" || s.is_empty() {
                return Ok(f64::NAN);
            }
            s.parse().map_err(|_| Error::format(path, format!("line {}: {s:?} is not a number", n + 2)))
        };
        let epoch = number(cells[0])?;
        let logs = header[1..]
            .iter()
            .zip(&cells[1..])
            .map(|(k, v)| Ok((k.to_string(), number(v)?)))
            .collect::<Result<Vec<_>>>()?;
        history.push(if epoch.is_finite() { epoch as usize } else { n }, &logs);
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::Canvas;

    #[test]
    fn reads_reports_and_csv_logs() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("r.json");
        std::fs::write(&json, r#"{"history": {"loss": [0.5, 0.4], "accuracy": [0.8, 0.85]}, "test": {}}"#).unwrap();
        let h = read_history(&json).unwrap();
        assert_eq!((h.loss(), h.get("accuracy").unwrap()), (&[0.5, 0.4][..], &[0.8, 0.85][..]));
        let csv = dir.path().join("log.csv");
        std::fs::write(&csv, "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.8,0.5,0.82,0.48\n1,0.85,0.4,NA,0.45\n")
            .unwrap();
        let h = read_history(&csv).unwrap();
        assert_eq!(h.keys().collect::<Vec<_>>(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
        assert_eq!((h.epochs.clone(), h.loss()), (vec![0, 1], &[0.5, 0.4][..]));
        assert!(h.get("val_accuracy").unwrap()[1].is_nan());
        let png = dir.path().join("h.png");
        h.plot(&png).unwrap();
        let c = Canvas::read_png(&png).unwrap();
        assert_eq!((c.width(), c.height()), (1040, 400));

        std::fs::write(&csv, "epoch,loss\n0,abc\n").unwrap();
        let e = read_history(&csv).unwrap_err().to_string();
        assert!(e.ends_with("log.csv: line 2: \"abc\" is not a number"), "{e}");
        std::fs::write(&json, r#"{"history": {"loss": "x"}}"#).unwrap();
        assert!(read_history(&json).unwrap_err().to_string().contains("expected {\"history\""));
    }
}
