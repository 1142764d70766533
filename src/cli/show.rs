//! `kiln show`: the lesson's first picture — the first images of a split in a row with their
//! class names, dark ink on white (`imshow(..., cmap='gray_r')`), as a PNG and, on a terminal,
//! drawn right there with half blocks.

use std::io::Write;
use std::path::PathBuf;

use kiln::datasets::fashion_mnist::{self, CLASS_NAMES};
use kiln::viz::terminal::{self, ColorMode};
use kiln::viz::{check_selection, save_samples};
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
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: ShowArgs) -> Result<()> {
    // Fail before loading 70,000 images when the picture cannot be written anyway.
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        let why = format!("cannot write here: {} is not a directory", dir.display());
        return Err(Error::io(&args.out, std::io::Error::new(std::io::ErrorKind::NotFound, why)));
    }
    let data = fashion_mnist::load(&args.data.load_options())?;
    let (name, images, labels) = match args.split {
        Split::Train => ("train", &data.train_images, &data.train_labels),
        Split::Test => ("test", &data.test_images, &data.test_labels),
    };
    let (start, count) = (args.start, args.count);
    check_selection(name, images.rows(), start, count)?;
    let title = format!("Fashion-MNIST {name} images {start} to {}", start + count - 1);
    save_samples(&args.out, images, labels, start, count, &CLASS_NAMES, &title)?;

    let draw = match args.terminal {
        When::Auto => terminal::stdout_is_terminal(),
        When::Always => true,
        When::Never => false,
    };
    let (rows, cols) = (images.shape()[1], images.shape()[2]);
    let mut text = String::new();
    if draw {
        let size = rows * cols;
        let tiles: Vec<(&[u8], &str)> = (start..start + count)
            .map(|i| (&images.data()[i * size..(i + 1) * size], CLASS_NAMES[labels.data()[i] as usize]))
            .collect();
        text += &terminal::render_images(&tiles, rows, cols, ColorMode::detect(), terminal::terminal_columns());
    }
    let shown: Vec<String> = labels.data()[start..start + count].iter().map(|l| l.to_string()).collect();
    text += &format!("labels: [{}]\n", shown.join(", "));
    text += &format!("wrote {} ({count} {name} images from index {start})\n", args.out.display());
    // A closed pipe (`kiln show | head`) ends the output quietly.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("standard output", e)),
        _ => Ok(()),
    }
}
