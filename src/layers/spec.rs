//! The CLI's one-line model grammar, Keras-like:
//! `flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax)`.
//!
//! Each layer becomes the same config [`super::Layer::config`] writes and goes through
//! [`layer_from_config`], so a model from the command line is checked as a saved one is.
//! Layer and argument names ignore case (and underscores in layer names: `maxpooling2d`).

use serde_json::{json, Map, Value};

use super::names::Namer;
use super::registry::layer_from_config;
use super::Layer;
use crate::error::{Error, Result};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    PositiveInt,
    Number,
    Bool,
    Word,
    /// Positive integers or -1, collected from all remaining positional values: reshape(28, 28, 1).
    Sizes,
}
use Kind::*;

/// One layer of the grammar: its arguments by position (the first `required` must be given) and
/// every argument with its kind, in the order the errors list them.
struct Rule {
    layer: &'static str,
    class: &'static str,
    positional: &'static [&'static str],
    required: usize,
    args: &'static [(&'static str, Kind)],
}

const POOL_ARGS: &[(&str, Kind)] =
    &[("pool_size", PositiveInt), ("strides", PositiveInt), ("padding", Word), ("name", Word)];

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { layer: "dense", class: "Dense", positional: &["units"], required: 1, args: &[("units", PositiveInt),
        ("activation", Word), ("use_bias", Bool), ("kernel_initializer", Word), ("bias_initializer", Word), ("name", Word)] },
    Rule { layer: "flatten", class: "Flatten", positional: &[], required: 0, args: &[("name", Word)] },
    Rule { layer: "dropout", class: "Dropout", positional: &["rate"], required: 1, args: &[("rate", Number), ("name", Word)] },
    Rule { layer: "batch_normalization", class: "BatchNormalization", positional: &[], required: 0, args: &[
        ("momentum", Number), ("epsilon", Number), ("center", Bool), ("scale", Bool), ("name", Word)] },
    Rule { layer: "activation", class: "Activation", positional: &["activation"], required: 1,
        args: &[("activation", Word), ("name", Word)] },
    Rule { layer: "reshape", class: "Reshape", positional: &["target_shape"], required: 1,
        args: &[("target_shape", Sizes), ("name", Word)] },
    // Convolution and pooling: the configs are ready here; the registry builds them once it
    // knows Conv2D, MaxPooling2D and AveragePooling2D.
    Rule { layer: "conv2d", class: "Conv2D", positional: &["filters", "kernel_size"], required: 2, args: &[
        ("filters", PositiveInt), ("kernel_size", PositiveInt), ("strides", PositiveInt), ("padding", Word),
        ("activation", Word), ("kernel_initializer", Word), ("use_bias", Bool), ("name", Word)] },
    Rule { layer: "max_pooling2d", class: "MaxPooling2D", positional: &["pool_size"], required: 0, args: POOL_ARGS },
    Rule { layer: "average_pooling2d", class: "AveragePooling2D", positional: &["pool_size"], required: 0, args: POOL_ARGS },
];

/// The layers of a `--layers` line, unbuilt; unnamed layers get Keras's names (dense, dense_1...).
pub fn parse_layers(spec: &str) -> Result<Vec<Box<dyn Layer>>> {
    let items = parse_items(spec)?;
    let at = |i: usize, e: Error| Error::value(format!("{} in --layers at position {}: {e}", items[i].0, i + 1));
    let layers =
        items.iter().enumerate().map(|(i, (_, class, config))| layer_from_config(class, config).map_err(|e| at(i, e)));
    layers.collect()
}

/// The same line as `{"class_name": .., "config": ..}` values ([`super::layer_to_config`]'s form).
pub fn layer_configs(spec: &str) -> Result<Vec<Value>> {
    let items = parse_items(spec)?;
    Ok(items.into_iter().map(|(_, class, config)| json!({ "class_name": class, "config": config })).collect())
}

/// (text, class name, config) of each layer, named.
fn parse_items(spec: &str) -> Result<Vec<(&str, &'static str, Value)>> {
    if spec.trim().is_empty() {
        return Err(Error::value("--layers is empty; write e.g. \"flatten, dense(10, activation=softmax)\""));
    }
    let mut items = Vec::new();
    for (i, text) in split_items(spec)?.into_iter().enumerate() {
        let (rule, config) = parse_item(text.trim(), i + 1)?;
        items.push((text.trim(), rule, config));
    }
    // Names as Sequential::add gives them, skipping the ones given explicitly.
    let mut names = Namer::default();
    for name in items.iter().filter_map(|(_, _, c)| c["name"].as_str()) {
        names.reserve(name);
    }
    for (_, class, config) in &mut items {
        let base = RULES.iter().find(|r| r.class == *class).map_or("layer", |r| r.layer);
        let given = config["name"].as_str().unwrap_or("").to_string();
        config["name"] = Value::String(names.name(base, &given));
    }
    Ok(items)
}

