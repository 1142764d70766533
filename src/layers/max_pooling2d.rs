//! MaxPooling2D, channels-last: the largest value of each (PH, PW) window, per channel.
//! x: (B, H, W, C) → out: (B, OH, OW, C). Forward stores each maximum's position (the first on
//! ties) so backward routes the gradient there. Also holds [`Pool2d`], the settings both pooling
//! layers share.

use rayon::prelude::*;
use serde_json::{json, Value};

use super::conv2d::{read_size2, window};
use super::registry::{typed_from_config, ArgKind, ArgKind::*, LayerKind};
use super::{Backward, Ctx, Fusion, Layer, LayerConfig, Rng};
use crate::error::{Error, Result};
use crate::tensor::{Padding, Size2, Tensor, Window2d};

/// A pooling layer's constructor arguments and the window they give once built.
pub(crate) struct Pool2d {
    pub pool_size: Size2,
    pub strides: Option<Size2>, // None: pool_size, as Keras
    pub padding: Padding,
    pub input_shape: Option<Vec<usize>>,
    pub name: String,
    pub g: Window2d,
}

impl Pool2d {
    pub fn new(pool_size: Size2) -> Pool2d {
        let (padding, g) = (Padding::Valid, Window2d::default());
        Pool2d { pool_size, strides: None, padding, input_shape: None, name: String::new(), g }
    }

    pub fn build(&mut self, class: &str, input_shape: &[usize]) -> Result<Vec<usize>> {
        let who = format!("layer '{}' ({class})", self.name);
        let strides = self.strides.unwrap_or(self.pool_size);
        self.g = window(&who, input_shape, ("pool_size", self.pool_size), strides, self.padding)?;
        Ok(vec![self.g.oh, self.g.ow, self.g.c])
    }

    pub fn config(&self) -> Value {
        json!({
            "name": self.name,
            "pool_size": self.pool_size.to_json(),
            "strides": self.strides.unwrap_or(self.pool_size).to_json(),
            "padding": self.padding.name(),
            "data_format": "channels_last",
            "input_shape": self.input_shape,
        })
    }

    /// The grammar and config arguments of both pooling layers.
    pub const ARGS: &'static [(&'static str, ArgKind)] =
        &[("pool_size", PositiveInt), ("strides", PositiveInt), ("padding", Word)];

    /// Reads a pooling layer's config; Keras's defaults: pool_size 2, strides = pool_size.
    pub fn from_config(c: &LayerConfig) -> Result<Pool2d> {
        let mut pool = Pool2d::new(read_size2(&c, "pool_size")?.unwrap_or(Size2(2, 2)));
        pool.strides = read_size2(&c, "strides")?;
        c.data_format()?;
        if let Some(p) = c.str("padding")? {
            pool.padding = c.wrap(Padding::parse(p))?;
        }
        Ok(pool)
    }
}

/// Keras's `MaxPooling2D(pool_size, strides, padding)`.
pub struct MaxPooling2D {
    pool: Pool2d,
    out: Tensor,      // (B, OH, OW, C)
    argmax: Vec<u32>, // (B, OH, OW, C): index of each maximum within its sample's (H, W, C)
    dinput: Tensor,   // (B, H, W, C)
}

/// The builders both pooling layers have: `strides` (default: `pool_size`), `padding`, and the
/// name/input_shape every layer has, all stored in their `pool: Pool2d`.
macro_rules! pool_builders {
    () => {
        /// Defaults to `pool_size`.
        pub fn strides(mut self, strides: impl Into<Size2>) -> Self {
            self.pool.strides = Some(strides.into());
            self
        }
        /// `Padding::Valid` (Keras's default) or `Padding::Same`.
        pub fn padding(mut self, padding: Padding) -> Self {
            self.pool.padding = padding;
            self
        }
        layer_builders!(pool);
    };
}
pub(crate) use pool_builders;

