//! The lesson CNN's convolution and pooling layers at batch 32, forward and forward + backward,
//! and all of its layers' passes together (conv 32 → pool → conv 64 → pool → Dense(100) →
//! Dense(10); no loss or optimizer), the bulk of one training step.
//!
//! `cargo bench --bench conv -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng as _, SeedableRng};

use kiln::layers::{Activation, Backward, Conv2D, Ctx, Dense, Layer, MaxPooling2D, Padding, Rng};
use kiln::Tensor;

const BATCH: usize = 32;

fn random(shape: &[usize], rng: &mut Rng) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()).unwrap()
}

/// A built layer, an input batch for it and a gradient for its output.
fn setup(mut layer: Box<dyn Layer>, sample: &[usize], rng: &mut Rng) -> (Box<dyn Layer>, Tensor, Tensor) {
    let out = layer.build(sample, rng).unwrap();
    let x = random(&[&[BATCH][..], sample].concat(), rng);
    let dout = random(&[&[BATCH][..], &out].concat(), rng);
    (layer, x, dout)
}

/// Name, layer, per-sample input shape, whether backward computes dL/dx.
type Case = (&'static str, Box<dyn Layer>, Vec<usize>, bool);

fn conv(c: &mut Criterion) {
    let mut rng = Rng::seed_from_u64(0);
    let relu = Activation::Relu;
    let cases: Vec<Case> = vec![
        // The first layer needs no input gradient.
        (
            "conv1_32x3x3_28x28x1",
            Box::new(Conv2D::new(32, 3).padding(Padding::Same).activation(relu)),
            vec![28, 28, 1],
            false,
        ),
        (
            "conv2_64x3x3_14x14x32",
            Box::new(Conv2D::new(64, 3).padding(Padding::Same).activation(relu)),
            vec![14, 14, 32],
            true,
        ),
        ("pool1_2x2_28x28x32", Box::new(MaxPooling2D::new(2)), vec![28, 28, 32], true),
        ("pool2_2x2_14x14x64", Box::new(MaxPooling2D::new(2)), vec![14, 14, 64], true),
    ];
    for (name, layer, sample, need_dinput) in cases {
        let (mut layer, x, dout) = setup(layer, &sample, &mut rng);
        let mut fwd_rng = Rng::seed_from_u64(1);
        c.bench_function(&format!("{name}/forward"), |b| {
            b.iter(|| layer.forward(&x, &mut Ctx { training: true, rng: &mut fwd_rng, fold: Default::default() }))
        });
        c.bench_function(&format!("{name}/forward_backward"), |b| {
            b.iter(|| {
                layer.forward(&x, &mut Ctx { training: true, rng: &mut fwd_rng, fold: Default::default() });
                layer.backward(&x, &dout, Backward::new(need_dinput));
            })
        });
    }
}

/// Every layer of the CNN, forward then backward, with a random gradient at the output.
fn cnn_step(c: &mut Criterion) {
    let mut rng = Rng::seed_from_u64(0);
    let relu = Activation::Relu;
    let mut layers: Vec<Box<dyn Layer>> = vec![
        Box::new(Conv2D::new(32, 3).padding(Padding::Same).activation(relu)),
        Box::new(MaxPooling2D::new(2)),
        Box::new(Conv2D::new(64, 3).padding(Padding::Same).activation(relu)),
        Box::new(MaxPooling2D::new(2)),
        // Dense reads its input as (B, 7·7·64): no Flatten needed for the timing.
        Box::new(Dense::new(100).activation(relu)),
        Box::new(Dense::new(10).activation(Activation::Softmax)),
    ];
    let mut shape = vec![28, 28, 1];
    for (i, layer) in layers.iter_mut().enumerate() {
        shape = layer.build(&shape, &mut rng).unwrap();
        if i == 3 {
            shape = vec![shape.iter().product()]; // (7, 7, 64) → (3136,)
        }
    }
    let x = random(&[BATCH, 28, 28, 1], &mut rng);
    let dlogits = random(&[BATCH, 10], &mut rng);
    let mut fwd_rng = Rng::seed_from_u64(1);
    c.bench_function("cnn_all_layers/forward_backward", |b| {
        b.iter(|| {
            for i in 0..layers.len() {
                let (done, rest) = layers.split_at_mut(i);
                let input = done.last().map_or(&x, |l| l.output());
                rest[0].forward(input, &mut Ctx { training: true, rng: &mut fwd_rng, fold: Default::default() });
            }
            for i in (0..layers.len()).rev() {
                let (before, rest) = layers.split_at_mut(i);
                let (layer, after) = rest.split_first_mut().unwrap();
                let input = before.last().map_or(&x, |l| l.output());
                let dout = after.first().map_or(&dlogits, |l| l.dinput());
                layer.visit_params(&mut |p| p.zero_grad());
                layer.backward(input, dout, Backward::new(i > 0));
            }
        })
    });
}

criterion_group!(benches, conv, cnn_step);
criterion_main!(benches);
