//! µs per training step on Fashion-MNIST at batch 32, for bench/compare.sh:
//! `cargo run --release --example step_time -- lesson|mlp [steps]` prints `kiln lesson 41.2 us/step`.
//!
//! The lesson's model (Dense(10, softmax) on 784 inputs) and the MLP (Dense(100, relu) →
//! Dense(10, softmax)), RMSprop, as the Keras and PyTorch scripts beside compare.sh train them.

use std::time::Instant;

use kiln::datasets::fashion_mnist;
use kiln::layers::{Activation, Dense};
use kiln::model::{Compile, FitOptions, Sequential};

fn main() -> kiln::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("lesson", String::as_str);
    let ((images, labels), _) = fashion_mnist::load_data()?;
    let x = images.div(255.0).reshape(&[-1, 784])?;
    let y = labels.to_f32();
    let mut model = Sequential::new().seed(42);
    match which {
        "lesson" => model.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784])),
        "mlp" => {
            model.add(Dense::new(100).activation(Activation::Relu).input_shape(&[784]));
            model.add(Dense::new(10).activation(Activation::Softmax));
        }
        other => return Err(kiln::Error::value(format!("unknown model '{other}'; use lesson or mlp"))),
    }
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]))?;
    let fit =
        |model: &mut Sequential, epochs| model.fit(&x, &y, FitOptions { epochs, verbose: 0, ..Default::default() });
    fit(&mut model, 1)?; // warm-up epoch
    let epochs = 3;
    let start = Instant::now();
    fit(&mut model, epochs)?;
    let steps = epochs * x.rows().div_ceil(32);
    let us = start.elapsed().as_secs_f64() * 1e6 / steps as f64;
    println!("kiln {which} {us:.1} us/step");
    Ok(())
}
