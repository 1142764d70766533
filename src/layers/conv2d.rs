//! Conv2D, channels-last: `out = activation(conv(x, kernel) + bias)`, x: (B, H, W, C),
//! kernel: (KH, KW, C, F), out: (B, OH, OW, F), computed by `tensor::ops::conv2d` (the backend
//! picks im2col or Winograd and keeps its buffers in the layer's `work`).

use serde_json::{json, Value};

use super::registry::{typed_from_config, ArgKind::*, LayerKind};
use super::window_args::{read_size2, window};
use super::LayerConfig;
use super::{Activation, Backward, Ctx, Fusion, Initializer, Layer, Param, Rng};
use crate::error::{Error, Result};
use crate::tensor::limits::len_u128;
use crate::tensor::ops::{self, Conv2d, Conv2dGrads, Conv2dWork};
use crate::tensor::{Padding, Size2, Tensor, Window2d};

/// Keras's `Conv2D(filters, kernel_size, strides, padding, activation, use_bias, ...)`.
pub struct Conv2D {
    filters: usize,
    kernel_size: Size2,
    strides: Size2,
    padding: Padding,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
    input_shape: Option<Vec<usize>>,
    name: String,
    g: Window2d,
    kernel: Param,
    bias: Param,
    work: Conv2dWork, // the backend's buffers
    out: Tensor,      // (B, OH, OW, F)
    dinput: Tensor,   // (B, H, W, C)
}

impl Conv2D {
    /// `Conv2D::new(32, 3)` or `Conv2D::new(32, (3, 5))`.
    pub fn new(filters: usize, kernel_size: impl Into<Size2>) -> Conv2D {
        Conv2D {
            filters,
            kernel_size: kernel_size.into(),
            strides: Size2(1, 1),
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            input_shape: None,
            name: String::new(),
            g: Window2d::default(),
            kernel: Param::new("kernel", Tensor::default()),
            bias: Param::new("bias", Tensor::default()),
            work: Conv2dWork::default(),
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    /// Whether the backend convolves through Winograd's F(2×2, 3×3).
    #[cfg(test)]
    fn winograd(&self) -> bool {
        ops::uses_winograd(&self.g, self.filters)
    }

    /// Steps of the window (Keras's default 1, 1).
    pub fn strides(mut self, strides: impl Into<Size2>) -> Self {
        self.strides = strides.into();
        self
    }
    /// "valid" (Keras's default) or "same".
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// The activation after the convolution (default linear).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// Whether the layer adds a bias per filter (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }
    /// How the kernel is initialised (default glorot_uniform).
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }
    /// How the bias is initialised (default zeros).
    pub fn bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }
    layer_builders!();

    /// Conv2D in the registry: class name, grammar row `conv2d(32, 3, padding=same)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Conv2D",
        positional: &["filters", "kernel_size"],
        required: 2,
        args: &[
            ("filters", PositiveInt),
            ("kernel_size", PositiveInt),
            ("strides", PositiveInt),
            ("padding", Word),
            ("activation", Word),
            ("kernel_initializer", Word),
            ("bias_initializer", Word),
            ("use_bias", Bool),
        ],
        from_config: |c| Ok(Box::new(Conv2D::read_config(c)?)),
    };

    /// Rebuilds the layer from [`Layer::config`]'s JSON (Keras's keys; sizes as an int or a
    /// pair). Values are checked here; errors name the layer and the key.
    pub fn from_config(config: &Value) -> Result<Conv2D> {
        typed_from_config(Self::KIND.class, config, Conv2D::read_config)
    }

    fn read_config(c: &LayerConfig) -> Result<Conv2D> {
        let filters = c.required(LayerConfig::positive_int, "filters")?;
        let mut layer = Conv2D::new(filters, c.required(read_size2, "kernel_size")?);
        c.data_format()?;
        layer.strides = read_size2(&c, "strides")?.unwrap_or(Size2(1, 1));
        if let Some(p) = c.str("padding")? {
            layer.padding = c.wrap(Padding::parse(p))?;
        }
        if let Some(a) = c.str("activation")? {
            layer.activation = c.wrap(Activation::parse(a))?;
        }
        if let Some(i) = c.str("kernel_initializer")? {
            layer.kernel_initializer = c.wrap(Initializer::parse(i))?;
        }
        if let Some(i) = c.str("bias_initializer")? {
            layer.bias_initializer = c.wrap(Initializer::parse(i))?;
        }
        layer.use_bias = c.bool("use_bias")?.unwrap_or(true);
        Ok(layer)
    }
}

