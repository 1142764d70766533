//! BatchNormalization over every axis but the last (channels): x: (B, C) or (B, H, W, C).
//! Training: y = gamma·(x − mean)/sqrt(var + eps) + beta with the batch's mean and (biased)
//! variance, and moving = moving·momentum + batch·(1 − momentum). Inference: moving statistics.

use serde_json::json;

use super::config::f32_json;
use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Layer, LayerConfig, Param, Rng};
use crate::error::{Error, Result};
use crate::tensor::{shape_str, Tensor};

/// Keras's `BatchNormalization(momentum=0.99, epsilon=1e-3, center=True, scale=True)`.
pub struct BatchNormalization {
    momentum: f32,
    epsilon: f32,
    center: bool,
    scale: bool,
    input_shape: Option<Vec<usize>>,
    name: String,
    gamma: Param,           // (C) trainable, when scale
    beta: Param,            // (C) trainable, when center
    moving_mean: Param,     // (C) non-trainable
    moving_variance: Param, // (C) non-trainable, starts at 1
    training: bool,         // mode of the last forward: backward goes through batch statistics
    mean: Vec<f32>,         // (C) mean used by the last forward
    inv_std: Vec<f32>,      // (C) 1/sqrt(var + eps) used by the last forward
    acc: [Vec<f64>; 2],     // (C) scratch sums
    xhat: Tensor,           // (B, ..., C) normalised input
    out: Tensor,            // (B, ..., C)
    dinput: Tensor,         // (B, ..., C)
}

impl Default for BatchNormalization {
    fn default() -> Self {
        BatchNormalization::new()
    }
}

impl BatchNormalization {
    /// BatchNormalization in the registry: class name, grammar row
    /// `batch_normalization(momentum=0.9)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "BatchNormalization",
        positional: &[],
        required: 0,
        args: &[("momentum", Number), ("epsilon", Number), ("center", Bool), ("scale", Bool)],
        from_config: |c| Ok(Box::new(BatchNormalization::read_config(c)?)),
    };

    fn read_config(c: &LayerConfig) -> Result<BatchNormalization> {
        let mut bn = BatchNormalization::new().name(c.name());
        if let Some(m) = c.float("momentum")? {
            bn.momentum = m as f32;
        }
        if let Some(e) = c.float("epsilon")? {
            bn.epsilon = e as f32;
        }
        bn.center = c.bool("center")?.unwrap_or(true);
        bn.scale = c.bool("scale")?.unwrap_or(true);
        bn.check()?;
        Ok(bn)
    }

    /// Keras's `BatchNormalization()`: momentum 0.99, epsilon 1e-3, with gamma and beta.
    pub fn new() -> BatchNormalization {
        let empty = |name| Param::new(name, Tensor::default());
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            input_shape: None,
            name: String::new(),
            gamma: empty("gamma"),
            beta: empty("beta"),
            moving_mean: Param::non_trainable("moving_mean", Tensor::default()),
            moving_variance: Param::non_trainable("moving_variance", Tensor::default()),
            training: false,
            mean: Vec::new(),
            inv_std: Vec::new(),
            acc: [Vec::new(), Vec::new()],
            xhat: Tensor::default(),
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    /// How much of the moving statistics each batch keeps (0.99).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Added to the variance before its square root (1e-3).
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Whether to add the learned offset `beta`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Whether to multiply by the learned `gamma`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }

    layer_builders!();

    /// The constructor arguments' validity, checked by `build` and by the registry.
    pub(crate) fn check(&self) -> Result<()> {
        let who = format!("layer '{}' (BatchNormalization)", self.name);
        if !(0.0..=1.0).contains(&self.momentum) {
            let m = self.momentum;
            return Err(Error::value(format!("{who}: momentum must be in [0, 1], received momentum={m}")));
        }
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            let e = self.epsilon;
            return Err(Error::value(format!("{who}: epsilon must be positive, received epsilon={e}")));
        }
        Ok(())
    }
}

