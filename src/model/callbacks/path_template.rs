//! ModelCheckpoint's file name templates: the part of Python's `str.format` grammar Keras's
//! examples use, checked whole before training (`{epoch:02d}`, `{val_loss:.2f}`, `{{`, `}}`).

use super::{log_value, py_float, Logs};
use crate::error::{Error, Result};

/// The widest `{epoch:Nd}` field accepted: wider only pads a file name past what file systems take.
pub const MAX_WIDTH: usize = 32;
/// The most decimals `{key:.Nf}` accepts: an f64 holds 17 significant digits.
pub const MAX_PRECISION: usize = 17;

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    /// `{epoch}` / `{epoch:3d}` / `{epoch:03d}`: (width, zero-padded).
    Epoch(usize, bool),
    /// `{key}` (Python's repr) or `{key:.2f}` (decimals).
    Value(String, Option<usize>),
}

/// A checked template; [`PathTemplate::fill`] makes an epoch's file name.
#[derive(Clone, Debug)]
pub struct PathTemplate {
    template: String,
    pieces: Vec<Piece>,
}

impl PathTemplate {
    /// Parses `template`; the error names it and the field at fault.
    pub fn parse(template: &str) -> Result<PathTemplate> {
        let bad = |what: String| Error::value(format!("checkpoint path '{template}': {what}"));
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(bad(format!("a single '}}' at byte {i}; write '}}}}' for a literal one"))),
                '{' => {
                    let close = template[i..].find('}').ok_or_else(|| bad(format!("an unclosed '{{' at byte {i}")))?;
                    let field = &template[i + 1..i + close];
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                    pieces.push(parse_field(field).map_err(|why| bad(format!("field '{{{field}}}': {why}")))?);
                    while chars.peek().is_some_and(|&(j, _)| j <= i + close) {
                        chars.next();
                    }
                }
                c => text.push(c),
            }
        }
        pieces.push(Piece::Text(text));
        pieces.retain(|p| *p != Piece::Text(String::new()));
        Ok(PathTemplate { template: template.to_string(), pieces })
    }

    /// The template with its fields filled for `epoch` (0-based; written from 1, as Keras).
    pub fn fill(&self, epoch: usize, logs: &Logs) -> Result<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Epoch(w, true) => out.push_str(&format!("{:0w$}", epoch + 1)),
                Piece::Epoch(w, false) => out.push_str(&format!("{:w$}", epoch + 1)),
                Piece::Value(name, precision) => {
                    let Some(v) = log_value(logs, name) else {
                        let keys: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
                        return Err(Error::value(format!(
                            "checkpoint path '{}': cannot fill it in: '{name}' is not in the logs ({})",
                            self.template,
                            keys.join(", ")
                        )));
                    };
                    match precision {
                        Some(p) => out.push_str(&format!("{v:.p$}")),
                        None => out.push_str(&py_float(v)),
                    }
                }
            }
        }
        Ok(out)
    }
}

/// One `{name:spec}` field (without the braces).
fn parse_field(field: &str) -> std::result::Result<Piece, String> {
    let (name, spec) = field.split_once(':').unwrap_or((field, ""));
    let name_ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !name_ok {
        return Err("expected a name such as epoch or val_loss".into());
    }
    let number = |digits: &str, what: &str, max: usize| match digits.parse::<usize>() {
        Ok(n) if n <= max && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("{what} {digits} is out of range (0 to {max})")),
    };
    if name == "epoch" {
        if spec.is_empty() {
            return Ok(Piece::Epoch(0, false));
        }
        let Some(width) = spec.strip_suffix('d').filter(|w| w.bytes().all(|b| b.is_ascii_digit())) else {
            return Err(format!("format '{spec}' for epoch: expected d, Nd or 0Nd"));
        };
        if width.is_empty() {
            return Ok(Piece::Epoch(0, false));
        }
        return Ok(Piece::Epoch(number(width, "width", MAX_WIDTH)?, width.starts_with('0')));
    }
    if spec.is_empty() {
        return Ok(Piece::Value(name.to_string(), None));
    }
    match spec.strip_prefix('.').and_then(|s| s.strip_suffix('f')) {
        Some(p) if !p.is_empty() => Ok(Piece::Value(name.to_string(), Some(number(p, "precision", MAX_PRECISION)?))),
        _ => Err(format!("format '{spec}' for {name}: expected .Nf")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::logs;
    use super::*;

    fn fill(template: &str, epoch: usize) -> Result<String> {
        let l = logs(&[("loss", 0.123456), ("val_loss", 1.0)]);
        PathTemplate::parse(template)?.fill(epoch, &l)
    }

    #[test]
    fn fills_keras_fields() {
        assert_eq!(fill("a/{epoch}.st", 0).unwrap(), "a/1.st");
        assert_eq!(fill("w.{epoch:03d}-{val_loss:.2f}", 9).unwrap(), "w.010-1.00");
        assert_eq!(fill("w.{epoch:3d}", 9).unwrap(), "w. 10");
        assert_eq!(fill("{loss}", 0).unwrap(), "0.123456");
        assert_eq!(fill("{{epoch}}-{epoch}", 1).unwrap(), "{epoch}-2");
        let err = fill("{val_acc:.2f}", 0).unwrap_err().to_string();
        assert_eq!(
            err,
            "checkpoint path '{val_acc:.2f}': cannot fill it in: 'val_acc' is not in the logs (loss, val_loss)"
        );
    }

    #[test]
    fn rejects_bad_and_unbounded_fields_before_any_epoch() {
        let cases = [
            ("m-{epoch:99999999999d}.st", "field '{epoch:99999999999d}': width 99999999999 is out of range (0 to 32)"),
            (
                "m-{val_loss:.99999999f}.st",
                "field '{val_loss:.99999999f}': precision 99999999 is out of range (0 to 17)",
            ),
            ("m-{epoch:33d}", "field '{epoch:33d}': width 33 is out of range (0 to 32)"),
            ("m-{loss:.18f}", "field '{loss:.18f}': precision 18 is out of range (0 to 17)"),
            ("m-{epoch:x}", "field '{epoch:x}': format 'x' for epoch: expected d, Nd or 0Nd"),
            ("m-{epoch:-3d}", "field '{epoch:-3d}': format '-3d' for epoch: expected d, Nd or 0Nd"),
            ("m-{loss:x}", "field '{loss:x}': format 'x' for loss: expected .Nf"),
            ("m-{loss:.f}", "field '{loss:.f}': format '.f' for loss: expected .Nf"),
            ("m-{}", "field '{}': expected a name such as epoch or val_loss"),
            ("m-{a b}", "field '{a b}': expected a name such as epoch or val_loss"),
            ("m-{epoch", "an unclosed '{' at byte 2"),
            ("m-}", "a single '}' at byte 2; write '}}' for a literal one"),
        ];
        for (template, why) in cases {
            let err = PathTemplate::parse(template).unwrap_err().to_string();
            assert_eq!(err, format!("checkpoint path '{template}': {why}"));
        }
        assert_eq!(fill("{epoch:32d}", 0).unwrap().len(), 32);
        assert_eq!(fill("{loss:.17f}", 0).unwrap(), format!("{:.17}", 0.123456));
    }
}
