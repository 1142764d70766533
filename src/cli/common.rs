//! What several commands share: the model to build (`--layers`, `--model`) and the lesson's
//! data, shaped for that model's input.

use std::path::PathBuf;

use kiln::data::{to_categorical, train_test_indices};
use kiln::datasets::fashion_mnist::{self, FashionMnist};
use kiln::layers::{parse_layers, Activation, Dense, Flatten};
use kiln::losses::Loss;
use kiln::model::{ScaledBytes, Sequential};
use kiln::{Error, Result, Tensor, U8Tensor};

use super::DataArgs;

/// Which model to train: a Keras-like one-line spec or an architecture file.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// The model in one line, e.g. "flatten, dense(100, activation=relu), dropout(0.3),
    /// dense(10, activation=softmax)". Default: the lesson's dense(10, activation=softmax).
    #[arg(long, value_name = "SPEC", conflicts_with = "model")]
    pub layers: Option<String>,
    /// Read the architecture from a file: the JSON a saved model holds, or a saved model.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// The per-sample input shape (Keras's `input_shape`), e.g. 100 for sequences of 100 word
    /// ids or 28,28,1; default: what the first layer takes of a 28x28 image.
    #[arg(long, value_name = "DIMS")]
    pub input_shape: Option<String>,
}

/// `100` or `28,28,1`: positive integers separated by commas.
fn parse_dims(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|d| match d.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::value(format!(
                "--input-shape: expected positive integers separated by commas (100 or 28,28,1), received {s:?}"
            ))),
        })
        .collect()
}

impl ModelArgs {
    /// The model from `--layers` or `--model`, else `default()`.
    fn layers_or(&self, default: impl FnOnce() -> Sequential) -> Result<Sequential> {
        Ok(match (&self.layers, &self.model) {
            (Some(spec), _) => {
                let mut m = Sequential::new();
                for layer in parse_layers(spec).map_err(|e| Error::value(format!("--layers: {e}")))? {
                    m.add_boxed(layer);
                }
                m
            }
            (None, Some(path)) => kiln::io::read_architecture(path)?,
            (None, None) => default(),
        })
    }

    /// Builds the model (weights initialised from `seed`) for Fashion-MNIST's 28×28 images.
    pub fn build(&self, seed: u64) -> Result<Sequential> {
        let mut model = self.layers_or(|| {
            let mut m = Sequential::new();
            m.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784]));
            m
        })?;
        model.set_seed(seed);
        let shape = match &self.input_shape {
            Some(dims) => parse_dims(dims)?,
            None => image_input_shape(&model)?,
        };
        model.build(&shape)?;
        Ok(model)
    }

    /// Builds the model for samples of `sample_shape` (without `--layers` or `--model`:
    /// `default()`); returns it and the per-sample shape it takes.
    pub fn build_for(
        &self,
        sample_shape: &[usize],
        default: impl FnOnce() -> Sequential,
        seed: u64,
    ) -> Result<(Sequential, Vec<usize>)> {
        let mut model = self.layers_or(default)?;
        model.set_seed(seed);
        let shape = model_input_shape(&model, sample_shape)?;
        model.build(&shape)?;
        Ok((model, shape))
    }
}

/// The lesson's model for `classes` classes of samples of any shape: Flatten, then
/// Dense(classes, softmax).
pub fn flatten_softmax(classes: usize) -> Sequential {
    let mut m = Sequential::new();
    m.add(Flatten::new());
    m.add(Dense::new(classes).activation(Activation::Softmax));
    m
}

/// The loss `--loss` names (`default` when not given); the error names the flag.
pub fn parse_loss(flag: Option<&str>, default: Loss) -> Result<Loss> {
    match flag {
        Some(name) => Loss::parse(name).map_err(|e| Error::value(format!("--loss: {e}"))),
        None => Ok(default),
    }
}

