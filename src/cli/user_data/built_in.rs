//! Keras's built-in picture datasets for `kiln train`, `evaluate` and `predict`: MNIST and
//! CIFAR-10 split as the lesson splits Fashion-MNIST, the pictures kept as bytes.

use kiln::data::{train_test_indices, ColorMode, InputSpec};
use kiln::{Error, Result, U8Tensor};

use super::{Inputs, Loaded, Xy};

/// A built-in dataset (`--dataset`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltIn {
    /// The lesson's data (the default).
    #[value(name = "fashion_mnist")]
    FashionMnist,
    /// Handwritten digits, 28×28 grayscale.
    Mnist,
    /// Photos in 10 classes, 32×32 RGB.
    Cifar10,
    /// Movie reviews as word ids, positive or negative (with --num-words, --maxlen).
    Imdb,
}

impl BuiltIn {
    /// The name `--dataset` takes.
    pub fn name(self) -> &'static str {
        match self {
            BuiltIn::FashionMnist => "fashion_mnist",
            BuiltIn::Mnist => "mnist",
            BuiltIn::Cifar10 => "cifar10",
            BuiltIn::Imdb => "imdb",
        }
    }
}

/// A built-in dataset's validation split (the lesson's split of its training set) or its test
/// split.
pub fn built_in_split(dataset: BuiltIn, test: bool) -> Result<(Xy, InputSpec)> {
    let d = built_in(dataset, 0.2)?;
    let xy = match (test, d.test) {
        (true, Some(t)) => t,
        _ => d.val,
    };
    Ok((xy, d.spec))
}

/// MNIST or CIFAR-10 split as the lesson splits Fashion-MNIST, pictures kept as bytes.
pub(super) fn built_in(which: BuiltIn, validation_split: f64) -> Result<Loaded> {
    let (((x, y), (xt, yt)), names, size, mode) = match which {
        BuiltIn::Mnist => {
            let d = kiln::datasets::mnist::load(&kiln::datasets::mnist::options())?.0;
            (d, &kiln::datasets::mnist::CLASS_NAMES, (28, 28), ColorMode::Grayscale)
        }
        BuiltIn::Cifar10 => {
            let d = kiln::datasets::cifar10::load(&kiln::datasets::cifar10::options())?.0;
            (d, &kiln::datasets::cifar10::CLASS_NAMES, (32, 32), ColorMode::Rgb)
        }
        BuiltIn::Imdb => {
            return Err(Error::value(
                "--dataset imdb holds reviews, not pictures: evaluate a text model with `kiln evaluate MODEL \
                 --dataset imdb`, or give it sequences with `kiln predict MODEL --data FILE.npz`",
            ))
        }
        BuiltIn::FashionMnist => unreachable!("the lesson's own path"),
    };
    let spec = InputSpec::image(names.iter().map(|s| s.to_string()).collect(), size, mode);
    let (tr, va) = train_test_indices(x.rows(), validation_split, 42)?;
    let labels = |y: &U8Tensor, idx: &[usize]| y.select_rows(idx).to_f32().reshape(&[-1]);
    let val = (Inputs::Bytes(x.select_rows(&va)), labels(&y, &va)?);
    // The training rows are moved into place within the pictures' own buffer: no second copy.
    let train = (Inputs::Bytes(x.into_rows(&tr)), labels(&y, &tr)?);
    let test = (Inputs::Bytes(xt), yt.to_f32().reshape(&[-1])?);
    Ok(Loaded { train, val, test: Some(test), spec })
}
