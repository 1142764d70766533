//! `kiln train --resume` continues a saved run exactly; `--terminate-on-nan` never saves a
//! diverged model over a good one.

use std::path::Path;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("run kiln")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn two_epochs_then_two_more_give_the_weights_of_four() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    // Dropout and Adam: the random streams and the optimizer state must both carry over.
    let spec = "flatten, dense(64, activation=relu), dropout(0.3), dense(10, activation=softmax)";
    let common = ["train", "--layers", spec, "--optimizer", "adam", "--validation-split", "0.5", "--verbose", "0"];
    let run = |extra: &[&str]| ok(kiln(&[&common[..], extra].concat()));
    run(&["--epochs", "4", "--json", s(&p("straight.json"))]);
    run(&["--epochs", "2", "--save", s(&p("half.safetensors"))]);
    let resumed = ok(kiln(&[
        "train",
        "--resume",
        s(&p("half.safetensors")),
        "--epochs",
        "4",
        "--validation-split",
        "0.5",
        "--verbose",
        "2",
        "--json",
        s(&p("resumed.json")),
        "--save",
        s(&p("half.safetensors")),
    ]));
    let text = String::from_utf8_lossy(&resumed.stdout);
    assert!(text.contains("Epoch 3/4\n") && text.contains("Epoch 4/4\n") && !text.contains("Epoch 2/4"), "{text}");
    let (straight, resumed) = (report(&p("straight.json")), report(&p("resumed.json")));
    assert_eq!(resumed["weights_sha256"], straight["weights_sha256"]);
    assert_eq!(resumed["test"], straight["test"]);
    assert_eq!(
        resumed["history"]["loss"].as_array().unwrap()[..],
        straight["history"]["loss"].as_array().unwrap()[2..]
    );
    assert_eq!(kiln::io::load_model(p("half.safetensors")).unwrap().epochs_trained(), 4, "saved back in place");

    let again = kiln(&["train", "--resume", s(&p("half.safetensors")), "--epochs", "4"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).trim(),
        format!(
            "error: --resume {}: the model has trained 4 epochs; --epochs 4 leaves none to run (give --epochs 5 or more)",
            s(&p("half.safetensors"))
        )
    );
}

#[test]
fn terminate_on_nan_fails_and_keeps_the_good_model() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("m.safetensors");
    ok(kiln(&["train", "--epochs", "1", "--verbose", "0", "--save", s(&save)]));
    let good = std::fs::read(&save).unwrap();
    let out = kiln(&[
        "train",
        "--optimizer",
        "sgd",
        "--learning-rate",
        "1e38",
        "--terminate-on-nan",
        "--verbose",
        "0",
        "--save",
        s(&save),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(
            "error: training stopped in epoch 1: the loss became NaN or infinite; --save {} was not written (a model saved there before is kept)",
            s(&save)
        )
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Batch "), "TerminateOnNaN says where");
    assert_eq!(std::fs::read(&save).unwrap(), good);
}

#[test]
fn a_plot_of_a_diverged_run_says_what_it_could_not_draw() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("history.png");
    let out = kiln(&[
        "train",
        "--optimizer",
        "sgd",
        "--learning-rate",
        "1e38",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--plot",
        s(&plot),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("note: loss has no finite value: nothing to draw\n"), "{stdout}");
    assert!(std::fs::metadata(&plot).unwrap().len() > 0, "the picture is still written");
}
