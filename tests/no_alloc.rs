//! The steady-state training step allocates nothing: a counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln::layers::{Activation, Dense};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::Tensor;

/// Counts the allocations made on the threads of rayon's pool, where training runs (`fit` and
/// the tests below enter the pool with `rayon::scope`). The test harness's own threads are left
/// out: while one test measures, the harness prints another's result and starts the next.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    if rayon::current_thread_index().is_some() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tests in one binary run on parallel threads; each holds this lock so counts are its own.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Synthetic data of the lesson's shapes: 784 features, 10 classes.
fn data(n: usize) -> (Tensor, Tensor) {
    let x = (0..n * 784).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect();
    let y = (0..n).map(|i| (i % 10) as f32).collect();
    (Tensor::from_vec(&[n, 784], x).unwrap(), Tensor::from_vec(&[n], y).unwrap())
}

fn model(optimizer: &str) -> Sequential {
    let mut m = Sequential::new().seed(1);
    m.add(Dense::new(100).activation(Activation::Relu).input_shape(&[784]));
    m.add(Dense::new(10).activation(Activation::Softmax));
    m.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer(optimizer)).unwrap();
    m
}

#[test]
fn train_on_batch_allocates_nothing_after_the_first_step() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data(32);
    for optimizer in ["sgd", "rmsprop", "adam", "adamw", "adagrad"] {
        let mut m = model(optimizer);
        // As fit runs it: on a worker of the thread pool (the 784x32x100 kernel gradient is
        // large enough to be split across threads).
        let steady = rayon::scope(|_| {
            // Warm-up: buffers sized, each pool thread's packing buffer grown once.
            for _ in 0..10 {
                m.train_on_batch(&x, &y).unwrap();
            }
            let before = allocations();
            for _ in 0..50 {
                m.train_on_batch(&x, &y).unwrap();
            }
            allocations() - before
        });
        assert_eq!(steady, 0, "{optimizer}: allocations in 50 steady-state steps");
    }
}

#[test]
fn steps_with_dropout_batch_norm_and_convolutions_allocate_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cases = [
        (
            "flatten, dense(100, activation=relu), batch_normalization(), dropout(0.3), dense(10, activation=softmax)",
            vec![28, 28],
        ),
        (
            // A relu into max pooling (fused backward), a Winograd layer (16 -> 16 channels),
            // batch norm on 4-D inputs, a separate activation and average pooling.
            "conv2d(16, 3, activation=relu, padding=same), max_pooling2d(2), \
             conv2d(16, 3, padding=same), batch_normalization(), activation(relu), average_pooling2d(2), flatten, \
             dropout(0.4), dense(10, activation=softmax)",
            vec![28, 28, 1],
        ),
    ];
    for (spec, shape) in cases {
        let mut m = Sequential::new().seed(3);
        for layer in kiln::layers::parse_layers(spec).unwrap() {
            m.add_boxed(layer);
        }
        m.build(&shape).unwrap();
        m.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam")).unwrap();
        let (x, y) = data(32);
        let x = x
            .reshape(&shape.iter().map(|&d| d as isize).fold(vec![-1], |mut v, d| {
                v.push(d);
                v
            }))
            .unwrap();
        let steady = rayon::scope(|_| {
            for _ in 0..10 {
                m.train_on_batch(&x, &y).unwrap();
            }
            let before = allocations();
            for _ in 0..20 {
                m.train_on_batch(&x, &y).unwrap();
            }
            allocations() - before
        });
        assert_eq!(steady, 0, "{spec}: allocations in 20 steady-state steps");
    }
}

#[test]
fn fit_allocates_per_epoch_not_per_step() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 3,200 + 20 samples at batch 32: 101 steps, the last one short.
    let (x, y) = data(3220);
    let count = |epochs| {
        let mut m = model("adam");
        let before = allocations();
        m.fit(&x, &y, FitOptions { epochs, verbose: 0, ..Default::default() }).unwrap();
        allocations() - before
    };
    count(1); // warm-up: the pool threads grow their packing buffers once
    let (one, three) = (count(1), count(3));
    let per_epoch = (three - one) / 2;
    assert!(per_epoch < 10, "{per_epoch} allocations per epoch of 101 steps");
}

#[test]
fn recurrent_steps_allocate_nothing() {
    use kiln::layers::{Embedding, Layer, SimpleRNN, GRU, LSTM};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The book's shape, small: ids of 50 words, 20 steps, batch 16; dropout draws masks each step.
    let (b, t) = (16, 20);
    let x = Tensor::from_vec(&[b, t], (0..b * t).map(|i| ((i * 7) % 50) as f32).collect()).unwrap();
    let y = Tensor::from_vec(&[b, 1], (0..b).map(|i| (i % 2) as f32).collect()).unwrap();
    let cases: [(&str, fn() -> Vec<Box<dyn Layer>>); 4] = [
        ("lstm", || vec![Box::new(LSTM::new(8))]),
        ("gru", || vec![Box::new(GRU::new(8).dropout(0.2).recurrent_dropout(0.2))]),
        ("stacked lstm", || vec![Box::new(LSTM::new(8).return_sequences(true).dropout(0.3)), Box::new(LSTM::new(8))]),
        ("simple_rnn", || vec![Box::new(SimpleRNN::new(8).go_backwards(true))]),
    ];
    for (name, rnn) in cases {
        let mut m = Sequential::new().seed(4);
        m.add(Embedding::new(50, 16).input_shape(&[t]));
        rnn().into_iter().for_each(|l| m.add_boxed(l));
        m.add(Dense::new(1).activation(Activation::Sigmoid));
        m.compile(Compile::new("binary_crossentropy").optimizer("rmsprop")).unwrap();
        let steady = rayon::scope(|_| {
            for _ in 0..5 {
                m.train_on_batch(&x, &y).unwrap();
            }
            let before = allocations();
            for _ in 0..20 {
                m.train_on_batch(&x, &y).unwrap();
            }
            allocations() - before
        });
        assert_eq!(steady, 0, "{name}: allocations in 20 steady-state steps");
    }
}
