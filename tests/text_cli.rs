//! `kiln` on word-id sequences: a review file in the format of Keras's `imdb.npz` (made here,
//! learnable: one word decides the label) trained through `kiln train --data` with the book's
//! flags, evaluated and predicted from its checkpoint; `.npz` arrays of integer sequences; and
//! the errors of bad flags. (`--dataset imdb` reads Keras's own file, checked against Keras's
//! SHA-256, which no fixture can match: its loader is tested in tests/datasets_download.rs.)

use std::path::Path;
use std::process::Command;

mod common;
use common::{error_of, kiln, ok, read_json};

use kiln::data::{encode_npy, encode_npz};
use kiln::datasets::imdb::encode_reviews_npy;

/// A small linear congruential generator: the fixtures are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `n` reviews of 5 to 14 stored ids in 10..400, and their labels: a negative review holds
/// word 5 somewhere, a positive one word 6 (ids as stored; load_data adds 3).
fn reviews(n: usize, rng: &mut Lcg) -> (Vec<Vec<i64>>, Vec<i64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let len = 5 + rng.below(10) as usize;
        let mut r: Vec<i64> = (0..len).map(|_| 10 + rng.below(390) as i64).collect();
        let label = rng.below(2) as i64;
        let at = rng.below(len as u64) as usize;
        r[at] = 5 + label;
        xs.push(r);
        ys.push(label);
    }
    (xs, ys)
}

