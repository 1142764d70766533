//! Where an output may go: never over a device, a FIFO or a file its user may not write, never
//! over an input. Checked before any work starts ([`check_writable`], [`same_file`]), and again
//! by the atomic writer when the file is written ([`Target::of`]).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Why a regular file is left alone.
pub(crate) const READ_ONLY: &str = "is read-only; kiln does not replace a file it may not write";

/// How a file is written to `path`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A new file or a regular one: write beside it, then rename over this path (a symbolic
    /// link is followed, so the link stays and its target is replaced).
    Replace(PathBuf),
    /// A device, FIFO or socket (`/dev/null`, `/dev/stdout`): written into, never replaced.
    WriteThrough,
}

impl Target {
    /// The way to write `path`, or why it must not be written.
    pub(crate) fn of(path: &Path) -> std::result::Result<Target, String> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(Target::Replace(path.to_path_buf())); // new (or a dangling link)
        };
        if meta.is_dir() {
            return Err("is a directory, expected a file path".into());
        }
        if !meta.is_file() {
            return Ok(Target::WriteThrough);
        }
        let denied = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied);
        if meta.permissions().readonly() || denied {
            return Err(READ_ONLY.into());
        }
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        Ok(Target::Replace(if is_link { std::fs::canonicalize(path).map_err(|e| e.to_string())? } else { path.into() }))
    }
}

/// Checks, before any work, that a file can be written at `path`: its directory exists and
/// accepts new files, and `path` is not a directory nor a read-only file. `label` starts the
/// message ("--json", "checkpoint path").
pub fn check_writable(path: &Path, label: &str) -> Result<()> {
    let fail = |why: String| Err(Error::value(format!("{label} {}: {why}", path.display())));
    let target = match Target::of(path) {
        Ok(Target::WriteThrough) => return Ok(()),
        Ok(Target::Replace(target)) => target,
        Err(why) => return fail(why),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        return fail(format!("directory {} does not exist", dir.display()));
    }
    if !dir.is_dir() {
        return fail(format!("{} is not a directory", dir.display()));
    }
    // Permission bits do not tell the whole story (read-only mounts, ACLs): try it.
    if let Err(e) = tempfile::tempfile_in(dir) {
        return fail(format!("directory {} is not writable: {e}", dir.display()));
    }
    Ok(())
}

/// Whether `a` and `b` name the same existing file, however spelt (`m.st`, `./m.st`, a link):
/// same device and inode on Unix, same canonical path elsewhere.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// Fails when an output would overwrite an input: `outputs` and `inputs` are (flag, path) pairs,
/// and two outputs may not name one file either.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<()> {
    for (i, (flag, out)) in outputs.iter().enumerate() {
        for (in_flag, input) in inputs {
            if same_file(out, input) {
                return Err(Error::value(format!(
                    "{flag} {} is the input {in_flag} {}: kiln does not overwrite its input",
                    out.display(),
                    input.display()
                )));
            }
        }
        // Two outputs into one device (`/dev/null`) are fine; into one file, one is lost.
        let device = std::fs::metadata(out).is_ok_and(|m| !m.is_file());
        for (other_flag, other) in outputs[..i].iter().filter(|_| !device) {
            if same_file(out, other) || (out == other && !out.exists()) {
                return Err(Error::value(format!(
                    "{flag} {} and {other_flag} {} are the same file: give each output its own path",
                    out.display(),
                    other.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn devices_are_written_through_and_read_only_files_refused() {
        assert_eq!(Target::of(Path::new("/dev/null")), Ok(Target::WriteThrough));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        assert_eq!(Target::of(&file), Ok(Target::Replace(file.clone())));
        std::fs::write(&file, "x").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(Target::of(&link), Ok(Target::Replace(std::fs::canonicalize(&file).unwrap())));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = check_writable(&file, "--json").unwrap_err().to_string();
        assert_eq!(err, format!("--json {}: {READ_ONLY}", file.display()));
        check_writable(Path::new("/dev/null"), "--json").unwrap();
        let err = check_writable(dir.path(), "--json").unwrap_err().to_string();
        assert!(err.ends_with(": is a directory, expected a file path"), "{err}");
    }

    #[test]
    fn same_file_looks_past_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("m.safetensors");
        std::fs::write(&a, "x").unwrap();
        let spelt = dir.path().join(".").join("m.safetensors");
        assert!(same_file(&a, &spelt));
        assert!(!same_file(&a, &dir.path().join("other")));
        let err = check_distinct(&[("MODEL", &a)], &[("--confusion", &spelt)]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--confusion {} is the input MODEL {}: kiln does not overwrite its input",
                spelt.display(),
                a.display()
            )
        );
        let new = dir.path().join("new.json");
        let err = check_distinct(&[], &[("--json", &new), ("--plot", &new)]).unwrap_err().to_string();
        assert!(err.ends_with("are the same file: give each output its own path"), "{err}");
    }
}
