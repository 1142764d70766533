//! The one-line model grammar, Keras-like:
//! `flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax)`.
//!
//! Each layer's row (its word, positional arguments and argument kinds) is the layer's own
//! [`LayerKind`]; each layer becomes the config [`super::Layer::config`] writes and goes through
//! [`layer_from_config`], so a model from a line is checked as a saved one is. Layer and argument
//! names ignore case (and underscores in layer names: `maxpooling2d`). Errors give the column
//! (1-based, in characters) of the text at fault; the caller names where the line came from.

use serde_json::{json, Map, Value};

use super::names::{base_name, Namer};
use super::registry::{layer_from_config, layer_kinds, ArgKind, LayerKind};
use super::Layer;
use crate::error::{Error, Result};

/// One piece of the line: its text (trimmed) and the byte offset where it starts in the line.
#[derive(Clone, Copy)]
struct Piece<'a> {
    text: &'a str,
    start: usize,
}

/// A parsed layer: its piece of the line, its class and its config (named).
struct Item<'a> {
    piece: Piece<'a>,
    class: &'static str,
    config: Value,
}

/// The 1-based column, in characters, of byte offset `at` of `line`.
fn column(line: &str, at: usize) -> usize {
    line[..at].chars().count() + 1
}

/// The layers of a line, unbuilt; unnamed layers get Keras's names (dense, dense_1...).
pub fn parse_layers(line: &str) -> Result<Vec<Box<dyn Layer>>> {
    let items = parse_items(line)?;
    let at = |item: &Item, e: Error| {
        Error::value(format!("column {} (in '{}'): {e}", column(line, item.piece.start), item.piece.text))
    };
    items.iter().map(|item| layer_from_config(item.class, &item.config).map_err(|e| at(item, e))).collect()
}

/// The same line as `{"class_name": .., "config": ..}` values ([`super::layer_to_config`]'s form).
pub fn layer_configs(line: &str) -> Result<Vec<Value>> {
    let items = parse_items(line)?;
    Ok(items.into_iter().map(|i| json!({ "class_name": i.class, "config": i.config })).collect())
}

/// Every layer of the line, parsed and named as `Sequential::add` names them.
fn parse_items(line: &str) -> Result<Vec<Item<'_>>> {
    if line.trim().is_empty() {
        return Err(Error::value("the layer list is empty; write e.g. \"flatten, dense(10, activation=softmax)\""));
    }
    let kinds = layer_kinds();
    let mut items = Vec::new();
    for piece in split(line, 0, line, true)? {
        let (class, config) = parse_item(line, piece, &kinds)?;
        items.push(Item { piece, class, config });
    }
    let mut names = Namer::default();
    for name in items.iter().filter_map(|i| i.config["name"].as_str()) {
        names.reserve(name);
    }
    for item in &mut items {
        let given = item.config["name"].as_str().unwrap_or("").to_string();
        item.config["name"] = Value::String(names.name(item.class, &given));
    }
    Ok(items)
}

/// Splits `text` (at byte `offset` of `line`) at the commas outside parentheses, into trimmed
/// pieces; `top` checks the parentheses (nested or unbalanced ones are errors).
fn split<'a>(line: &str, offset: usize, text: &'a str, top: bool) -> Result<Vec<Piece<'a>>> {
    let err = |at: usize, msg: &str| Err(Error::value(format!("column {}: {msg}", column(line, offset + at))));
    let (mut open, mut start, mut pieces) = (None, 0, Vec::new());
    let mut push = |from: usize, to: usize| {
        let raw = &text[from..to];
        let lead = raw.len() - raw.trim_start().len();
        pieces.push(Piece { text: raw.trim(), start: offset + from + lead });
    };
    for (at, ch) in text.char_indices() {
        match (ch, open) {
            ('(', Some(_)) if top => {
                return err(at, "nested parentheses; arguments are plain values, as in reshape(28, 28, 1)")
            }
            ('(', None) => open = Some(at),
            (')', None) if top => return err(at, "unbalanced parentheses: this ')' has no matching '('"),
            (')', Some(_)) => open = None,
            (',', None) => {
                push(start, at);
                start = at + 1;
            }
            _ => {}
        }
    }
    if let (Some(at), true) = (open, top) {
        return err(at, "unbalanced parentheses: this '(' is never closed");
    }
    push(start, text.len());
    Ok(pieces)
}

/// One layer's class and config from its piece of the line.
fn parse_item(line: &str, piece: Piece, kinds: &[LayerKind]) -> Result<(&'static str, Value)> {
    let err = |at: usize, msg: String| Error::value(format!("column {}: {msg}", column(line, at)));
    let text = piece.text;
    if text.is_empty() {
        return Err(err(piece.start, "empty layer (a doubled or trailing comma?)".into()));
    }
    let (word, args) = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) => {
            let after = &text[close + 1..];
            if !after.trim().is_empty() {
                let at = piece.start + close + 1 + (after.len() - after.trim_start().len());
                return Err(err(at, format!("unexpected text '{}' after ')'", after.trim())));
            }
            (text[..open].trim(), Some((piece.start + open + 1, &text[open + 1..close])))
        }
        _ => (text, None),
    };
    let key = word.to_ascii_lowercase().replace('_', "");
    let Some(kind) = kinds.iter().find(|k| base_name(k.class).replace('_', "") == key) else {
        let valid: Vec<String> = kinds.iter().map(|k| base_name(k.class)).collect();
        return Err(err(piece.start, format!("unknown layer '{word}'; valid layers: {}", valid.join(", "))));
    };
    let config = match args {
        Some((start, args)) if !args.trim().is_empty() => parse_args(line, kind, split(line, start, args, false)?)?,
        _ => Map::new(),
    };
    if let Some(missing) = kind.positional[..kind.required].iter().find(|&&k| !config.contains_key(k)) {
        return Err(err(piece.start, format!("{}: missing argument '{missing}'", base_name(kind.class))));
    }
    Ok((kind.class, Value::Object(config)))
}