fn int64_npy(shape: &[usize], v: &[i64]) -> Vec<u8> {
    encode_npy("<i8", false, shape, &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
}

/// An `imdb.npz` as Keras publishes it (object arrays of id lists, int64 labels); returns the
/// test reviews.
fn write_reviews_npz(path: &Path, train: usize, test: usize) -> (Vec<Vec<i64>>, Vec<i64>) {
    let mut rng = Lcg(7);
    let (x, y) = reviews(train, &mut rng);
    let (xt, yt) = reviews(test, &mut rng);
    let npz = encode_npz(&[
        ("x_train", encode_reviews_npy(&x)),
        ("y_train", int64_npy(&[y.len()], &y)),
        ("x_test", encode_reviews_npy(&xt)),
        ("y_test", int64_npy(&[yt.len()], &yt)),
    ]);
    std::fs::write(path, npz).unwrap();
    (xt, yt)
}

/// Reviews as `load_data` then `pad_sequences(maxlen)` give them (start_char 1, ids + 3, zeros
/// in front), as one int64 array `x` (N, maxlen) with labels `y`, in a `.npz`.
fn write_padded_npz(path: &Path, (x, y): &(Vec<Vec<i64>>, Vec<i64>), maxlen: usize) {
    let mut padded = vec![0i64; x.len() * maxlen];
    for (row, r) in padded.chunks_exact_mut(maxlen).zip(x) {
        let ids: Vec<i64> = std::iter::once(1).chain(r.iter().map(|w| w + 3)).collect();
        row[maxlen - ids.len()..].copy_from_slice(&ids);
    }
    let npz = encode_npz(&[("x", int64_npy(&[x.len(), maxlen], &padded)), ("y", int64_npy(&[y.len()], y))]);
    std::fs::write(path, npz).unwrap();
}

/// `[loss, accuracy]` of `kiln evaluate`'s output.
fn evaluation(out: &str) -> (f64, f64) {
    let line = out.lines().find(|l| l.starts_with('[')).unwrap_or_else(|| panic!("no result: {out}"));
    let nums: Vec<f64> = line.trim_matches(|c| c == '[' || c == ']').split(", ").map(|v| v.parse().unwrap()).collect();
    (nums[0], nums[1])
}

const BOOK: [&str; 10] =
    ["--num-words", "500", "--maxlen", "20", "--loss", "binary_crossentropy", "--batch-size", "64", "--verbose", "2"];

#[test]
fn reviews_train_with_the_books_flags_and_predict_from_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("reviews.npz");
    let test_reviews = write_reviews_npz(&data, 1500, 300);
    let (best, report) = (tmp.path().join("best.safetensors"), tmp.path().join("r.json"));
    let (d, b, r) = (data.to_str().unwrap(), best.to_str().unwrap(), report.to_str().unwrap());
    let layers = "embedding(500, 16), lstm(8), dense(1, activation=sigmoid)";
    let args = ["train", "--data", d, "--optimizer", "adam", "--learning-rate", "0.01", "--layers", layers];
    let more = ["--epochs", "6", "--validation-split", "0.2", "--early-stopping", "2", "--checkpoint", b, "--json", r];
    let text = ok(kiln(&[&args[..], &BOOK, &more].concat()));
    assert!(
        text.contains("2 classes: negative, positive; 1200 samples for training, 300 for validation, 300 for testing"),
        "{text}"
    );
    // The progress line shows binary accuracy under Keras's name.
    assert!(text.lines().any(|l| l.contains(" - accuracy: ") && l.contains(" - val_accuracy: ")), "{text}");
    let r = read_json(&report);
    let (val, test) = (r["validation"]["accuracy"].as_f64().unwrap(), r["test"]["accuracy"].as_f64().unwrap());
    // One word in 5 to 14 decides the label: learnt well within 6 epochs.
    assert!(val > 0.9 && test > 0.9, "validation {val}, test {test}");

    // The checkpoint keeps its data description: evaluate reads the file's test reviews as it was
    // trained (500 words, 20 ids)...
    let (loss, acc) = evaluation(&ok(kiln(&["evaluate", b, "--data", d])));
    assert!(acc > 0.9, "{acc}");
    // ... as they are when padded here and given as integer arrays x, y: the same numbers, and
    // those of the checkpoint's raw outputs.
    let seqs = tmp.path().join("seqs.npz");
    write_padded_npz(&seqs, &test_reviews, 20);
    let s = seqs.to_str().unwrap();
    assert_eq!(evaluation(&ok(kiln(&["evaluate", b, "--data", s]))), (loss, acc));
    let json = tmp.path().join("p.json");
    ok(kiln(&["predict", b, "--data", s, "--json", json.to_str().unwrap()]));
    let outputs = read_json(&json)["outputs"].clone();
    let p: Vec<f64> = outputs.as_array().unwrap().iter().map(|row| row[0].as_f64().unwrap()).collect();
    assert_eq!(p.len(), 300);
    let y = &test_reviews.1;
    let hits = p.iter().zip(y).filter(|(p, &y)| (**p > 0.5) == (y == 1)).count();
    assert!((hits as f64 / 300.0 - acc).abs() < 1e-4, "{hits} of 300 vs {acc}");
    let per_review = p.iter().zip(y).map(|(&p, &y)| {
        let p = p.clamp(1e-7, 1.0 - 1e-7);
        -(if y == 1 { p.ln() } else { (1.0 - p).ln() })
    });
    let bce = per_review.sum::<f64>() / 300.0;
    assert!((bce - loss).abs() < 1e-3, "{bce} vs {loss}");
}

