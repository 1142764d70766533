//! `kiln train`: the lesson — load Fashion-MNIST, split it as scikit-learn does, train, evaluate —
//! or the same on the user's own data (`--data`) or another built-in dataset (`--dataset`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use kiln::model::{Compile, FitOptions, ModelCheckpoint, Sequential};
use kiln::model::{Samples, ScaledBytes};
use kiln::optimizers::{self, Optimizer, RMSprop, Sgd};
use kiln::{Error, Result, Tensor};

use kiln::data::{ColorMode, InputKind, InputSpec};
use kiln::datasets::fashion_mnist;
use kiln::losses::Loss;

use super::common::{
    byte_divisor, check_model_outputs, check_output_path, flatten_softmax, model_input_shape, parse_loss, targets,
    Lesson, ModelArgs,
};
use super::text_data;
use super::user_data::{self, SourceArgs};
use super::{interrupt, DataArgs};

mod outputs;
use outputs::{not_saved_on_nan, save_and_plot, say_interrupted, write_report, Callbacks, RunFacts};

/// Options of `kiln train` (Keras's defaults).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Continue a model saved whole (--save, --checkpoint): its weights, optimizer state, random
    /// streams and epoch count; trains from that epoch up to --epochs.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["layers", "model", "optimizer", "learning_rate", "momentum", "nesterov", "seed", "loss"])]
    resume: Option<PathBuf>,
    /// Passes over the training split (with --resume: the epoch to train up to).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Samples per gradient step (Keras's default, 32).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// The loss: sparse_categorical_crossentropy (labels are class indices; the default),
    /// categorical_crossentropy (one-hot targets made from them), binary_crossentropy (labels 0
    /// and 1, one sigmoid output; the default for word-id reviews) or mean_squared_error.
    #[arg(long, value_name = "NAME")]
    loss: Option<String>,
    /// sgd, rmsprop, adam, adamw or adagrad, with Keras's defaults.
    #[arg(long, default_value = "rmsprop")]
    optimizer: String,
    /// Overrides the optimizer's default learning rate.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Momentum (sgd, rmsprop).
    #[arg(long)]
    momentum: Option<f32>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    nesterov: bool,
    /// Fraction of the training set held out for validation (train_test_split, random_state 42).
    #[arg(long, default_value_t = 0.2)]
    validation_split: f64,
    /// Seeds weight initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (0: one per core; at most one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    verbose: u8,
    /// Save the best model (lowest val_loss) here after each epoch that improves it.
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// Stop when val_loss has not improved for this many epochs; restores the best weights.
    #[arg(long, value_name = "PATIENCE")]
    early_stopping: Option<usize>,
    /// Stop cleanly when the loss becomes NaN or infinite.
    #[arg(long)]
    terminate_on_nan: bool,
    /// Save the final model (architecture, weights, optimizer state) here.
    #[arg(long, value_name = "PATH")]
    save: Option<PathBuf>,
    /// Log each epoch's metrics to this CSV file (Keras's CSVLogger format).
    #[arg(long, value_name = "PATH")]
    csv_log: Option<PathBuf>,
    /// Write TensorBoard event files (DIR/train, DIR/validation) as Keras's TensorBoard callback does.
    #[arg(long, value_name = "DIR")]
    tensorboard: Option<PathBuf>,
    /// Draw the history graph (loss and accuracy per epoch) to this PNG.
    #[arg(long, value_name = "PNG")]
    plot: Option<PathBuf>,
    /// Write a machine-readable report (history, validation and test results, timing, weights hash).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    source: SourceArgs,
}

/// What training runs on: train and validation splits, an optional test split, the loss,
/// and what the saved model keeps of the data.
struct Splits {
    train: (Box<dyn Samples>, Tensor),
    val: (Box<dyn Samples>, Tensor),
    test: Option<(Box<dyn Samples>, Tensor)>,
    spec: kiln::data::InputSpec,
    loss: Loss,
}

