//! Atomic file writes: write a temporary file beside the target, flush it to disk, rename.
//! The temporary file, `.kiln-<target>.<random>.tmp`, is locked while written; leftovers of
//! the same target from an interrupted write are removed first ([`super::stale`]).
//! Devices and FIFOs (`/dev/null`) are written into instead, and read-only files refused:
//! an output never replaces what is not kiln's to replace.

use std::io::Write;
use std::path::Path;

use super::output::Target;
use super::stale;
use crate::error::{Error, IoContext, Result};

/// Writes `bytes` to `path` atomically: readers see the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], with the content produced by `write` into the temporary file.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> Result<()> {
    let target = match Target::of(path) {
        Ok(Target::Replace(target)) => target,
        Ok(Target::WriteThrough) => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, e))?;
            return write(&mut f).map_err(|e| Error::io(path, e));
        }
        Err(why) => return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::PermissionDenied, why))),
    };
    let path = target.as_path();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".kiln-{}.", stale::tag(path));
    stale::remove_stale(dir, &prefix, ".tmp");
    let mut tmp = stale::create_locked(dir, &prefix, ".tmp").at(path)?;
    write(tmp.as_file_mut()).at(path)?;
    // tempfile creates files readable by their owner only; give the file the permissions it had,
    // or a plain file's usual ones (rw-r--r--).
    let permissions = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => default_permissions(),
    };
    tmp.as_file().set_permissions(permissions).at(path)?;
    tmp.as_file().sync_all().at(path)?;
    tmp.persist(path).map_err(|e| e.error).at(path)?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    tempfile::tempfile().and_then(|f| f.metadata()).map(|m| m.permissions()).expect("a temporary file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().ends_with("report.json: disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "the temporary file is removed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "readable by others, as files usually are");
        }
        let err = write_atomic(&dir.path().join("missing/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("missing/x.json"), "{err}");
    }

    #[test]
    fn leftovers_of_the_same_target_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        let leftover = |name: &str| {
            let p = dir.path().join(name);
            std::fs::File::create(&p).unwrap().set_modified(old).unwrap();
            p
        };
        let ours = leftover(".kiln-m.safetensors.k3Jd9a.tmp");
        let theirs = leftover(".kiln-other.json.k3Jd9a.tmp");
        write_atomic(&dir.path().join("m.safetensors"), b"new").unwrap();
        assert!(!ours.exists() && theirs.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "m.safetensors and the other target's file");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_into_links_kept_read_only_files_left_alone() {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        write_atomic(Path::new("/dev/null"), b"into the device").unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomic(&real, b"newer").unwrap_err().to_string();
        assert_eq!(err, format!("{}: {}", real.display(), super::super::output::READ_ONLY));
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }
}
