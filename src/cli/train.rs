//! `kiln train`: the lesson — load Fashion-MNIST, split it as scikit-learn does, train, evaluate.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use kiln::data::train_test_indices;
use kiln::datasets::fashion_mnist;
use kiln::layers::{Activation, Dense};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::optimizers;
use kiln::{Error, Result, Tensor, U8Tensor};

use super::DataArgs;

/// Options of `kiln train` (Keras's defaults).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// sgd, rmsprop, adam, adamw or adagrad, with Keras's defaults.
    #[arg(long, default_value = "rmsprop")]
    optimizer: String,
    /// Overrides the optimizer's default learning rate.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Fraction of the training set held out for validation (train_test_split, random_state 42).
    #[arg(long, default_value_t = 0.2)]
    validation_split: f64,
    /// Seeds weight initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (0: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    verbose: u8,
    /// Write a machine-readable report (history, validation and test results, timing, weights hash).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

/// The data the lesson trains on: scaled, flattened, split.
struct Splits {
    train: (Tensor, Tensor),
    val: (Tensor, Tensor),
    test: (Tensor, Tensor),
}

fn prepare(args: &TrainArgs) -> Result<Splits> {
    let ((train_input, train_target), (test_input, test_target)) =
        fashion_mnist::load_data_from(&args.data.load_options())?;
    if args.verbose > 0 {
        println!("{} {}", train_input.shape_str(), train_target.shape_str());
        println!("{} {}", test_input.shape_str(), test_target.shape_str());
    }
    let (train_idx, val_idx) = train_test_indices(train_input.rows(), args.validation_split, 42)?;
    // Gather, scale and flatten in one pass: the f32 copy of the whole set is never made.
    let images = |x: &U8Tensor, idx: &[usize]| x.select_rows_div(idx, 255.0).reshape(&[-1, 784]);
    let labels = |y: &U8Tensor, idx: &[usize]| y.select_rows(idx).to_f32();
    let all: Vec<usize> = (0..test_input.rows()).collect();
    Ok(Splits {
        train: (images(&train_input, &train_idx)?, labels(&train_target, &train_idx)),
        val: (images(&train_input, &val_idx)?, labels(&train_target, &val_idx)),
        test: (images(&test_input, &all)?, labels(&test_target, &all)),
    })
}

pub fn run(args: TrainArgs) -> Result<()> {
    kiln::tensor::set_num_threads(args.threads)?;
    let mut optimizer = optimizers::from_name(&args.optimizer)?;
    if let Some(lr) = args.learning_rate {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(Error::value(format!("--learning-rate must be a positive number, received {lr}")));
        }
        optimizer.set_learning_rate(lr);
    }
    let data = prepare(&args)?;

    let mut model = Sequential::new().seed(args.seed);
    model.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784]));
    model.compile(
        Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer_boxed(optimizer),
    )?;

    let start = Instant::now();
    let history = model.fit(
        &data.train.0,
        &data.train.1,
        FitOptions {
            epochs: args.epochs,
            batch_size: args.batch_size,
            verbose: args.verbose,
            validation_data: Some((&data.val.0, &data.val.1)),
            ..Default::default()
        },
    )?;
    let train_seconds = start.elapsed().as_secs_f64();
    let steps = history.epochs.len() * data.train.0.rows().div_ceil(args.batch_size);

    let verbose = args.verbose.min(1);
    let val = model.evaluate_with(&data.val.0, &data.val.1, args.batch_size, verbose)?;
    if args.verbose > 0 {
        println!("{val}");
    }
    let test = model.evaluate_with(&data.test.0, &data.test.1, args.batch_size, verbose)?;
    if args.verbose > 0 {
        println!("test: {test}");
    }
    if let Some(path) = &args.json {
        let report = json!({
            "history": history.to_json(),
            "validation": {"loss": val.loss, "accuracy": val.accuracy},
            "test": {"loss": test.loss, "accuracy": test.accuracy},
            "train_seconds": train_seconds,
            "steps": steps,
            "weights_sha256": model.weights_sha256(),
        });
        kiln::io::write_atomic(path, serde_json::to_string_pretty(&report).expect("JSON").as_bytes())?;
    }
    Ok(())
}
