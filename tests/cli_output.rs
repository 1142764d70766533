//! What `kiln` prints: a closed or full standard output never stops a run, `--verbose 0` still
//! prints the results, `--quiet` prints nothing, `train --help` lists the grammar.

use std::io::Read;
use std::process::{Command, Output, Stdio};

fn kiln() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
}

fn run(args: &[&str]) -> Output {
    kiln().args(args).output().expect("run kiln")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_closed_stdout_stops_the_printing_not_the_training() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("m.safetensors");
    // `kiln train ... | head -1`: the reader takes one line and goes away.
    let mut child = kiln()
        .args(["train", "--epochs", "2", "--verbose", "2", "--save", save.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(&first, b"(60000, ", "the first line is the shapes");
    assert!(kiln::io::load_model(&save).unwrap().epochs_trained() == 2, "the model is saved whole");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_does_not_stop_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("m.safetensors");
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let train =
        kiln().args(["train", "--epochs", "1", "--save", save.to_str().unwrap()]).stdout(full()).output().unwrap();
    assert_eq!(train.status.code(), Some(0), "{}", text(&train.stderr));
    assert!(save.exists());
    for args in [&["data"][..], &["devices"], &["summary", save.to_str().unwrap()], &["train", "--help"]] {
        let out = kiln().args(args).stdout(full()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
}

#[test]
fn verbose_0_prints_the_results_and_quiet_prints_nothing() {
    let out = run(&["train", "--epochs", "1", "--verbose", "0"]);
    assert!(out.status.success());
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("[0.") && lines[0].ends_with(']'), "{lines:?}");
    assert!(lines[1].starts_with("test: [0."), "{lines:?}");

    let out = run(&["train", "--epochs", "1", "--quiet", "--learning-rate", "1e30", "--optimizer", "sgd"]);
    assert!(out.status.success());
    assert_eq!((text(&out.stdout), text(&out.stderr)), (String::new(), String::new()), "not even the warning");
    // Errors still say what went wrong.
    let out = run(&["train", "--quiet", "--optimizer", "adamax"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: unknown optimizer 'adamax'"), "{}", text(&out.stderr));
}

#[test]
fn train_help_lists_the_layers_and_activations() {
    let help = text(&run(&["train", "--help"]).stdout);
    let grammar = help.split("Layers for --layers").nth(1).expect("the grammar section");
    for layer in ["dense(units, ", "flatten(", "dropout(rate, ", "conv2d(filters, kernel_size, ", "max_pooling2d("] {
        assert!(grammar.contains(&format!("\n  {layer}")), "{layer}: {grammar}");
    }
    assert!(grammar.contains("Activations: linear, relu, sigmoid, tanh, softmax"), "{grammar}");
    let body = grammar.split_once('\n').expect("a header line").1;
    assert_eq!(body.trim_end(), kiln::layers::grammar_help());
}
