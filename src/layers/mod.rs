//! Layers: each file holds one layer, its forward and, right below, its backward.
//!
//! A layer owns its parameters ([`Param`]), its output buffer and its input-gradient buffer.
//! Buffers are sized on the first batch and reused, so a steady-state step allocates nothing.

/// Inside `impl Layer for T`: the identity every layer has — Keras's class name (from the
/// layer's `KIND`), its name and the input shape given to a first layer — for a struct holding
/// `name: String` and `input_shape: Option<Vec<usize>>` (or a field that does).
macro_rules! layer_identity {
    ($($field:ident)?) => {
        fn class_name(&self) -> &'static str {
            Self::KIND.class
        }
        fn name(&self) -> &str {
            &self$(.$field)?.name
        }
        fn set_name(&mut self, name: String) {
            self$(.$field)?.name = name;
        }
        fn declared_input_shape(&self) -> Option<&[usize]> {
            self$(.$field)?.input_shape.as_deref()
        }
        fn set_declared_input_shape(&mut self, shape: Vec<usize>) {
            self$(.$field)?.input_shape = Some(shape);
        }
    };
}

/// Inside a layer's inherent `impl`: the builders every layer has, Keras's `name` and
/// `input_shape` (the per-sample shape of a model's first layer: `&[28, 28]`).
macro_rules! layer_builders {
    ($($field:ident)?) => {
        /// Keras's `input_shape` for the first layer of a model (per sample: `&[28, 28]`).
        pub fn input_shape(mut self, shape: &[usize]) -> Self {
            self$(.$field)?.input_shape = Some(shape.to_vec());
            self
        }

        /// The layer's name (`hidden`); unnamed layers get Keras's (`dense`, `dense_1`, ...).
        pub fn name(mut self, name: &str) -> Self {
            self$(.$field)?.name = name.to_string();
            self
        }
    };
}

mod activation_layer;
mod average_pooling2d;
mod batch_normalization;
pub mod config;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
#[cfg(test)]
pub(crate) mod gradcheck;
mod initializers;
mod max_pooling2d;
pub mod names;
mod param;
pub mod registry;
mod rescaling;
mod reshape;
pub mod spec;

pub use crate::tensor::Activation;
pub use crate::tensor::{Padding, Size2};
pub use activation_layer::ActivationLayer;
pub use average_pooling2d::AveragePooling2D;
pub use batch_normalization::BatchNormalization;
pub use config::LayerConfig;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use initializers::Initializer;
pub use max_pooling2d::MaxPooling2D;
pub use param::Param;
pub use registry::{layer_from_config, layer_to_config, register_layer, ArgKind, LayerKind};
pub use rescaling::Rescaling;
pub use reshape::Reshape;
pub use spec::{grammar_help, parse_layers};

use crate::error::Result;
use crate::tensor::Tensor;

/// The random generator behind initialisation, shuffling and dropout: ChaCha8, portable and
/// seedable, so one seed gives the same numbers on every machine.
pub type Rng = rand_chacha::ChaCha8Rng;

/// What a forward pass needs beyond the input: training or inference, and the model's random
/// stream (dropout draws its masks from it).
pub struct Ctx<'a> {
    pub training: bool,
    pub rng: &'a mut Rng,
}

/// A layer of a [`crate::model::Sequential`] model.
pub trait Layer: Send {
    /// Keras's class name: "Dense", "Flatten", ... (its [`LayerKind::class`]). Generated
    /// names start with its snake case ([`names::base_name`]).
    fn class_name(&self) -> &'static str;
    /// The layer's name: unique in a model, the prefix of its parameters' names.
    fn name(&self) -> &str;
    /// Sets the name (a model names unnamed layers as they are added).
    fn set_name(&mut self, name: String);
    /// The per-sample input shape given at construction (Keras's `input_shape`), if any.
    fn declared_input_shape(&self) -> Option<&[usize]> {
        None
    }
    /// Sets the per-sample input shape a first layer carries (from a config); a layer that
    /// keeps none ignores it, and the registry then reports the key as unsupported.
    fn set_declared_input_shape(&mut self, _shape: Vec<usize>) {}
    /// Creates the parameters for a per-sample `input_shape` and returns the per-sample output
    /// shape. Errors name the layer and the shapes.
    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>>;
    /// The number of weight values `build` would create for `input_shape` (saturating, never
    /// overflowing), so a model too large for memory is refused before anything is allocated.
    fn weights_len(&self, _input_shape: &[usize]) -> u128 {
        0
    }
    /// Values per sample, after `build`, in the layer's batch buffers beyond its output and input
    /// gradient (Conv2D's im2col rows), for the memory check before a batch runs.
    fn scratch_len_per_sample(&self) -> u128 {
        0
    }
    /// Computes the output of a batch `x` into the layer's own buffer.
    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx);
    /// The output of the last forward pass.
    fn output(&self) -> &Tensor;
    /// Given `dout` = dL/d(output) for the input `x` of the last forward pass, accumulates the
    /// parameters' gradients (through [`Param::grad_accumulator`], which writes when the
    /// gradient was zeroed) and, if `need_dinput`, computes dL/dx into [`Layer::dinput`].
    fn backward(&mut self, x: &Tensor, dout: &Tensor, need_dinput: bool);
    /// dL/dx from the last backward pass.
    fn dinput(&self) -> &Tensor;
    /// Visits the parameters in a stable order (trainable and not).
    fn visit_params(&mut self, _f: &mut dyn FnMut(&mut Param)) {}
    /// The parameters in the same order, read-only.
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }
    /// The activation this layer ends in, if the loss may fuse with it.
    fn output_activation(&self) -> Option<Activation> {
        None
    }
    /// Asks the layer to take dL/d(pre-activation) in `backward` instead of dL/d(output), so the
    /// loss can hand it the fused, stable softmax/sigmoid + crossentropy gradient.
    fn set_fused_backward(&mut self, _fused: bool) {}
    /// Whether the layer ends in relu and takes dL/d(pre-activation) when asked through
    /// [`Layer::set_fused_backward`]: a layer above that zeroes the gradient where its input is
    /// not positive ([`Layer::set_relu_below`]) has then done relu's backward for it.
    fn ends_in_relu(&self) -> bool {
        false
    }
    /// Asks the layer to zero its input gradient wherever its input is not positive, as the relu
    /// below it would (max pooling: where the window's maximum is not positive, the same bits as
    /// relu's backward after its own). Returns whether it does; by default it cannot.
    fn set_relu_below(&mut self, _on: bool) -> bool {
        false
    }
    /// The pre-activation values of the last forward pass (logits), when the layer has them.
    fn logits(&self) -> Option<&Tensor> {
        None
    }
    /// The constructor arguments as Keras's layer config (JSON), for saving the architecture.
    fn config(&self) -> serde_json::Value;
}

/// Number of values in all parameters of `layer` (Keras's `count_params`), and how many of them
/// are trainable.
pub fn count_params(layer: &dyn Layer) -> (usize, usize) {
    let params = layer.params();
    let total = params.iter().map(|p| p.value.len()).sum();
    let trainable = params.iter().filter(|p| p.trainable).map(|p| p.value.len()).sum();
    (total, trainable)
}