impl MaxPooling2D {
    /// MaxPooling2D in the registry: class name, grammar row `max_pooling2d(2)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "MaxPooling2D",
        positional: &["pool_size"],
        required: 0,
        args: Pool2d::ARGS,
        from_config: |c| Ok(Box::new(MaxPooling2D::read_config(c)?)),
    };

    fn read_config(c: &LayerConfig) -> Result<MaxPooling2D> {
        Ok(MaxPooling2D { pool: Pool2d::from_config(c)?, ..MaxPooling2D::new(1) })
    }

    /// `MaxPooling2D::new(2)` or `MaxPooling2D::new((2, 3))`.
    pub fn new(pool_size: impl Into<Size2>) -> MaxPooling2D {
        let pool = Pool2d::new(pool_size.into());
        MaxPooling2D { pool, out: Tensor::default(), argmax: Vec::new(), dinput: Tensor::default() }
    }
    pool_builders!();
    /// Rebuilds the layer from [`Layer::config`]'s JSON; errors name the layer and the key.
    pub fn from_config(config: &Value) -> Result<MaxPooling2D> {
        typed_from_config(Self::KIND.class, config, MaxPooling2D::read_config)
    }
}

/// One output cell, any window: the maximum over the window's positions inside the image, per
/// channel, and where it lies. Strictly greater: the first maximum in row-major order wins
/// ties. Selects, not branches, so the channels run as vectors.
fn pool_window(g: &Window2d, x: &[f32], oh: usize, ow: usize, o: &mut [f32], a: &mut [u32]) {
    let c = g.c;
    let mut first = true;
    for ih in g.rows(oh) {
        for iw in g.cols(ow) {
            let base = (ih * g.w + iw) * c;
            let src = &x[base..base + c];
            if first {
                o.copy_from_slice(src);
                a.iter_mut().enumerate().for_each(|(j, a)| *a = (base + j) as u32);
                first = false;
                continue;
            }
            for (j, ((o, a), &v)) in o.iter_mut().zip(a.iter_mut()).zip(src).enumerate() {
                let greater = v > *o;
                *o = if greater { v } else { *o };
                *a = if greater { (base + j) as u32 } else { *a };
            }
        }
    }
}

/// The usual MaxPooling2D(2) on one sample: the four values of each whole window in one pass
/// per channel, rather than one pass per position as [`pool_window`] makes. The same
/// comparisons in the same order, so the same maxima, ties and argmax. Windows cut by "same"
/// padding at an odd edge go through [`pool_window`].
fn pool_2x2(g: &Window2d, x: &[f32], out: &mut [f32], arg: &mut [u32]) {
    let c = g.c;
    let mut cells = out.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c));
    for oh in 0..g.oh {
        for ow in 0..g.ow {
            let (o, a) = cells.next().expect("one cell per output position");
            let (ih, iw) = (2 * oh, 2 * ow);
            if ih + 1 >= g.h || iw + 1 >= g.w {
                pool_window(g, x, oh, ow, o, a);
                continue;
            }
            let b0 = (ih * g.w + iw) * c;
            let (b1, b2) = (b0 + c, b0 + g.w * c);
            let b3 = b2 + c;
            let (x0, x1, x2, x3) = (&x[b0..b0 + c], &x[b1..b1 + c], &x[b2..b2 + c], &x[b3..b3 + c]);
            for j in 0..c {
                let (mut m, mut i) = (x0[j], b0 + j);
                if x1[j] > m {
                    (m, i) = (x1[j], b1 + j);
                }
                if x2[j] > m {
                    (m, i) = (x2[j], b2 + j);
                }
                if x3[j] > m {
                    (m, i) = (x3[j], b3 + j);
                }
                o[j] = m;
                a[j] = i as u32;
            }
        }
    }
}