#[test]
fn bad_flags_and_mismatched_models_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("reviews.npz");
    write_reviews_npz(&data, 100, 20);
    let d = data.to_str().unwrap();
    let train = |extra: &[&str]| kiln(&[&["train", "--data", d, "--epochs", "1", "--verbose", "0"], extra].concat());
    let lstm = |input_dim: usize| format!("embedding({input_dim}, 16), lstm(8), dense(1, activation=sigmoid)");
    let e = error_of(train(&["--maxlen", "0"]));
    assert_eq!(e, "--maxlen must be a positive integer, received 0");
    let e = error_of(train(&["--num-words", "0"]));
    assert_eq!(e, "--num-words must be a positive integer, received 0");
    // More words kept than the Embedding has rows: said before anything is trained.
    let e = error_of(train(&["--num-words", "1000", "--layers", &lstm(500)]));
    assert_eq!(
        e,
        "--num-words 1000 keeps word ids up to 999, but layer 'embedding' (Embedding) takes ids below \
         input_dim=500: give --num-words 500 or an embedding(1000, ...)"
    );
    // Every word kept (ids up to 402): the first id past the table is named, with input_dim.
    let e = error_of(train(&["--maxlen", "20", "--layers", &lstm(100)]));
    assert!(e.starts_with("layer 'embedding' (Embedding): id "), "{e}");
    assert!(e.ends_with(" is not an integer in [0, 100) (input_dim=100)"), "{e}");
    // Losses: an unknown name, and outputs that do not fit the loss.
    let e = error_of(train(&["--loss", "hinge"]));
    assert_eq!(
        e,
        "--loss: unknown loss 'hinge'; valid losses: sparse_categorical_crossentropy, categorical_crossentropy, \
         binary_crossentropy, mean_squared_error"
    );
    let two = "embedding(500, 8), lstm(4), dense(2, activation=softmax)";
    let e = error_of(train(&["--num-words", "500", "--layers", two]));
    assert_eq!(
        e,
        "the model's output has shape [2] per sample; binary_crossentropy needs one probability per sample, \
         so the last layer needs 1 unit (dense(1, activation=sigmoid))"
    );
    let e =
        error_of(train(&["--num-words", "500", "--loss", "sparse_categorical_crossentropy", "--layers", &lstm(500)]));
    assert_eq!(
        e,
        "the model's output has shape [1] per sample; the data has 2 classes, so the last layer needs 2 units \
         (or, for labels 0 and 1 and one sigmoid output, give --loss binary_crossentropy)"
    );
    // The same model with two softmax outputs trains with sparse or one-hot (categorical) targets.
    for loss in ["sparse_categorical_crossentropy", "categorical_crossentropy"] {
        ok(train(&["--num-words", "500", "--maxlen", "20", "--loss", loss, "--layers", two]));
    }
    // Text flags on other data.
    let e = error_of(kiln(&["train", "--dataset", "mnist", "--maxlen", "20"]));
    assert_eq!(e, "--maxlen applies to word-id reviews (--dataset imdb, or a .npz in the format of Keras's imdb.npz)");
    let e = error_of(train(&["--test-data", d]));
    assert_eq!(
        e,
        format!("--test-data {d}: reviews in Keras's IMDB format bring their own test split (x_test, y_test)")
    );
    // Without --layers: the book's LSTM model, its Embedding as wide as the words kept.
    let m = tmp.path().join("m.safetensors");
    ok(train(&["--num-words", "300", "--maxlen", "20", "--save", m.to_str().unwrap()]));
    let e = error_of(kiln(&["predict", m.to_str().unwrap(), "--dataset", "imdb", "--index", "0"]));
    assert_eq!(
        e,
        "--dataset imdb holds reviews, not pictures: evaluate a text model with `kiln evaluate MODEL --dataset imdb`, \
         or give it sequences with `kiln predict MODEL --data FILE.npz`"
    );
    let summary = ok(kiln(&["summary", m.to_str().unwrap()]));
    for want in ["embedding (Embedding)", "(None, 20, 16)", "4800", "lstm (LSTM)", "Total params: 5,609"] {
        assert!(summary.contains(want), "{want}: {summary}");
    }
}

#[test]
fn imdb_is_keras_file_or_a_clear_error() {
    // No copy anywhere and no network: the error names the mirror tried. A copy that is not
    // Keras's file: its checksum.
    let tmp = tempfile::tempdir().unwrap();
    let run = |dir: Option<&Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
        c.args(["train", "--dataset", "imdb", "--num-words", "500", "--maxlen", "100", "--epochs", "1"])
            .env("HOME", tmp.path())
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .env("KILN_MIRRORS", "http://127.0.0.1:9")
            .env_remove("KILN_DATA_DIR");
        if let Some(d) = dir {
            c.env("KILN_DATA_DIR", d);
        }
        c.output().unwrap()
    };
    let e = error_of(run(None));
    let cached = tmp.path().join("cache/kiln/datasets/imdb/imdb.npz");
    let want = format!("download failed: {}: every mirror failed:\n  http://127.0.0.1:9/imdb.npz: ", cached.display());
    assert!(e.starts_with(&want), "{e}");
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    write_reviews_npz(&mine.join("imdb.npz"), 10, 10);
    let e = error_of(run(Some(&mine)));
    let want = format!(
        "{}: checksum mismatch: expected sha256 69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f, got ",
        mine.join("imdb.npz").display()
    );
    assert!(e.starts_with(&want), "{e}");
}
