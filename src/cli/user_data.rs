//! The user's own data for `kiln train`: a folder of class folders (split as Keras's
//! `image_dataset_from_directory` splits it), a `.csv` table or a `.npz` with arrays `x` and `y`
//! (split as the lesson splits, `train_test_split(random_state=42)`), or the built-in MNIST and
//! CIFAR-10; each as tensors and the [`InputSpec`] the saved model keeps.

use std::path::{Path, PathBuf};

use kiln::data::{
    image_dataset_from_directory, index_image_folder, read_csv, read_pictures, train_test_indices, Array, ColorMode,
    ImageDatasets, ImageFolderOptions, InputKind, InputSpec, Npz, Subset,
};
use kiln::model::{Samples, ScaledBytes};
use kiln::{Error, Result, Tensor, U8Tensor};

use super::common::shaped;
use super::text_data::{self, TextOptions};

mod built_in;
use built_in::built_in;
pub use built_in::{built_in_split, BuiltIn};

/// Where `kiln train` takes its data from, other than the lesson's Fashion-MNIST.
#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// Your own data: a folder of class folders, a .csv table (with --target) or a .npz with
    /// arrays x and y.
    #[arg(long, value_name = "PATH", conflicts_with = "dataset")]
    pub data: Option<PathBuf>,
    /// The test split, in the same format as --data (default: none).
    #[arg(long, value_name = "PATH", requires = "data")]
    pub test_data: Option<PathBuf>,
    /// A built-in dataset: fashion_mnist, mnist, cifar10 or imdb.
    #[arg(long, value_enum, default_value_t = BuiltIn::FashionMnist)]
    pub dataset: BuiltIn,
    /// Word-id sequences (imdb): keep the N most frequent words, as load_data(num_words=N).
    #[arg(long, value_name = "N")]
    pub num_words: Option<usize>,
    /// Word-id sequences: pad or cut each to N ids at its start, as pad_sequences(maxlen=N)
    /// (default: the longest training sequence).
    #[arg(long, value_name = "N")]
    pub maxlen: Option<usize>,
    /// Pictures are resized to HEIGHT,WIDTH (Keras's default 256,256).
    #[arg(long, value_name = "H,W", value_parser = parse_image_size)]
    pub image_size: Option<(usize, usize)>,
    /// Pictures are converted to grayscale, rgb (default) or rgba.
    #[arg(long, value_name = "MODE", value_parser = ColorMode::parse)]
    pub color_mode: Option<ColorMode>,
    /// The CSV column holding the labels.
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
}

impl SourceArgs {
    /// Whether the data is not the lesson's (which keeps its own, exact path).
    pub fn is_other(&self) -> bool {
        self.data.is_some() || self.dataset != BuiltIn::FashionMnist
    }

