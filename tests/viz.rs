//! The pictures end to end through the `kiln` binary: `kiln show` on the real Fashion-MNIST
//! (Debian's dataset-fashion-mnist package, as the loader tests use) and `kiln plot`.

use std::path::Path;
use std::process::{Command, Output};

use kiln::datasets::fashion_mnist::{self, LoadOptions};
use kiln::viz::{gray_r, Canvas, SheetLayout};

fn kiln_with(args: &[&str], columns: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env("KILN_MIRRORS", "http://127.0.0.1:9")
        .env("COLUMNS", columns)
        .output()
        .expect("the kiln binary runs")
}

fn kiln(args: &[&str]) -> Output {
    kiln_with(args, "80")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn show_draws_the_first_images_dark_on_white() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("samples.png");
    let out = kiln(&["show", "--out", path(&png), "--terminal", "never"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("labels: [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]"), "{}", text(&out.stdout));

    let c = Canvas::read_png(&png).unwrap();
    let layout = SheetLayout::samples(10, 28, 28);
    assert_eq!((c.width(), c.height()), layout.size());
    let opts = LoadOptions { download: false, ..LoadOptions::default() };
    let data = fashion_mnist::load(&opts).unwrap();
    for i in [0, 3, 9] {
        let img = &data.train_images.data()[i * 784..(i + 1) * 784];
        let (at, &max) = img.iter().enumerate().max_by_key(|&(k, v)| (*v, std::cmp::Reverse(k))).unwrap();
        let (x0, y0) = layout.origin(i);
        let (r, col) = (at as u32 / 28, at as u32 % 28);
        let s = layout.scale;
        // The brightest pixel of the data is the darkest ink in the picture, on all of its block.
        assert!(max > 200);
        for (dx, dy) in [(0, 0), (s - 1, s - 1)] {
            assert_eq!(c.pixel(x0 + col * s + dx, y0 + r * s + dy), gray_r(max), "image {i} pixel ({r}, {col})");
        }
        // Its top-left corner is background (0 in the data): white.
        assert_eq!((img[0], c.pixel(x0, y0)), (0, [255; 3]), "image {i}");
    }
}

#[test]
fn show_draws_half_blocks_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("s.png");
    let args = ["show", "--split", "test", "--count", "3", "--start", "2", "--out", path(&png), "--terminal", "always"];
    let out = kiln_with(&args, "100");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // Three 28-column images and two 2-column gaps fit in 100 columns: 14 rows of cells
    // (28 pixels), then the class names.
    assert_eq!(s.lines().filter(|l| l.contains('▀')).count(), 14, "{s}");
    assert_eq!(s.lines().find(|l| l.contains('▀')).unwrap().matches('▀').count(), 3 * 28);
    assert!(s.contains("Trouser") && s.contains("Shirt"), "{s}");
    assert!(s.contains("labels: [1, 1, 6]"), "{s}");
    // In 60 columns they wrap: two images, then one.
    let s = text(&kiln_with(&args, "60").stdout);
    assert_eq!(s.lines().filter(|l| l.contains('▀')).count(), 28, "{s}");
    let c = Canvas::read_png(&png).unwrap();
    assert_eq!((c.width(), c.height()), SheetLayout::samples(3, 28, 28).size());
}

#[test]
fn show_rejects_bad_selections_and_paths() {
    let err = |args: &[&str]| {
        let out = kiln(args);
        assert!(!out.status.success(), "{args:?} should fail");
        text(&out.stderr)
    };
    let e = err(&["show", "--split", "test", "--count", "20000", "--out", "/tmp/kiln-never.png"]);
    assert!(e.contains("--count 20000 is more than the 10000 images of the test split"), "{e}");
    let e = err(&["show", "--start", "60000", "--out", "/tmp/kiln-never.png"]);
    assert!(e.contains("--start 60000 is out of range: the train split has 60000 images"), "{e}");
    let e = err(&["show", "--out", "/nonexistent-kiln-dir/samples.png"]);
    assert!(e.contains("/nonexistent-kiln-dir/samples.png"), "{e}");
    assert!(!Path::new("/tmp/kiln-never.png").exists());
}

#[test]
fn plot_redraws_history_from_a_report_and_a_csv_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    std::fs::write(&csv, "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.79,0.61,0.83,0.50\n1,0.84,0.47,0.84,0.46\n2,0.85,0.45,0.84,0.46\n").unwrap();
    let out = kiln(&["plot", path(&csv)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_csv = Canvas::read_png(&dir.path().join("log.png")).unwrap();
    assert_eq!((from_csv.width(), from_csv.height()), (1040, 400));

    let json = dir.path().join("r.json");
    let report = r#"{"history": {"loss": [0.61, 0.47, 0.45], "accuracy": [0.79, 0.84, 0.85],
        "val_loss": [0.50, 0.46, 0.46], "val_accuracy": [0.83, 0.84, 0.84]}, "test": {"loss": 0.47}}"#;
    std::fs::write(&json, report).unwrap();
    let png = dir.path().join("h.png");
    assert!(kiln(&["plot", path(&json), "--out", path(&png)]).status.success());
    // The same numbers draw the same picture (keys in another order, same panels and colours).
    assert_eq!(Canvas::read_png(&png).unwrap(), from_csv);

    let out = kiln(&["plot", path(&dir.path().join("missing.json"))]);
    assert!(!out.status.success() && text(&out.stderr).contains("missing.json"), "{}", text(&out.stderr));
}