impl Layer for BatchNormalization {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.check()?;
        let Some(&c) = input_shape.last().filter(|&&c| c > 0) else {
            return Err(Error::shape(format!(
                "layer '{}' (BatchNormalization) expects samples with a channels axis last, \
                 got input shape {}",
                self.name,
                shape_str(input_shape)
            )));
        };
        // Without scale (center), gamma stays 1 (beta 0) and is not listed among the params.
        let ones = Tensor::from_vec(&[c], vec![1.0; c])?;
        self.gamma = Param::new("gamma", ones.clone());
        self.beta = Param::new("beta", Tensor::zeros(&[c]));
        self.moving_mean = Param::non_trainable("moving_mean", Tensor::zeros(&[c]));
        self.moving_variance = Param::non_trainable("moving_variance", ones);
        self.mean = vec![0.0; c];
        self.inv_std = vec![0.0; c];
        self.acc = [vec![0.0; c], vec![0.0; c]];
        Ok(input_shape.to_vec())
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        4 * input_shape.last().map_or(0, |&c| c as u128)
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        let c = self.mean.len();
        self.training = ctx.training;
        if ctx.training {
            // Batch statistics per channel over all N = len / C rows, summed in f64.
            let n = (x.len() / c) as f64;
            let [s1, s2] = &mut self.acc;
            s1.fill(0.0);
            s2.fill(0.0);
            for row in x.data().chunks_exact(c) {
                s1.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
            }
            s1.iter_mut().for_each(|s| *s /= n);
            for row in x.data().chunks_exact(c) {
                s2.iter_mut().zip(row).zip(s1.iter()).for_each(|((s, &v), m)| *s += (v as f64 - m).powi(2));
            }
            let (mom, eps) = (self.momentum, self.epsilon as f64);
            let mm = self.moving_mean.value.data_mut();
            for j in 0..c {
                let var = s2[j] / n; // biased, as Keras, also for the moving variance
                self.mean[j] = s1[j] as f32;
                self.inv_std[j] = (1.0 / (var + eps).sqrt()) as f32;
                mm[j] = mm[j] * mom + self.mean[j] * (1.0 - mom);
            }
            let mv = self.moving_variance.value.data_mut();
            for j in 0..c {
                mv[j] = mv[j] * mom + (s2[j] / n) as f32 * (1.0 - mom);
            }
        } else {
            self.mean.copy_from_slice(self.moving_mean.value.data());
            let (mv, eps) = (self.moving_variance.value.data(), self.epsilon);
            self.inv_std.iter_mut().zip(mv).for_each(|(s, &v)| *s = 1.0 / (v + eps).sqrt());
        }
        let (b, row_shape) = (x.rows(), &x.shape()[1..]);
        self.xhat.ensure_shape(b, row_shape);
        self.out.ensure_shape(b, row_shape);
        for (xh, row) in self.xhat.data_mut().chunks_exact_mut(c).zip(x.data().chunks_exact(c)) {
            for j in 0..c {
                xh[j] = (row[j] - self.mean[j]) * self.inv_std[j];
            }
        }
        let (gamma, beta) = (self.gamma.value.data(), self.beta.value.data());
        for (o, xh) in self.out.data_mut().chunks_exact_mut(c).zip(self.xhat.data().chunks_exact(c)) {
            for j in 0..c {
                o[j] = gamma[j] * xh[j] + beta[j];
            }
        }
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        let c = self.mean.len();
        let n = (x.len() / c) as f32;
        // Per channel: Σ dout (= dbeta) and Σ dout·xhat (= dgamma).
        let [s1, s2] = &mut self.acc;
        s1.fill(0.0);
        s2.fill(0.0);
        for (g, xh) in dout.data().chunks_exact(c).zip(self.xhat.data().chunks_exact(c)) {
            for j in 0..c {
                s1[j] += g[j] as f64;
                s2[j] += (g[j] * xh[j]) as f64;
            }
        }
        for (param, sums) in [(&mut self.beta, &*s1), (&mut self.gamma, &*s2)] {
            let (grad, beta) = param.grad_accumulator();
            // Written, not scaled by beta: stale values may be anything, NaN included.
            if beta == 0.0 {
                grad.iter_mut().zip(sums).for_each(|(d, &s)| *d = s as f32);
            } else {
                grad.iter_mut().zip(sums).for_each(|(d, &s)| *d += s as f32);
            }
        }
        if !how.need_dinput {
            return;
        }
        self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
        let rows = self.dinput.data_mut().chunks_exact_mut(c).zip(dout.data().chunks_exact(c));
        for ((dx, g), xh) in rows.zip(self.xhat.data().chunks_exact(c)) {
            for j in 0..c {
                let k = self.gamma.value.data()[j] * self.inv_std[j];
                dx[j] = if self.training {
                    // Through the batch statistics: dx = gamma·inv_std/N · (N·g − Σg − xhat·Σ(g·xhat))
                    let (sg, sgx) = (self.acc[0][j] as f32, self.acc[1][j] as f32);
                    k / n * (n * g[j] - sg - xh[j] * sgx)
                } else {
                    k * g[j]
                };
            }
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        if self.scale {
            f(&mut self.gamma);
        }
        if self.center {
            f(&mut self.beta);
        }
        f(&mut self.moving_mean);
        f(&mut self.moving_variance);
    }

