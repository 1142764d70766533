//! `keras.utils.image_dataset_from_directory`, read into memory: the files of a folder of class
//! folders ([`super::image_index`]) decoded on all cores into one `u8` array
//! `(N, height, width, channels)` with their labels.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::image_decode::{load_picture, ColorMode};
use super::image_index::{
    check_validation_split, index_directory, training_or_validation, FileIndex, Labels, Subset, ALLOWLIST_FORMATS,
};
use crate::error::{Error, Result};
use crate::tensor::{Tensor, U8Tensor};

/// How labels are given to the model (Keras's `label_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LabelMode {
    /// Class indices, shape `(N,)`.
    #[default]
    Int,
    /// One-hot rows, shape `(N, classes)`.
    Categorical,
    /// 0 or 1, shape `(N, 1)`; exactly two classes.
    Binary,
}

impl LabelMode {
    /// Keras's words: "int", "categorical", "binary".
    pub fn parse(s: &str) -> Result<LabelMode> {
        match s {
            "int" => Ok(LabelMode::Int),
            "categorical" => Ok(LabelMode::Categorical),
            "binary" => Ok(LabelMode::Binary),
            _ => Err(Error::value(format!(
                "label_mode must be one of \"int\", \"categorical\", \"binary\", received: {s}"
            ))),
        }
    }
}

/// The arguments of `image_dataset_from_directory`, with Keras's defaults.
#[derive(Clone, Debug)]
pub struct ImageFolderOptions {
    /// Where labels come from: inferred from the subfolders, given, or none.
    pub labels: Labels,
    /// How labels are encoded (Keras's default: `int`).
    pub label_mode: LabelMode,
    /// The classes to read, in this order (default: every subfolder, alphanumeric order).
    pub class_names: Option<Vec<String>>,
    /// The channels each picture is converted to (default: rgb).
    pub color_mode: ColorMode,
    /// `(height, width)`; pictures of another size are resized (bilinear).
    pub image_size: (usize, usize),
    /// Shuffle the files, with Keras's seeded shuffle (default: true).
    pub shuffle: bool,
    /// Seeds the shuffle; required with a validation split.
    pub seed: Option<u32>,
    /// The fraction of files kept for validation, in (0, 1).
    pub validation_split: Option<f64>,
    /// Which side of the split to return; required with `validation_split`.
    pub subset: Option<Subset>,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        ImageFolderOptions {
            labels: Labels::Inferred,
            label_mode: LabelMode::Int,
            class_names: None,
            color_mode: ColorMode::Rgb,
            image_size: (256, 256),
            shuffle: true,
            seed: None,
            validation_split: None,
            subset: None,
        }
    }
}

/// Pictures in memory: `images` `(N, height, width, channels)` bytes, `labels` class indices
/// (empty with [`Labels::None`]), `file_paths` relative to the folder, in the same order.
#[derive(Clone, Debug)]
pub struct ImageDataset {
    /// `(N, height, width, channels)` bytes.
    pub images: U8Tensor,
    /// Class indices, one per picture (empty without labels).
    pub labels: Vec<usize>,
    /// Class names; index `i` is label `i`.
    pub class_names: Vec<String>,
    /// Each picture's path relative to the folder, in the dataset's order.
    pub file_paths: Vec<PathBuf>,
    /// How [`ImageDataset::targets`] encodes the labels.
    pub label_mode: LabelMode,
}

impl ImageDataset {
    /// The labels as Keras gives them for [`LabelMode`]: `(N,)`, `(N, classes)` or `(N, 1)`.
    pub fn targets(&self) -> Tensor {
        let n = self.labels.len();
        match self.label_mode {
            LabelMode::Int => Tensor::from_vec(&[n], self.labels.iter().map(|&l| l as f32).collect()),
            LabelMode::Binary => Tensor::from_vec(&[n, 1], self.labels.iter().map(|&l| l as f32).collect()),
            LabelMode::Categorical => {
                let k = self.class_names.len();
                let mut t = vec![0.0; n * k];
                for (i, &l) in self.labels.iter().enumerate() {
                    t[i * k + l] = 1.0;
                }
                Tensor::from_vec(&[n, k], t)
            }
        }
        .expect("labels sized to the dataset")
    }
}

/// What [`image_dataset_from_directory`] returns: one dataset, or both subsets.
#[derive(Clone, Debug)]
pub enum ImageDatasets {
    /// The whole folder, or the one subset asked for.
    One(ImageDataset),
    /// The training and validation subsets (`subset="both"`).
    Both {
        /// The training subset.
        training: ImageDataset,
        /// The validation subset.
        validation: ImageDataset,
    },
}

/// The file lists of each subset Keras would read, without decoding anything: `validation` is
/// `None` unless the subset is [`Subset::Both`].
#[derive(Clone, Debug)]
pub struct FolderSubsets {
    /// Class names; index `i` is label `i`.
    pub class_names: Vec<String>,
    /// The files of the subset asked for (training with `both`).
    pub first: FileIndex,
    /// The validation files with `subset="both"`.
    pub validation: Option<FileIndex>,
}