#[test]
fn plot_returns_on_any_finite_range_and_draws_nan_as_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, content: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let png = dir.path().join(format!("{name}.png"));
        let out = kiln(&["plot", path(&file), "--out", path(&png)]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(Canvas::read_png(&png).is_ok(), "{name}");
        text(&out.stdout).replace(path(&png), "PNG")
    };
    // Huge (the spread overflows), constant, tiny and subnormal series all return.
    assert_eq!(run("huge.json", r#"{"loss": [-1e308, 1e308]}"#), "wrote PNG (2 epochs of loss)\n");
    assert_eq!(
        run("max.json", r#"{"loss": [1.7976931348623157e308, -1.7976931348623157e308]}"#),
        "wrote PNG (2 epochs of loss)\n"
    );
    assert_eq!(run("constant.json", r#"{"loss": [0.25, 0.25, 0.25]}"#), "wrote PNG (3 epochs of loss)\n");
    assert_eq!(run("tiny.json", r#"{"loss": [1.0, 1.0000000000000002, 5e-324]}"#), "wrote PNG (3 epochs of loss)\n");
    // kiln's own reports write NaN as null; a CSV log may hold nan, inf or NA.
    let report = r#"{"history": {"loss": [0.5, null, 0.3], "val_loss": [0.6, 0.5, null]}, "test": {}}"#;
    assert_eq!(
        run("report.json", report),
        "note: loss is not a number at epoch 2: drawn as a gap\n\
         note: val_loss is not a number at epoch 3: drawn as a gap\n\
         wrote PNG (3 epochs of loss, val_loss)\n"
    );
    assert_eq!(
        run("log.csv", "epoch,loss\n0,0.5\n1,nan\n2,inf\n3,NA\n4,0.2\n"),
        "note: loss is not a number at epochs 2, 3, 4: drawn as a gap\nwrote PNG (5 epochs of loss)\n"
    );
}

#[test]
fn inspect_draws_kernels_on_one_scale_with_a_bar_and_the_input_before_its_maps() {
    use kiln::layers::{Activation, Conv2D, Dense, Flatten, Padding};
    use kiln::model::{Compile, Sequential};
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("cnn.safetensors");
    let mut model = Sequential::new().seed(3);
    model.add(Conv2D::new(8, 3).activation(Activation::Relu).padding(Padding::Same).input_shape(&[28, 28, 1]));
    model.add(Flatten::new());
    model.add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Compile::new("sparse_categorical_crossentropy").optimizer("adam")).unwrap();
    model.save(&model_path).unwrap();
    let (filters, maps) = (dir.path().join("filters.png"), dir.path().join("maps.png"));
    let args = ["inspect", path(&model_path), "--filters", path(&filters), "--feature-maps", "0", "--out", path(&maps)];
    let out = kiln(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = format!(
        "kernels of 'conv2d' drawn to {}\nfeature maps of test image 0 (Ankle boot) drawn to {}\n",
        path(&filters),
        path(&maps)
    );
    assert_eq!(text(&out.stdout), expected);

    // The colour bar: one column holds at least 30 red pixels (the top, up to +0.5), then at
    // least 30 blue ones (the bottom, down to -0.5); a 3×3 kernel is only 48 pixels tall.
    let c = Canvas::read_png(&filters).unwrap();
    let has_bar = (0..c.width()).any(|x| {
        let (red, blue): (Vec<u32>, Vec<u32>) = (0..c.height()).fold((vec![], vec![]), |(mut r, mut b), y| {
            let [pr, _, pb] = c.pixel(x, y);
            if pr as i32 > pb as i32 + 60 {
                r.push(y);
            } else if pb as i32 > pr as i32 + 60 {
                b.push(y);
            }
            (r, b)
        });
        red.len() >= 30 && blue.len() >= 30 && red.last() < blue.first()
    });
    assert!(has_bar, "no red-to-blue colour bar in {}", path(&filters));

    // The input image comes first, as the lesson shows it (gray_r, scaled from its darkest to its
    // brightest pixel), each pixel a 2×2 block under the 26-pixel title, 12 pixels in.
    let c = Canvas::read_png(&maps).unwrap();
    let data = fashion_mnist::load(&LoadOptions { download: false, ..LoadOptions::default() }).unwrap();
    let img = &data.test_images.data()[..784];
    let (lo, hi) = (*img.iter().min().unwrap() as f32, *img.iter().max().unwrap() as f32);
    for (i, &v) in img.iter().enumerate() {
        let shade = (255.0 * (1.0 - (v as f32 - lo) / (hi - lo))).round() as u8;
        let (x, y) = (12 + 2 * (i as u32 % 28), 12 + 26 + 2 * (i as u32 / 28));
        let [r, g, b] = c.pixel(x + 1, y + 1);
        assert!(r == g && g == b && r.abs_diff(shade) <= 1, "input pixel {i}: {r} {g} {b}, expected {shade}");
    }
}
