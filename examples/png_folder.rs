//! Reading a folder of pictures into memory, timed: Fashion-MNIST's training (or test) images
//! written as PNG files in class folders, then read back with `image_dataset_from_directory`
//! (grayscale, 28×28, every core), checked pixel for pixel against the original bytes.
//!
//!   cargo run --release --example png_folder -- DIR [train|test] [--keep]
//!
//! `bench/read_folder.sh` runs it beside Keras's `image_dataset_from_directory` on the same
//! folder. With `--keep` the folder is left as it is when it already holds the pictures.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use kiln::data::{image_dataset_from_directory, ColorMode, ImageDatasets, ImageFolderOptions};
use kiln::datasets::fashion_mnist;

fn main() -> kiln::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().map(String::as_str).unwrap_or("fashion_pngs"));
    let test = args.iter().any(|a| a == "test");
    let d = fashion_mnist::load(&fashion_mnist::LoadOptions::default())?;
    let (images, labels) = if test { (&d.test_images, &d.test_labels) } else { (&d.train_images, &d.train_labels) };
    let n = images.rows();
    let name = |i: usize| format!("{}/{i:05}.png", labels.data()[i]);
    if !(args.iter().any(|a| a == "--keep") && dir.join(name(n - 1)).is_file()) {
        let start = Instant::now();
        for c in 0..10 {
            std::fs::create_dir_all(dir.join(c.to_string())).map_err(|e| kiln::Error::io(dir, e))?;
        }
        (0..n).into_par_iter().try_for_each(|i| {
            let px = images.data()[i * 784..(i + 1) * 784].to_vec();
            let img = image::GrayImage::from_raw(28, 28, px).expect("28x28");
            img.save(dir.join(name(i))).map_err(|e| kiln::Error::value(format!("{}: {e}", name(i))))
        })?;
        println!("wrote {n} PNG files into {} in {:.2} s", dir.display(), start.elapsed().as_secs_f64());
    }
    let opts = ImageFolderOptions {
        image_size: (28, 28),
        color_mode: ColorMode::Grayscale,
        shuffle: false,
        ..Default::default()
    };
    let start = Instant::now();
    let ImageDatasets::One(ds) = image_dataset_from_directory(dir, &opts)? else { unreachable!("no subset") };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "image_dataset_from_directory: {} pictures, {} classes, images {} in {seconds:.3} s ({:.0} pictures/s, {} threads)",
        ds.file_paths.len(),
        ds.class_names.len(),
        ds.images.shape_str(),
        ds.file_paths.len() as f64 / seconds,
        rayon::current_num_threads()
    );
    // Every picture decodes to the bytes it was written from.
    for (k, path) in ds.file_paths.iter().enumerate() {
        let i: usize = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse().ok()).expect("NNNNN.png");
        assert_eq!(
            &ds.images.data()[k * 784..(k + 1) * 784],
            &images.data()[i * 784..(i + 1) * 784],
            "{}",
            path.display()
        );
        assert_eq!(ds.labels[k], labels.data()[i] as usize);
    }
    println!("all {} pictures match the original bytes and labels", ds.file_paths.len());
    Ok(())
}