/// Builds the model and loads the data it trains on, shaped for its input.
fn model_and_data(args: &TrainArgs) -> Result<(Sequential, Splits)> {
    if !args.source.is_other() {
        let model = match &args.resume {
            Some(path) => resumed(args, path)?,
            None => args.model.build(args.seed)?,
        };
        let loss = loss_of(args, &model, Loss::SparseCategoricalCrossentropy)?;
        check_model_outputs(&model, loss, 10)?;
        let d = Lesson::load(&args.data, args.validation_split, &model, args.verbose > 0)?;
        let boxed = |(x, y): (ScaledBytes, Tensor)| -> Result<(Box<dyn Samples>, Tensor)> {
            Ok((Box::new(x), targets(loss, y, 10)?))
        };
        let names = fashion_mnist::CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        let spec = InputSpec {
            scale: (1.0 / byte_divisor(&model)) as f32,
            ..InputSpec::image(names, (28, 28), ColorMode::Grayscale)
        };
        let (train, val, test) = (boxed(d.train)?, boxed(d.val)?, Some(boxed(d.test)?));
        return Ok((model, Splits { train, val, test, spec, loss }));
    }
    let d = user_data::load(&args.source, args.validation_split, args.seed)?;
    let classes = d.spec.class_names.len();
    let (model, shape) = match &args.resume {
        Some(path) => {
            let model = resumed(args, path)?;
            let shape = model_input_shape(&model, &d.spec.sample_shape)?;
            (model, shape)
        }
        None if d.spec.kind == InputKind::Sequence => {
            let vocabulary = text_data::vocabulary(&d.spec, &d.train.0);
            args.model.build_for(&d.spec.sample_shape, || text_data::default_model(vocabulary), args.seed)?
        }
        None => args.model.build_for(&d.spec.sample_shape, || flatten_softmax(classes), args.seed)?,
    };
    text_data::check_vocabulary(&model, d.spec.num_words)?;
    let default_loss = match d.spec.kind {
        InputKind::Sequence => Loss::BinaryCrossentropy,
        _ => Loss::SparseCategoricalCrossentropy,
    };
    let loss = loss_of(args, &model, default_loss)?;
    check_model_outputs(&model, loss, classes)?;
    if args.verbose > 0 {
        let n = |xy: &user_data::Xy| xy.0.rows();
        let test = d.test.as_ref().map_or("no test data".to_string(), |t| format!("{} for testing", n(t)));
        kiln::outln!(
            "{classes} classes: {}; {} samples for training, {} for validation, {test}",
            d.spec.class_names.join(", "),
            n(&d.train),
            n(&d.val)
        );
    }
    let divisor = byte_divisor(&model);
    let fit = |(x, y): user_data::Xy| -> Result<(Box<dyn Samples>, Tensor)> {
        Ok((x.into_samples(&shape, divisor)?, targets(loss, y, classes)?))
    };
    // What the saved model keeps: bytes reach it divided by `divisor`.
    let mut spec = d.spec;
    if spec.scale != 1.0 {
        spec.scale = (1.0 / divisor) as f32;
    }
    let test = d.test.map(fit).transpose()?;
    Ok((model, Splits { train: fit(d.train)?, val: fit(d.val)?, test, spec, loss }))
}

/// The loss: a resumed model's own, else `--loss`, else `default`.
fn loss_of(args: &TrainArgs, model: &Sequential, default: Loss) -> Result<Loss> {
    match model.loss() {
        Some(loss) if args.resume.is_some() => Ok(loss),
        _ => parse_loss(args.loss.as_deref(), default),
    }
}

/// The optimizer from its name and the flags that tune it, as a typed config; flags it has no
/// use for are errors.
fn optimizer(args: &TrainArgs) -> Result<Box<dyn Optimizer>> {
    let mut opt = optimizers::from_name(&args.optimizer)?;
    let name = opt.name();
    if let Some(lr) = args.learning_rate {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(Error::value(format!("--learning-rate must be a positive number, received {lr}")));
        }
        opt.set_learning_rate(lr);
    }
    if let Some(m) = args.momentum.filter(|m| !(0.0..1.0).contains(m)) {
        return Err(Error::value(format!("--momentum must be in [0, 1), received {m}")));
    }
    let momentum = args.momentum;
    let learning_rate = opt.learning_rate();
    Ok(match (name, momentum, args.nesterov) {
        (_, None, false) => opt,
        ("sgd", m, nesterov) => Box::new(Sgd { learning_rate, momentum: m.unwrap_or(0.0), nesterov }),
        ("rmsprop", Some(momentum), false) => Box::new(RMSprop { learning_rate, momentum, ..Default::default() }),
        (n, Some(_), _) if n != "rmsprop" => {
            return Err(Error::value(format!("--momentum applies to sgd and rmsprop, not {name}")))
        }
        _ => return Err(Error::value(format!("--nesterov applies to sgd, not {name}"))),
    })
}

