//! `kiln show`: the lesson's first picture — the first images of a split in a row with their
//! class names, dark ink on white (`imshow(..., cmap='gray_r')`), as a PNG and, on a terminal,
//! drawn right there with half blocks. With `--data`, pictures of the user's folder of class
//! folders (in Keras's shuffled order, in colour unless `--color-mode grayscale`) with their
//! class names.

use std::path::PathBuf;

use kiln::data::{ColorMode as PictureMode, ImageFolderOptions};
use kiln::datasets::fashion_mnist::{self, CLASS_NAMES};
use kiln::viz::terminal::{self, ColorMode};
use kiln::viz::{check_selection, save_samples};
use kiln::U8Tensor;
use kiln::{Error, Result};

use super::DataArgs;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// When standard output is a terminal.
    Auto,
    Always,
    Never,
}

/// Options of `kiln show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// Which images: the training or the test split.
    #[arg(long, value_enum, default_value_t = Split::Train)]
    split: Split,
    /// How many images (rows of ten).
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Index of the first image.
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// Where to write the PNG.
    #[arg(long, value_name = "FILE", default_value = "samples.png")]
    out: PathBuf,
    /// Draw the images in the terminal too (half blocks, 256 grays or true colour).
    #[arg(long, value_enum, default_value_t = When::Auto)]
    terminal: When,
    /// Show pictures of this folder of class folders instead of Fashion-MNIST.
    #[arg(long = "data", value_name = "PATH")]
    folder: Option<PathBuf>,
    /// Size the folder's pictures are drawn at.
    #[arg(long, value_name = "H,W", value_parser = super::user_data::parse_image_size, default_value = "64,64")]
    image_size: (usize, usize),
    /// The folder's pictures are converted to rgb (default, drawn in colour), rgba, or
    /// grayscale (drawn dark ink on white, as the lesson's pictures).
    #[arg(long, value_name = "MODE", value_parser = PictureMode::parse, default_value = "rgb")]
    color_mode: PictureMode,
    #[command(flatten)]
    data: DataArgs,
}

/// Images `(n, rows, cols)` or `(n, rows, cols, channels)`, their labels, the class names, what they are ("train") and the
/// title's first words.
type Shown = (U8Tensor, U8Tensor, Vec<String>, String, String);

fn lesson_split(args: &ShowArgs) -> Result<Shown> {
    let data = fashion_mnist::load(&args.data.load_options())?;
    let (name, images, labels) = match args.split {
        Split::Train => ("train", data.train_images, data.train_labels),
        Split::Test => ("test", data.test_images, data.test_labels),
    };
    let names = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
    Ok((images, labels, names, name.to_string(), format!("Fashion-MNIST {name}")))
}

/// The first `start + count` pictures of the folder in Keras's order (seed 42), in `--color-mode`.
fn folder(args: &ShowArgs, dir: &std::path::Path) -> Result<Shown> {
    let (h, w) = args.image_size;
    let opts =
        ImageFolderOptions { image_size: (h, w), color_mode: args.color_mode, seed: Some(42), ..Default::default() };
    let mut index = kiln::data::index_image_folder(dir, &opts)?.first;
    let n = index.file_paths.len().min(args.start + args.count);
    index.file_paths.truncate(n);
    if let Some(l) = index.labels.as_mut() {
        l.truncate(n);
    }
    if index.class_names.len() > 256 {
        let k = index.class_names.len();
        return Err(Error::value(format!("{}: {k} classes; pictures can be shown for up to 256", dir.display())));
    }
    let d = kiln::data::read_pictures(dir, index, &opts)?;
    let labels = U8Tensor::from_vec(&[d.labels.len()], d.labels.iter().map(|&l| l as u8).collect())?;
    let images = d.images;
    let what = dir.display().to_string();
    Ok((images, labels, d.class_names, what.clone(), what))
}

pub fn run(args: ShowArgs) -> Result<()> {
    // Fail before loading 70,000 images when the picture cannot be written anyway.
    super::common::check_output_path("--out", &args.out)?;
    let (images, labels, names, what, title) = match &args.folder {
        Some(dir) => folder(&args, dir)?,
        None => lesson_split(&args)?,
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (start, count) = (args.start, args.count);
    check_selection(&what, images.rows(), start, count)?;
    let title = format!("{title} images {start} to {}", start + count - 1);
    save_samples(&args.out, &images, &labels, start, count, &names, &title)?;

    let draw = match args.terminal {
        When::Auto => terminal::stdout_is_terminal(),
        When::Always => true,
        When::Never => false,
    };
    let (rows, cols) = (images.shape()[1], images.shape()[2]);
    let channels = images.shape().get(3).copied().unwrap_or(1);
    let mut text = String::new();
    if draw {
        let size = rows * cols * channels;
        let tiles: Vec<(&[u8], &str)> = (start..start + count)
            .map(|i| (&images.data()[i * size..(i + 1) * size], names[labels.data()[i] as usize]))
            .collect();
        let (mode, width) = (ColorMode::detect(), terminal::terminal_columns());
        text += &terminal::render_images(&tiles, (rows, cols, channels), mode, width);
    }
    let shown: Vec<String> = labels.data()[start..start + count].iter().map(|l| l.to_string()).collect();
    text += &format!("labels: [{}]\n", shown.join(", "));
    text += &format!("wrote {} ({count} {what} images from index {start})\n", args.out.display());
    kiln::out!("{text}");
    Ok(())
}
