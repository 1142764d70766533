//! Names, made here and nowhere else: Keras's automatic layer names (`dense`, `dense_1`), the
//! dotted names of parameters (`dense_1.kernel`) and of the optimizer's state
//! (`optimizer.dense_1.kernel.m`), and the rule every layer name follows so that it cannot break
//! a model file.
//!
//! A layer named `optimizer` or `optimizer.x` would write weights that read back as optimizer
//! state: that namespace is reserved.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};

/// The name reserved for the optimizer's state in model files.
pub const RESERVED_NAME: &str = "optimizer";
/// The prefix of the optimizer-state tensors in model files: `optimizer.`.
pub const OPTIMIZER_PREFIX: &str = "optimizer.";
/// The longest layer name, in bytes: names are repeated in every tensor name of a model file,
/// whose header safetensors readers cap at 100 MB.
pub const MAX_NAME_LEN: usize = 255;

/// Checks a layer name given by a user (API, `--layers`, a model file); errors say why.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::value(format!("invalid layer name '{}': {why}", name.escape_debug())));
    if name == RESERVED_NAME || name.starts_with(OPTIMIZER_PREFIX) {
        return bad("'optimizer' and names starting with 'optimizer.' are reserved for the optimizer's state");
    }
    if name.len() > MAX_NAME_LEN {
        return bad(&format!("it is {} bytes long; the limit is {MAX_NAME_LEN}", name.len()));
    }
    if name.chars().any(char::is_control) {
        return bad("it holds a control character");
    }
    Ok(())
}

/// Keras's `to_snake_case`: "MaxPooling2D" → "max_pooling2d", "GlorotUniform" →
/// "glorot_uniform", "SimpleRNN" → "simple_rnn".
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if c.is_uppercase() && i > 0 && (chars[i - 1].is_lowercase() || next_lower) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The base of a layer class's automatic names, as Keras makes it: the class in snake case
/// (`Dense` → `dense`, `Activation` → `activation`). The grammar's word for the layer too.
pub fn base_name(class: &str) -> String {
    snake_case(class)
}

/// A parameter's name in model files and [`crate::model::Sequential::weights`]:
/// `hidden.kernel`.
pub fn param_name(layer: &str, param: &str) -> String {
    format!("{layer}.{param}")
}

/// The name of one slot of the optimizer's state for a parameter: `optimizer.hidden.kernel.m`.
pub fn slot_name(param: &str, slot: &str) -> String {
    format!("{OPTIMIZER_PREFIX}{param}.{slot}")
}

/// Keras's automatic names: the k-th layer of a kind (counting named ones) gets `base_k`
/// (`dense`, `dense_1`, ...), skipping names already taken. Constant time per name, so a model
/// of 100,000 layers is named in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Namer {
    seen: HashMap<String, usize>,
    taken: HashSet<String>,
}

impl Namer {
    /// Marks `name` as taken before the layers are named (a later layer's explicit name).
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// The name of the next layer of class `class`: `given` when it is not empty, else a new
    /// one from the class's [`base_name`].
    pub fn name(&mut self, class: &str, given: &str) -> String {
        let base = base_name(class);
        let k = self.seen.entry(base.clone()).or_insert(0);
        let mut n = *k;
        *k += 1;
        if !given.is_empty() {
            self.taken.insert(given.to_string());
            return given.to_string();
        }
        loop {
            let name = if n == 0 { base.clone() } else { format!("{base}_{n}") };
            if self.taken.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_every_layer_of_a_kind_and_skip_taken_ones() {
        let mut namer = Namer::default();
        namer.reserve("dense_1");
        let names: Vec<String> =
            [("Dense", ""), ("Dense", ""), ("Dense", "dense_1"), ("Flatten", "")].map(|(b, g)| namer.name(b, g)).into();
        assert_eq!(names, ["dense", "dense_2", "dense_1", "flatten"]);
    }

    #[test]
    fn base_names_are_keras_snake_case() {
        for (class, want) in [
            ("GlorotUniform", "glorot_uniform"),
            ("MaxPooling2D", "max_pooling2d"),
            ("Conv2D", "conv2d"),
            ("BatchNormalization", "batch_normalization"),
            ("Dense", "dense"),
            ("SimpleRNN", "simple_rnn"),
            ("LSTM", "lstm"),
        ] {
            assert_eq!(base_name(class), want);
        }
        assert_eq!(slot_name(&param_name("dense_1", "kernel"), "m"), "optimizer.dense_1.kernel.m");
    }

    #[test]
    fn reserved_long_and_control_names_are_errors() {
        let err = |n: &str| check_name(n).unwrap_err().to_string();
        assert_eq!(
            err("optimizer"),
            "invalid layer name 'optimizer': 'optimizer' and names starting with 'optimizer.' are reserved for \
             the optimizer's state"
        );
        assert!(err("optimizer.dense").starts_with("invalid layer name 'optimizer.dense': 'optimizer' and"));
        assert_eq!(
            err(&"x".repeat(256)),
            format!("invalid layer name '{}': it is 256 bytes long; the limit is 255", "x".repeat(256))
        );
        assert_eq!(err("a\nb"), "invalid layer name 'a\\nb': it holds a control character");
        for ok in ["optimizers", "my.optimizer", "Optimizer", "hidden layer", "dense.1", "a/b"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
    }
}