/// Indexes `dir` and splits it as Keras does, with its checks and its error messages.
pub fn index_image_folder(dir: &Path, opts: &ImageFolderOptions) -> Result<FolderSubsets> {
    check_validation_split(opts.validation_split, opts.subset)?;
    let seed = match opts.seed {
        Some(s) => s,
        None if opts.validation_split.is_some() && opts.shuffle => {
            return Err(Error::value(
                "If using `validation_split` and shuffling the data, you must provide a `seed` argument, to make \
                 sure that there is no overlap between the training and validation subset.",
            ))
        }
        None => rand::random::<u32>() % 1_000_000,
    };
    let (h, w) = opts.image_size;
    if h == 0 || w == 0 {
        return Err(Error::value(format!("image_size must be two positive integers, received ({h}, {w})")));
    }
    let index = index_directory(dir, &opts.labels, opts.class_names.as_deref(), opts.shuffle, seed)?;
    let classes = index.class_names.clone();
    if let (Labels::Inferred, Some(labels)) = (&opts.labels, &index.labels) {
        let counts = count_per_class(labels, classes.len());
        if let Some(empty) = counts.iter().position(|&c| c == 0) {
            return Err(Error::value(format!(
                "{}: the class folder holds no pictures (allowed formats: {})",
                dir.join(&classes[empty]).display(),
                ALLOWLIST_FORMATS.join(" ")
            )));
        }
    }
    if opts.label_mode == LabelMode::Binary && opts.labels != Labels::None && classes.len() != 2 {
        return Err(Error::value(format!(
            "label_mode \"binary\" needs exactly 2 classes, {} has {}: {classes:?}",
            dir.display(),
            classes.len()
        )));
    }
    let take = |subset: Subset| -> Result<FileIndex> {
        let (file_paths, labels) = match opts.validation_split {
            Some(s) => (
                training_or_validation(&index.file_paths, s, subset),
                index.labels.as_ref().map(|l| training_or_validation(l, s, subset)),
            ),
            None => (index.file_paths.clone(), index.labels.clone()),
        };
        if file_paths.is_empty() {
            let which = match (opts.validation_split, subset) {
                (None, _) => "",
                (_, Subset::Validation) => "validation ",
                _ => "training ",
            };
            return Err(Error::value(format!(
                "no {which}pictures found in {}: allowed formats: {}",
                dir.display(),
                ALLOWLIST_FORMATS.join(" ")
            )));
        }
        Ok(FileIndex { file_paths, labels, class_names: classes.clone() })
    };
    Ok(match opts.subset {
        Some(Subset::Both) => FolderSubsets {
            class_names: classes.clone(),
            first: take(Subset::Training)?,
            validation: Some(take(Subset::Validation)?),
        },
        Some(s) => FolderSubsets { class_names: classes.clone(), first: take(s)?, validation: None },
        None => FolderSubsets { class_names: classes.clone(), first: take(Subset::Training)?, validation: None },
    })
}

/// `keras.utils.image_dataset_from_directory(dir, ...)` into memory. Keras's file order, subsets
/// and class names; images as bytes (Keras's float values rounded after a resize).
pub fn image_dataset_from_directory(dir: impl AsRef<Path>, opts: &ImageFolderOptions) -> Result<ImageDatasets> {
    let dir = dir.as_ref();
    let subsets = index_image_folder(dir, opts)?;
    let first = read_pictures(dir, subsets.first, opts)?;
    Ok(match subsets.validation {
        Some(v) => ImageDatasets::Both { training: first, validation: read_pictures(dir, v, opts)? },
        None => ImageDatasets::One(first),
    })
}

/// Decodes the files of `index` (on all cores) into one dataset.
pub fn read_pictures(dir: &Path, index: FileIndex, opts: &ImageFolderOptions) -> Result<ImageDataset> {
    let (h, w) = opts.image_size;
    let c = opts.color_mode.channels();
    let n = index.file_paths.len();
    let mut data = vec![0u8; n * h * w * c];
    if h * w * c > 0 {
        data.par_chunks_mut(h * w * c)
            .zip(index.file_paths.par_iter())
            .try_for_each(|(out, rel)| load_picture(&dir.join(rel), (h, w), opts.color_mode, out))?;
    }
    Ok(ImageDataset {
        images: U8Tensor::from_vec(&[n, h, w, c], data)?,
        labels: index.labels.unwrap_or_default(),
        class_names: index.class_names,
        file_paths: index.file_paths,
        label_mode: opts.label_mode,
    })
}

/// Counts per class of `labels`.
pub fn count_per_class(labels: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &l in labels {
        counts[l] += 1;
    }
    counts
}
