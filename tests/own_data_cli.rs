//! `kiln` on the user's own data: a folder of PNG files (Fashion-MNIST's test pictures written
//! out), a CSV table and a NumPy archive, through `train`, `predict` and `data`, and the errors
//! each kind of bad input gives.

use std::path::Path;
use std::process::Command;

mod common;
use common::{error_of, kiln, ok, read_json};

use kiln::data::{encode_npy, encode_npz};
use kiln::datasets::fashion_mnist;
use serde_json::Value;

/// Folder names for Fashion-MNIST's classes ("T-shirt/top" holds a slash).
fn folder_name(class: usize) -> String {
    format!("{class}_{}", fashion_mnist::CLASS_NAMES[class].replace('/', "_"))
}

/// The first `n` test pictures of Fashion-MNIST as PNG files in class folders; returns
/// (relative path, class) of each.
fn write_fashion_pngs(root: &Path, n: usize) -> Vec<(String, usize)> {
    let d = fashion_mnist::load(&fashion_mnist::LoadOptions { download: false, ..Default::default() }).unwrap();
    let mut files = Vec::new();
    for i in 0..n {
        let class = d.test_labels.data()[i] as usize;
        let rel = format!("{}/{i:05}.png", folder_name(class));
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let px = d.test_images.data()[i * 784..(i + 1) * 784].to_vec();
        image::GrayImage::from_raw(28, 28, px).unwrap().save(&path).unwrap();
        files.push((rel, class));
    }
    files
}

