//! Dense: `out = activation(x · kernel + bias)`, x: (B, in), kernel: (in, units), bias: (units).

use serde_json::json;

use super::registry::{ArgKind::*, LayerKind};
use super::{Activation, Backward, Ctx, Fusion, Initializer, Layer, LayerConfig, Param, Rng};
use crate::error::{Error, Result};
use crate::tensor::limits::len_u128;
use crate::tensor::{ops, shape_str, Mat, Tensor};

/// Keras's `Dense(units, activation, use_bias, kernel_initializer, bias_initializer)`.
///
/// ```
/// use kiln::layers::{Activation, Dense};
/// use kiln::model::Sequential;
///
/// // The lesson's model: Dense(10, activation='softmax', input_shape=(784,)).
/// let mut model = Sequential::new();
/// model.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784]));
/// model.build(&[784])?;
/// assert_eq!(model.count_params(), (7850, 7850)); // 784 × 10 weights + 10 biases, all trainable
/// # Ok::<(), kiln::Error>(())
/// ```
pub struct Dense {
    units: usize,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
    input_shape: Option<Vec<usize>>,
    name: String,
    kernel: Param,
    bias: Param,
    z: Tensor,      // (B, units) pre-activation
    out: Tensor,    // (B, units)
    dz: Tensor,     // (B, units)
    dinput: Tensor, // (B, in)
}

impl Dense {
    /// Dense in the registry: class name, grammar row `dense(10, activation=relu)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Dense",
        positional: &["units"],
        required: 1,
        args: &[
            ("units", PositiveInt),
            ("activation", Word),
            ("use_bias", Bool),
            ("kernel_initializer", Word),
            ("bias_initializer", Word),
        ],
        from_config: |c| Ok(Box::new(Dense::read_config(c)?)),
    };

    fn read_config(c: &LayerConfig) -> Result<Dense> {
        let mut d = Dense::new(c.required(LayerConfig::positive_int, "units")?);
        if let Some(a) = c.str("activation")? {
            d.activation = c.wrap(Activation::parse(a))?;
        }
        d.use_bias = c.bool("use_bias")?.unwrap_or(true);
        if let Some(i) = c.str("kernel_initializer")? {
            d.kernel_initializer = c.wrap(Initializer::parse(i))?;
        }
        if let Some(i) = c.str("bias_initializer")? {
            d.bias_initializer = c.wrap(Initializer::parse(i))?;
        }
        Ok(d)
    }

    /// Keras's `Dense(units)`: linear, with a bias, glorot_uniform kernel, zero bias.
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            input_shape: None,
            name: String::new(),
            kernel: Param::new("kernel", Tensor::default()),
            bias: Param::new("bias", Tensor::default()),
            z: Tensor::default(),
            out: Tensor::default(),
            dz: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    /// The activation applied to `x · kernel + bias` (linear by default).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether to add a bias (true by default).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// How the kernel starts (glorot_uniform by default).
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }

    /// How the bias starts (zeros by default).
    pub fn bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }

    layer_builders!();

    /// The kernel, (in, units).
    pub fn kernel(&self) -> &Tensor {
        &self.kernel.value
    }

    fn in_features(&self) -> usize {
        self.kernel.value.rows()
    }
}

impl Layer for Dense {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        if self.units == 0 {
            return Err(Error::value(format!(
                "layer '{}' (Dense): expected a positive integer, received units=0",
                self.name
            )));
        }
        let &[n_in] = input_shape else {
            return Err(Error::shape(format!(
                "layer '{}' (Dense) expects 1-D samples of shape (features,), got input shape {}; \
                 add a Flatten layer before it",
                self.name,
                shape_str(input_shape)
            )));
        };
        let mut kernel = Tensor::zeros(&[n_in, self.units]);
        let mut bias = Tensor::zeros(&[self.units]);
        self.kernel_initializer.fill(kernel.data_mut(), n_in, self.units, rng);
        self.bias_initializer.fill(bias.data_mut(), n_in, self.units, rng);
        self.kernel = Param::new("kernel", kernel);
        self.bias = Param::new("bias", if self.use_bias { bias } else { Tensor::default() });
        Ok(vec![self.units])
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        let (n_in, units) = (len_u128(input_shape), self.units as u128);
        n_in.saturating_mul(units).saturating_add(if self.use_bias { units } else { 0 })
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        let (b, n_in, units) = (x.rows(), self.in_features(), self.units);
        self.z.ensure_shape(b, &[units]);
        self.out.ensure_shape(b, &[units]);
        let bias = self.use_bias.then(|| self.bias.value.data());
        let w = Mat::new(self.kernel.value.data(), n_in, units);
        ops::matmul_bias_act(Mat::of(x), w, bias, self.activation, self.z.data_mut(), self.out.data_mut());
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        let (b, n_in, units) = (x.rows(), self.in_features(), self.units);
        self.dz.ensure_shape(b, &[units]);
        if how.activation_done {
            self.dz.data_mut().copy_from_slice(dout.data());
        } else {
            ops::activation_backward(self.activation, self.out.data(), dout.data(), self.dz.data_mut(), units);
        }
        let dz = Mat::of(&self.dz);
        // dkernel (in, units) += x^T (in, B) · dz (B, units); beta 0 when the gradient is zero
        let (dw, beta) = self.kernel.grad_accumulator();
        ops::matmul(Mat::of(x).t(), dz, dw, beta);
        if self.use_bias {
            let (db, beta) = self.bias.grad_accumulator();
            ops::col_sums(dz, db, beta);
        }
        if how.need_dinput {
            // dx (B, in) = dz (B, units) · kernel^T (units, in)
            self.dinput.ensure_shape(b, &[n_in]);
            let w = Mat::new(self.kernel.value.data(), n_in, units);
            ops::matmul(dz, w.t(), self.dinput.data_mut(), 0.0);
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
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

    fn fusion(&self) -> Fusion<'_> {
        Fusion { activation: Some(self.activation), logits: Some(&self.z), ..Fusion::default() }
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "units": self.units,
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.name(),
            "bias_initializer": self.bias_initializer.name(),
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;

    #[test]
    fn gradients_match_finite_differences_for_every_activation() {
        for act in [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax] {
            check_layer(|| Box::new(Dense::new(3).activation(act)), &[5], 4);
            check_layer(|| Box::new(Dense::new(2).activation(act).use_bias(false)), &[3], 2);
        }
    }

    /// Gradients accumulate: a layer used twice between two zero_grad calls (as a shared
    /// layer would be) holds the sum of both backward passes; after zero_grad, one pass alone.
    #[test]
    fn a_parameter_used_twice_gets_both_gradients() {
        let mut rng = <Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut layer = Dense::new(3).activation(Activation::Tanh);
        layer.build(&[4], &mut rng).unwrap();
        let x = Tensor::from_vec(&[2, 4], vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]).unwrap();
        let dout = Tensor::from_vec(&[2, 3], vec![0.5, -1.0, 0.25, 1.5, 0.75, -0.5]).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        let grads = |layer: &mut Dense| -> Vec<Vec<f32>> { layer.params().iter().map(|p| p.grad_to_vec()).collect() };
        layer.visit_params(&mut |p| p.zero_grad());
        layer.backward(&x, &dout, Backward::new(false));
        let once = grads(&mut layer);
        layer.backward(&x, &dout, Backward::new(false));
        let twice = grads(&mut layer);
        for (o, t) in once.iter().flatten().zip(twice.iter().flatten()) {
            assert!((2.0 * o - t).abs() <= 1e-6 * t.abs().max(1.0), "the second pass adds again: {o} then {t}");
        }
        assert!(once.iter().flatten().any(|&g| g != 0.0));
        layer.visit_params(&mut |p| p.zero_grad());
        assert!(grads(&mut layer).iter().flatten().all(|&g| g == 0.0), "zero_grad zeroes");
        layer.backward(&x, &dout, Backward::new(false));
        assert_eq!(grads(&mut layer), once, "after zero_grad, one pass alone");
    }

