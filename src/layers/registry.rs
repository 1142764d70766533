//! The layer registry: one line per layer class. Each layer file describes itself in a
//! [`LayerKind`] (Keras's class name, its `from_config` and its row of the one-line grammar);
//! the registry lists them, and a program may [`register_layer`] its own, which
//! [`layer_from_config`], [`crate::io::load_model`] and [`super::parse_layers`] then know.
//!
//! Adding a layer: its file (with `pub const KIND: LayerKind`) and one line in [`BUILT_IN`].

use std::sync::RwLock;

use serde_json::{json, Value};

use super::config::LayerConfig;
use super::{
    ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Embedding, Flatten,
    GlobalAveragePooling1D, Layer, MaxPooling2D, Rescaling, Reshape, SimpleRNN, GRU, LSTM,
};
use crate::error::{Error, Result};

/// The layers kiln has, in the order errors and `--help` list them.
pub const BUILT_IN: &[LayerKind] = &[
    Dense::KIND,
    Flatten::KIND,
    Dropout::KIND,
    BatchNormalization::KIND,
    ActivationLayer::KIND,
    Reshape::KIND,
    Conv2D::KIND,
    MaxPooling2D::KIND,
    AveragePooling2D::KIND,
    Rescaling::KIND,
    Embedding::KIND,
    SimpleRNN::KIND,
    LSTM::KIND,
    GRU::KIND,
    GlobalAveragePooling1D::KIND,
];

/// The kind of value one argument takes, in the grammar and in Keras files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A positive integer: `units`, `filters`, `pool_size`.
    PositiveInt,
    /// A finite number, or a fraction of two (`1/255`): `rate`, `scale`.
    Number,
    /// `true` or `false` (any case).
    Bool,
    /// A word: an activation, a padding, an initializer, a name.
    Word,
    /// Positive integers or -1, taking every remaining positional value: `reshape(28, 28, 1)`.
    Sizes,
}

/// One layer class as the registry knows it: what a layer file declares about itself.
#[derive(Clone, Copy)]
pub struct LayerKind {
    /// Keras's class name: `"Dense"`. Its snake case (`dense`) is the grammar's word for the
    /// layer and the base of generated names ([`super::names::base_name`]).
    pub class: &'static str,
    /// The arguments given by position in the grammar (`dense(10)`: `units`).
    pub positional: &'static [&'static str],
    /// How many of `positional` must be given.
    pub required: usize,
    /// Every config key the layer reads besides `name` (and `input_shape`), with its kind, in the
    /// order errors and `--help` list them. Keras files may carry only these (or Keras defaults).
    pub args: &'static [(&'static str, ArgKind)],
    /// Builds the layer (unbuilt, unnamed) from its config. The registry then sets the name and
    /// the `input_shape`, and checks that no key is left unread.
    pub from_config: fn(&LayerConfig) -> Result<Box<dyn Layer>>,
}

impl LayerKind {
    /// The kind of argument `key` (a word when the layer does not list it).
    pub fn arg_kind(&self, key: &str) -> ArgKind {
        self.args.iter().find(|a| a.0 == key).map_or(ArgKind::Word, |a| a.1)
    }
}

/// Layer kinds a program registered, after the built-in ones.
static USER_KINDS: RwLock<Vec<LayerKind>> = RwLock::new(Vec::new());

/// Makes a layer class of the program's own known to [`layer_from_config`], to model files
/// (`load_model`) and to the grammar. A class name already known is an error.
pub fn register_layer(kind: LayerKind) -> Result<()> {
    let mut user = USER_KINDS.write().unwrap_or_else(|e| e.into_inner());
    if BUILT_IN.iter().chain(user.iter()).any(|k| k.class == kind.class) {
        return Err(Error::value(format!("a layer class named '{}' is already registered", kind.class)));
    }
    user.push(kind);
    Ok(())
}

/// Every layer kind: the built-in ones, then those registered.
pub fn layer_kinds() -> Vec<LayerKind> {
    let user = USER_KINDS.read().unwrap_or_else(|e| e.into_inner());
    BUILT_IN.iter().chain(user.iter()).copied().collect()
}

/// The kind of layer class `class`, if registered.
pub fn layer_kind(class: &str) -> Option<LayerKind> {
    layer_kinds().into_iter().find(|k| k.class == class)
}

/// Rebuilds a layer (unbuilt, without weights) from its class name and [`Layer::config`].
/// Values are checked here, so a bad config fails before any model is built.
pub fn layer_from_config(class: &str, config: &Value) -> Result<Box<dyn Layer>> {
    let Some(kind) = layer_kind(class) else {
        let classes: Vec<&str> = layer_kinds().iter().map(|k| k.class).collect();
        return Err(Error::value(format!("unknown layer class '{class}'; valid classes: {}", classes.join(", "))));
    };
    let c = LayerConfig::new(class, config)?;
    super::names::check_name(c.name())?;
    let mut layer = (kind.from_config)(&c)?;
    finish(layer.as_mut(), &c)?;
    Ok(layer)
}

