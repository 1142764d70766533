//! `kiln data`: where Fashion-MNIST was found, its shapes and per-class counts; with `--data`,
//! the classes of the user's folder and the files of each subset in Keras's order.

use std::path::PathBuf;

use serde_json::json;

use kiln::data::{count_per_class, index_image_folder, FileIndex, ImageFolderOptions, Subset};
use kiln::datasets::fashion_mnist::{self, CLASS_NAMES};
use kiln::{Error, Result};

use super::common::check_output_path;
use super::DataArgs;

/// Options of `kiln data`.
#[derive(clap::Args, Debug)]
pub struct DataCmdArgs {
    /// A folder of class folders: report its classes and subsets as Keras's
    /// image_dataset_from_directory would read them.
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Fraction of the folder's files held out for validation.
    #[arg(long, requires = "data")]
    validation_split: Option<f64>,
    /// Seeds Keras's shuffle of the file list.
    #[arg(long, default_value_t = 42)]
    seed: u32,
    /// Write class names, counts and the file order of each subset to this JSON file.
    #[arg(long, value_name = "FILE", requires = "data")]
    json: Option<PathBuf>,
    #[command(flatten)]
    dir: DataArgs,
}

pub fn run(args: DataCmdArgs) -> Result<()> {
    let Some(path) = &args.data else { return fashion(&args.dir) };
    if let Some(p) = &args.json {
        check_output_path("--json", p)?;
    }
    if !path.is_dir() {
        return Err(Error::value(format!("{}: expected a folder of class folders", path.display())));
    }
    let opts = ImageFolderOptions {
        validation_split: args.validation_split,
        subset: args.validation_split.map(|_| Subset::Both),
        seed: Some(args.seed),
        ..Default::default()
    };
    let subsets = index_image_folder(path, &opts)?;
    let names = &subsets.class_names;
    let counts = |f: &FileIndex| count_per_class(f.labels.as_deref().unwrap_or(&[]), names.len());
    let train = counts(&subsets.first);
    let val = subsets.validation.as_ref().map(counts);
    kiln::outln!(
        "{}: {} pictures in {} classes",
        path.display(),
        train.iter().sum::<usize>() + val.iter().flatten().sum::<usize>(),
        names.len()
    );
    kiln::outln!("\n{:>5}  {:<20} {:>8} {:>10}", "label", "class", "train", "validation");
    for (i, name) in names.iter().enumerate() {
        let v = val.as_ref().map_or("-".to_string(), |v| v[i].to_string());
        kiln::outln!("{i:>5}  {name:<20} {:>8} {v:>10}", train[i]);
    }
    if let Some(out) = &args.json {
        let subset = |f: &FileIndex, counts: &[usize]| {
            let paths: Vec<String> = f.file_paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            json!({"file_paths": paths, "counts": counts})
        };
        let mut doc = json!({
            "class_names": names,
            "validation_split": args.validation_split,
            "seed": args.seed,
            "train": subset(&subsets.first, &train),
        });
        if let (Some(v), Some(c)) = (&subsets.validation, &val) {
            doc["validation"] = subset(v, c);
        }
        kiln::io::write_atomic(out, serde_json::to_string_pretty(&doc).expect("JSON").as_bytes())?;
    }
    Ok(())
}

fn fashion(dir: &DataArgs) -> Result<()> {
    let data = fashion_mnist::load(&dir.load_options())?;
    kiln::outln!("Fashion-MNIST: {}", data.source);
    kiln::outln!("train: images {} labels {}", data.train_images.shape_str(), data.train_labels.shape_str());
    kiln::outln!("test:  images {} labels {}", data.test_images.shape_str(), data.test_labels.shape_str());
    let (train, test) = data.class_counts();
    kiln::outln!("\n{:>5}  {:<12} {:>6} {:>6}", "label", "class", "train", "test");
    for (i, name) in CLASS_NAMES.iter().enumerate() {
        kiln::outln!("{i:>5}  {name:<12} {:>6} {:>6}", train[i], test[i]);
    }
    Ok(())
}
