//! CSVLogger: one CSV row per epoch, in Keras's format (`epoch` then the sorted log keys).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::{check_writable, log_value, py_float, Callback, Logs};
use crate::error::{Error, Result};
use crate::model::Sequential;

/// Streams epoch results to a CSV file as Keras writes it: header `epoch,accuracy,loss,val_accuracy,val_loss`,
/// values as Python prints floats, `NA` for a key missing that epoch, lines ending in `\r\n`
/// (Python's csv "excel" dialect). Each row is written as soon as its epoch ends.
pub struct CSVLogger {
    path: PathBuf,
    separator: char,
    append: bool,
    file: Option<File>,
    keys: Option<Vec<String>>,
    write_header: bool,
}

impl CSVLogger {
    /// Overwrites the file at each `fit`, separator ','.
    pub fn new(path: impl AsRef<Path>) -> CSVLogger {
        CSVLogger {
            path: path.as_ref().to_path_buf(),
            separator: ',',
            append: false,
            file: None,
            keys: None,
            write_header: true,
        }
    }

    /// Append to an existing file (continuing a run); the header is written only if the file
    /// is missing or empty.
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    /// The column separator (Keras's `separator`, default ',').
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }

    /// Fails unless the log's directory exists and accepts files.
    pub fn check_writable(&self) -> Result<()> {
        check_writable(&self.path, "CSV log")
    }

    fn write_line(&mut self, fields: &[String]) -> Result<()> {
        let sep = self.separator.to_string();
        let line: Vec<String> = fields.iter().map(|f| quote(f, self.separator)).collect();
        let file = self.file.as_mut().expect("opened in on_train_begin");
        // One write per row, flushed at once: a crash loses at most the epoch in progress.
        file.write_all(format!("{}\r\n", line.join(&sep)).as_bytes())
            .and_then(|_| file.flush())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Quotes a field as Python's csv does by default (QUOTE_MINIMAL).
fn quote(field: &str, separator: char) -> String {
    if field.contains([separator, '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

impl Callback for CSVLogger {
    fn on_train_begin(&mut self, _model: &mut Sequential) -> Result<()> {
        self.check_writable()?;
        self.write_header = true;
        if self.append && self.path.exists() {
            let f = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
            let mut first = String::new();
            BufReader::new(f).read_line(&mut first).map_err(|e| Error::io(&self.path, e))?;
            self.write_header = first.is_empty();
        }
        // Opened without truncating, and locked first: a second writer must not wipe the log
        // a first one is writing. Then, as Keras does, a new log starts empty.
        let file = OpenOptions::new()
            .append(self.append)
            .write(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::value(format!(
                    "CSV log {}: another process is writing it (it is locked); give this run its own --csv-log",
                    self.path.display()
                )))
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&self.path, e)),
        }
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        if !self.append && regular {
            file.set_len(0).map_err(|e| Error::io(&self.path, e))?;
        }
        self.file = Some(file);
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, _model: &mut Sequential) -> Result<()> {
        if self.keys.is_none() {
            let mut keys: Vec<String> = logs.iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            if self.write_header {
                let header: Vec<String> = std::iter::once("epoch".to_string()).chain(keys.iter().cloned()).collect();
                self.write_line(&header)?;
            }
            self.keys = Some(keys);
        }
        let keys = self.keys.as_ref().expect("set above");
        let row: Vec<String> = std::iter::once(epoch.to_string())
            .chain(keys.iter().map(|k| log_value(logs, k).map_or("NA".into(), py_float)))
            .collect();
        self.write_line(&row)
    }

    fn on_train_end(&mut self, _model: &mut Sequential) -> Result<()> {
        self.file = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, logs, tiny_model};
    use super::*;
    use crate::model::FitOptions;

    fn epoch_logs(loss: f64, acc: f64) -> Vec<(String, f64)> {
        logs(&[("loss", loss), ("accuracy", acc), ("val_loss", loss + 0.5), ("val_accuracy", acc - 0.25)])
    }

    fn run(logger: &mut CSVLogger, m: &mut Sequential, epochs: &[(f64, f64)]) {
        logger.on_train_begin(m).unwrap();
        for (e, (loss, acc)) in epochs.iter().enumerate() {
            logger.on_epoch_end(e, &epoch_logs(*loss, *acc), m).unwrap();
        }
        logger.on_train_end(m).unwrap();
    }

    #[test]
    fn writes_keras_header_and_rows_then_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let mut m = tiny_model();
        run(&mut CSVLogger::new(&path), &mut m, &[(0.5, 0.75), (0.25, 1.0)]);
        let first = "epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.75,0.5,0.5,1.0\r\n1,1.0,0.25,0.75,0.75\r\n";
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        // Append: no second header; epochs count from 0 again, as in Keras.
        run(&mut CSVLogger::new(&path).append(true), &mut m, &[(0.125, 1.0)]);
        let appended = format!("{first}0,1.0,0.125,0.75,0.625\r\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), appended);
        // Without append the file starts over.
        run(&mut CSVLogger::new(&path).separator(';'), &mut m, &[(0.5, 0.75)]);
        let fresh = "epoch;accuracy;loss;val_accuracy;val_loss\r\n0;0.75;0.5;0.5;1.0\r\n";
        assert_eq!(std::fs::read_to_string(&path).unwrap(), fresh);
        // Append to an empty file writes the header.
        std::fs::write(&path, "").unwrap();
        run(&mut CSVLogger::new(&path).append(true), &mut m, &[(0.5, 0.75)]);
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("epoch,accuracy,"));
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let mut m = tiny_model();
        let mut first = CSVLogger::new(&path);
        first.on_train_begin(&mut m).unwrap();
        first.on_epoch_end(0, &epoch_logs(0.5, 0.75), &mut m).unwrap();
        let err = CSVLogger::new(&path).on_train_begin(&mut m).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "CSV log {}: another process is writing it (it is locked); give this run its own --csv-log",
                path.display()
            )
        );
        first.on_epoch_end(1, &epoch_logs(0.25, 1.0), &mut m).unwrap();
        first.on_train_end(&mut m).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "the first log is whole: {text}");
        // Once the first is done, the log is free again (and starts over).
        let mut second = CSVLogger::new(&path);
        second.on_train_begin(&mut m).unwrap();
        second.on_train_end(&mut m).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn missing_keys_are_na_and_fields_are_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let mut m = tiny_model();
        let mut logger = CSVLogger::new(&path);
        logger.on_train_begin(&mut m).unwrap();
        logger.on_epoch_end(0, &logs(&[("loss", 1e-5), ("a,b", 2.0)]), &mut m).unwrap();
        logger.on_epoch_end(1, &logs(&[("loss", f64::NAN)]), &mut m).unwrap();
        logger.on_train_end(&mut m).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "epoch,\"a,b\",loss\r\n0,2.0,1e-05\r\n1,NA,nan\r\n");
    }

    #[test]
    fn errors_before_training_for_a_missing_directory_and_logs_a_fit() {
        let mut m = tiny_model();
        let (x, y) = data();
        let mut logger = CSVLogger::new("/nope/log.csv");
        let opts = FitOptions { epochs: 1, verbose: 0, callbacks: vec![&mut logger], ..Default::default() };
        let err = m.fit(&x, &y, opts).unwrap_err().to_string();
        assert_eq!(err, "CSV log path /nope/log.csv: directory /nope does not exist");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fit.csv");
        let mut logger = CSVLogger::new(&path);
        let opts = FitOptions {
            epochs: 3,
            validation_split: 0.25,
            verbose: 0,
            callbacks: vec![&mut logger],
            ..Default::default()
        };
        let history = m.fit(&x, &y, opts).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "epoch,loss,val_loss");
        assert_eq!(lines.len(), 5, "header, 3 rows, and the empty rest after the last \\r\\n");
        assert_eq!(
            lines[3],
            format!("2,{},{}", py_float(history.loss()[2]), py_float(history.get("val_loss").unwrap()[2]))
        );
    }
}
