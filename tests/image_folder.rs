//! `image_dataset_from_directory` against what Keras itself did with the same folder
//! (tests/reference/image_folder_reference.json, made by make_image_folder_reference.py):
//! class names, file order after the seeded shuffle, both subsets, labels and pixels.

use std::path::{Path, PathBuf};

use kiln::data::{
    image_dataset_from_directory, ColorMode, ImageDatasets, ImageFolderOptions, LabelMode, Labels, Subset,
};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/image_folder_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect(path)).unwrap()
}

/// Writes the reference's pictures (grayscale PNGs) and a non-picture file per class.
fn write_folder(doc: &Value, root: &Path) {
    for f in doc["files"].as_array().unwrap() {
        let rows = f["pixels"].as_array().unwrap();
        let (h, w) = (rows.len() as u32, rows[0].as_array().unwrap().len() as u32);
        let px: Vec<u8> =
            rows.iter().flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8)).collect();
        let path = root.join(f["path"].as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_raw(w, h, px).unwrap().save_with_format(&path, image::ImageFormat::Png).unwrap();
        std::fs::write(path.parent().unwrap().join("notes.txt"), "not an image").unwrap();
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn paths(p: &[PathBuf]) -> Vec<String> {
    p.iter().map(|p| p.display().to_string()).collect()
}

fn options(doc: &Value) -> ImageFolderOptions {
    let size = doc["image_size"].as_array().unwrap();
    ImageFolderOptions {
        image_size: (size[0].as_u64().unwrap() as usize, size[1].as_u64().unwrap() as usize),
        color_mode: ColorMode::Grayscale,
        ..Default::default()
    }
}

#[test]
fn same_files_order_and_subsets_as_keras() {
    let doc = reference();
    let dir = tempfile::tempdir().unwrap();
    write_folder(&doc, dir.path());
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let split = case["validation_split"].as_f64().unwrap();
        let seed = case["seed"].as_u64().unwrap() as u32;
        let opts = ImageFolderOptions {
            validation_split: Some(split),
            subset: Some(Subset::Both),
            seed: Some(seed),
            ..options(&doc)
        };
        let ImageDatasets::Both { training, validation } = image_dataset_from_directory(dir.path(), &opts).unwrap()
        else {
            panic!("subset both gives two datasets")
        };
        assert_eq!(training.class_names, strings(&case["class_names"]));
        assert_eq!(paths(&training.file_paths), strings(&case["train"]["file_paths"]), "split {split} seed {seed}");
        assert_eq!(
            paths(&validation.file_paths),
            strings(&case["validation"]["file_paths"]),
            "split {split} seed {seed}"
        );
        // One subset at a time gives the same files as both at once.
        for (subset, want) in [(Subset::Training, &training), (Subset::Validation, &validation)] {
            let ImageDatasets::One(d) =
                image_dataset_from_directory(dir.path(), &ImageFolderOptions { subset: Some(subset), ..opts.clone() })
                    .unwrap()
            else {
                panic!("one subset gives one dataset")
            };
            assert_eq!(d.file_paths, want.file_paths);
            assert_eq!(d.images, want.images);
        }
        // Labels follow the class folder of each file.
        for (p, &l) in training.file_paths.iter().zip(&training.labels) {
            assert!(p.starts_with(&training.class_names[l]), "{} labelled {l}", p.display());
        }
    }
}

#[test]
fn unshuffled_labels_and_pixels_as_keras() {
    let doc = reference();
    let dir = tempfile::tempdir().unwrap();
    write_folder(&doc, dir.path());
    let opts = ImageFolderOptions { shuffle: false, ..options(&doc) };
    let ImageDatasets::One(d) = image_dataset_from_directory(dir.path(), &opts).unwrap() else { panic!() };
    let want = &doc["unshuffled"];
    assert_eq!(paths(&d.file_paths), strings(&want["file_paths"]));
    let labels: Vec<usize> = want["labels"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(d.labels, labels);
    let pixels: Vec<u8> = want["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|img| {
            img.as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as u8))
        })
        .collect();
    assert_eq!(d.images.shape(), &[21, 4, 3, 1]);
    assert_eq!(d.images.data(), &pixels[..]);
}

