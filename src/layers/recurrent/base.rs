//! What SimpleRNN, LSTM and GRU share: Keras's common options, the three weights, and the
//! sequence around a cell's loop. The input is laid out time-major in the order it is processed
//! (reversed with `go_backwards`), dropout applied, and its projection `x·kernel` for every
//! time step is one product before the loop; after the loop (in backward) the kernel's and
//! recurrent kernel's gradients are one product each. Per step run the recurrent product, the
//! cell's arithmetic, and what is cheaper while the step's rows are in cache: a folded
//! Embedding's rows of `x·kernel` (forward) and the step's input gradient (backward).

use rand::Rng as _;

use crate::error::{Error, Result};
use crate::layers::{Activation, Ctx, Fold, Initializer, Param, Rng};
use crate::tensor::limits::len_u128;
use crate::tensor::{ops, shape_str, Mat, Tensor};

use super::embedded_input::EmbeddedInput;
use super::gate_math;
use super::orthogonal::orthogonal;
pub(crate) use step::{product, BackStep, Step};

/// The options and state every recurrent layer has (Keras's `RNN` around its cell).
pub(crate) struct RnnCore {
    pub units: usize,
    pub activation: Activation,
    pub recurrent_activation: Activation,
    pub use_bias: bool,
    pub return_sequences: bool,
    pub go_backwards: bool,
    pub dropout: f32,
    pub recurrent_dropout: f32,
    pub name: String,
    pub input_shape: Option<Vec<usize>>,
    /// (features, gates·units), Keras's gate order along the columns.
    pub kernel: Param,
    /// (units, gates·units).
    pub recurrent_kernel: Param,
    pub bias: Param,
    /// Zeros in the bias's shape, what the cells add without `use_bias`.
    zero_bias: Vec<f32>,
    /// Sizes of the last forward: time steps, batch, features.
    pub dims: (usize, usize, usize),
    /// (T, B, F): the input in processing order, times the dropout mask.
    pub xs: Tensor,
    /// (T, B, gates·units): `x·kernel`, which the cell turns into its gates in place.
    pub zs: Tensor,
    /// (T + 1, B, U): the states, `hs[0]` the initial zeros.
    pub hs: Tensor,
    /// (T, B, U): the states times the recurrent dropout mask, what the recurrent product reads.
    hd: Tensor,
    /// (T, B, gates·units): dL/d(x·kernel + bias) per step, written by the cell's backward.
    pub dzs: Tensor,
    /// (B, U): dL/dh carried from step to step.
    pub dh: Tensor,
    dhr: Tensor,  // (B, U): the recurrent product's part of dL/dh before the mask
    rk_t: Tensor, // (gates·U, U): the recurrent kernel transposed, for backward
    k_t: Tensor,  // (gates·U, F): the kernel transposed, for the input gradient
    /// The backward under way computes the input gradient (step by step, in its loop).
    need_dinput: bool,
    in_mask: Tensor,  // (B, F) 0 or 1/(1 - dropout), one per sequence
    rec_mask: Tensor, // (B, U)
    masked: bool,
    rec_masked: bool,
    out: Tensor,    // (B, U) or (B, T, U)
    dxs: Tensor,    // (B, F): one step's input gradient, before its place in `dinput`
    dinput: Tensor, // (B, T, F)
    /// The input projection when an Embedding's lookup is folded into it.
    embedded: EmbeddedInput,
}

impl RnnCore {
    /// Keras's defaults: tanh, sigmoid gates, a bias, the last output only.
    pub fn new(units: usize) -> RnnCore {
        RnnCore {
            units,
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            use_bias: true,
            return_sequences: false,
            go_backwards: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            name: String::new(),
            input_shape: None,
            kernel: Param::new("kernel", Tensor::default()),
            recurrent_kernel: Param::new("recurrent_kernel", Tensor::default()),
            bias: Param::new("bias", Tensor::default()),
            zero_bias: Vec::new(),
            dims: (0, 0, 0),
            xs: Tensor::default(),
            zs: Tensor::default(),
            hs: Tensor::default(),
            hd: Tensor::default(),
            dzs: Tensor::default(),
            dh: Tensor::default(),
            dhr: Tensor::default(),
            rk_t: Tensor::default(),
            k_t: Tensor::default(),
            need_dinput: false,
            in_mask: Tensor::default(),
            rec_mask: Tensor::default(),
            masked: false,
            rec_masked: false,
            out: Tensor::default(),
            dxs: Tensor::default(),
            dinput: Tensor::default(),
            embedded: EmbeddedInput::default(),
        }
    }

