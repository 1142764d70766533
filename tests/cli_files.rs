//! Files `kiln` writes never destroy what is not its own: devices are written into, read-only
//! files and inputs refused, every output checked before training, one writer per CSV log.

use std::path::Path;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("run kiln")
}

/// The command failed cleanly: exit status 1 and one `error: ...` line, no panic.
fn error_of(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected a clean failure, got {:?}: {err}", out.status);
    err.trim().strip_prefix("error: ").unwrap_or_else(|| panic!("no 'error:' line: {err}")).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[cfg(unix)]
#[test]
fn a_device_is_written_into_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let out = kiln(&["train", "--epochs", "1", "--verbose", "0", "--json", "/dev/null", "--plot", "/dev/null"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

#[cfg(unix)]
#[test]
fn read_only_and_input_files_are_refused_before_any_work() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let out = kiln(&["train", "--epochs", "1", "--verbose", "0", "--save", s(&model)]);
    assert!(out.status.success());
    let before = std::fs::read(&model).unwrap();

    // The input, however spelt, is not an output.
    let spelt = dir.path().join(".").join("m.safetensors");
    let err = error_of(&kiln(&["evaluate", s(&model), "--confusion", s(&spelt)]));
    assert_eq!(
        err,
        format!("--confusion {} is the input MODEL {}: kiln does not overwrite its input", s(&spelt), s(&model))
    );
    let err = error_of(&kiln(&["predict", s(&model), "--out", s(&spelt)]));
    assert!(err.starts_with("--out ") && err.ends_with("kiln does not overwrite its input"), "{err}");
    let err = error_of(&kiln(&["train", "--model", s(&model), "--json", s(&spelt)]));
    assert!(err.ends_with(&format!("is the input --model {}: kiln does not overwrite its input", s(&model))), "{err}");
    let err = error_of(&kiln(&["train", "--resume", s(&model), "--epochs", "2", "--plot", s(&spelt)]));
    assert!(err.ends_with("kiln does not overwrite its input"), "{err}");
    let err =
        error_of(&kiln(&["train", "--json", s(&dir.path().join("r.json")), "--plot", s(&dir.path().join("r.json"))]));
    assert!(err.ends_with("are the same file: give each output its own path"), "{err}");
    assert_eq!(std::fs::read(&model).unwrap(), before);

    let log = dir.path().join("log.csv");
    std::fs::write(&log, "epoch,loss\n0,0.5\n1,0.4\n").unwrap();
    let err = error_of(&kiln(&["plot", s(&log), "--out", s(&dir.path().join(".").join("log.csv"))]));
    assert!(err.ends_with("kiln does not overwrite its input"), "{err}");

    // A read-only report is refused before the data is even loaded.
    let report = dir.path().join("report.json");
    std::fs::write(&report, "{}").unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = error_of(&kiln(&["train", "--json", s(&report), "--data-dir", "/nonexistent"]));
    assert_eq!(err, format!("--json {}: is read-only; kiln does not replace a file it may not write", s(&report)));
    let err = error_of(&kiln(&["train", "--csv-log", s(&report)]));
    assert_eq!(err, format!("--csv-log {}: is read-only; kiln does not replace a file it may not write", s(&report)));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "{}");
}

#[test]
fn checkpoint_templates_are_checked_before_training() {
    let dir = tempfile::tempdir().unwrap();
    for (field, why) in [
        ("{epoch:99999999999d}", "width 99999999999 is out of range (0 to 32)"),
        ("{val_loss:.99999999f}", "precision 99999999 is out of range (0 to 17)"),
    ] {
        let template = dir.path().join(format!("m-{field}.safetensors"));
        let err = error_of(&kiln(&["train", "--checkpoint", s(&template), "--data-dir", "/nonexistent"]));
        assert_eq!(err, format!("checkpoint path '{}': field '{field}': {why}", s(&template)));
    }
    let template = dir.path().join("m-{epoch:02d}-{val_loss:.3f}.safetensors");
    let out = kiln(&["train", "--epochs", "1", "--verbose", "0", "--checkpoint", s(&template)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.len() == 1 && names[0].starts_with("m-01-0.") && names[0].ends_with(".safetensors"), "{names:?}");
}

#[test]
fn a_second_writer_of_a_csv_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&log).unwrap();
    std::fs::write(&log, "epoch,loss\r\n0,0.5\r\n").unwrap();
    held.lock().unwrap();
    let err = error_of(&kiln(&["train", "--epochs", "1", "--csv-log", s(&log)]));
    assert_eq!(
        err,
        format!("CSV log {}: another process is writing it (it is locked); give this run its own --csv-log", s(&log))
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "epoch,loss\r\n0,0.5\r\n", "not truncated");
}