/// Splits at the commas outside parentheses; errors point at an unbalanced or nested one.
fn split_items(spec: &str) -> Result<Vec<&str>> {
    let (mut open, mut start, mut items) = (None, 0, Vec::new());
    for (k, (byte, ch)) in spec.char_indices().enumerate() {
        match (ch, open) {
            ('(', Some(_)) => {
                return Err(Error::value(format!(
                    "nested parentheses at character {} in --layers; arguments are plain values, as in \
                     reshape(28, 28, 1)",
                    k + 1
                )))
            }
            ('(', None) => open = Some(k + 1),
            (')', None) => {
                return Err(Error::value(format!(
                    "unbalanced parentheses in --layers: ')' at character {} has no matching '('",
                    k + 1
                )))
            }
            (')', Some(_)) => open = None,
            (',', None) => {
                items.push(&spec[start..byte]);
                start = byte + 1;
            }
            _ => {}
        }
    }
    if let Some(k) = open {
        return Err(Error::value(format!("unbalanced parentheses in --layers: '(' at character {k} is never closed")));
    }
    items.push(&spec[start..]);
    Ok(items)
}

fn parse_item(text: &str, pos: usize) -> Result<(&'static str, Value)> {
    let at = |msg: String| Error::value(format!("{text} in --layers at position {pos}: {msg}"));
    if text.is_empty() {
        return Err(Error::value(format!("empty layer in --layers at position {pos} (a doubled or trailing comma?)")));
    }
    let (name, args) = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) => {
            let after = text[close + 1..].trim();
            if !after.is_empty() {
                return Err(Error::value(format!("unexpected text '{after}' after ')' in --layers at position {pos}")));
            }
            (text[..open].trim(), text[open + 1..close].trim())
        }
        _ => (text, ""),
    };
    let key = name.to_ascii_lowercase().replace('_', "");
    let Some(rule) = RULES.iter().find(|r| r.layer.replace('_', "") == key) else {
        let valid: Vec<_> = RULES.iter().map(|r| r.layer).collect();
        return Err(Error::value(format!(
            "unknown layer '{name}' in --layers at position {pos}; valid layers: {}",
            valid.join(", ")
        )));
    };
    let (mut config, mut n_positional, mut keywords) = (Map::new(), 0, false);
    for arg in args.split(',').map(str::trim).filter(|_| !args.is_empty()) {
        if arg.is_empty() {
            return Err(at("empty argument".into()));
        }
        let (key, raw) = match arg.split_once('=') {
            Some((key, raw)) => {
                keywords = true;
                let key = key.trim().to_ascii_lowercase();
                let Some(&(key, _)) = rule.args.iter().find(|a| a.0 == key) else {
                    let valid: Vec<_> = rule.args.iter().map(|a| a.0).collect();
                    return Err(Error::value(format!(
                        "unknown argument '{key}' for {} in --layers at position {pos}; valid arguments: {}",
                        rule.layer,
                        valid.join(", ")
                    )));
                };
                (key, raw.trim())
            }
            None if keywords => return Err(at(format!("positional argument '{arg}' follows keyword arguments"))),
            None => {
                let last = rule.positional.last().filter(|&&k| kind(rule, k) == Sizes);
                let Some(&key) = rule.positional.get(n_positional).or(last) else {
                    let (n, names) = (rule.positional.len(), rule.positional.join(", "));
                    return Err(at(match n {
                        0 => format!("{} takes no positional arguments", rule.layer),
                        _ => format!(
                            "{} takes {n} positional argument{} ({names})",
                            rule.layer,
                            if n > 1 { "s" } else { "" }
                        ),
                    }));
                };
                n_positional += 1;
                (key, arg)
            }
        };
        let value = parse_value(kind(rule, key), key, raw).map_err(at)?;
        match (kind(rule, key), config.get_mut(key)) {
            (Sizes, Some(Value::Array(list))) => list.push(value),
            (Sizes, None) => drop(config.insert(key.into(), Value::Array(vec![value]))),
            (_, Some(_)) => return Err(at(format!("argument '{key}' is given twice"))),
            (_, None) => drop(config.insert(key.into(), value)),
        }
    }
    if let Some(missing) = rule.positional[..rule.required].iter().find(|&&k| !config.contains_key(k)) {
        return Err(at(format!("missing argument '{missing}'")));
    }
    Ok((rule.class, Value::Object(config)))
}