    /// A kernel large enough to be split in two halves of its rows (an odd input width, so
    /// the halves differ) gives the full products: output, kernel, bias and input gradients
    /// against sums in f64, and gradients that accumulate over two passes.
    #[test]
    fn a_split_kernel_gives_the_whole_products() {
        let (n_in, units, b) = (1025, 64, 3);
        let mut rng = <Rng as rand::SeedableRng>::seed_from_u64(1);
        let mut layer = Dense::new(units).bias_initializer(Initializer::GlorotUniform);
        layer.build(&[n_in], &mut rng).unwrap();
        let wave = |i: usize, f: f64| ((i as f64 + 1.0) * f).sin() as f32;
        let x = Tensor::from_vec(&[b, n_in], (0..b * n_in).map(|i| wave(i, 0.37)).collect()).unwrap();
        let dout = Tensor::from_vec(&[b, units], (0..b * units).map(|i| wave(i, 0.91)).collect()).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        layer.visit_params(&mut |p| p.zero_grad());
        layer.backward(&x, &dout, Backward::new(true));
        layer.backward(&x, &dout, Backward::new(true)); // accumulates: every gradient twice
        let (w, bias) = (layer.kernel.value.data(), layer.bias.value.data());
        let (xd, gd) = (x.data(), dout.data());
        let close = |got: f32, want: f64, what: &str| {
            assert!((got as f64 - want).abs() <= 1e-4 * want.abs().max(1.0), "{what}: {got} vs {want}");
        };
        for r in 0..b {
            for j in 0..units {
                let z =
                    bias[j] as f64 + (0..n_in).map(|i| xd[r * n_in + i] as f64 * w[i * units + j] as f64).sum::<f64>();
                close(layer.out.data()[r * units + j], z, &format!("out[{r}, {j}]"));
            }
            for i in 0..n_in {
                let dx = (0..units).map(|j| gd[r * units + j] as f64 * w[i * units + j] as f64).sum::<f64>();
                close(layer.dinput.data()[r * n_in + i], dx, &format!("dx[{r}, {i}]"));
            }
        }
        let dw = layer.kernel.grad_to_vec();
        for i in 0..n_in {
            for j in 0..units {
                let g = (0..b).map(|r| xd[r * n_in + i] as f64 * gd[r * units + j] as f64).sum::<f64>();
                close(dw[i * units + j], 2.0 * g, &format!("dkernel[{i}, {j}]"));
            }
        }
        for (j, &db) in layer.bias.grad_to_vec().iter().enumerate() {
            close(db, 2.0 * (0..b).map(|r| gd[r * units + j] as f64).sum::<f64>(), &format!("dbias[{j}]"));
        }
    }

    #[test]
    fn bad_configurations_are_errors_naming_the_layer() {
        let mut rng = <Rng as rand::SeedableRng>::seed_from_u64(0);
        let err = Dense::new(0).name("out").build(&[4], &mut rng).unwrap_err();
        assert_eq!(err.to_string(), "layer 'out' (Dense): expected a positive integer, received units=0");
        let err = Dense::new(3).name("d").build(&[28, 28], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'd' (Dense) expects 1-D samples of shape (features,), got input shape (28, 28); \
             add a Flatten layer before it"
        );
    }
}