    /// Checks the options and the (timesteps, features) input shape, creates the weights
    /// (glorot_uniform, orthogonal, zeros as Keras) and returns the per-sample output shape.
    pub fn build(
        &mut self,
        class: &str,
        gates: usize,
        bias_shape: &[usize],
        input_shape: &[usize],
        rng: &mut Rng,
    ) -> Result<Vec<usize>> {
        let (name, units) = (&self.name, self.units);
        if units == 0 {
            return Err(Error::value(format!(
                "layer '{name}' ({class}): expected a positive integer, received units=0"
            )));
        }
        for (what, rate) in [("dropout", self.dropout), ("recurrent_dropout", self.recurrent_dropout)] {
            if !(0.0..1.0).contains(&rate) {
                return Err(Error::value(format!(
                    "layer '{name}' ({class}): {what} must be in [0, 1), received {what}={rate}"
                )));
            }
        }
        gate_math::check(name, class, "activation", self.activation)?;
        gate_math::check(name, class, "recurrent_activation", self.recurrent_activation)?;
        let &[steps, features] = input_shape else {
            return Err(Error::shape(format!(
                "layer '{name}' ({class}) expects samples of shape (timesteps, features), got input shape {}",
                shape_str(input_shape)
            )));
        };
        if steps == 0 || features == 0 {
            return Err(Error::shape(format!(
                "layer '{name}' ({class}) expects at least one time step and one feature, got input shape {}",
                shape_str(input_shape)
            )));
        }
        let width = gates * units;
        let mut kernel = Tensor::zeros(&[features, width]);
        Initializer::GlorotUniform.fill(kernel.data_mut(), features, width, rng);
        let mut recurrent = Tensor::zeros(&[units, width]);
        orthogonal(recurrent.data_mut(), units, width, rng);
        self.kernel = Param::new("kernel", kernel);
        self.recurrent_kernel = Param::new("recurrent_kernel", recurrent);
        self.zero_bias = vec![0.0; bias_shape.iter().product()];
        self.bias = Param::new("bias", if self.use_bias { Tensor::zeros(bias_shape) } else { Tensor::default() });
        Ok(if self.return_sequences { vec![steps, units] } else { vec![units] })
    }

    /// The number of weight values `build` makes (saturating).
    pub fn weights_len(&self, gates: usize, bias_len: usize, input_shape: &[usize]) -> u128 {
        let features = input_shape.last().map_or(0, |&f| f as u128);
        let width = len_u128(&[gates, self.units]);
        let bias = if self.use_bias { bias_len as u128 } else { 0 };
        features.saturating_add(self.units as u128).saturating_mul(width).saturating_add(bias)
    }

    /// Sizes the buffers for `x` (B, T, F), draws the dropout masks when training, lays the
    /// input out time-major and computes `zs = xs·kernel` for all steps in one product; or, when
    /// the plan folds the Embedding below into this layer and no dropout mask applies, projects
    /// the table ([`EmbeddedInput`]), whose rows the time loop gathers into `zs` step by step.
    pub fn begin_forward(&mut self, x: &Tensor, ctx: &mut Ctx, gates: usize) {
        let (b, t, f, u) = match ctx.fold {
            // `x` is not computed in a folded training step: the sizes are the lookup's.
            Fold::Lookup(l) => (l.samples, l.ids.len() / l.samples.max(1), l.table.row_len(), self.units),
            _ => (x.shape()[0], x.shape()[1], x.shape()[2], self.units),
        };
        self.dims = (t, b, f);
        self.masked = ctx.training && self.dropout > 0.0;
        self.rec_masked = ctx.training && self.recurrent_dropout > 0.0;
        if self.masked {
            draw_mask(&mut self.in_mask, b, f, self.dropout, ctx.rng);
        }
        if self.rec_masked {
            draw_mask(&mut self.rec_mask, b, u, self.recurrent_dropout, ctx.rng);
            self.hd.ensure_shape(t, &[b, u]);
        }
        self.xs.ensure_shape(t, &[b, f]);
        self.zs.ensure_shape(t, &[b, gates * u]);
        self.hs.ensure_shape(t + 1, &[b, u]);
        self.hs.data_mut()[..b * u].fill(0.0);
        self.embedded.active = false;
        if let Fold::Lookup(lookup) = ctx.fold {
            assert!(!self.masked, "layer '{}': an Embedding folded into a layer with input dropout", self.name);
            let dims = (t, b);
            self.embedded.forward(lookup, &self.kernel.value, dims, self.go_backwards);
            return;
        }
        let (xd, xs, mask) = (x.data(), self.xs.data_mut(), self.in_mask.data());
        for (s, step) in xs.chunks_exact_mut(b * f).enumerate() {
            let tt = if self.go_backwards { t - 1 - s } else { s };
            for (r, row) in step.chunks_exact_mut(f).enumerate() {
                let src = &xd[(r * t + tt) * f..][..f];
                if self.masked {
                    row.iter_mut().zip(src).zip(&mask[r * f..]).for_each(|((d, &v), &m)| *d = v * m);
                } else {
                    ops::copy_row(row, src);
                }
            }
        }
        let k = self.kernel.value.data();
        product(Mat::new(self.xs.data(), t * b, f), Mat::new(k, f, gates * u), self.zs.data_mut(), 0.0);
    }

