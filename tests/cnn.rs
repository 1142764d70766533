//! The lesson's CNN on the real data, short enough for CI: one epoch on 8,000 training images,
//! validated on 2,000 held-out ones. The full recipe (20 epochs, early stopping) is a documented
//! command with its result in docs/BENCHMARKS.md.

use kiln::data::train_test_indices;
use kiln::datasets::fashion_mnist;
use kiln::layers::{Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Padding};
use kiln::model::{Callback, Compile, FitOptions, Logs, Sequential};
use kiln::Tensor;

#[test]
fn one_epoch_of_the_lesson_cnn_learns() {
    let ((images, labels), _) = fashion_mnist::load_data().unwrap();
    let (train_idx, val_idx) = train_test_indices(images.rows(), 0.2, 42).unwrap();
    let x = |idx: &[usize]| images.select_rows_div(idx, 255.0).reshape(&[-1, 28, 28, 1]).unwrap();
    let y = |idx: &[usize]| labels.select_rows(idx).to_f32();
    let (train, val) = (&train_idx[..8000], &val_idx[..2000]);

    let mut model = Sequential::new().seed(42);
    model.add(Conv2D::new(32, 3).activation(Activation::Relu).padding(Padding::Same).input_shape(&[28, 28, 1]));
    model.add(MaxPooling2D::new(2));
    model.add(Conv2D::new(64, 3).activation(Activation::Relu).padding(Padding::Same));
    model.add(MaxPooling2D::new(2));
    model.add(Flatten::new());
    model.add(Dense::new(100).activation(Activation::Relu));
    model.add(Dropout::new(0.4));
    model.add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam")).unwrap();
    assert_eq!(model.count_params().0, 333_526, "Keras's count for this network");

    let history = model.fit(&x(train), &y(train), FitOptions { epochs: 1, verbose: 0, ..Default::default() }).unwrap();
    let result = model.evaluate_with(&x(val), &y(val), 32, 0).unwrap();
    let accuracy = result.accuracy.unwrap();
    assert!(accuracy >= 0.80, "validation accuracy after one short epoch: {accuracy}");
    assert!(history.loss()[0] < 1.0, "training loss {}", history.loss()[0]);
}

/// A small CNN on synthetic images, trained on a pool of `threads` threads; returns the weights'
/// hash, or the error fit returned.
fn train_small_cnn(threads: usize, callback: Option<&mut dyn Callback>) -> kiln::Result<String> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| train_small_cnn_on(callback))
}

/// The same training on the current pool.
fn train_small_cnn_on(callback: Option<&mut dyn Callback>) -> kiln::Result<String> {
    let n = 96;
    let x = Tensor::from_vec(&[n, 12, 12, 1], (0..n * 144).map(|i| ((i * 7919) % 251) as f32 / 251.0).collect())?;
    let y = Tensor::from_vec(&[n], (0..n).map(|i| (i % 10) as f32).collect())?;
    let mut model = Sequential::new().seed(5);
    model.add(Conv2D::new(8, 3).activation(Activation::Relu).padding(Padding::Same).input_shape(&[12, 12, 1]));
    model.add(MaxPooling2D::new(2));
    model.add(Flatten::new());
    model.add(Dropout::new(0.2));
    model.add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Compile::new("sparse_categorical_crossentropy").optimizer("adam"))?;
    let callbacks = callback.into_iter().collect();
    model.fit(&x, &y, FitOptions { epochs: 2, verbose: 0, callbacks, ..Default::default() })?;
    Ok(model.weights_sha256())
}

/// Two fits at once on one pool of two threads (as two tests in one process may run them):
/// each thread may pick up the other fit's polling job while it waits, which must not stall
/// either. Both finish, with the weights a fit alone gives.
#[test]
fn two_fits_at_once_on_one_pool_both_finish() {
    let alone = train_small_cnn_on(None).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let both = pool.install(|| rayon::join(|| train_small_cnn_on(None), || train_small_cnn_on(None)));
        tx.send(both).unwrap();
    });
    // A watchdog, not a timing: the two fits take a fraction of a second; a deadlock never ends.
    let (a, b) = rx.recv_timeout(std::time::Duration::from_secs(300)).expect("two concurrent fits did not finish");
    assert_eq!(a.unwrap(), alone);
    assert_eq!(b.unwrap(), alone);
}

/// Fails at the given step of the first epoch.
struct FailAt(usize);

impl Callback for FailAt {
    fn on_train_batch_end(&mut self, batch: usize, _logs: &Logs, _model: &mut Sequential) -> kiln::Result<()> {
        if batch == self.0 {
            return Err(kiln::Error::value("stop here"));
        }
        Ok(())
    }
}

/// While fit runs, the pool's other threads poll for work; they must stop when fit returns, on
/// an error too, and the threads must not change a bit of the result.
#[test]
fn fit_gives_the_same_weights_on_any_pool_and_releases_it_on_error() {
    let one = train_small_cnn(1, None).unwrap();
    for threads in [2, 3, 4] {
        assert_eq!(train_small_cnn(threads, None).unwrap(), one, "{threads} threads vs 1");
        let err = train_small_cnn(threads, Some(&mut FailAt(1))).unwrap_err();
        assert!(err.to_string().contains("stop here"), "{err}");
    }
}
