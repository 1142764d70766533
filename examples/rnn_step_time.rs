//! µs per training step of the book's recurrent models (chapter 9-3's shape): batch 64,
//! sequences of 100 ids, Embedding(500, 16) → SimpleRNN(8) | LSTM(8) | GRU(8) → Dense(1,
//! sigmoid), binary crossentropy, RMSprop, synthetic ids.
//!
//! `cargo run --release --example rnn_step_time -- rnn|lstm|gru` prints `kiln lstm 812.3 us/step`:
//! the median over 5 runs of 200 `fit` steps each, after a warm-up epoch.

use std::time::Instant;

use kiln::layers::{Activation, Dense, Embedding, SimpleRNN, GRU, LSTM};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::Tensor;

fn main() -> kiln::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "lstm".into());
    let (batch, steps, per_run) = (64, 100, 200);
    let n = batch * per_run;
    // Ids 1..500 from a fixed scramble, labels from a parity (what they are does not matter here).
    let x = Tensor::from_vec(&[n, steps], (0..n * steps).map(|i| (1 + (i * 7919 + i / 13) % 499) as f32).collect())?;
    let y = Tensor::from_vec(&[n, 1], (0..n).map(|i| (i % 2) as f32).collect())?;
    let mut model = Sequential::new().seed(42);
    model.add(Embedding::new(500, 16).input_shape(&[steps]));
    match which.as_str() {
        "rnn" => model.add(SimpleRNN::new(8)),
        "lstm" => model.add(LSTM::new(8)),
        "gru" => model.add(GRU::new(8)),
        other => return Err(kiln::Error::value(format!("unknown model '{other}'; use rnn, lstm or gru"))),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Compile::new("binary_crossentropy").optimizer("rmsprop").metrics(&["accuracy"]))?;
    let opts = || FitOptions { epochs: 1, batch_size: batch, verbose: 0, ..Default::default() };
    model.fit(&x, &y, opts())?;
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            model.fit(&x, &y, opts()).map(|_| start.elapsed().as_secs_f64() * 1e6 / per_run as f64)
        })
        .collect::<kiln::Result<_>>()?;
    runs.sort_by(f64::total_cmp);
    println!("kiln {which} {:.1} us/step", runs[2]);
    Ok(())
}