#[test]
fn a_folder_of_pngs_trains_and_predicts() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, model, report) =
        (tmp.path().join("pictures"), tmp.path().join("m.safetensors"), tmp.path().join("r.json"));
    let files = write_fashion_pngs(&dir, 2000);
    let d = dir.to_str().unwrap();
    let args =
        ["train", "--data", d, "--image-size", "28,28", "--color-mode", "grayscale", "--epochs", "5", "--verbose", "0"];
    ok(kiln(&[&args[..], &["--save", model.to_str().unwrap(), "--json", report.to_str().unwrap()]].concat()));
    let r = read_json(&report);
    let val = r["validation"]["accuracy"].as_f64().unwrap();
    // 1,600 training pictures, the lesson's one-layer model: about 0.78 after 5 epochs.
    assert!(val > 0.72, "validation accuracy {val}");
    assert!(r["test"].is_null(), "no --test-data, no test result");
    // Evaluated on the whole folder, read at the model's size and colour mode; its classes named.
    let confusion = tmp.path().join("c.png");
    let m = model.to_str().unwrap();
    let text = ok(kiln(&["evaluate", m, "--data", d, "--confusion", confusion.to_str().unwrap()]));
    let acc: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix('['))
        .unwrap()
        .split(", ")
        .nth(1)
        .unwrap()
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert!(acc > 0.72, "{text}");
    assert!(text.contains(&format!("{} ", folder_name(9))), "class names in the matrix: {text}");
    let e = error_of(kiln(&["evaluate", m, "--data", report.to_str().unwrap()]));
    assert_eq!(e, format!("{}: the model was trained on pictures; give a folder of class folders", report.display()));

    // Predict 30 of the pictures: the top class is the folder's class for most of them.
    let picked: Vec<&(String, usize)> = files.iter().step_by(67).take(30).collect();
    let paths: Vec<String> = picked.iter().map(|(rel, _)| dir.join(rel).display().to_string()).collect();
    let out_json = tmp.path().join("p.json");
    let mut args = vec!["predict", model.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    args.extend(["--json", out_json.to_str().unwrap()]);
    let text = ok(kiln(&args));
    assert_eq!(text.lines().count(), 30, "{text}");
    let p = read_json(&out_json);
    let preds = p["predictions"].as_array().unwrap();
    let mut right = 0;
    for (pred, (_, class)) in preds.iter().zip(&picked) {
        let top = pred["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let probs: Vec<f64> = top.iter().map(|t| t["probability"].as_f64().unwrap()).collect();
        assert!(probs[0] >= probs[1] && probs[1] >= probs[2], "{probs:?}");
        right += (top[0]["class"].as_str().unwrap() == folder_name(*class)) as usize;
    }
    assert!(right >= 21, "{right} of 30 named right");

    // Saved as a Keras file: a real .keras (a zip) that keeps the class names, and so does an .h5.
    let keras = tmp.path().join("m.keras");
    let train = ["train", "--data", d, "--image-size", "28,28", "--color-mode", "grayscale", "--verbose", "0"];
    let out = kiln(&[&train[..], &["--epochs", "1", "--save", keras.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&keras).unwrap().starts_with(b"PK"), "a zip, as Keras writes");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let h5 = tmp.path().join("m.h5");
    ok(kiln(&["convert", keras.to_str().unwrap(), h5.to_str().unwrap()]));
    for file in [&keras, &h5] {
        let json = tmp.path().join("k.json");
        let text = ok(kiln(&["predict", file.to_str().unwrap(), &paths[0], "--json", json.to_str().unwrap()]));
        assert!(text.starts_with(&format!("{}: ", paths[0])), "{text}");
        let top = read_json(&json)["predictions"][0]["top"][0]["class"].as_str().unwrap().to_string();
        assert!((0..10).any(|c| folder_name(c) == top), "{}: the folder's class names, got {top}", file.display());
    }
}

#[test]
fn data_reports_keras_subsets_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let doc: Value = serde_json::from_str(include_str!("reference/image_folder_reference.json")).unwrap();
    for f in doc["files"].as_array().unwrap() {
        let rows = f["pixels"].as_array().unwrap();
        let px: Vec<u8> =
            rows.iter().flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8)).collect();
        let path = tmp.path().join("d").join(f["path"].as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_raw(3, 4, px).unwrap().save_with_format(&path, image::ImageFormat::Png).unwrap();
    }
    let case = &doc["cases"][1];
    let out = tmp.path().join("subsets.json");
    let (split, seed) = (case["validation_split"].to_string(), case["seed"].to_string());
    let d = tmp.path().join("d");
    let text = ok(kiln(&[
        "data",
        "--data",
        d.to_str().unwrap(),
        "--validation-split",
        &split,
        "--seed",
        &seed,
        "--json",
        out.to_str().unwrap(),
    ]));
    assert!(text.contains("pictures in 3 classes"), "{text}");
    let got = read_json(&out);
    assert_eq!(got["class_names"], case["class_names"]);
    assert_eq!(got["train"]["file_paths"], case["train"]["file_paths"]);
    assert_eq!(got["validation"]["file_paths"], case["validation"]["file_paths"]);
    let counts: Vec<u64> = ["train", "validation"]
        .iter()
        .map(|s| got[s]["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum())
        .collect();
    assert_eq!(counts, [16, 5]);
}

/// Three well-separated classes of two features, as a CSV with a string target.
fn write_csv(path: &Path, rows: usize) {
    let mut text = String::from("width,species,height\n");
    for i in 0..rows {
        let (name, cx, cy) = [("setosa", 0.0, 0.0), ("versicolor", 4.0, 0.0), ("virginica", 0.0, 4.0)][i % 3];
        let jitter = ((i * 37) % 11) as f64 / 10.0 - 0.5;
        text += &format!("{},{name},{}\n", cx + jitter, cy - jitter);
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_csv_table_trains_and_its_errors_give_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, model, report) = (tmp.path().join("t.csv"), tmp.path().join("m.safetensors"), tmp.path().join("r.json"));
    write_csv(&csv, 300);
    let (c, m, r) = (csv.to_str().unwrap(), model.to_str().unwrap(), report.to_str().unwrap());
    let base = [
        "train",
        "--data",
        c,
        "--target",
        "species",
        "--optimizer",
        "adam",
        "--learning-rate",
        "0.05",
        "--epochs",
        "10",
        "--verbose",
        "0",
    ];
    let trained = ok(kiln(&[&base[..], &["--test-data", c, "--save", m, "--json", r]].concat()));
    let acc = read_json(&report)["test"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.95, "test accuracy {acc}");
    // `kiln evaluate --data` reads the table as the model was trained: the same test result.
    let test_line = trained.lines().find_map(|l| l.strip_prefix("test: ")).expect("a test line").to_string();
    let evaluated = ok(kiln(&["evaluate", m, "--data", c, "--target", "species"]));
    assert_eq!(evaluated.lines().last(), Some(test_line.as_str()), "{evaluated}");

    let e = error_of(kiln(&["train", "--data", c, "--epochs", "1"]));
    assert_eq!(e, format!("{c}: name the column holding the labels with --target COLUMN"));
    std::fs::write(&csv, "width,species,height\n1,setosa,2\n3,virginica\n").unwrap();
    let e = error_of(kiln(&base));
    assert_eq!(e, format!("{c}: line 3: expected 3 fields as in the header, found 2"));
    std::fs::write(&csv, "width,species,height\n1,setosa,2\n3,virginica,tall\n").unwrap();
    let e = error_of(kiln(&base));
    assert_eq!(e, format!("{c}: line 3, column 3 (\"height\"): expected a number, received \"tall\""));
    // Test data with a class the model does not know.
    let other = tmp.path().join("other.csv");
    std::fs::write(&other, "width,species,height\n1,setosa,2\n3,rosa,1\n").unwrap();
    write_csv(&csv, 30);
    let e = error_of(kiln(&[&base[..], &["--test-data", other.to_str().unwrap()]].concat()));
    assert_eq!(
        e,
        format!("{}: class \"rosa\" is not one of the model's classes: setosa, versicolor, virginica", other.display())
    );
    // A picture given to a model trained on a table.
    let png = tmp.path().join("x.png");
    image::GrayImage::new(2, 2).save(&png).unwrap();
    let e = error_of(kiln(&["predict", m, png.to_str().unwrap()]));
    assert_eq!(
        e,
        format!("{m}: this model takes no pictures: it was trained on a CSV table with samples of shape [2]")
    );
}

#[test]
fn a_npz_trains_predicts_raw_outputs_and_names_missing_arrays() {
    let tmp = tempfile::tempdir().unwrap();
    let (npz, model, out) = (tmp.path().join("d.npz"), tmp.path().join("m.safetensors"), tmp.path().join("o.json"));
    // 200 samples of 4×4 bytes: class 1 bright, class 0 dark.
    let n = 200;
    let y: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let x: Vec<u8> = (0..n * 16).map(|j| if y[j / 16] == 1 { 200 + (j % 50) as u8 } else { (j % 50) as u8 }).collect();
    let bytes =
        encode_npz(&[("x", encode_npy("|u1", false, &[n, 4, 4], &x)), ("y", encode_npy("|u1", false, &[n], &y))]);
    std::fs::write(&npz, bytes).unwrap();
    let (d, m, o) = (npz.to_str().unwrap(), model.to_str().unwrap(), out.to_str().unwrap());
    ok(kiln(&[
        "train",
        "--data",
        d,
        "--epochs",
        "5",
        "--verbose",
        "0",
        "--optimizer",
        "adam",
        "--learning-rate",
        "0.05",
        "--save",
        m,
    ]));
    ok(kiln(&["predict", m, "--data", d, "--json", o]));
    let outputs = read_json(&out)["outputs"].as_array().unwrap().clone();
    assert_eq!(outputs.len(), n);
    for (i, row) in outputs.iter().enumerate() {
        let row: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{row:?}");
        assert_eq!((row[1] > row[0]) as u8, y[i], "sample {i}: {row:?}");
    }
    let bad = tmp.path().join("bad.npz");
    std::fs::write(
        &bad,
        encode_npz(&[
            ("images", encode_npy("|u1", false, &[1], &[0])),
            ("labels", encode_npy("|u1", false, &[1], &[0])),
        ]),
    )
    .unwrap();
    let e = error_of(kiln(&["train", "--data", bad.to_str().unwrap(), "--epochs", "1"]));
    assert_eq!(e, format!("{}: has no array named \"x\"; its arrays are: images, labels", bad.display()));
    let e = error_of(kiln(&["predict", m, "--data", bad.to_str().unwrap()]));
    assert_eq!(e, format!("{}: has no array named \"x\"; its arrays are: images, labels", bad.display()));
}

#[test]
fn bad_pictures_and_folders_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pics");
    for class in ["cat", "dog"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..3 {
            image::RgbImage::from_pixel(5, 5, image::Rgb([i * 80, 0, 0]))
                .save(dir.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let d = dir.to_str().unwrap();
    std::fs::write(dir.join("dog/broken.jpg"), b"\xff\xd8\xff\xe0 cut here").unwrap();
    let e = error_of(kiln(&["train", "--data", d, "--image-size", "5,5", "--epochs", "1"]));
    assert!(
        e.starts_with(&format!(
            "{}: cannot decode the picture (corrupt or truncated?): ",
            dir.join("dog/broken.jpg").display()
        )),
        "{e}"
    );
    std::fs::remove_file(dir.join("dog/broken.jpg")).unwrap();
    std::fs::create_dir(dir.join("emu")).unwrap();
    let e = error_of(kiln(&["train", "--data", d, "--image-size", "5,5", "--epochs", "1"]));
    assert_eq!(
        e,
        format!(
            "{}: the class folder holds no pictures (allowed formats: .bmp .gif .jpeg .jpg .png)",
            dir.join("emu").display()
        )
    );
    let e = error_of(kiln(&["train", "--data", tmp.path().join("nothing").to_str().unwrap()]));
    assert_eq!(e, format!("{}: no such file or folder", tmp.path().join("nothing").display()));
    let usage = kiln(&["train", "--data", d, "--image-size", "5"]);
    assert_eq!(usage.status.code(), Some(2), "a usage error");
    let e = String::from_utf8_lossy(&usage.stderr);
    assert!(e.contains("expected HEIGHT,WIDTH (e.g. 28,28), received \"5\""), "{e}");
    // A model trained on arrays takes no pictures (its checkpoint says so).
    std::fs::remove_dir(dir.join("emu")).unwrap();
    let arch = tmp.path().join("arch.safetensors");
    let npz = tmp.path().join("two.npz");
    let x = vec![0u8; 6 * 4 * 4 * 2];
    std::fs::write(
        &npz,
        encode_npz(&[
            ("x", encode_npy("|u1", false, &[6, 4, 4, 2], &x)),
            ("y", encode_npy("|u1", false, &[6], &[0, 1, 0, 1, 0, 1])),
        ]),
    )
    .unwrap();
    let conv = "conv2d(2, 3, padding=same), flatten, dense(2, activation=softmax)";
    ok(kiln(&[
        "train",
        "--data",
        npz.to_str().unwrap(),
        "--layers",
        conv,
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--checkpoint",
        arch.to_str().unwrap(),
    ]));
    let e = error_of(kiln(&["predict", arch.to_str().unwrap(), dir.join("cat/0.png").to_str().unwrap()]));
    assert_eq!(
        e,
        format!(
            "{}: this model takes no pictures: it was trained on arrays with samples of shape [4, 4, 2]",
            arch.display()
        )
    );
    // A Keras file keeps the description too (kiln_data in its metadata.json).
    let keras = tmp.path().join("arch.keras");
    ok(kiln(&["convert", arch.to_str().unwrap(), keras.to_str().unwrap()]));
    let e = error_of(kiln(&["predict", keras.to_str().unwrap(), dir.join("cat/0.png").to_str().unwrap()]));
    assert_eq!(
        e,
        format!(
            "{}: this model takes no pictures: it was trained on arrays with samples of shape [4, 4, 2]",
            keras.display()
        )
    );
}

#[test]
fn show_draws_a_folder_and_built_in_datasets_fail_cleanly_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pics");
    write_fashion_pngs(&dir, 12);
    let out = tmp.path().join("s.png");
    let text = ok(kiln(&[
        "show",
        "--data",
        dir.to_str().unwrap(),
        "--count",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--terminal",
        "never",
    ]));
    assert!(text.contains(&format!("wrote {} (5 {} images from index 0)", out.display(), dir.display())), "{text}");
    assert!(image::open(&out).unwrap().width() > 5 * 28);
    // A folder of colour pictures is drawn in colour: a red and a blue square, 8×8 each.
    let colours = tmp.path().join("colours");
    for (class, rgb) in [("blue", [0u8, 0, 255]), ("red", [255, 0, 0])] {
        std::fs::create_dir_all(colours.join(class)).unwrap();
        image::RgbImage::from_pixel(8, 8, image::Rgb(rgb)).save(colours.join(class).join("a.png")).unwrap();
    }
    let c = colours.to_str().unwrap();
    let o = out.to_str().unwrap();
    let text =
        ok(kiln(&["show", "--data", c, "--image-size", "8,8", "--count", "2", "--out", o, "--terminal", "never"]));
    assert!(text.contains("(2 "), "{text}");
    let sheet = image::open(&out).unwrap().to_rgb8();
    let layout = kiln::viz::SheetLayout::samples(2, 8, 8);
    let drawn: Vec<[u8; 3]> = (0..2).map(|i| layout.origin(i)).map(|(x, y)| sheet.get_pixel(x + 4, y + 4).0).collect();
    let mut drawn_sorted = drawn.clone();
    drawn_sorted.sort();
    assert_eq!(drawn_sorted, [[0, 0, 255], [255, 0, 0]], "{drawn:?}");
    let e = error_of(kiln(&["show", "--data", dir.to_str().unwrap(), "--count", "13", "--out", out.to_str().unwrap()]));
    assert_eq!(e, format!("--count 13 is more than the 12 images of the {} split", dir.display()));

    // No network and no copy: the error lists the mirror tried. A wrong copy: its checksum.
    let run = |envs: &[(&str, &Path)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
        c.args(["train", "--dataset", "mnist", "--epochs", "1"])
            .env("HOME", tmp.path())
            .env("XDG_CACHE_HOME", tmp.path().join("cache"));
        c.env("KILN_MIRRORS", "http://127.0.0.1:9").env_remove("KILN_DATA_DIR");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let e = error_of(run(&[]));
    let cached = tmp.path().join("cache/kiln/datasets/mnist/mnist.npz");
    assert!(
        e.starts_with(&format!(
            "download failed: {}: every mirror failed:\n  http://127.0.0.1:9/mnist.npz: ",
            cached.display()
        )),
        "{e}"
    );
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("mnist.npz"), encode_npz(&[])).unwrap();
    let e = error_of(run(&[("KILN_DATA_DIR", &mine)]));
    let want = format!(
        "{}: checksum mismatch: expected sha256 731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1, got ",
        mine.join("mnist.npz").display()
    );
    assert!(e.starts_with(&want), "{e}");
}

#[test]
fn a_checkpoint_keeps_the_class_names_for_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("colours");
    // 10 reddish and 10 bluish 8×8 pictures.
    for (class, base) in [("blue", [0u8, 0, 200]), ("red", [200u8, 0, 0])] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..10u8 {
            let px = image::Rgb([base[0] + 5 * i, 20 + 3 * i, base[2] + 5 * i]);
            image::RgbImage::from_pixel(8, 8, px).save(dir.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    let best = tmp.path().join("best.safetensors");
    let b = best.to_str().unwrap();
    let args = ["train", "--data", dir.to_str().unwrap(), "--image-size", "8,8", "--epochs", "10", "--verbose", "0"];
    ok(kiln(&[&args[..], &["--optimizer", "adam", "--learning-rate", "0.05", "--checkpoint", b]].concat()));
    let red = tmp.path().join("new_red.png");
    image::RgbImage::from_pixel(8, 8, image::Rgb([230, 30, 10])).save(&red).unwrap();
    let json = tmp.path().join("p.json");
    let text = ok(kiln(&["predict", b, red.to_str().unwrap(), "--json", json.to_str().unwrap()]));
    assert!(text.starts_with(&format!("{}: red ", red.display())), "{text}");
    assert!(text.contains(", blue "), "both classes by name: {text}");
    let top = &read_json(&json)["predictions"][0]["top"];
    assert_eq!((top[0]["class"].as_str(), top[1]["class"].as_str()), (Some("red"), Some("blue")));
    assert!(top[0]["probability"].as_f64().unwrap() > 0.9, "{top}");
}
