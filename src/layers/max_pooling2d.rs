//! MaxPooling2D, channels-last: the largest value of each (PH, PW) window, per channel.
//! x: (B, H, W, C) → out: (B, OH, OW, C). Forward stores each maximum's position (the first on
//! ties) so backward routes the gradient there (`ops::max_pool2d`).

use serde_json::Value;

use super::pool2d::{pool_builders, Pool2d};
use super::registry::{typed_from_config, LayerKind};
use super::{Backward, Ctx, Fusion, Layer, LayerConfig, Rng};
use crate::error::{Error, Result};
use crate::tensor::{ops, Size2, Tensor};

/// Keras's `MaxPooling2D(pool_size, strides, padding)`.
pub struct MaxPooling2D {
    pool: Pool2d,
    out: Tensor,      // (B, OH, OW, C)
    argmax: Vec<u32>, // (B, OH, OW, C): index of each maximum within its sample's (H, W, C)
    dinput: Tensor,   // (B, H, W, C)
}

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
        ops::max_pool2d(&self.pool.g, x, &mut self.out, &mut self.argmax);
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        if how.need_dinput {
            let relu_out = how.relu_below.then_some(&self.out);
            ops::max_pool2d_backward(&self.pool.g, dout, &self.argmax, relu_out, &mut self.dinput);
        }
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
    use crate::tensor::Padding;
    use crate::test_support::{assert_close, reference, tensor_from_json};
    use rand::SeedableRng;

    fn run(layer: &mut dyn Layer, x: &Tensor) -> Tensor {
        let mut rng = Rng::seed_from_u64(0);
        layer.build(&x.shape()[1..], &mut rng).unwrap();
        layer.forward(x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
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
            let mut ctx = Ctx { training: true, rng: &mut rng, fold: Default::default() };
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
