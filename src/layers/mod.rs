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
mod embedding;
mod flatten;
mod global_average_pooling1d;
#[cfg(test)]
pub(crate) mod gradcheck;
mod initializers;
mod max_pooling2d;
pub mod names;
mod param;
mod pool2d;
mod recurrent;
pub mod registry;
mod rescaling;
mod reshape;
pub mod spec;
mod window_args;

pub use crate::tensor::Activation;

pub use crate::tensor::{Padding, Size2};
pub use activation_layer::ActivationLayer;
pub use average_pooling2d::AveragePooling2D;
pub use batch_normalization::BatchNormalization;
pub use config::LayerConfig;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use global_average_pooling1d::GlobalAveragePooling1D;
pub use initializers::Initializer;
pub use max_pooling2d::MaxPooling2D;
pub use param::Param;
pub use recurrent::{SimpleRNN, GRU, LSTM};
pub use registry::{config_entry, layer_from_config, layer_to_config, register_layer, ArgKind, LayerKind};
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
    /// Training (dropout active) or inference.
    pub training: bool,
    /// The model's random stream for dropout masks.
    pub rng: &'a mut Rng,
    /// This layer's part of the model's Embedding → recurrent fold in this pass.
    pub fold: Fold<'a>,
}

/// A layer's part of the fusion plan's Embedding → recurrent fold ([`Fusion::lookup`],
/// [`Fusion::takes_lookup_below`]) in one forward pass.
#[derive(Clone, Copy, Debug, Default)]
pub enum Fold<'a> {
    /// Not folded: the output from `x`.
    #[default]
    None,
    /// This layer (an Embedding) is folded into the one above in a training step: that layer
    /// reads the lookup and nothing reads the output, so only the lookup is recorded.
    IntoAbove,
    /// The Embedding right below is folded into this layer: its input rows are the rows of the
    /// lookup's table (`x` may be stale).
    Lookup(Lookup<'a>),
}

/// An Embedding's lookup in the last forward pass: its ids in batch order (sample after sample)
/// and its table, (input_dim, output_dim).
#[derive(Clone, Copy, Debug)]
pub struct Lookup<'a> {
    /// The ids looked up, one per output row: (samples, ...) in order.
    pub ids: &'a [usize],
    /// The number of samples.
    pub samples: usize,
    /// The table they index.
    pub table: &'a Tensor,
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
    /// Given `dout` = dL/d(output) for the input `x` of the last forward pass (or
    /// dL/d(pre-activation) when `how.activation_done`), accumulates the parameters' gradients
    /// (through [`Param::grad_accumulator`], which writes when the gradient was zeroed) and, if
    /// `how.need_dinput`, computes dL/dx into [`Layer::dinput`].
    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward);
    /// dL/dx from the last backward pass.
    fn dinput(&self) -> &Tensor;
    /// Visits the parameters in a stable order (trainable and not).
    fn visit_params(&mut self, _f: &mut dyn FnMut(&mut Param)) {}
    /// The parameters in the same order, read-only.
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }
    /// What the layer offers the model's fusion plan (settled at compile time): the activation
    /// it ends in, its pre-activation values, whether its backward can do a relu below's.
    fn fusion(&self) -> Fusion<'_> {
        Fusion::default()
    }
    /// The constructor arguments as Keras's layer config (JSON), for saving the architecture.
    fn config(&self) -> serde_json::Value;
    /// As a model's first layer: checks input rows before they are used (an Embedding's ids:
    /// whole numbers below `input_dim`); `first_row` is the index of `x`'s first row in the
    /// data, for the error. `None` when the layer takes any finite value (the default), so the
    /// model need not look.
    fn check_input(&self, _x: &Tensor, _first_row: usize) -> Option<Result<()>> {
        None
    }
}

/// What a layer offers the fusion plan ([`Layer::fusion`]); the plan, not the layer, decides.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fusion<'a> {
    /// The activation the layer ends in, whose backward the layer skips when
    /// [`Backward::activation_done`] (the loss or the layer above did it).
    pub activation: Option<Activation>,
    /// The values before that activation in the last forward pass (logits), which a fused
    /// crossentropy reads; `None` for layers that apply the activation in place.
    pub logits: Option<&'a Tensor>,
    /// Whether [`Layer::backward`] can also do the backward of a relu right below the layer
    /// ([`Backward::relu_below`]): max pooling, whose gradient goes to where its input was largest.
    pub takes_relu_below: bool,
    /// The layer is a lookup in a table (an Embedding), which a layer above can fold into its
    /// own input product.
    pub lookup: Option<Lookup<'a>>,
    /// Whether [`Layer::forward`] can take the lookup of an Embedding right below
    /// ([`Fold::Lookup`]): a recurrent layer without input dropout, which then projects the
    /// table once and gathers the projected rows instead of projecting every looked-up row.
    pub takes_lookup_below: bool,
}

/// How a layer's backward runs in this step: its part of the model's fusion plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backward {
    /// Compute dL/dx into [`Layer::dinput`] (layers below the first with parameters need none).
    pub need_dinput: bool,
    /// `dout` is already dL/d(pre-activation): the loss (softmax/sigmoid + crossentropy) or the
    /// layer above (a relu into max pooling) did the backward of this layer's activation.
    pub activation_done: bool,
    /// Also do the backward of the relu right below: zero dL/dx wherever the input is not
    /// positive (asked only of layers whose [`Fusion::takes_relu_below`]).
    pub relu_below: bool,
}

impl Backward {
    /// A plain backward pass, with or without dL/dx.
    pub fn new(need_dinput: bool) -> Backward {
        Backward { need_dinput, ..Backward::default() }
    }
}

/// Number of values in all parameters of `layer` (Keras's `count_params`), and how many of them
/// are trainable.
pub fn count_params(layer: &dyn Layer) -> (usize, usize) {
    let params = layer.params();
    let total = params.iter().map(|p| p.value.len()).sum();
    let trainable = params.iter().filter(|p| p.trainable).map(|p| p.value.len()).sum();
    (total, trainable)
}
