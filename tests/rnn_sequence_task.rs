//! A task only a model of order can learn: every sequence holds two marker tokens, A and B, among
//! random filler; the label says whether A comes before B. A bag of words sees the same two
//! markers in every sequence and cannot do better than chance; LSTM and GRU must reach 95%
//! validation accuracy, with the same bits on one thread and on two.

use kiln::layers::{Activation, Dense, Embedding, Layer, GRU, LSTM};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::optimizers::Adam;
use kiln::Tensor;
use rand::{Rng, SeedableRng};

const VOCAB: usize = 12;
const STEPS: usize = 10;
const A: f32 = 1.0;
const B: f32 = 2.0;

/// `n` sequences of filler ids 3..VOCAB with A and B at two distinct random positions, and
/// labels 1 where A comes first.
fn data(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(n * STEPS), Vec::with_capacity(n));
    for _ in 0..n {
        let mut s: Vec<f32> = (0..STEPS).map(|_| rng.random_range(3..VOCAB) as f32).collect();
        let i = rng.random_range(0..STEPS);
        let j = (i + rng.random_range(1..STEPS)) % STEPS;
        (s[i], s[j]) = (A, B);
        x.extend(s);
        y.push(if i < j { 1.0 } else { 0.0 });
    }
    (Tensor::from_vec(&[n, STEPS], x).unwrap(), Tensor::from_vec(&[n, 1], y).unwrap())
}

/// Trains Embedding → `rnn` → Dense(sigmoid) on a pool of `threads` threads; returns the
/// validation accuracy and the weights' hash.
fn train(threads: usize, rnn: fn() -> Box<dyn Layer>) -> (f64, String) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let (x, y) = data(2000, 1);
        let (xv, yv) = data(500, 2);
        let mut model = Sequential::new().seed(7);
        model.add(Embedding::new(VOCAB, 8).input_shape(&[STEPS]));
        model.add_boxed(rnn());
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        let adam = Adam { learning_rate: 0.01, ..Adam::default() };
        model.compile(Compile::new("binary_crossentropy").optimizer_with(adam).metrics(&["accuracy"])).unwrap();
        let opts = FitOptions { epochs: 12, batch_size: 32, verbose: 0, ..Default::default() };
        model.fit(&x, &y, opts).unwrap();
        let accuracy = model.evaluate_with(&xv, &yv, 64, 0).unwrap().accuracy.unwrap();
        (accuracy, model.weights_sha256())
    })
}

#[test]
fn the_markers_are_balanced_and_a_bag_of_words_cannot_tell() {
    let (x, y) = data(2000, 1);
    let positive = y.data().iter().filter(|&&v| v == 1.0).count();
    assert!((900..=1100).contains(&positive), "{positive} of 2000 positive");
    for row in x.data().chunks(STEPS) {
        // Every sequence holds exactly one A and one B: their counts say nothing of the label.
        assert_eq!((row.iter().filter(|&&v| v == A).count(), row.iter().filter(|&&v| v == B).count()), (1, 1));
    }
}

#[test]
fn lstm_learns_the_order_with_the_same_bits_on_one_and_two_threads() {
    let one = train(1, || Box::new(LSTM::new(16)));
    assert!(one.0 >= 0.95, "LSTM validation accuracy {}", one.0);
    assert_eq!(train(2, || Box::new(LSTM::new(16))), one, "2 threads vs 1");
}

#[test]
fn gru_learns_the_order_with_the_same_bits_on_one_and_two_threads() {
    let one = train(1, || Box::new(GRU::new(16)));
    assert!(one.0 >= 0.95, "GRU validation accuracy {}", one.0);
    assert_eq!(train(2, || Box::new(GRU::new(16))), one, "2 threads vs 1");
}