/// The files a run writes, checked before anything is loaded or trained: each can be written,
/// none overwrites an input or another output. `--resume`'s file may be written back by
/// `--save` or `--checkpoint` (a model continued in place); not by a report or a picture.
fn check_outputs(args: &TrainArgs) -> Result<()> {
    let mut models: Vec<(&str, &Path)> = Vec::new();
    if let Some(p) = &args.save {
        check_output_path("--save", p)?;
        models.push(("--save", p));
    }
    if let Some(p) = &args.checkpoint {
        ModelCheckpoint::new(p).check_writable()?;
        models.push(("--checkpoint", p));
    }
    let mut others: Vec<(&str, &Path)> = Vec::new();
    for (flag, path) in [("--plot", &args.plot), ("--json", &args.json), ("--csv-log", &args.csv_log)] {
        if let Some(p) = path {
            check_output_path(flag, p)?;
            others.push((flag, p));
        }
    }
    if let Some(dir) = args.tensorboard.as_ref().filter(|d| d.exists() && !d.is_dir()) {
        return Err(Error::value(format!("--tensorboard {}: is not a directory", dir.display())));
    }
    let all: Vec<(&str, &Path)> = models.iter().chain(&others).copied().collect();
    let architecture: Vec<(&str, &Path)> = args.model.model.iter().map(|p| ("--model", p.as_path())).collect();
    kiln::io::check_distinct(&architecture, &all)?;
    let resume: Vec<(&str, &Path)> = args.resume.iter().map(|p| ("--resume", p.as_path())).collect();
    kiln::io::check_distinct(&resume, &others)
}

/// The `--resume` model: saved whole, with epochs left to run.
fn resumed(args: &TrainArgs, path: &Path) -> Result<Sequential> {
    let model = kiln::io::load_model(path)?;
    if model.optimizer().is_none() {
        return Err(Error::value(format!(
            "--resume {}: the file holds weights only, no optimizer state; resume from a model saved whole (--save, --checkpoint)",
            path.display()
        )));
    }
    let done = model.epochs_trained();
    if done >= args.epochs {
        return Err(Error::value(format!(
            "--resume {}: the model has trained {done} epochs; --epochs {} leaves none to run (give --epochs {} or more)",
            path.display(),
            args.epochs,
            done + 1
        )));
    }
    Ok(model)
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let threads = kiln::tensor::set_num_threads(args.threads)?;
    if args.threads > threads {
        kiln::errln!(
            "note: --threads {} is more than the {threads} cores kiln may use here; using {threads}",
            args.threads
        );
    }
    check_outputs(&args)?;
    let (mut model, data) = model_and_data(&args)?;
    if args.resume.is_none() {
        let compile = Compile::new(data.loss.name()).metrics(&["accuracy"]);
        model.compile(compile.optimizer_boxed(optimizer(&args)?))?;
    }
    // Every file written from the model (--save, --checkpoint) keeps what prediction needs.
    model.set_data_spec(Some(data.spec.to_data_spec()));

    let mut cbs = Callbacks::new(&args);
    let stop = interrupt::install()?;
    let start = Instant::now();
    let history = model.fit(
        data.train.0.as_ref(),
        &data.train.1,
        FitOptions {
            epochs: args.epochs,
            initial_epoch: model.epochs_trained(),
            batch_size: args.batch_size,
            verbose: args.verbose,
            validation_data: Some((data.val.0.as_ref(), &data.val.1)),
            callbacks: cbs.list(),
            stop: Some(stop),
            ..Default::default()
        },
    )?;
    let train_seconds = start.elapsed().as_secs_f64();
    let steps = history.epochs.len() * data.train.0.rows().div_ceil(args.batch_size);
    let diverged = history.loss().last().is_some_and(|l| !l.is_finite());
    if diverged && !args.terminate_on_nan {
        let loss = history.loss().last().expect("checked");
        kiln::errln!("warning: training ended with a non-finite loss ({loss}); try a lower --learning-rate");
    }

    let verbose = args.verbose.min(1);
    let val = model.evaluate_with(data.val.0.as_ref(), &data.val.1, args.batch_size, verbose)?;
    kiln::outln!("{val}"); // at any verbosity, as Keras's print(model.evaluate(...))
    let test = match &data.test {
        Some((x, y)) => Some(model.evaluate_with(x.as_ref(), y, args.batch_size, verbose)?),
        None => None,
    };
    if let Some(test) = &test {
        kiln::outln!("test: {test}");
    }
    // With --terminate-on-nan, weights that went non-finite never replace a saved model.
    let stopped_on_nan = diverged && args.terminate_on_nan;
    save_and_plot(&args, &model, &history, stopped_on_nan)?;
    let interrupted = interrupt::exit_status();
    if let Some(path) = &args.json {
        let run = RunFacts { train_seconds, steps, interrupted: interrupted.is_some() };
        write_report(path, &model, &history, (&val, test.as_ref()), run, cbs.early.as_ref())?;
    }
    if stopped_on_nan {
        return Err(not_saved_on_nan(&args, &history));
    }
    match interrupted {
        Some(status) => {
            say_interrupted(&args, &history);
            Ok(ExitCode::from(status))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