/// The arguments of one layer, by position then by `key=value`, as its config.
fn parse_args(line: &str, kind: &LayerKind, args: Vec<Piece>) -> Result<Map<String, Value>> {
    let layer = base_name(kind.class);
    let (mut config, mut n_positional, mut keywords) = (Map::new(), 0, false);
    for arg in args {
        let err = |msg: String| Error::value(format!("column {}: {msg}", column(line, arg.start)));
        if arg.text.is_empty() {
            return Err(err(format!("{layer}: empty argument")));
        }
        let (key, raw) = match arg.text.split_once('=') {
            Some((key, raw)) => {
                keywords = true;
                let key = key.trim().to_ascii_lowercase();
                let known = kind.args.iter().map(|a| a.0).chain(["name"]).find(|&a| a == key);
                let Some(key) = known else {
                    let valid: Vec<&str> = kind.args.iter().map(|a| a.0).chain(["name"]).collect();
                    let valid = valid.join(", ");
                    return Err(err(format!("unknown argument '{key}' for {layer}; valid arguments: {valid}")));
                };
                (key, raw.trim())
            }
            None if keywords => {
                return Err(err(format!("{layer}: positional argument '{}' follows keyword arguments", arg.text)))
            }
            None => {
                let last = kind.positional.last().filter(|&&k| kind.arg_kind(k) == ArgKind::Sizes);
                let Some(&key) = kind.positional.get(n_positional).or(last) else {
                    let (n, names) = (kind.positional.len(), kind.positional.join(", "));
                    return Err(err(match n {
                        0 => format!("{layer} takes no positional arguments"),
                        _ => format!("{layer} takes {n} positional argument{} ({names})", if n > 1 { "s" } else { "" }),
                    }));
                };
                n_positional += 1;
                (key, arg.text)
            }
        };
        let value = parse_value(kind.arg_kind(key), key, raw).map_err(|e| err(format!("{layer}: {e}")))?;
        match (kind.arg_kind(key), config.get_mut(key)) {
            (ArgKind::Sizes, Some(Value::Array(list))) => list.push(value),
            (ArgKind::Sizes, None) => drop(config.insert(key.into(), Value::Array(vec![value]))),
            (_, Some(_)) => return Err(err(format!("{layer}: argument '{key}' is given twice"))),
            (_, None) => drop(config.insert(key.into(), value)),
        }
    }
    Ok(config)
}

/// A number, or a fraction of two (`1/255`, as Keras users write a scale).
fn number(raw: &str) -> Option<f64> {
    let v = match raw.split_once('/') {
        Some((a, b)) => a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok().filter(|&b| b != 0.0)?,
        None => raw.parse::<f64>().ok()?,
    };
    v.is_finite().then_some(v)
}

/// One argument's value as JSON; the error is Keras's "expected ..., received key=value".
fn parse_value(kind: ArgKind, key: &str, raw: &str) -> std::result::Result<Value, String> {
    let word = raw.trim_matches(|c| c == '\'' || c == '"');
    let bad = |what: &str| format!("expected {what}, received {key}={raw}");
    match kind {
        ArgKind::PositiveInt => {
            raw.parse::<u64>().ok().filter(|&n| n > 0).map(Value::from).ok_or_else(|| bad("a positive integer"))
        }
        ArgKind::Number => number(raw).map(Value::from).ok_or_else(|| bad("a number")),
        ArgKind::Sizes => raw
            .parse::<i64>()
            .ok()
            .filter(|&n| n > 0 || n == -1)
            .map(Value::from)
            .ok_or_else(|| bad("a positive integer or -1")),
        ArgKind::Bool => match word.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad("true or false")),
        },
        ArgKind::Word if word.is_empty() => Err(bad("a value")),
        ArgKind::Word if key == "name" => Ok(Value::String(word.to_string())),
        ArgKind::Word => Ok(Value::String(word.to_ascii_lowercase())),
    }
}

/// The grammar in a few lines, for `--help`: every layer with its arguments (positional ones
/// first, then `key=...` ones) and the activations; made from the rows the parser uses.
pub fn grammar_help() -> String {
    let mut text = String::new();
    for kind in layer_kinds() {
        let keyword = kind.args.iter().map(|(k, _)| *k).chain(["name"]).filter(|k| !kind.positional.contains(k));
        let args: Vec<String> =
            kind.positional.iter().map(|p| p.to_string()).chain(keyword.map(|k| format!("{k}=..."))).collect();
        text += &format!("  {}({})\n", base_name(kind.class), args.join(", "));
    }
    text + &format!("Activations: {}", super::Activation::NAMES.join(", "))
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