    /// Writes the output from the states: all of them (B, T, U), or the last (B, U).
    pub fn finish_forward(&mut self) {
        let ((t, b, _), u) = (self.dims, self.units);
        let hs = self.hs.data();
        if self.return_sequences {
            self.out.ensure_shape(b, &[t, u]);
            let out = self.out.data_mut();
            for s in 0..t {
                for r in 0..b {
                    ops::copy_row(&mut out[(r * t + s) * u..][..u], &hs[((s + 1) * b + r) * u..][..u]);
                }
            }
        } else {
            self.out.ensure_shape(b, &[u]);
            self.out.data_mut().copy_from_slice(&hs[t * b * u..]);
        }
    }

    pub fn output(&self) -> &Tensor {
        &self.out
    }

    /// Sizes the backward buffers and transposes the recurrent kernel (and, when the input
    /// gradient is asked for, the kernel); the carried dL/dh starts at zero.
    pub fn begin_backward(&mut self, gates: usize, need_dinput: bool) {
        let ((t, b, f), u) = (self.dims, self.units);
        let w = gates * u;
        self.dzs.ensure_shape(t, &[b, w]);
        self.dh.ensure_shape(b, &[u]);
        self.dh.data_mut().fill(0.0);
        self.dhr.ensure_shape(b, &[u]);
        transpose_into(self.recurrent_kernel.value.data(), (u, w), &mut self.rk_t);
        self.need_dinput = need_dinput;
        if need_dinput {
            transpose_into(self.kernel.value.data(), (f, w), &mut self.k_t);
            self.dxs.ensure_shape(b, &[f]);
            self.dinput.ensure_shape(b, &[t, f]);
        }
    }

    /// The states before each step as the recurrent product read them, (T·B, U).
    pub fn recurrent_inputs(&self) -> &[f32] {
        let ((t, b, _), u) = (self.dims, self.units);
        if self.rec_masked {
            self.hd.data()
        } else {
            &self.hs.data()[..t * b * u]
        }
    }

    /// After the loop: the kernel's gradient `xsᵀ·dzs` (or from the folded Embedding's table).
    /// The input gradient was written by the loop, step by step.
    pub fn finish_backward(&mut self) {
        let ((t, b, f), w) = (self.dims, self.kernel.value.row_len());
        let (dk, beta) = self.kernel.grad_accumulator();
        if self.embedded.active {
            self.embedded.kernel_grad(self.dzs.data(), dk, beta);
        } else {
            product(Mat::new(self.xs.data(), t * b, f).t(), Mat::new(self.dzs.data(), t * b, w), dk, beta);
        }
    }

    /// The recurrent kernel's gradient `h_prevᵀ·dz_rec` over all steps, `dz_rec` = `rec` or
    /// `dzs`: one product.
    pub fn recurrent_kernel_grad(&mut self, rec: Option<&Tensor>) {
        let ((t, b, _), u, w) = (self.dims, self.units, self.kernel.value.row_len());
        let dz_rec = rec.unwrap_or(&self.dzs).data();
        let hin = if self.rec_masked { self.hd.data() } else { &self.hs.data()[..t * b * u] };
        let (drk, beta) = self.recurrent_kernel.grad_accumulator();
        product(Mat::new(hin, t * b, u).t(), Mat::new(dz_rec, t * b, w), drk, beta);
    }

    pub fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    /// Keras's weight order: kernel, recurrent_kernel, bias.
    pub fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        f(&mut self.kernel);
        f(&mut self.recurrent_kernel);
        if self.use_bias {
            f(&mut self.bias);
        }
    }

    pub fn params(&self) -> Vec<&Param> {
        let mut params = vec![&self.kernel, &self.recurrent_kernel];
        if self.use_bias {
            params.push(&self.bias);
        }
        params
    }
}

/// `out` (cols, rows) = the row-major (rows, cols) `m` transposed.
fn transpose_into(m: &[f32], (rows, cols): (usize, usize), out: &mut Tensor) {
    out.ensure_shape(cols, &[rows]);
    ops::transpose(rows, cols, m, out.data_mut());
}

/// One mask per sequence, as Keras's recurrent dropout: 0 with probability `rate`, else
/// 1/(1 - rate).
fn draw_mask(mask: &mut Tensor, rows: usize, width: usize, rate: f32, rng: &mut Rng) {
    mask.ensure_shape(rows, &[width]);
    let keep = 1.0 / (1.0 - rate);
    mask.data_mut().iter_mut().for_each(|m| *m = if rng.random::<f32>() < rate { 0.0 } else { keep });
}

#[path = "step.rs"]
mod step;
