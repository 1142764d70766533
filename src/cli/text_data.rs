//! Word-id sequences for `kiln train` and `kiln evaluate`: IMDB (`--dataset imdb`, Keras's own
//! `imdb.npz`) or a `.npz` in that file's format (`--data reviews.npz` holding `x_train`,
//! `y_train`, `x_test`, `y_test`), read as the book does: `imdb.load_data(num_words=...)`, then
//! `pad_sequences(maxlen=...)` with Keras's defaults (padding and truncating at the start).
//! Ids stay ids (the model starts with an Embedding); labels are 0 (negative) and 1 (positive).

use std::path::Path;

use kiln::data::{pad_sequences, train_test_indices, InputKind, InputSpec, Npz, PadOptions};
use kiln::datasets::imdb::{self, ImdbOptions, Reviews};
use kiln::layers::{Activation, Dense, Embedding, LSTM};
use kiln::model::Sequential;
use kiln::{Error, Result, Tensor};

use super::user_data::{Inputs, Loaded, Xy};

/// `--num-words` and `--maxlen`, checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Keep the `num_words` most frequent words (`load_data(num_words=...)`); None: all.
    pub num_words: Option<usize>,
    /// Pad or cut every review to this many ids; None: the longest training review's length.
    pub maxlen: Option<usize>,
}

impl TextOptions {
    /// The flags' values; 0 is an error naming the flag.
    pub fn new(num_words: Option<usize>, maxlen: Option<usize>) -> Result<TextOptions> {
        for (flag, v) in [("--num-words", num_words), ("--maxlen", maxlen)] {
            if v == Some(0) {
                return Err(Error::value(format!("{flag} must be a positive integer, received 0")));
            }
        }
        Ok(TextOptions { num_words, maxlen })
    }

    /// The options of a model trained on `spec` (its `num_words` and length) unless given.
    pub fn or_model(self, spec: &InputSpec) -> TextOptions {
        TextOptions {
            num_words: self.num_words.or(spec.num_words),
            maxlen: self.maxlen.or(spec.sample_shape.first().copied()),
        }
    }
}

/// Whether `path` is a `.npz` in the format of Keras's `imdb.npz` (reviews, not arrays `x`, `y`).
pub fn is_reviews_npz(path: &Path) -> Result<bool> {
    let names = Npz::open(path)?.names();
    Ok(names.iter().any(|n| n == "x_train") && !names.iter().any(|n| n == "x"))
}

/// IMDB (`file` None) or a file in its format, as `load_data(num_words)` gives it, padded to
/// `maxlen`; the validation split is `train_test_split(random_state=42)` of the training reviews,
/// the test split the file's test reviews.
pub fn load(file: Option<&Path>, opts: TextOptions, validation_split: f64) -> Result<Loaded> {
    let ((x, y), (xt, yt)) = reviews(file, opts)?;
    let maxlen = opts.maxlen.unwrap_or_else(|| x.iter().map(Vec::len).max().unwrap_or(1).max(1));
    let padded = |x: &[Vec<i64>]| pad_sequences(x, &PadOptions { maxlen: Some(maxlen), ..Default::default() });
    let labels = |y: &[u8]| Tensor::from_vec(&[y.len()], y.iter().map(|&l| l as f32).collect()).expect("one each");
    let (tr, va) = train_test_indices(x.len(), validation_split, 42)?;
    let (x, y) = (padded(&x), labels(&y));
    let train = (Inputs::Floats(x.select_rows(&tr)), y.select_rows(&tr));
    let val = (Inputs::Floats(x.select_rows(&va)), y.select_rows(&va));
    let test = (Inputs::Floats(padded(&xt)), labels(&yt));
    Ok(Loaded { train, val, test: Some(test), spec: spec(opts.num_words, maxlen) })
}

/// The test reviews of IMDB or of a file in its format, padded as a model trained on `spec`
/// reads them (`kiln evaluate`).
pub fn load_test(file: Option<&Path>, opts: TextOptions) -> Result<(Xy, InputSpec)> {
    let maxlen = opts.maxlen.ok_or_else(|| Error::value("give the reviews' length with --maxlen"))?;
    let (xt, yt) = reviews(file, opts)?.1;
    let x = pad_sequences(&xt, &PadOptions { maxlen: Some(maxlen), ..Default::default() });
    let y = Tensor::from_vec(&[yt.len()], yt.iter().map(|&l| l as f32).collect())?;
    Ok(((Inputs::Floats(x), y), spec(opts.num_words, maxlen)))
}

fn spec(num_words: Option<usize>, maxlen: usize) -> InputSpec {
    let names = imdb::CLASS_NAMES.iter().map(|s| s.to_string()).collect();
    InputSpec { num_words, ..InputSpec::plain(InputKind::Sequence, names, vec![maxlen]) }
}

/// The reviews as `load_data(num_words=...)` returns them.
fn reviews(file: Option<&Path>, opts: TextOptions) -> Result<(Reviews, Reviews)> {
    let keras = ImdbOptions { num_words: opts.num_words.map(|n| n as i64), ..Default::default() };
    match file {
        None => imdb::load_data(&keras),
        Some(path) => imdb::prepare(imdb::read_npz(path)?, &keras).map_err(|e| Error::format(path, e.to_string())),
    }
}

/// The book's model 9-3 for reviews cut to `vocabulary` words: Embedding(vocabulary, 16),
/// LSTM(8), Dense(1, sigmoid) (`kiln train --dataset imdb` without `--layers`).
pub fn default_model(vocabulary: usize) -> Sequential {
    let mut m = Sequential::new();
    m.add(Embedding::new(vocabulary, 16));
    m.add(LSTM::new(8));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m
}

/// The vocabulary the default model needs for `x`: `num_words`, else the largest id + 1.
pub fn vocabulary(spec: &InputSpec, x: &Inputs) -> usize {
    let largest = match x {
        Inputs::Floats(t) => t.data().iter().fold(0.0f32, |a, &b| a.max(b)) as usize,
        Inputs::Bytes(b) => b.data().iter().copied().max().unwrap_or(0) as usize,
    };
    spec.num_words.unwrap_or(largest + 1)
}

/// Fails before any work when `--num-words` keeps ids the model's first Embedding cannot take.
pub fn check_vocabulary(model: &Sequential, num_words: Option<usize>) -> Result<()> {
    let (Some(n), Some(first)) = (num_words, model.layers().first()) else { return Ok(()) };
    let input_dim = match first.class_name() {
        "Embedding" => first.config()["input_dim"].as_u64().unwrap_or(u64::MAX) as usize,
        _ => return Ok(()),
    };
    if n > input_dim {
        return Err(Error::value(format!(
            "--num-words {n} keeps word ids up to {}, but layer '{}' (Embedding) takes ids below input_dim={}: \
             give --num-words {} or an embedding({n}, ...)",
            n - 1,
            first.name(),
            input_dim,
            input_dim
        )));
    }
    Ok(())
}