impl Layer for MaxPooling2D {
    layer_identity!(pool);

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.pool.build("MaxPooling2D", input_shape)?;
        if self.pool.g.in_len() > u32::MAX as usize {
            return Err(Error::shape(format!("layer '{}' (MaxPooling2D): samples too large", self.pool.name)));
        }
        Ok(out)
    }

    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        let (b, g) = (x.rows(), self.pool.g);
        let (n_in, n_out, c) = (g.in_len(), g.positions() * g.c, g.c);
        assert_eq!(
            x.row_len(),
            n_in,
            "MaxPooling2D forward: input {} on a layer built for {:?}",
            x.shape_str(),
            [g.h, g.w, c]
        );
        self.out.ensure_shape(b, &[g.oh, g.ow, c]);
        self.argmax.resize(b * n_out, 0);
        let samples = x.data().par_chunks(n_in).zip(self.out.data_mut().par_chunks_mut(n_out));
        let two_by_two = (g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left) == (2, 2, 2, 2, 0, 0);
        samples.zip(self.argmax.par_chunks_mut(n_out)).for_each(|((x, out), arg)| {
            if two_by_two {
                return pool_2x2(&g, x, out, arg);
            }
            let mut cells = out.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c));
            for oh in 0..g.oh {
                for ow in 0..g.ow {
                    let (o, a) = cells.next().expect("one cell per output position");
                    pool_window(&g, x, oh, ow, o, a);
                }
            }
        });
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        if !how.need_dinput {
            return;
        }
        let (b, g) = (x.rows(), self.pool.g);
        let (n_in, n_out) = (g.in_len(), g.positions() * g.c);
        self.dinput.ensure_shape(b, &[g.h, g.w, g.c]);
        let relu_below = how.relu_below;
        let samples = self.dinput.data_mut().par_chunks_mut(n_in).zip(dout.data().par_chunks(n_out));
        let samples = samples.zip(self.argmax.par_chunks(n_out)).zip(self.out.data().par_chunks(n_out));
        samples.for_each(|(((dx, dout), arg), out)| {
            dx.fill(0.0);
            // += : with strides smaller than the pool, windows overlap and share maxima.
            if relu_below {
                // The maximum is the input at `i`: relu's gradient there is 1 where it is positive.
                // A select, not a branch: the sign of a maximum is not predictable (0 + 0 is 0).
                let cells = arg.iter().zip(dout).zip(out);
                cells.for_each(|((&i, &d), &o)| dx[i as usize] += if o > 0.0 { d } else { 0.0 });
            } else {
                arg.iter().zip(dout).for_each(|(&i, &d)| dx[i as usize] += d);
            }
        });
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn fusion(&self) -> Fusion<'_> {
        Fusion { takes_relu_below: true, ..Fusion::default() }
    }

    fn config(&self) -> Value {
        self.pool.config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::test_support::{assert_close, reference, tensor_from_json};
    use rand::SeedableRng;

    fn run(layer: &mut dyn Layer, x: &Tensor) -> Tensor {
        let mut rng = Rng::seed_from_u64(0);
        layer.build(&x.shape()[1..], &mut rng).unwrap();
        layer.forward(x, &mut Ctx { training: true, rng: &mut rng });
        layer.output().clone()
    }

    #[test]
    fn forward_matches_keras() {
        let cases = reference()["layers"].as_array().unwrap().clone();
        let cases: Vec<_> = cases.iter().filter(|c| c["layer"] == "MaxPooling2D").collect();
        assert_eq!(cases.len(), 2);
        for case in cases {
            let cfg = &case["config"];
            let pad = Padding::parse(cfg["padding"].as_str().unwrap()).unwrap();
            let mut layer = MaxPooling2D::new(cfg["pool_size"].as_u64().unwrap() as usize).padding(pad);
            let (x, want) = (tensor_from_json(&case["input"]), tensor_from_json(&case["output"]));
            let got = run(&mut layer, &x);
            assert_eq!(got.shape(), want.shape(), "{cfg}");
            for (i, (&a, &b)) in got.data().iter().zip(want.data()).enumerate() {
                assert_close(a, b, &format!("MaxPooling2D {cfg} [{i}]"));
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        // Shapes where check_layer's random inputs hold no two values of a window within a
        // finite-difference step of each other, so the maxima stay put.
        check_layer(|| Box::new(MaxPooling2D::new(2)), &[4, 4, 2], 2);
        check_layer(|| Box::new(MaxPooling2D::new(2).padding(Padding::Same)), &[3, 5, 1], 2);
        check_layer(|| Box::new(MaxPooling2D::new(3).strides(2).padding(Padding::Same)), &[4, 5, 2], 1);
        // "valid" leaves the last row and column in no window: their gradient is zero.
        check_layer(|| Box::new(MaxPooling2D::new(2)), &[5, 5, 1], 2);
    }

    /// Overlapping windows on tie-free inputs (distinct multiples of 0.05): the gradient of
    /// sum(g · out) is exactly the finite difference.
    #[test]
    fn overlapping_windows_sum_their_gradients() {
        let shape = [2, 5, 6, 3];
        let n: usize = shape.iter().product();
        let x = Tensor::from_vec(&shape, (0..n).map(|i| ((i * 37) % n) as f32 * 0.05).collect()).unwrap();
        let mut layer = MaxPooling2D::new(3).strides((2, 1)).padding(Padding::Same);
        let out = run(&mut layer, &x);
        let g: Vec<f32> = (0..out.len()).map(|i| (i as f32 * 0.37).sin()).collect();
        layer.backward(&x, &Tensor::from_vec(out.shape(), g.clone()).unwrap(), Backward::new(true));
        let loss = |layer: &mut MaxPooling2D, x: &Tensor| -> f64 {
            let out = run(layer, x);
            out.data().iter().zip(&g).map(|(&o, &g)| o as f64 * g as f64).sum()
        };
        let dx = layer.dinput().clone();
        for i in 0..n {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp.data_mut()[i] += 0.01;
            xm.data_mut()[i] -= 0.01;
            let fd = (loss(&mut layer, &xp) - loss(&mut layer, &xm)) / 0.02;
            assert!((fd - dx.data()[i] as f64).abs() < 1e-3, "dx[{i}]: {fd} vs {}", dx.data()[i]);
        }
    }

    /// The 2x2 fast path against a plain reference: maxima, and the gradient routed to the first
    /// maximum in row-major order, on inputs full of ties, with windows cut by "same" padding.
    #[test]
    fn pool_2x2_equals_a_plain_reference() {
        for (h, w, c, padding) in [(6, 4, 3, Padding::Valid), (5, 7, 2, Padding::Same), (5, 5, 17, Padding::Valid)] {
            let n = 2 * h * w * c;
            let x = Tensor::from_vec(&[2, h, w, c], (0..n).map(|i| ((i * 7) % 5) as f32).collect()).unwrap();
            let mut layer = MaxPooling2D::new(2).padding(padding);
            let out = run(&mut layer, &x);
            let (oh, ow) = (out.shape()[1], out.shape()[2]);
            let dout = Tensor::from_vec(out.shape(), (0..out.len()).map(|i| i as f32 + 1.0).collect()).unwrap();
            layer.backward(&x, &dout, Backward::new(true));
            let mut want_dx = vec![0.0; n];
            for b in 0..2 {
                for (i, j, ch) in (0..oh).flat_map(|i| (0..ow).flat_map(move |j| (0..c).map(move |ch| (i, j, ch)))) {
                    let mut best: Option<(f32, usize)> = None;
                    for (di, dj) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let (r, q) = (2 * i + di, 2 * j + dj);
                        if r < h && q < w {
                            let at = ((b * h + r) * w + q) * c + ch;
                            if best.is_none_or(|(m, _)| x.data()[at] > m) {
                                best = Some((x.data()[at], at));
                            }
                        }
                    }
                    let (m, at) = best.unwrap();
                    let cell = ((b * oh + i) * ow + j) * c + ch;
                    assert_eq!(out.data()[cell], m, "{h}x{w}x{c} {padding:?}: max at {cell}");
                    want_dx[at] += dout.data()[cell];
                }
            }
            assert_eq!(layer.dinput().data(), &want_dx[..], "{h}x{w}x{c} {padding:?}: gradient");
        }
    }

    /// With the relu below folded in (`relu_below` here, `activation_done` on the
    /// convolution, as the fusion plan asks), the convolution's input and parameter gradients are the same bits as
    /// with relu's own backward pass, for 2x2 pools and for overlapping ones.
    #[test]
    fn folding_in_the_relu_below_gives_the_same_gradients() {
        use crate::layers::{Activation, Conv2D};
        use rand::Rng as _;
        for pool in [MaxPooling2D::new(2), MaxPooling2D::new(2).strides(1)] {
            let mut rng = Rng::seed_from_u64(4);
            let mut conv = Conv2D::new(4, 3).activation(Activation::Relu).padding(Padding::Same);
            conv.build(&[6, 6, 2], &mut rng).unwrap();
            let mut pool = pool;
            pool.build(&[6, 6, 4], &mut rng).unwrap();
            let x = Tensor::from_vec(&[3, 6, 6, 2], (0..216).map(|_| rng.random_range(-1.0..1.0)).collect()).unwrap();
            let mut ctx = Ctx { training: true, rng: &mut rng };
            conv.forward(&x, &mut ctx);
            pool.forward(conv.output(), &mut ctx);
            let m = pool.output().len();
            let dout =
                Tensor::from_vec(pool.output().shape(), (0..m).map(|i| (i as f32 * 0.37).sin()).collect()).unwrap();
            let mut run = |fold: bool| {
                assert!(pool.fusion().takes_relu_below);
                conv.visit_params(&mut |p| p.zero_grad());
                let above = Backward { need_dinput: true, relu_below: fold, activation_done: false };
                pool.backward(conv.output(), &dout, above);
                conv.backward(
                    &x,
                    pool.dinput(),
                    Backward { need_dinput: true, activation_done: fold, relu_below: false },
                );
                let grads: Vec<Vec<f32>> = conv.params().iter().map(|p| p.grad_to_vec()).collect();
                (conv.dinput().clone(), grads)
            };
            let (dx, grads) = run(false);
            assert_eq!(run(true), (dx, grads));
            // The mask mattered: some windows' maxima are relu's zeros.
            assert!(pool.output().data().iter().filter(|&&o| o == 0.0).count() > 0);
        }
    }

    #[test]
    fn ties_route_the_gradient_to_the_first_maximum() {
        let x = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0, 3.0, 3.0, 2.0]).unwrap();
        let mut layer = MaxPooling2D::new(2);
        assert_eq!(run(&mut layer, &x).data(), &[3.0]);
        layer.backward(&x, &Tensor::from_vec(&[1, 1, 1, 1], vec![5.0]).unwrap(), Backward::new(true));
        assert_eq!(layer.dinput().data(), &[0.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn errors_name_the_layer_and_config_round_trips() {
        let mut rng = Rng::seed_from_u64(0);
        let err = MaxPooling2D::new(3).name("p").build(&[2, 2, 1], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'p' (MaxPooling2D): pool_size (3, 3) is larger than the input (2, 2, 1) with \
             padding='valid'; use padding='same' or a smaller pool_size"
        );
        let err = MaxPooling2D::new(2).strides(0).name("p").build(&[4, 4, 1], &mut rng).unwrap_err();
        assert_eq!(err.to_string(), "layer 'p' (MaxPooling2D): expected positive integers, received strides=(0, 0)");
        let layer = MaxPooling2D::new((2, 3)).strides(1).padding(Padding::Same).name("p").input_shape(&[6, 6, 2]);
        let again = MaxPooling2D::from_config(&layer.config()).unwrap();
        assert_eq!(again.config(), layer.config());
    }
}
