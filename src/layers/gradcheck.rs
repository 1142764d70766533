//! The one helper every layer's tests use: gradients against central finite differences.

use rand::{Rng as _, SeedableRng as _};

use super::{Backward, Ctx, Layer, Rng};
use crate::tensor::Tensor;

/// Builds the layer from `make` for per-sample `input_shape`, runs a batch of `batch` random
/// inputs, and checks dL/dx and dL/dparam of L = sum(g · output) (g random) against central
/// finite differences computed in f64. Also checks the output's batch dimension.
pub fn check_layer(make: impl Fn() -> Box<dyn Layer>, input_shape: &[usize], batch: usize) {
    let mut rng = Rng::seed_from_u64(3);
    let mut layer = make();
    let out_shape = layer.build(input_shape, &mut rng).expect("build");
    let mut shape = vec![batch];
    shape.extend_from_slice(input_shape);
    let n: usize = shape.iter().product();
    let x = Tensor::from_vec(&shape, (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()).unwrap();
    let mut drop_rng = Rng::seed_from_u64(9);
    let mut forward = |layer: &mut Box<dyn Layer>, x: &Tensor| {
        // The same random stream every call, so stochastic layers repeat their mask.
        drop_rng = Rng::seed_from_u64(9);
        layer.forward(x, &mut Ctx { training: true, rng: &mut drop_rng, fold: Default::default() });
    };
    forward(&mut layer, &x);
    let mut want_out = vec![batch];
    want_out.extend_from_slice(&out_shape);
    assert_eq!(layer.output().shape(), want_out.as_slice(), "output shape");
    let m = layer.output().len();
    let g: Vec<f32> = (0..m).map(|_| rng.random_range(-1.0..1.0)).collect();
    let dout = Tensor::from_vec(layer.output().shape(), g.clone()).unwrap();
    // Stale values under a zeroed gradient: backward must write them, not add to them.
    layer.visit_params(&mut |p| {
        p.grad_accumulator().0.fill(1e3);
        p.zero_grad();
    });
    layer.backward(&x, &dout, Backward::new(true));

    let loss = |layer: &mut Box<dyn Layer>, x: &Tensor, fwd: &mut dyn FnMut(&mut Box<dyn Layer>, &Tensor)| {
        fwd(layer, x);
        layer.output().data().iter().zip(&g).map(|(&o, &g)| o as f64 * g as f64).sum::<f64>()
    };
    let h = 1e-2f32;
    let close = |fd: f64, an: f32, what: &str| {
        let tol = 2e-3 + 2e-2 * fd.abs().max(an.abs() as f64);
        assert!((fd - an as f64).abs() <= tol, "{what}: finite difference {fd} vs backward {an}");
    };
    let dx = layer.dinput().data().to_vec();
    assert_eq!(dx.len(), x.len(), "{}: input gradient size", layer.class_name());
    for (i, &an) in dx.iter().enumerate() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.data_mut()[i] += h;
        xm.data_mut()[i] -= h;
        let fd = (loss(&mut layer, &xp, &mut forward) - loss(&mut layer, &xm, &mut forward)) / (2.0 * h as f64);
        close(fd, an, &format!("{} dx[{i}]", layer.class_name()));
    }
    let grads: Vec<_> = layer.params().into_iter().filter(|p| p.trainable).map(|p| (p.name, p.grad_to_vec())).collect();
    for (name, grad) in grads {
        for (i, &an) in grad.iter().enumerate() {
            let nudge = |layer: &mut Box<dyn Layer>, d: f32| {
                layer.visit_params(&mut |p| {
                    if p.name == name {
                        p.value.data_mut()[i] += d;
                    }
                })
            };
            nudge(&mut layer, h);
            let lp = loss(&mut layer, &x, &mut forward);
            nudge(&mut layer, -2.0 * h);
            let lm = loss(&mut layer, &x, &mut forward);
            nudge(&mut layer, h);
            close((lp - lm) / (2.0 * h as f64), an, &format!("{} d{name}[{i}]", layer.class_name()));
        }
    }
}
