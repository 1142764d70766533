//! Conv2D, channels-last: `out = activation(conv(x, kernel) + bias)` as im2col and one matrix
//! product per chunk of samples. x: (B, H, W, C), kernel: (KH, KW, C, F), out: (B, OH, OW, F).
//! 3×3, stride-1, "same" layers with channels in multiples of 16 (the lesson's second
//! convolution) compute the output and both gradients through Winograd's F(2×2, 3×3)
//! instead (`tensor::winograd`): 2.25× fewer multiplies. Other layers rebuild im2col per chunk
//! in backward for the kernel gradient rather than keep it from the forward pass.
//!
//! Work is split over fixed chunks of [`CHUNK`] samples, never over the thread count, so the
//! kernel gradient (a sum over the batch: one partial per chunk, added in chunk order) is
//! bit-identical whatever the number of threads.

use rayon::prelude::*;
use serde_json::{json, Value};

use super::registry::{typed_from_config, ArgKind::*, LayerKind};
use super::LayerConfig;
use super::{Activation, Backward, Ctx, Fusion, Initializer, Layer, Param, Rng};
use crate::error::{Error, Result};
use crate::tensor::cpu::{
    col2im, gemm, im2col, winograd_conv, winograd_kernel, winograd_kernel_flipped, winograd_kernel_grad,
    winograd_kernel_grad_part, winograd_scratch_len, Scratch,
};
use crate::tensor::limits::len_u128;
use crate::tensor::{shape_str, Mat, Padding, Size2, Tensor, Window2d};