fn kind(rule: &Rule, key: &str) -> Kind {
    rule.args.iter().find(|a| a.0 == key).map_or(Word, |a| a.1)
}

/// One argument's value as JSON; the error is Keras's "expected ..., received key=value".
fn parse_value(kind: Kind, key: &str, raw: &str) -> std::result::Result<Value, String> {
    let word = raw.trim_matches(|c| c == '\'' || c == '"');
    let bad = |what: &str| format!("expected {what}, received {key}={raw}");
    match kind {
        PositiveInt => {
            raw.parse::<u64>().ok().filter(|&n| n > 0).map(Value::from).ok_or_else(|| bad("a positive integer"))
        }
        Number => raw.parse::<f64>().ok().filter(|v| v.is_finite()).map(Value::from).ok_or_else(|| bad("a number")),
        Sizes => raw
            .parse::<i64>()
            .ok()
            .filter(|&n| n > 0 || n == -1)
            .map(Value::from)
            .ok_or_else(|| bad("a positive integer or -1")),
        Bool => match word.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad("true or false")),
        },
        Word if word.is_empty() => Err(bad("a value")),
        Word if key == "name" => Ok(Value::String(word.to_string())),
        Word => Ok(Value::String(word.to_ascii_lowercase())),
    }
}

/// The grammar in a few lines, for `--help`: every layer with its arguments (positional ones
/// first, then `key=...` ones) and the activations; made from the rules the parser uses.
pub fn grammar_help() -> String {
    let mut text = String::from("Layers for --layers (arguments by position, then key=...):\n");
    for rule in RULES {
        let keyword = rule.args.iter().map(|(k, _)| *k).filter(|k| !rule.positional.contains(k));
        let args: Vec<String> =
            rule.positional.iter().map(|p| p.to_string()).chain(keyword.map(|k| format!("{k}=..."))).collect();
        text += &format!("  {}({})\n", rule.layer, args.join(", "));
    }
    text + &format!("Activations: {}", super::Activation::NAMES.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(spec: &str) -> String {
        parse_layers(spec).err().expect("an error").to_string()
    }

    #[test]
    fn the_help_lists_every_layer_and_activation_the_parser_takes() {
        let help = grammar_help();
        let layers: Vec<&str> = help.lines().filter_map(|l| l.strip_prefix("  ")?.split('(').next()).collect();
        assert_eq!(layers, RULES.iter().map(|r| r.layer).collect::<Vec<_>>());
        assert!(help.contains("\n  conv2d(filters, kernel_size, strides=..., padding=..., activation=..., "), "{help}");
        for name in crate::layers::Activation::NAMES {
            parse_layers(&format!("activation({name})")).unwrap();
        }
        assert!(help.ends_with("\nActivations: linear, relu, sigmoid, tanh, softmax"), "{help}");
    }

    #[test]
    fn parses_the_keras_like_line_into_named_layers() {
        let spec = "flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax, name=output)";
        let layers = parse_layers(spec).unwrap();
        let names: Vec<_> = layers.iter().map(|l| (l.class_name(), l.name().to_string())).collect();
        let want = [("Flatten", "flatten"), ("Dense", "hidden"), ("Dropout", "dropout"), ("Dense", "output")];
        assert_eq!(names, want.map(|(c, n)| (c, n.to_string())));
        assert_eq!(layers[1].config()["activation"], "relu");
        assert_eq!(layers[2].config()["rate"], json!(0.3));
        let more = parse_layers(
            "Reshape(28, 28, 1), BatchNormalization(momentum=0.9), Activation(ReLU), Dense(4, use_bias=False)",
        );
        let more = more.unwrap();
        assert_eq!(more[0].config()["target_shape"], json!([28, 28, 1]));
        assert_eq!(more[1].config()["momentum"], json!(0.9));
        assert_eq!(more[2].config()["activation"], "relu");
        assert_eq!(more[3].config()["use_bias"], false);
    }

    #[test]
    fn unnamed_layers_get_keras_names_around_given_ones() {
        let layers = parse_layers("dense(4), dense(4), dense(2, name=dense_1), flatten").unwrap();
        let names: Vec<_> = layers.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["dense", "dense_2", "dense_1", "flatten"]);
    }

    #[test]
    fn convolution_and_pooling_make_keras_configs() {
        let configs = layer_configs(
            "conv2d(32, 3, activation=relu, padding=same, strides=2), max_pooling2d(2), AveragePooling2D",
        )
        .unwrap();
        assert_eq!(
            configs,
            [
                json!({"class_name": "Conv2D", "config": {"filters": 32, "kernel_size": 3, "activation": "relu",
                       "padding": "same", "strides": 2, "name": "conv2d"}}),
                json!({"class_name": "MaxPooling2D", "config": {"pool_size": 2, "name": "max_pooling2d"}}),
                json!({"class_name": "AveragePooling2D", "config": {"name": "average_pooling2d"}}),
            ]
        );
    }

    #[test]
    fn errors_name_the_bad_token_and_the_valid_choices() {
        assert_eq!(
            err("dense2(10)"),
            "unknown layer 'dense2' in --layers at position 1; valid layers: dense, flatten, dropout, \
             batch_normalization, activation, reshape, conv2d, max_pooling2d, average_pooling2d"
        );
        assert_eq!(
            err("flatten, dense(0)"),
            "dense(0) in --layers at position 2: expected a positive integer, received units=0"
        );
        assert_eq!(err("dropout(abc)"), "dropout(abc) in --layers at position 1: expected a number, received rate=abc");
        assert_eq!(
            err("reshape(28, 0)"),
            "reshape(28, 0) in --layers at position 1: expected a positive integer or -1, received target_shape=0"
        );
        assert_eq!(
            err("dense(4, use_bias=maybe)"),
            "dense(4, use_bias=maybe) in --layers at position 1: expected true or false, received use_bias=maybe"
        );
        assert_eq!(
            err("flatten, dense(10, activaton=relu)"),
            "unknown argument 'activaton' for dense in --layers at position 2; valid arguments: units, activation, \
             use_bias, kernel_initializer, bias_initializer, name"
        );
        assert_eq!(err("dense(10, relu"), "unbalanced parentheses in --layers: '(' at character 6 is never closed");
        assert_eq!(
            err("flatten), dense(10)"),
            "unbalanced parentheses in --layers: ')' at character 8 has no matching '('"
        );
        assert_eq!(
            err("reshape((28, 28))"),
            "nested parentheses at character 9 in --layers; arguments are plain values, as in reshape(28, 28, 1)"
        );
        assert_eq!(err("flatten, , dense(10)"), "empty layer in --layers at position 2 (a doubled or trailing comma?)");
        assert_eq!(err("dense(10) x"), "unexpected text 'x' after ')' in --layers at position 1");
        assert_eq!(err("dense(10,)"), "dense(10,) in --layers at position 1: empty argument");
        assert_eq!(err("dense()"), "dense() in --layers at position 1: missing argument 'units'");
        assert_eq!(
            err("dense(10, 20)"),
            "dense(10, 20) in --layers at position 1: dense takes 1 positional argument (units)"
        );
        assert_eq!(err("flatten(3)"), "flatten(3) in --layers at position 1: flatten takes no positional arguments");
        assert_eq!(
            err("dense(units=3, 4)"),
            "dense(units=3, 4) in --layers at position 1: positional argument '4' follows keyword arguments"
        );
        assert_eq!(
            err("dense(3, units=4)"),
            "dense(3, units=4) in --layers at position 1: argument 'units' is given twice"
        );
        assert_eq!(err(" "), "--layers is empty; write e.g. \"flatten, dense(10, activation=softmax)\"");
    }

    #[test]
    fn values_are_checked_by_the_layers_themselves() {
        assert_eq!(
            err("flatten, dense(10), dropout(1.5)"),
            "dropout(1.5) in --layers at position 3: layer 'dropout' (Dropout): rate must be in [0, 1), received rate=1.5"
        );
        assert_eq!(
            err("dense(10, activation=rleu)"),
            "dense(10, activation=rleu) in --layers at position 1: layer 'dense' (Dense): unknown activation 'rleu'; \
             valid activations: linear, relu, sigmoid, tanh, softmax"
        );
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;
    use crate::layers::count_params;
    use crate::model::Sequential;

    #[test]
    fn the_mlp_line_has_keras_shapes_and_parameter_counts() {
        let refs = crate::test_support::reference();
        let case = &refs["summaries"][1];
        let mut model = Sequential::new();
        for layer in
            parse_layers("flatten, dense(100, activation=relu), dropout(0.3), dense(10, activation=softmax)").unwrap()
        {
            model.add_boxed(layer);
        }
        model.build(&[28, 28]).unwrap();
        for (i, want) in case["layers"].as_array().unwrap().iter().enumerate() {
            assert_eq!(model.layers()[i].class_name(), want["class"]);
            assert_eq!(json!(model.layer_output_shapes()[i]), want["output_shape"]);
            assert_eq!(json!(count_params(model.layers()[i].as_ref()).0), want["params"]);
        }
    }
}
