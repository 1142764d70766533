//! One training step (forward, loss, backward, update) at batch 32, for the lesson's model,
//! the hidden-layer MLP and the lesson's CNN: `cargo bench --bench train_step`.
//!
//! Inputs are synthetic with the real shapes; the arithmetic does not depend on the values.

use criterion::{criterion_group, criterion_main, Criterion};

use kiln::layers::parse_layers;
use kiln::model::{Compile, Sequential};
use kiln::Tensor;

fn model(spec: &str, input: &[usize], optimizer: &str) -> Sequential {
    let mut m = Sequential::new().seed(1);
    for layer in parse_layers(spec).unwrap() {
        m.add_boxed(layer);
    }
    m.build(input).unwrap();
    m.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer(optimizer)).unwrap();
    m
}

fn batch(input: &[usize]) -> (Tensor, Tensor) {
    let mut shape = vec![32];
    shape.extend_from_slice(input);
    let n: usize = shape.iter().product();
    let x = (0..n).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect();
    let y = (0..32).map(|i| (i % 10) as f32).collect();
    (Tensor::from_vec(&shape, x).unwrap(), Tensor::from_vec(&[32], y).unwrap())
}

fn steps(c: &mut Criterion) {
    let cases = [
        ("lesson_dense10_rmsprop", "dense(10, activation=softmax)", vec![784], "rmsprop"),
        ("mlp_dense100_dense10_rmsprop", "flatten, dense(100, activation=relu), dense(10, activation=softmax)", vec![28, 28], "rmsprop"),
        ("mlp_dropout_adam", "flatten, dense(100, activation=relu), dropout(0.3), dense(10, activation=softmax)", vec![28, 28], "adam"),
        (
            "cnn_lesson_adam",
            "conv2d(32, 3, activation=relu, padding=same), max_pooling2d(2), conv2d(64, 3, activation=relu, padding=same), \
             max_pooling2d(2), flatten, dense(100, activation=relu), dropout(0.4), dense(10, activation=softmax)",
            vec![28, 28, 1],
            "adam",
        ),
    ];
    for (name, spec, input, optimizer) in cases {
        let mut m = model(spec, &input, optimizer);
        let (x, y) = batch(&input);
        // Timed on a worker of the thread pool, as `fit` runs its steps.
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rayon::scope(|_| {
                    let start = std::time::Instant::now();
                    for _ in 0..iters {
                        m.train_on_batch(&x, &y).unwrap();
                    }
                    start.elapsed()
                })
            })
        });
    }
}

criterion_group!(benches, steps);
criterion_main!(benches);