/// Samples per task; also the grouping of the kernel gradient's sum over the batch.
const CHUNK: usize = 4;
/// The forward pass keeps the whole batch's im2col rows for the kernel gradient when they are
/// at most this many values (4 MiB: the lesson's first layer, 32 × 784 × 9); larger ones are
/// rebuilt per chunk in backward, which costs less than bringing them back from memory (the
/// lesson's second layer through im2col: 1.8M values).
const KEEP_COLS_MAX: usize = 1 << 20;

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
    cols: Scratch,     // per thread: (CHUNK·OH·OW, KH·KW·C), im2col and then dcols; Winograd's blocks
    kept_cols: Tensor, // (B, OH·OW, KH·KW·C): the forward's im2col rows, when small (KEEP_COLS_MAX)
    wino_u: Tensor,    // (16, C·F): the kernel in Winograd's domain, when the layer uses it
    wino_ut: Tensor,   // (16, F·C): the same for the input gradient
    out: Tensor,       // (B, OH, OW, F)
    dz: Tensor,        // (B, OH, OW, F)
    dparts: Tensor,    // (chunks, KH·KW·C·F + F): per-chunk kernel and bias gradients
    kernel_t: Tensor,  // (F, KH·KW·C)
    dinput: Tensor,    // (B, H, W, C)
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
            cols: Scratch::default(),
            kept_cols: Tensor::default(),
            wino_u: Tensor::default(),
            wino_ut: Tensor::default(),
            out: Tensor::default(),
            dz: Tensor::default(),
            dparts: Tensor::default(),
            kernel_t: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    /// Whether the layer convolves through Winograd's F(2×2, 3×3) (`tensor::winograd`): a 3×3
    /// kernel, stride 1, "same" padding, and input and output channels in multiples of 16, the
    /// transforms' vector width (the lesson's first layer, on 1 channel, keeps im2col: so thin a
    /// product would not pay for the transforms).
    fn winograd(&self) -> bool {
        let g = &self.g;
        let shape = (g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left, g.oh, g.ow);
        shape == (3, 3, 1, 1, 1, 1, g.h, g.w) && g.c.is_multiple_of(16) && self.filters.is_multiple_of(16)
    }

    /// Whether the forward pass keeps a batch of `b` samples' im2col rows for the kernel
    /// gradient (see [`KEEP_COLS_MAX`]); Winograd layers build none.
    fn keeps_cols(&self, b: usize) -> bool {
        !self.winograd() && b * self.g.positions() * self.g.patch_len() <= KEEP_COLS_MAX
    }

    pub fn strides(mut self, strides: impl Into<Size2>) -> Self {
        self.strides = strides.into();
        self
    }
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }
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
        let (b, g, f) = (x.rows(), self.g, self.filters);
        let (p, k, n_in) = (g.positions(), g.patch_len(), g.in_len());
        let built = [g.h, g.w, g.c];
        assert_eq!(x.row_len(), n_in, "Conv2D: input {} on a layer built for {built:?}", x.shape_str());
        self.out.ensure_shape(b, &[g.oh, g.ow, f]);
        if self.winograd() {
            let len = winograd_scratch_len(g.h, g.w, g.c, f);
            self.cols.ensure(len);
            self.wino_u.ensure_shape(16, &[g.c * f]);
            winograd_kernel(self.kernel.value.data(), g.c, f, self.wino_u.data_mut());
            let (u, bias, act, buf) = (self.wino_u.data(), self.bias.value.data(), self.activation, &self.cols);
            let chunks = x.data().par_chunks(CHUNK * n_in).zip(self.out.data_mut().par_chunks_mut(CHUNK * p * f));
            chunks.for_each(|(x, out)| {
                buf.with(len, |buf| winograd_conv(x, x.len() / n_in, g.h, g.w, g.c, f, u, buf, out));
                act.forward_in_place(out, bias, f);
            });
            return;
        }
        let (w, bias, act) = (self.kernel.value.data(), self.bias.value.data(), self.activation);
        let conv = |x: &[f32], cols: &mut [f32], out: &mut [f32]| {
            for (x, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(p * k)) {
                im2col(&g, x, cols);
            }
            // out (rows, F) = activation(cols (rows, K) · kernel (K, F) + bias), the bias and
            // activation applied in place while the chunk is still in cache.
            gemm(1, Mat::new(cols, out.len() / f, k), Mat::new(w, k, f), out, 0.0);
            act.forward_in_place(out, bias, f);
        };
        let keep = self.keeps_cols(b);
        let chunks = x.data().par_chunks(CHUNK * n_in).zip(self.out.data_mut().par_chunks_mut(CHUNK * p * f));
        if keep {
            self.kept_cols.ensure_shape(b, &[p, k]);
            let kept = self.kept_cols.data_mut().par_chunks_mut(CHUNK * p * k);
            chunks.zip(kept).for_each(|((x, out), cols)| conv(x, cols, out));
        } else {
            self.cols.ensure(CHUNK * p * k);
            let cols = &self.cols;
            chunks.for_each(|(x, out)| cols.with(x.len() / n_in * p * k, |cols| conv(x, cols, out)));
        }
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        let (b, g, f) = (x.rows(), self.g, self.filters);
        let (p, k, n_in) = (g.positions(), g.patch_len(), g.in_len());
        let winograd = self.winograd();
        // Each chunk's part of the kernel gradient: (K, F), or (16, C, F) in Winograd's domain.
        let dk_len = if winograd { 16 * g.c * f } else { k * f };
        let part = dk_len + f;
        self.dz.ensure_shape(b, &[g.oh, g.ow, f]);
        self.dparts.ensure_shape(b.div_ceil(CHUNK), &[part]);
        if how.need_dinput && winograd {
            // The forward pass left the transformed kernel in wino_u.
            self.wino_ut.ensure_shape(16, &[f * g.c]);
            winograd_kernel_flipped(self.wino_u.data(), g.c, f, self.wino_ut.data_mut());
        } else if how.need_dinput {
            // kernel^T (F, K), contiguous, so the GEMM copies its rows rather than gathering.
            self.kernel_t.ensure_shape(f, &[k]);
            let (w, wt) = (self.kernel.value.data(), self.kernel_t.data_mut());
            for (kk, row) in w.chunks_exact(f).enumerate() {
                row.iter().enumerate().for_each(|(ff, &v)| wt[ff * k + kk] = v);
            }
        }
        if how.need_dinput {
            self.dinput.ensure_shape(b, &[g.h, g.w, g.c]);
        }
        let wino_len = if winograd {
            winograd_scratch_len(g.h, g.w, f, g.c).max(winograd_scratch_len(g.h, g.w, g.c, f))
        } else {
            0
        };
        let cols_len = if winograd { 0 } else { CHUNK * p * k };
        self.cols.ensure(cols_len.max(wino_len));
        let (act, out, wt, cols, fused) =
            (self.activation, self.out.data(), self.kernel_t.data(), &self.cols, how.activation_done);
        let ut = self.wino_ut.data();
        // The forward pass's im2col rows, when it kept them (see KEEP_COLS_MAX).
        let kept = if self.keeps_cols(b) { self.kept_cols.data() } else { &[][..] };
        // One pass per chunk of samples, while its dz is in cache, through a buffer of the
        // running thread's: dz, the chunk's im2col rows (kept or rebuilt), its part of the
        // kernel and bias gradients, and when asked its input gradient, with dcols written over
        // cols. Winograd layers go through their own transforms in the same buffer instead.
        let work =
            |i: usize, dz: &mut [f32], out: &[f32], dout: &[f32], x: &[f32], dp: &mut [f32], dx: Option<&mut [f32]>| {
                let dz: &[f32] = if fused {
                    dout // the layer above already did the activation's backward
                } else {
                    act.backward(out, dout, dz, f);
                    dz
                };
                let rows = dz.len() / f;
                let samples = rows / p;
                cols.with(if winograd { wino_len } else { rows * k }, |cols| {
                    let (dk, db) = dp.split_at_mut(dk_len);
                    if winograd {
                        winograd_kernel_grad_part(x, dz, samples, g.h, g.w, g.c, f, cols, dk);
                    } else {
                        let cols: &[f32] = if kept.is_empty() {
                            for (x, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(p * k)) {
                                im2col(&g, x, cols);
                            }
                            cols
                        } else {
                            &kept[i * CHUNK * p * k..][..rows * k]
                        };
                        // dkernel part (K, F) = cols^T (K, rows) · dz (rows, F), both read where
                        // they lie.
                        gemm(1, Mat::new(cols, rows, k).t(), Mat::new(dz, rows, f), dk, 0.0);
                    }
                    // dbias part = column sums of dz.
                    db.fill(0.0);
                    dz.chunks_exact(f).for_each(|r| db.iter_mut().zip(r).for_each(|(d, &v)| *d += v));
                    let Some(dx) = dx else { return };
                    if winograd {
                        // The "same" convolution of dz with the rotated, channel-swapped kernel.
                        winograd_conv(dz, samples, g.h, g.w, f, g.c, ut, cols, dx);
                    } else {
                        // dcols (rows, K) = dz (rows, F) · kernel^T (F, K)
                        let dcols = &mut cols[..rows * k];
                        gemm(1, Mat::new(dz, rows, f), Mat::new(wt, f, k), dcols, 0.0);
                        for (dcols, dx) in dcols.chunks_exact(p * k).zip(dx.chunks_exact_mut(n_in)) {
                            col2im(&g, dcols, dx);
                        }
                    }
                });
            };
        let dz = self.dz.data_mut().par_chunks_mut(CHUNK * p * f);
        let chunks = dz.zip(out.par_chunks(CHUNK * p * f)).zip(dout.data().par_chunks(CHUNK * p * f));
        let chunks = chunks.zip(x.data().par_chunks(CHUNK * n_in)).zip(self.dparts.data_mut().par_chunks_mut(part));
        if how.need_dinput {
            let dx = self.dinput.data_mut().par_chunks_mut(CHUNK * n_in);
            let chunks = chunks.zip(dx).enumerate();
            chunks.for_each(|(i, (((((dz, out), dout), x), dp), dx))| work(i, dz, out, dout, x, dp, Some(dx)));
        } else {
            chunks.enumerate().for_each(|(i, ((((dz, out), dout), x), dp))| work(i, dz, out, dout, x, dp, None));
        }
        // The batch sum: chunk partials added in chunk order, whatever thread computed them,
        // into the first chunk's.
        let (sum, rest) = self.dparts.data_mut().split_at_mut(part);
        for dp in rest.chunks_exact(part) {
            sum.iter_mut().zip(dp).for_each(|(s, &v)| *s += v);
        }
        let ((dk, beta_k), (db, beta_b)) = (self.kernel.grad_accumulator(), self.bias.grad_accumulator());
        if winograd {
            winograd_kernel_grad(&sum[..dk_len], g.c, f, dk, beta_k);
        } else if beta_k == 0.0 {
            dk.copy_from_slice(&sum[..dk_len]);
        } else {
            dk.iter_mut().zip(&sum[..dk_len]).for_each(|(d, &v)| *d += v);
        }
        if beta_b == 0.0 {
            db.copy_from_slice(&sum[dk_len..]);
        } else {
            db.iter_mut().zip(&sum[dk_len..]).for_each(|(d, &v)| *d += v);
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn fusion(&self) -> Fusion<'_> {
        // The activation is applied in place: no logits kept.
        Fusion { activation: Some(self.activation), logits: None, takes_relu_below: false }
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

/// Checks a per-sample input shape (H, W, C) and a window on it; `who` is "layer 'c' (Conv2D)",
/// `size` the window's Keras name and value. Shared by Conv2D and the pooling layers.
pub(crate) fn window(
    who: &str,
    input: &[usize],
    size: (&str, Size2),
    strides: Size2,
    padding: Padding,
) -> Result<Window2d> {
    let &[h, w, c] = input else {
        let hint = match *input {
            [n] if (n as f64).sqrt().round().powi(2) as usize == n => {
                let s = (n as f64).sqrt().round() as usize;
                format!("; reshape the images to ({s}, {s}, 1)")
            }
            [h, w] => format!("; reshape the images to ({h}, {w}, 1)"),
            _ => String::new(),
        };
        return Err(Error::shape(format!(
            "{who} expects samples of shape (height, width, channels), got {}{hint}",
            shape_str(input)
        )));
    };
    if h == 0 || w == 0 || c == 0 {
        return Err(Error::shape(format!(
            "{who} expects samples with positive height, width and channels, got {}",
            shape_str(input)
        )));
    }
    let (name, k) = size;
    if !k.is_positive() {
        return Err(Error::value(format!("{who}: expected positive integers, received {name}={k}")));
    }
    if !strides.is_positive() {
        return Err(Error::value(format!("{who}: expected positive integers, received strides={strides}")));
    }
    Window2d::new([h, w, c], k, strides, padding).ok_or_else(|| {
        Error::shape(format!(
            "{who}: {name} {k} is larger than the input {} with padding='valid'; use padding='same' or a smaller {name}",
            shape_str(input)
        ))
    })
}

/// A window size or strides: an int (square) or a pair of positive integers, as Keras takes.
pub(crate) fn read_size2(c: &LayerConfig, key: &str) -> Result<Option<Size2>> {
    let as_int = c.positive_int(key);
    if let Ok(n) = as_int {
        return Ok(n.map(Size2::from));
    }
    match c.int_list(key) {
        Ok(Some(l)) if l.len() == 2 && l.iter().all(|&d| d > 0) => Ok(Some(Size2(l[0] as usize, l[1] as usize))),
        Ok(Some(l)) => Err(Error::value(format!(
            "{}: expected a positive integer or a pair of them, received {key}={l:?}",
            c.who()
        ))),
        _ => as_int.map(|n| n.map(Size2::from)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::test_support::{assert_close, reference, tensor_from_json};
    use rand::{Rng as _, SeedableRng};

    #[test]
    fn forward_matches_keras() {
        let cases = reference()["layers"].as_array().unwrap().clone();
        let cases: Vec<_> = cases.iter().filter(|c| c["layer"] == "Conv2D").collect();
        assert_eq!(cases.len(), 3);
        for case in cases {
            let cfg = &case["config"];
            let (x, want) = (tensor_from_json(&case["input"]), tensor_from_json(&case["output"]));
            let mut layer = Conv2D::from_config(cfg).unwrap();
            let mut rng = Rng::seed_from_u64(0);
            layer.build(&x.shape()[1..], &mut rng).unwrap();
            let (kernel, bias) = (tensor_from_json(&case["kernel"]), tensor_from_json(&case["bias"]));
            assert_eq!(layer.kernel.value.shape(), kernel.shape());
            layer.kernel.value = kernel;
            layer.bias.value = bias;
            layer.forward(&x, &mut Ctx { training: false, rng: &mut rng });
            assert_eq!(layer.output().shape(), want.shape(), "{cfg}");
            for (i, (&a, &b)) in layer.output().data().iter().zip(want.data()).enumerate() {
                assert_close(a, b, &format!("Conv2D {cfg} [{i}]"));
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        // The shapes are ones where check_layer's random inputs put no pre-activation within a
        // finite-difference step of relu's kink.
        let same = Padding::Same;
        for act in [Activation::Linear, Activation::Relu] {
            let c = move |f: usize, k: Size2| Conv2D::new(f, k).activation(act);
            check_layer(|| Box::new(c(2, Size2(3, 3))), &[4, 5, 2], 2);
            check_layer(|| Box::new(c(2, Size2(3, 3)).padding(same)), &[4, 3, 2], 2);
            check_layer(|| Box::new(c(2, Size2(3, 3)).padding(same).strides(2)), &[5, 4, 2], 1);
            let no_bias = move || c(2, Size2(3, 3)).use_bias(false);
            check_layer(|| Box::new(no_bias().strides((2, 1))), &[5, 4, 3], 1);
            check_layer(|| Box::new(no_bias().padding(same).strides(2)), &[6, 5, 1], 1);
            check_layer(|| Box::new(c(3, Size2(2, 3))), &[3, 4, 2], 4);
        }
    }

    /// Outputs and gradients of a 1-thread and a 2-thread pool, bit for bit.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // 3 channels in and 8 out: im2col; 16 and 16: Winograd.
        for (c, f) in [(3, 8), (16, 16)] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let mut rng = Rng::seed_from_u64(5);
                    let mut layer = Conv2D::new(f, 3).padding(Padding::Same).activation(Activation::Relu);
                    layer.build(&[9, 7, c], &mut rng).unwrap();
                    assert_eq!(layer.winograd(), c == 16);
                    let x: Vec<f32> = (0..11 * 9 * 7 * c).map(|_| rng.random_range(-1.0..1.0)).collect();
                    let x = Tensor::from_vec(&[11, 9, 7, c], x).unwrap();
                    layer.forward(&x, &mut Ctx { training: true, rng: &mut rng });
                    let g: Vec<f32> = (0..layer.out.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
                    let dout = Tensor::from_vec(layer.out.shape(), g).unwrap();
                    layer.backward(&x, &dout, Backward::new(true));
                    let grads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad_to_vec()).collect();
                    (layer.out.clone(), grads, layer.dinput.clone())
                })
            };
            let (one, two) = (run(1), run(2));
            assert!(one == two, "{c} -> {f} channels: 1 and 2 threads differ");
        }
    }

    /// Through Winograd (3x3, stride 1, same, channels in multiples of 16): gradients against
    /// finite differences, and on the lesson's second convolution, batch 6 (a partial chunk),
    /// everything against the direct convolution in f64.
    #[test]
    fn the_winograd_path_equals_the_direct_convolution() {
        let wino = || Conv2D::new(16, 3).padding(Padding::Same);
        check_layer(|| Box::new(wino()), &[4, 5, 16], 2);
        check_layer(|| Box::new(wino().use_bias(false)), &[3, 3, 16], 1);
        assert_matches_direct_convolution(6, 14, 14, 32, 64, true);
    }

    /// A layer whose batch's im2col rows are too many to keep (KEEP_COLS_MAX) rebuilds them
    /// in backward: everything against the direct convolution in f64.
    #[test]
    fn rebuilt_im2col_rows_give_the_same_gradients() {
        let (b, h, w, c) = (7, 28, 28, 24); // 7 · 784 · 216 = 1.19M im2col values; a partial chunk
        assert!(b * h * w * 9 * c > KEEP_COLS_MAX);
        assert_matches_direct_convolution(b, h, w, c, 8, false);
    }

    /// A "same" 3x3 Conv2D (f filters, random bias) on a (b, h, w, c) batch: output, input
    /// gradient and kernel gradient against the direct convolution in f64; whether it runs
    /// through Winograd, as `winograd` says.
    fn assert_matches_direct_convolution(b: usize, h: usize, w: usize, c: usize, f: usize, winograd: bool) {
        let mut layer = Conv2D::new(f, 3).padding(Padding::Same).bias_initializer(Initializer::GlorotUniform);
        let mut rng = Rng::seed_from_u64(3);
        layer.build(&[h, w, c], &mut rng).unwrap();
        assert_eq!(layer.winograd(), winograd);
        let value = |i: usize, m: usize| ((i * 7919 + m) % 1013) as f32 / 1013.0 - 0.5;
        let x = Tensor::from_vec(&[b, h, w, c], (0..b * h * w * c).map(|i| value(i, 1)).collect()).unwrap();
        let dout = Tensor::from_vec(&[b, h, w, f], (0..b * h * w * f).map(|i| value(i, 2)).collect()).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut rng });
        layer.visit_params(&mut |p| p.zero_grad());
        layer.backward(&x, &dout, Backward::new(true));
        let (kernel, bias) = (layer.kernel.value.data(), layer.bias.value.data());
        let mut dx = vec![0f64; b * h * w * c];
        let mut dk = vec![0f64; 9 * c * f];
        for (n, oy, ox, k) in (0..b)
            .flat_map(|n| (0..h).flat_map(move |oy| (0..w).flat_map(move |ox| (0..f).map(move |k| (n, oy, ox, k)))))
        {
            let mut sum = bias[k] as f64;
            let o = ((n * h + oy) * w + ox) * f + k;
            let g = dout.data()[o] as f64;
            for (i, j, ch) in (0..3).flat_map(|i| (0..3).flat_map(move |j| (0..c).map(move |ch| (i, j, ch)))) {
                let (y, xx) = ((oy + i).wrapping_sub(1), (ox + j).wrapping_sub(1));
                if y < h && xx < w {
                    let at = ((n * h + y) * w + xx) * c + ch;
                    let wi = ((i * 3 + j) * c + ch) * f + k;
                    sum += x.data()[at] as f64 * kernel[wi] as f64;
                    dx[at] += g * kernel[wi] as f64;
                    dk[wi] += g * x.data()[at] as f64;
                }
            }
            let got = layer.output().data()[o] as f64;
            assert!((got - sum).abs() <= 1e-5 * (1.0 + sum.abs()), "output {o}: {got} vs {sum}");
        }
        let close = |got: &[f32], want: &[f64], what: &str| {
            for (i, (&g, &d)) in got.iter().zip(want).enumerate() {
                assert!((g as f64 - d).abs() <= 1e-5 * (1.0 + d.abs()), "{what} {i}: {g} vs {d}");
            }
        };
        close(layer.dinput().data(), &dx, "dx");
        close(&layer.kernel.grad_to_vec(), &dk, "dkernel");
    }

    #[test]
    fn bad_configurations_are_errors_naming_the_layer() {
        let mut rng = Rng::seed_from_u64(0);
        let err = |layer: Conv2D, shape: &[usize]| {
            layer.name("conv2d").build(shape, &mut Rng::seed_from_u64(0)).unwrap_err().to_string()
        };
        assert_eq!(
            err(Conv2D::new(32, 3), &[784]),
            "layer 'conv2d' (Conv2D) expects samples of shape (height, width, channels), got (784,); \
             reshape the images to (28, 28, 1)"
        );
        assert_eq!(
            err(Conv2D::new(0, 3), &[28, 28, 1]),
            "layer 'conv2d' (Conv2D): expected a positive integer, received filters=0"
        );
        assert_eq!(
            err(Conv2D::new(4, 3).strides((1, 0)), &[28, 28, 1]),
            "layer 'conv2d' (Conv2D): expected positive integers, received strides=(1, 0)"
        );
        assert_eq!(
            err(Conv2D::new(4, 5), &[4, 6, 1]),
            "layer 'conv2d' (Conv2D): kernel_size (5, 5) is larger than the input (4, 6, 1) with \
             padding='valid'; use padding='same' or a smaller kernel_size"
        );
        assert!(Conv2D::new(4, 5).padding(Padding::Same).build(&[4, 6, 1], &mut rng).is_ok());
    }

    #[test]
    fn config_round_trips_and_counts_match_keras() {
        let layer = Conv2D::new(64, (3, 2))
            .strides(2)
            .padding(Padding::Same)
            .activation(Activation::Relu)
            .use_bias(false)
            .kernel_initializer(Initializer::HeNormal)
            .name("c")
            .input_shape(&[28, 28, 1]);
        let cfg = layer.config();
        assert_eq!(cfg["kernel_size"], json!([3, 2]));
        assert_eq!(Conv2D::from_config(&cfg).unwrap().config(), cfg);
        let err = |cfg: Value| Conv2D::from_config(&cfg).err().unwrap().to_string();
        assert_eq!(
            err(json!({"filters": 4, "kernel_size": [3, 0], "name": "c"})),
            "layer 'c' (Conv2D): expected a positive integer or a pair of them, received kernel_size=[3, 0]"
        );
        assert_eq!(err(json!({"kernel_size": 3})), "Conv2D: the config is missing 'filters'");
        // The CNN's two convolutions: 320 and 18496 parameters, as model.summary() reports.
        let mut rng = Rng::seed_from_u64(0);
        let mut c1 = Conv2D::new(32, 3).padding(Padding::Same);
        assert_eq!(c1.build(&[28, 28, 1], &mut rng).unwrap(), vec![28, 28, 32]);
        let mut c2 = Conv2D::new(64, 3).padding(Padding::Same);
        assert_eq!(c2.build(&[14, 14, 32], &mut rng).unwrap(), vec![14, 14, 64]);
        assert_eq!((super::super::count_params(&c1).0, super::super::count_params(&c2).0), (320, 18496));
    }
}