#[test]
fn colour_modes_resize_and_label_modes() {
    let dir = tempfile::tempdir().unwrap();
    for (cls, rgb) in [("blue", [0u8, 0, 255]), ("red", [255, 0, 0])] {
        std::fs::create_dir(dir.path().join(cls)).unwrap();
        let img = image::RgbImage::from_fn(4, 2, |_, _| image::Rgb(rgb));
        img.save(dir.path().join(cls).join("a.png")).unwrap();
        img.save(dir.path().join(cls).join("b.JPG")).unwrap();
    }
    let opts = ImageFolderOptions {
        image_size: (1, 2),
        shuffle: false,
        label_mode: LabelMode::Categorical,
        ..Default::default()
    };
    let ImageDatasets::One(d) = image_dataset_from_directory(dir.path(), &opts).unwrap() else { panic!() };
    assert_eq!(d.images.shape(), &[4, 1, 2, 3]);
    assert_eq!(&d.images.data()[..6], &[0, 0, 255, 0, 0, 255], "a PNG keeps its exact colour");
    assert_eq!(d.targets().data(), &[1., 0., 1., 0., 0., 1., 0., 1.]);
    let rgba = ImageFolderOptions { color_mode: ColorMode::Rgba, label_mode: LabelMode::Binary, ..opts.clone() };
    let ImageDatasets::One(d) = image_dataset_from_directory(dir.path(), &rgba).unwrap() else { panic!() };
    assert_eq!(&d.images.data()[..4], &[0, 0, 255, 255]);
    assert_eq!(d.targets().shape(), &[4, 1]);
    let gray = ImageFolderOptions { color_mode: ColorMode::Grayscale, labels: Labels::None, ..opts };
    let ImageDatasets::One(d) = image_dataset_from_directory(dir.path(), &gray).unwrap() else { panic!() };
    assert_eq!(d.images.shape(), &[4, 1, 2, 1]);
    assert!(d.labels.is_empty());
}

#[test]
fn bad_folders_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ImageFolderOptions { image_size: (2, 2), ..Default::default() };
    let e = image_dataset_from_directory(dir.path(), &opts).unwrap_err().to_string();
    assert_eq!(e, format!("no pictures found in {}: allowed formats: .bmp .gif .jpeg .jpg .png", dir.path().display()));
    std::fs::create_dir(dir.path().join("cat")).unwrap();
    std::fs::create_dir(dir.path().join("dog")).unwrap();
    std::fs::write(dir.path().join("cat/readme.txt"), "x").unwrap();
    image::GrayImage::new(2, 2).save(dir.path().join("dog/1.png")).unwrap();
    let e = image_dataset_from_directory(dir.path(), &opts).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: the class folder holds no pictures (allowed formats: .bmp .gif .jpeg .jpg .png)",
            dir.path().join("cat").display()
        )
    );
    // A truncated PNG and a text file named .jpg: the error names the file.
    let png = std::fs::read(dir.path().join("dog/1.png")).unwrap();
    std::fs::write(dir.path().join("cat/cut.png"), &png[..png.len() / 2]).unwrap();
    let e = image_dataset_from_directory(dir.path(), &opts).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot decode the picture (corrupt or truncated?): ",
            dir.path().join("cat/cut.png").display()
        )),
        "{e}"
    );
    std::fs::remove_file(dir.path().join("cat/cut.png")).unwrap();
    std::fs::write(dir.path().join("cat/fake.jpg"), "not a picture").unwrap();
    let e = image_dataset_from_directory(dir.path(), &opts).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: cannot decode the picture", dir.path().join("cat/fake.jpg").display())), "{e}");
    let split = ImageFolderOptions { validation_split: Some(0.5), subset: Some(Subset::Both), ..opts.clone() };
    let e = image_dataset_from_directory(dir.path(), &split).unwrap_err().to_string();
    assert!(e.starts_with("If using `validation_split` and shuffling the data, you must provide a `seed`"), "{e}");
    let e = image_dataset_from_directory(dir.path().join("nope"), &opts).unwrap_err().to_string();
    assert_eq!(e, format!("{}: no such directory", dir.path().join("nope").display()));
}