/// Checks that the model's output fits `loss` on labels of `classes` classes: one probability
/// per sample for binary_crossentropy (labels 0 and 1), one number for mean_squared_error (the
/// label), else one value per class.
pub fn check_model_outputs(model: &Sequential, loss: Loss, classes: usize) -> Result<()> {
    if loss == Loss::BinaryCrossentropy && classes > 2 {
        return Err(Error::value(format!(
            "binary_crossentropy takes labels 0 and 1, but the data has {classes} classes; \
             use sparse_categorical_crossentropy"
        )));
    }
    let want = match loss {
        Loss::BinaryCrossentropy | Loss::MeanSquaredError => 1,
        _ => classes,
    };
    let shape = model.layer_output_shapes().last().cloned().unwrap_or_default();
    if shape == [want] {
        return Ok(());
    }
    let why = match loss {
        Loss::BinaryCrossentropy => "binary_crossentropy needs one probability per sample, so the last layer needs \
             1 unit (dense(1, activation=sigmoid))"
            .to_string(),
        Loss::MeanSquaredError => {
            "mean_squared_error takes the label as one number, so the last layer needs 1 unit".into()
        }
        _ if shape == [1] && classes == 2 => format!(
            "the data has 2 classes, so the last layer needs 2 units (or, for labels 0 and 1 and one sigmoid \
             output, give --loss binary_crossentropy)"
        ),
        _ => format!("the data has {classes} classes, so the last layer needs {classes} units"),
    };
    Err(Error::shape(format!("the model's output has shape {shape:?} per sample; {why}")))
}

/// The targets `loss` takes for class indices `y` of `classes` classes: one-hot rows for
/// categorical_crossentropy (Keras's `to_categorical`), else the indices as they are.
pub fn targets(loss: Loss, y: Tensor, classes: usize) -> Result<Tensor> {
    match loss {
        Loss::CategoricalCrossentropy => {
            let ids: Vec<i64> = y.data().iter().map(|&v| v as i64).collect();
            to_categorical(&ids, Some(classes))
        }
        _ => Ok(y),
    }
}

/// The per-sample shape `model` takes samples of `sample_shape` in: its declared input shape,
/// else the samples' own shape for layers that read pictures (Conv2D, pooling, Flatten,
/// Reshape), else the samples flattened.
pub fn model_input_shape(model: &Sequential, sample_shape: &[usize]) -> Result<Vec<usize>> {
    let n: usize = sample_shape.iter().product();
    let shape = match (model.input_shape(), model.layers().first().map(|l| l.class_name())) {
        (Some(s), _) => s.to_vec(),
        (None, Some("Conv2D" | "MaxPooling2D" | "AveragePooling2D" | "Flatten" | "Reshape")) => sample_shape.to_vec(),
        (None, _) => vec![n],
    };
    if shape.iter().product::<usize>() != n {
        return Err(Error::shape(format!(
            "the model takes samples of shape {shape:?}, which do not hold the data's samples of shape \
             {sample_shape:?} ({n} values)"
        )));
    }
    Ok(shape)
}

/// `x` `(N, ...)` reshaped to `(N, shape...)`.
pub fn shaped(x: Tensor, shape: &[usize]) -> Result<Tensor> {
    let mut target = vec![-1isize];
    target.extend(shape.iter().map(|&d| d as isize));
    x.reshape(&target)
}

/// Checks that a loaded model classifies into Fashion-MNIST's 10 classes.
pub fn check_ten_classes(model: &Sequential, path: &std::path::Path) -> Result<()> {
    match model.layer_output_shapes().last().map(Vec::as_slice) {
        Some([10]) => Ok(()),
        other => Err(Error::shape(format!(
            "{}: the model's output has shape {:?} per sample; Fashion-MNIST needs 10 class probabilities",
            path.display(),
            other.unwrap_or(&[])
        ))),
    }
}

