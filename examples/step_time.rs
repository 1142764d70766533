//! µs per training step on Fashion-MNIST at batch 32, for bench/compare.sh:
//! `cargo run --release --example step_time -- lesson|mlp|cnn` prints `kiln lesson 41.2 us/step`;
//! `... -- cnn 20 1` times 20 steps of one epoch instead (for bench/instructions.sh).
//!
//! The same models, optimizers and data as bench/keras_step.py and bench/torch_step.py: the
//! lesson's Dense(10, softmax) and the Flatten → Dense(100, relu) → Dense(10, softmax) MLP with
//! RMSprop (Keras's default), the lesson's CNN with Adam. Timed over whole epochs of `fit`:
//! the Python scripts' one epoch of 1,500 steps (300 for the CNN), repeated so that the timed
//! run lasts about a second as theirs do (lesson 20 epochs, mlp 5). One epoch of the lesson
//! takes ~50 ms, and on a shared VM a single pause of the host then weighs as much as the
//! epoch itself.

use std::time::Instant;

use kiln::datasets::fashion_mnist;
use kiln::layers::parse_layers;
use kiln::model::{Compile, FitOptions, Sequential};

fn main() -> kiln::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).cloned().unwrap_or_else(|| "lesson".into());
    let (spec, shape, optimizer, steps, epochs) = match which.as_str() {
        "lesson" => ("dense(10, activation=softmax)", vec![-1, 784], "rmsprop", 1500, 20),
        "mlp" => ("flatten, dense(100, activation=relu), dense(10, activation=softmax)", vec![-1, 28, 28], "rmsprop", 1500, 5),
        "cnn" => (
            "conv2d(32, 3, activation=relu, padding=same), max_pooling2d(2), conv2d(64, 3, activation=relu, padding=same), \
             max_pooling2d(2), flatten, dense(100, activation=relu), dropout(0.4), dense(10, activation=softmax)",
            vec![-1, 28, 28, 1],
            "adam",
            300,
            1,
        ),
        other => return Err(kiln::Error::value(format!("unknown model '{other}'; use lesson, mlp or cnn"))),
    };
    // `step_time MODEL STEPS EPOCHS`: a shorter run (bench/instructions.sh counts instructions).
    let number = |i: usize, default: usize| args.get(i).map_or(Ok(default), |a| a.parse::<usize>());
    let (steps, epochs) = (number(2, steps), number(3, epochs));
    let (Ok(steps), Ok(epochs)) = (steps, epochs) else {
        return Err(kiln::Error::value("usage: step_time [lesson|mlp|cnn] [steps] [epochs]"));
    };
    let ((images, labels), _) = fashion_mnist::load_data()?;
    // As the Python scripts: the first `steps` batches of the training set (warm-up: 50 more).
    let n = ((steps + 50) * 32).min(images.rows());
    let idx: Vec<usize> = (0..n).collect();
    let x = images.select_rows_div(&idx, 255.0).reshape(&shape)?;
    let y = labels.select_rows(&idx).to_f32();
    let mut model = Sequential::new().seed(42);
    for layer in parse_layers(spec)? {
        model.add_boxed(layer);
    }
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer(optimizer))?;
    let fit = |model: &mut Sequential, x: &kiln::Tensor, y: &kiln::Tensor, epochs: usize| {
        model.fit(x, y, FitOptions { epochs, verbose: 0, ..Default::default() })
    };
    let warm = (0..50 * 32).collect::<Vec<_>>();
    fit(&mut model, &x.select_rows(&warm), &y.select_rows(&warm), 1)?;
    let rest: Vec<usize> = (50 * 32..n).collect();
    let (x, y) = (x.select_rows(&rest), y.select_rows(&rest));
    let start = Instant::now();
    fit(&mut model, &x, &y, epochs)?;
    let us = start.elapsed().as_secs_f64() * 1e6 / (epochs * x.rows().div_ceil(32)) as f64;
    println!("kiln {which} {us:.1} us/step");
    Ok(())
}
