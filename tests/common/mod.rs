//! What the CLI tests share: running the `kiln` binary and reading its results.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `kiln ARGS`.
pub fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("run kiln")
}

/// The standard output of a command that succeeded.
pub fn ok(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kiln failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command failed cleanly: exit status 1 and one `error: ...` message, no panic.
pub fn error_of(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected a clean failure, got {:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    err.trim().strip_prefix("error: ").unwrap_or_else(|| panic!("no 'error:' line: {err}")).to_string()
}

/// A JSON file written by kiln.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