/// The per-sample shape the model takes the 28×28 images in: its declared input shape, or
/// from its first layer: Conv2D takes (28, 28, 1), Flatten/Reshape (28, 28), Dense (784).
pub fn image_input_shape(model: &Sequential) -> Result<Vec<usize>> {
    let shape = match (model.input_shape(), model.layers().first().map(|l| l.class_name())) {
        (Some(s), _) => s.to_vec(),
        (None, Some("Conv2D" | "MaxPooling2D" | "AveragePooling2D")) => vec![28, 28, 1],
        (None, Some("Flatten" | "Reshape")) => vec![28, 28],
        (None, _) => vec![784],
    };
    if shape.iter().product::<usize>() != 784 {
        return Err(Error::shape(format!(
            "the model takes samples of shape {:?}, which does not hold a 28x28 Fashion-MNIST image (784 values)",
            shape
        )));
    }
    Ok(shape)
}

/// The lesson's data: train/validation split by train_test_split(0.2, random_state 42) of the
/// 60,000 training images, and the 10,000 test images. The images stay bytes; each batch is
/// divided by 255 as it is gathered ([`ScaledBytes`]), which gives the lesson's `x / 255.0`.
pub struct Lesson {
    pub train: (ScaledBytes, Tensor),
    pub val: (ScaledBytes, Tensor),
    pub test: (ScaledBytes, Tensor),
}

/// Which split a command works on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The validation set: 20% of the training images (train_test_split, random_state 42).
    Val,
    /// The 10,000 test images.
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Val => "validation",
            Split::Test => "test",
        }
    }
}

impl Lesson {
    /// Loads and splits the data, samples shaped and scaled as `model` takes them
    /// ([`image_input_shape`], [`byte_divisor`]).
    pub fn load(data: &DataArgs, validation_split: f64, model: &Sequential, verbose: bool) -> Result<Lesson> {
        let (shape, divisor) = (image_input_shape(model)?, byte_divisor(model));
        if !(validation_split > 0.0 && validation_split < 1.0) {
            return Err(Error::value(format!("--validation-split must be in (0, 1), received {validation_split}")));
        }
        let FashionMnist { train_images, train_labels, test_images, test_labels, .. } =
            fashion_mnist::load(&data.load_options())?;
        if verbose {
            kiln::outln!("{} {}", train_images.shape_str(), train_labels.shape_str());
            kiln::outln!("{} {}", test_images.shape_str(), test_labels.shape_str());
        }
        let (train_idx, val_idx) = train_test_indices(train_images.rows(), validation_split, 42)?;
        let images = |x: U8Tensor| ScaledBytes::new(x, divisor, &shape);
        let labels = |y: &U8Tensor, idx: &[usize]| y.select_rows(idx).to_f32();
        let val = (images(train_images.select_rows(&val_idx))?, labels(&train_labels, &val_idx));
        // The training rows are moved into place within the images' own buffer: no second copy.
        let train = (images(train_images.into_rows(&train_idx))?, labels(&train_labels, &train_idx));
        let test_labels = test_labels.to_f32();
        Ok(Lesson { train, val, test: (images(test_images)?, test_labels) })
    }

    /// The images (scaled as each batch is gathered), the labels and the raw images.
    pub fn split(&self, split: Split) -> (&ScaledBytes, &Tensor, &U8Tensor) {
        let (x, y) = match split {
            Split::Val => (&self.val.0, &self.val.1),
            Split::Test => (&self.test.0, &self.test.1),
        };
        (x, y, x.bytes())
    }
}

/// What the CLI divides pixel bytes by before the model sees them: 255, as the lesson's
/// `train_input / 255.0`, unless the model scales its input itself (it starts with a
/// `Rescaling` layer, as Keras's `Rescaling(1/255)`): then the bytes go in as they are.
pub fn byte_divisor(model: &Sequential) -> f64 {
    match model.layers().first().map(|l| l.class_name()) {
        Some("Rescaling") => 1.0,
        _ => 255.0,
    }
}

/// Fails early, before any work, when `path` cannot be written: its directory is missing or
/// is not one, or `path` is a directory or a read-only file.
pub fn check_output_path(flag: &str, path: &std::path::Path) -> Result<()> {
    kiln::io::check_writable(path, flag)
}