    fn params(&self) -> Vec<&Param> {
        let mut p = Vec::with_capacity(4);
        if self.scale {
            p.push(&self.gamma);
        }
        if self.center {
            p.push(&self.beta);
        }
        p.extend([&self.moving_mean, &self.moving_variance]);
        p
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "momentum": f32_json(self.momentum),
            "epsilon": f32_json(self.epsilon),
            "center": self.center,
            "scale": self.scale,
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{count_params, gradcheck::check_layer};
    use crate::test_support::{assert_close, reference, tensor_from_json};
    use rand::SeedableRng as _;

    #[test]
    fn gradients_match_finite_differences_in_training_on_2d_and_4d_input() {
        check_layer(|| Box::new(BatchNormalization::new()), &[3], 4);
        check_layer(|| Box::new(BatchNormalization::new()), &[3, 3, 2], 2);
        check_layer(|| Box::new(BatchNormalization::new().center(false).scale(false)), &[4], 3);
    }

    #[test]
    fn training_moving_statistics_and_inference_match_keras() {
        let refs = reference();
        let case = refs["layers"].as_array().unwrap().iter().find(|c| c["layer"] == "BatchNormalization");
        let case = case.expect("a BatchNormalization case");
        let x = tensor_from_json(&case["input"]);
        let mut rng = Rng::seed_from_u64(0);
        let mut bn = BatchNormalization::new().name("bn");
        bn.build(&x.shape()[1..], &mut rng).unwrap();
        let compare = |got: &[f32], key: &str| {
            let want = tensor_from_json(&case[key]);
            assert_eq!(got.len(), want.len(), "{key}");
            got.iter()
                .zip(want.data())
                .enumerate()
                .for_each(|(i, (&a, &b))| assert_close(a, b, &format!("{key}[{i}]")));
        };
        bn.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        compare(bn.output().data(), "output_training");
        compare(bn.moving_mean.value.data(), "moving_mean_after_one_training_call");
        compare(bn.moving_variance.value.data(), "moving_variance_after_one_training_call");
        bn.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        compare(bn.output().data(), "output_inference_after_that_call");
    }

    #[test]
    fn params_in_keras_order_with_moving_statistics_non_trainable() {
        let mut bn = BatchNormalization::new();
        bn.build(&[5, 5, 8], &mut Rng::seed_from_u64(0)).unwrap();
        let names: Vec<_> = bn.params().iter().map(|p| (p.name, p.trainable)).collect();
        assert_eq!(names, [("gamma", true), ("beta", true), ("moving_mean", false), ("moving_variance", false)]);
        assert_eq!(count_params(&bn), (32, 16));
        assert_eq!(bn.moving_variance.value.data(), &[1.0; 8]);
        assert_eq!(
            bn.config(),
            json!({"name": "", "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
                   "input_shape": null})
        );
    }

    #[test]
    fn bad_arguments_and_shapes_are_errors_naming_the_layer() {
        let mut rng = Rng::seed_from_u64(0);
        let err = BatchNormalization::new().name("bn").momentum(1.5).build(&[4], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'bn' (BatchNormalization): momentum must be in [0, 1], received momentum=1.5"
        );
        let err = BatchNormalization::new().name("bn").epsilon(0.0).build(&[4], &mut rng).unwrap_err();
        assert_eq!(err.to_string(), "layer 'bn' (BatchNormalization): epsilon must be positive, received epsilon=0");
        let err = BatchNormalization::new().name("bn").build(&[], &mut rng).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 'bn' (BatchNormalization) expects samples with a channels axis last, got input shape ()"
        );
    }
}
