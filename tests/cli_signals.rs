//! Ctrl-C during `kiln train`, with a real process and a real SIGINT: the first keeps the work
//! (the batch ends, the files are written, exit 130), a second ends kiln at once.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

fn spawn(args: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kiln");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

/// Reads lines until one starts with `prefix`; panics if the output ends first.
fn wait_for(stdout: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no line starting with {prefix:?} in:\n{seen}");
        if line.starts_with(prefix) {
            return line;
        }
        seen += &line;
    }
}

fn interrupt(child: &Child) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_first_ctrl_c_finishes_the_batch_and_writes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (save, json, csv) = (dir.path().join("m.safetensors"), dir.path().join("r.json"), dir.path().join("log.csv"));
    let (child, mut stdout) = spawn(&[
        "train",
        "--epochs",
        "1000",
        "--verbose",
        "2",
        "--save",
        s(&save),
        "--json",
        s(&json),
        "--csv-log",
        s(&csv),
    ]);
    wait_for(&mut stdout, "1500/1500 - "); // the first epoch has ended
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let line = stderr.lines().last().unwrap();
    let epoch = line
        .strip_prefix("interrupted: training stopped in epoch ")
        .and_then(|rest| rest.split_once("/1000 after the current batch; wrote "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(epoch.1, format!("{}, {}, {}", s(&save), s(&json), s(&csv)));
    let epochs: usize = epoch.0.parse().unwrap();
    assert!(epochs >= 2, "stopped during the second epoch or later: {line}");

    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["epochs_trained"], epochs);
    assert_eq!(report["history"]["loss"].as_array().unwrap().len(), epochs);
    let model = kiln::io::load_model(&save).unwrap();
    assert_eq!(model.epochs_trained(), epochs);
    assert_eq!(model.weights_sha256(), report["weights_sha256"].as_str().unwrap());
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count();
    assert_eq!(rows, 1 + epochs, "a header and one row per epoch, the interrupted one included");
}

#[test]
fn a_second_ctrl_c_ends_kiln_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    // A wide layer makes the evaluation after the first Ctrl-C long enough to interrupt.
    let spec = "flatten, dense(1500, activation=relu), dense(10, activation=softmax)";
    let (child, mut stdout) =
        spawn(&["train", "--layers", spec, "--epochs", "1000", "--verbose", "2", "--json", s(&json)]);
    wait_for(&mut stdout, "Epoch 1/1000");
    interrupt(&child);
    wait_for(&mut stdout, "1500/1500 - "); // the interrupted epoch has ended; evaluation runs
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("interrupted:"), "{stderr}");
    assert!(!json.exists(), "nothing is written after the second Ctrl-C");
}