    fn folder_options(&self) -> ImageFolderOptions {
        ImageFolderOptions {
            image_size: self.image_size.unwrap_or((256, 256)),
            color_mode: self.color_mode.unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// `H,W` as two positive integers.
pub fn parse_image_size(s: &str) -> std::result::Result<(usize, usize), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    match parts[..] {
        [h, w] => match (h.parse::<usize>(), w.parse::<usize>()) {
            (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok((h, w)),
            _ => Err(format!("expected two positive integers HEIGHT,WIDTH, received {s:?}")),
        },
        _ => Err(format!("expected HEIGHT,WIDTH (e.g. 28,28), received {s:?}")),
    }
}

/// Samples `x` `(N, sample_shape...)` and class indices `y` `(N,)`.
pub type Xy = (Inputs, Tensor);

/// Samples as read: pictures and `uint8` arrays stay one byte a value and are divided by 255
/// as each batch is gathered ([`ScaledBytes`]); other numbers are `f32` as they are.
pub enum Inputs {
    /// Bytes, divided by 255 when the model reads them.
    Bytes(U8Tensor),
    /// Numbers the model reads as they are.
    Floats(Tensor),
}

impl Inputs {
    /// The number of samples.
    pub fn rows(&self) -> usize {
        match self {
            Inputs::Bytes(b) => b.rows(),
            Inputs::Floats(t) => t.rows(),
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Inputs::Bytes(b) => b.shape(),
            Inputs::Floats(t) => t.shape(),
        }
    }

    fn select_rows(&self, idx: &[usize]) -> Inputs {
        match self {
            Inputs::Bytes(b) => Inputs::Bytes(b.select_rows(idx)),
            Inputs::Floats(t) => Inputs::Floats(t.select_rows(idx)),
        }
    }

    /// The samples as the model reads them, each of `shape` (the same number of values), bytes
    /// divided by `divisor`.
    pub fn into_samples(self, shape: &[usize], divisor: f64) -> Result<Box<dyn Samples>> {
        Ok(match self {
            Inputs::Bytes(b) => Box::new(ScaledBytes::new(b, divisor, shape)?),
            Inputs::Floats(t) => Box::new(shaped(t, shape)?),
        })
    }
}

/// Training, validation and (optional) test data, and what the saved model keeps.
pub struct Loaded {
    pub train: Xy,
    pub val: Xy,
    pub test: Option<Xy>,
    pub spec: InputSpec,
}

/// Loads `--data` (or `--dataset`) and `--test-data`.
pub fn load(src: &SourceArgs, validation_split: f64, seed: u64) -> Result<Loaded> {
    if !(validation_split > 0.0 && validation_split < 1.0) {
        return Err(Error::value(format!("--validation-split must be in (0, 1), received {validation_split}")));
    }
    let text = TextOptions::new(src.num_words, src.maxlen)?;
    let reviews = match &src.data {
        Some(path) => matches!(format_of(path)?, Format::Npz) && text_data::is_reviews_npz(path)?,
        None => src.dataset == BuiltIn::Imdb,
    };
    if reviews {
        if let Some(p) = &src.test_data {
            return Err(Error::value(format!(
                "--test-data {}: reviews in Keras's IMDB format bring their own test split (x_test, y_test)",
                p.display()
            )));
        }
        return text_data::load(src.data.as_deref(), text, validation_split);
    }
    if let Some(flag) = [("--num-words", src.num_words), ("--maxlen", src.maxlen)].iter().find(|f| f.1.is_some()) {
        return Err(Error::value(format!(
            "{} applies to word-id reviews (--dataset imdb, or a .npz in the format of Keras's imdb.npz)",
            flag.0
        )));
    }
    let Some(path) = &src.data else { return built_in(src.dataset, validation_split) };
    let (train, val, spec) = match format_of(path)? {
        Format::Folder => {
            let opts = ImageFolderOptions {
                validation_split: Some(validation_split),
                subset: Some(Subset::Both),
                seed: Some(seed as u32),
                ..src.folder_options()
            };
            let ImageDatasets::Both { training, validation } = image_dataset_from_directory(path, &opts)? else {
                unreachable!("subset both")
            };
            let spec = InputSpec::image(training.class_names.clone(), opts.image_size, opts.color_mode);
            (pictures_xy(training.images, &training.labels), pictures_xy(validation.images, &validation.labels), spec)
        }
        Format::Csv | Format::Npz => {
            let (x, y, spec) = read_table_or_arrays(path, src, None)?;
            let (tr, va) = train_test_indices(x.rows(), validation_split, 42)?;
            ((x.select_rows(&tr), y.select_rows(&tr)), (x.select_rows(&va), y.select_rows(&va)), spec)
        }
    };
    let test = match &src.test_data {
        Some(p) => Some(load_test(p, src, &spec)?),
        None => None,
    };
    Ok(Loaded { train, val, test, spec })
}

enum Format {
    Folder,
    Csv,
    Npz,
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match ext.as_deref() {
        _ if path.is_dir() => Ok(Format::Folder),
        Some("csv") => Ok(Format::Csv),
        Some("npz") => Ok(Format::Npz),
        _ if !path.exists() => Err(Error::value(format!("{}: no such file or folder", path.display()))),
        _ => Err(Error::value(format!(
            "{}: expected a folder of class folders, a .csv table or a .npz with arrays x and y",
            path.display()
        ))),
    }
}

/// Pictures (divided by 255 as they are read) and their labels.
fn pictures_xy(images: U8Tensor, labels: &[usize]) -> Xy {
    (Inputs::Bytes(images), labels_tensor(labels))
}

fn labels_tensor(labels: &[usize]) -> Tensor {
    Tensor::from_vec(&[labels.len()], labels.iter().map(|&l| l as f32).collect()).expect("one label each")
}

/// A CSV table or the arrays `x`, `y` of a `.npz`, with labels checked against `classes` when
/// given (test data: the model's classes).
fn read_table_or_arrays(
    path: &Path,
    src: &SourceArgs,
    classes: Option<&[String]>,
) -> Result<(Inputs, Tensor, InputSpec)> {
    if let Format::Csv = format_of(path)? {
        let target = src.target.as_deref().ok_or_else(|| {
            Error::value(format!("{}: name the column holding the labels with --target COLUMN", path.display()))
        })?;
        let t = read_csv(path, target)?;
        let y = match classes {
            Some(model) => relabel(&t.y, &t.class_names, model, path)?,
            None => t.y,
        };
        let x = Inputs::Floats(t.x);
        let spec = spec_of(InputKind::Table, t.class_names, &x, 1.0);
        return Ok((x, y, spec));
    }
    let mut npz = Npz::open(path)?;
    let (x, y) = (npz.array("x")?, npz.array("y")?.to_f32());
    let n = x.rows();
    if y.rows() != n || y.len() != n {
        return Err(Error::format(
            path,
            format!("x has {n} samples but y has shape {}; expected ({n},)", y.shape_str()),
        ));
    }
    if let Some((i, v)) = y.data().iter().enumerate().find(|(_, v)| **v < 0.0 || v.fract() != 0.0) {
        return Err(Error::format(path, format!("y[{i}] = {v} is not a class index 0, 1, 2, …")));
    }
    let k = y.data().iter().fold(0.0f32, |a, &b| a.max(b)) as usize + 1;
    if let Some(model) = classes {
        if let Some((i, v)) = y.data().iter().enumerate().find(|(_, v)| **v as usize >= model.len()) {
            return Err(Error::format(path, format!("y[{i}] = {v} is outside the model's {} classes", model.len())));
        }
    }
    let (x, scale) = match x {
        Array::U8(t) => (Inputs::Bytes(t), 1.0 / 255.0),
        Array::F32(t) => (Inputs::Floats(t), 1.0),
    };
    let names = classes.map(<[String]>::to_vec).unwrap_or_else(|| (0..k).map(|i| i.to_string()).collect());
    let spec = spec_of(InputKind::Array, names, &x, scale);
    Ok((x, y, spec))
}

fn spec_of(kind: InputKind, class_names: Vec<String>, x: &Inputs, scale: f32) -> InputSpec {
    InputSpec { scale, ..InputSpec::plain(kind, class_names, x.shape()[1..].to_vec()) }
}

/// Labels `y` (indices into `names`) as indices into the model's `classes`; a name the model
/// does not know is an error.
fn relabel(y: &Tensor, names: &[String], classes: &[String], path: &Path) -> Result<Tensor> {
    let mut map = Vec::new();
    for name in names {
        match classes.iter().position(|c| c == name) {
            Some(i) => map.push(i as f32),
            None => {
                return Err(Error::value(format!(
                    "{}: class \"{name}\" is not one of the model's classes: {}",
                    path.display(),
                    classes.join(", ")
                )))
            }
        }
    }
    let data = y.data().iter().map(|&l| map[l as usize]).collect();
    Tensor::from_vec(y.shape(), data)
}

/// `PATH` (a folder, `.csv` or `.npz`) as a model trained on `spec` reads it: pictures at its
/// size and colour mode, labels as indices into its classes (`kiln evaluate --data`).
pub fn load_labelled(path: &Path, target: Option<&str>, spec: &InputSpec) -> Result<Xy> {
    let src = SourceArgs {
        data: Some(path.to_path_buf()),
        test_data: None,
        dataset: BuiltIn::FashionMnist,
        image_size: spec.image_size,
        color_mode: spec.color_mode,
        target: target.map(str::to_string),
        num_words: None,
        maxlen: None,
    };
    if spec.kind == InputKind::Sequence && matches!(format_of(path)?, Format::Npz) && text_data::is_reviews_npz(path)? {
        return Ok(text_data::load_test(Some(path), TextOptions::default().or_model(spec))?.0);
    }
    if spec.kind == InputKind::Image && !path.is_dir() {
        return Err(Error::value(format!(
            "{}: the model was trained on pictures; give a folder of class folders",
            path.display()
        )));
    }
    if spec.kind != InputKind::Image && path.is_dir() {
        return Err(Error::value(format!(
            "{}: the model takes no pictures: it was trained on samples of shape {:?}",
            path.display(),
            spec.sample_shape
        )));
    }
    load_test(path, &src, spec)
}

/// `--test-data`: the same format as the training data, labelled with the model's classes.
fn load_test(path: &Path, src: &SourceArgs, spec: &InputSpec) -> Result<Xy> {
    if spec.kind != InputKind::Image {
        let (x, y, test_spec) = read_table_or_arrays(path, src, Some(&spec.class_names))?;
        if test_spec.sample_shape != spec.sample_shape {
            return Err(Error::shape(format!(
                "{}: samples of shape {:?}, but the training data's are {:?}",
                path.display(),
                test_spec.sample_shape,
                spec.sample_shape
            )));
        }
        return Ok((x, y));
    }
    if !path.is_dir() {
        return Err(Error::value(format!(
            "{}: the training data is a folder of pictures; so must the test data be",
            path.display()
        )));
    }
    let opts = ImageFolderOptions { shuffle: false, ..src.folder_options() };
    let index = index_image_folder(path, &opts)?.first;
    let d = read_pictures(path, index, &opts)?;
    let y = relabel(&labels_tensor(&d.labels), &d.class_names, &spec.class_names, path)?;
    Ok((Inputs::Bytes(d.images), y))
}