/// A layer of a known type from its config, as [`layer_from_config`] reads it: what the layer
/// files' typed `from_config` use.
pub(crate) fn typed_from_config<L: Layer>(
    class: &str,
    config: &Value,
    read: impl Fn(&LayerConfig) -> Result<L>,
) -> Result<L> {
    let c = LayerConfig::new(class, config)?;
    super::names::check_name(c.name())?;
    let mut layer = read(&c)?;
    finish(&mut layer, &c)?;
    Ok(layer)
}

/// What every layer's config holds beyond its own arguments: the name and the `input_shape`;
/// then no key may be left that the layer does not write.
fn finish<L: Layer + ?Sized>(layer: &mut L, c: &LayerConfig) -> Result<()> {
    layer.set_name(c.name().to_string());
    if let Some(shape) = c.input_shape()? {
        layer.set_declared_input_shape(shape.clone());
        if layer.declared_input_shape() != Some(&shape[..]) {
            return Err(Error::value(format!("{}: the layer does not take an input_shape", c.who())));
        }
    }
    c.check_keys(&layer.config())
}

/// `{"class_name": "Dense", "config": {...}}`, what [`layer_from_config`] reads back.
pub fn layer_to_config(layer: &dyn Layer) -> Value {
    config_entry(layer.class_name(), layer.config())
}

/// `{"class_name": class, "config": config}`: a layer's entry in an architecture.
pub fn config_entry(class: &str, config: Value) -> Value {
    json!({ "class_name": class, "config": config })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Activation, Initializer};

    fn round_trip(layer: &dyn Layer) {
        let saved = layer_to_config(layer);
        let class = saved["class_name"].as_str().unwrap();
        let again = layer_from_config(class, &saved["config"]).unwrap();
        assert_eq!(layer_to_config(again.as_ref()), saved);
        assert_eq!(again.name(), layer.name());
    }

    #[test]
    fn every_layer_round_trips_through_its_config() {
        let dense = Dense::new(10).activation(Activation::Softmax).use_bias(false).name("out");
        round_trip(&dense.kernel_initializer(Initializer::HeNormal).input_shape(&[784]));
        round_trip(&Dense::new(3));
        round_trip(&Flatten::new().input_shape(&[28, 28]).name("flat"));
        round_trip(&Dropout::new(0.3).name("drop"));
        round_trip(&BatchNormalization::new().momentum(0.9).epsilon(1e-5).center(false).name("bn"));
        round_trip(&ActivationLayer::new(Activation::Tanh).input_shape(&[4]).name("act"));
        round_trip(&Reshape::new(&[-1, 28, 1]).name("r"));
        round_trip(&Rescaling::new(1.0 / 255.0).offset(-0.5).name("scaled"));
        round_trip(&GlobalAveragePooling1D::new().keepdims(true).name("avg"));
        let saved = layer_to_config(&Dropout::new(0.25).name("d"));
        assert_eq!(saved, json!({"class_name": "Dropout", "config": {"name": "d", "rate": 0.25, "input_shape": null}}));
    }

    #[test]
    fn missing_keys_take_keras_defaults() {
        let bn = layer_from_config("BatchNormalization", &json!({})).unwrap();
        assert_eq!(bn.config()["momentum"], json!(0.99));
        let d = layer_from_config("Dense", &json!({"units": 4, "name": "h"})).unwrap();
        assert_eq!(d.config()["activation"], "linear");
        assert_eq!(d.name(), "h");
    }

    #[test]
    fn bad_configs_are_errors_naming_the_layer_and_value() {
        let err = |class: &str, config: Value| layer_from_config(class, &config).err().unwrap().to_string();
        assert_eq!(
            err("Conv3D", json!({})),
            "unknown layer class 'Conv3D'; valid classes: Dense, Flatten, Dropout, BatchNormalization, \
             Activation, Reshape, Conv2D, MaxPooling2D, AveragePooling2D, Rescaling, Embedding, SimpleRNN, LSTM, GRU, \
             GlobalAveragePooling1D"
        );
        assert_eq!(
            err("Dense", json!({"units": 0, "name": "h"})),
            "layer 'h' (Dense): expected a positive integer, received units=0"
        );
        assert_eq!(err("Dense", json!({})), "Dense: the config is missing 'units'");
        assert_eq!(
            err("Dense", json!({"units": 2, "activation": "rleu"})),
            "Dense: unknown activation 'rleu'; valid activations: linear, relu, sigmoid, tanh, softmax"
        );
        assert_eq!(
            err("Dense", json!({"units": 2, "activatiom": "relu"})),
            "Dense: unknown key 'activatiom' (did you mean 'activation'?); valid keys: name, units, \
             activation, use_bias, kernel_initializer, bias_initializer, input_shape"
        );
        assert_eq!(
            err("Dropout", json!({"rate": 1.5, "name": "dropout"})),
            "layer 'dropout' (Dropout): rate must be in [0, 1), received rate=1.5"
        );
        assert_eq!(
            err("Flatten", json!({"input_shape": [28, "a"]})),
            "Flatten: expected a list of positive integers, received input_shape=[28,\"a\"]"
        );
        assert_eq!(err("Flatten", json!(3)), "the config of a Flatten layer must be a JSON object, received 3");
    }

    #[test]
    fn a_class_is_registered_once() {
        let err = register_layer(Dense::KIND).unwrap_err().to_string();
        assert_eq!(err, "a layer class named 'Dense' is already registered");
    }
}