impl Layer for Conv2D {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let who = format!("layer '{}' (Conv2D)", self.name);
        if self.filters == 0 {
            return Err(Error::value(format!("{who}: expected a positive integer, received filters=0")));
        }
        self.g = window(&who, input_shape, ("kernel_size", self.kernel_size), self.strides, self.padding)?;
        let (g, f) = (self.g, self.filters);
        let (fan_in, fan_out) = (g.kh * g.kw * g.c, g.kh * g.kw * f);
        let mut kernel = Tensor::zeros(&[g.kh, g.kw, g.c, f]);
        self.kernel_initializer.fill(kernel.data_mut(), fan_in, fan_out, rng);
        let mut bias = Tensor::zeros(&[if self.use_bias { f } else { 0 }]);
        self.bias_initializer.fill(bias.data_mut(), fan_in, fan_out, rng);
        self.kernel = Param::new("kernel", kernel);
        self.bias = Param::new("bias", bias);
        Ok(vec![g.oh, g.ow, f])
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        let c = input_shape.last().map_or(0, |&c| c as u128);
        let f = self.filters as u128;
        let k = len_u128(&[self.kernel_size.0, self.kernel_size.1]).saturating_mul(c);
        k.saturating_mul(f).saturating_add(if self.use_bias { f } else { 0 })
    }

    fn scratch_len_per_sample(&self) -> u128 {
        len_u128(&[self.g.positions(), self.g.patch_len()])
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        let (kernel, bias) = (self.kernel.value.data(), self.bias.value.data());
        let op = Conv2d { window: self.g, filters: self.filters, kernel, bias, activation: self.activation };
        ops::conv2d(&op, x, &mut self.out, &mut self.work);
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        // The kernel's value is read while its gradient is written: moved out for the call.
        let kernel = std::mem::take(&mut self.kernel.value);
        let op = Conv2d {
            window: self.g,
            filters: self.filters,
            kernel: kernel.data(),
            bias: &[],
            activation: self.activation,
        };
        let grads = Conv2dGrads {
            dout,
            out: &self.out,
            activation_done: how.activation_done,
            dkernel: self.kernel.grad_accumulator(),
            dbias: self.bias.grad_accumulator(),
            dinput: how.need_dinput.then_some(&mut self.dinput),
        };
        ops::conv2d_backward(&op, x, grads, &mut self.work);
        self.kernel.value = kernel;
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn fusion(&self) -> Fusion<'_> {
        // The activation is applied in place: no logits kept.
        Fusion { activation: Some(self.activation), logits: None, ..Fusion::default() }
    }

    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        f(&mut self.kernel);
        if self.use_bias {
            f(&mut self.bias);
        }
    }

    fn params(&self) -> Vec<&Param> {
        if self.use_bias {
            vec![&self.kernel, &self.bias]
        } else {
            vec![&self.kernel]
        }
    }

    fn config(&self) -> Value {
        json!({
            "name": self.name,
            "filters": self.filters,
            "kernel_size": self.kernel_size.to_json(),
            "strides": self.strides.to_json(),
            "padding": self.padding.name(),
            "data_format": "channels_last",
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.name(),
            "bias_initializer": self.bias_initializer.name(),
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
#[path = "conv2d_tests.rs"]
mod tests;
