//! Temporary files of writes in progress: `.kiln-<target>.<random>.tmp` beside an output being
//! written atomically, `.<file>.<random>.part` beside a download. The writer holds a lock on
//! its file for as long as it lives, so the leftover of a killed process can be told from a
//! file another process is still writing, and removed.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Random characters in a temporary name.
const RAND_LEN: usize = 6;

/// Younger files are left alone even when unlocked: their writer may not have locked them yet.
const MIN_AGE: Duration = Duration::from_secs(60);

/// Long target names are cut so that prefix, random part and suffix fit in a file name.
const MAX_TAG: usize = 100;

/// `target`'s file name as it appears inside its temporary files' names.
pub(crate) fn tag(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut end = name.len().min(MAX_TAG);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// Creates `dir/{prefix}{random}{suffix}` and locks it; the lock ends when the file is closed.
pub(crate) fn create_locked(dir: &Path, prefix: &str, suffix: &str) -> io::Result<tempfile::NamedTempFile> {
    let tmp = tempfile::Builder::new().prefix(prefix).suffix(suffix).rand_bytes(RAND_LEN).tempfile_in(dir)?;
    // Where the file system has no locks, `remove_stale` cannot take one either and keeps it.
    let _ = tmp.as_file().try_lock();
    Ok(tmp)
}

/// Removes the files in `dir` named as [`create_locked`] names them with this `prefix` and
/// `suffix` that are older than a minute and locked by no one; returns their paths. Errors
/// (a directory that cannot be listed, a file that vanished meanwhile) only skip the file.
pub(crate) fn remove_stale(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let ours = |name: &str| {
        let rand = name.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix));
        rand.is_some_and(|r| r.len() == RAND_LEN && r.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    let candidates = entries.flatten().filter(|e| e.file_name().to_str().is_some_and(ours)).map(|e| e.path());
    candidates.filter(|p| remove_if_abandoned(p)).collect()
}

/// Removes `path` if it is a regular file, old enough, and no process holds its lock.
fn remove_if_abandoned(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    let old = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= MIN_AGE);
    if !meta.is_file() || !old {
        return false;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    // Held until `file` is dropped, after the removal.
    file.try_lock().is_ok() && std::fs::remove_file(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    /// A file named `name` in `dir`, last modified `age` ago.
    fn aged(dir: &Path, name: &str, age: Duration) -> PathBuf {
        let p = dir.join(name);
        let f = std::fs::File::create(&p).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
        p
    }

    #[test]
    fn removes_only_abandoned_files_of_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let old = Duration::from_secs(3600);
        let stale = aged(dir.path(), ".kiln-m.json.Ab3xZ9.tmp", old);
        let young = aged(dir.path(), ".kiln-m.json.Yq7yP1.tmp", Duration::from_secs(5));
        let other_target = aged(dir.path(), ".kiln-m.json.bak.Ab3xZ9.tmp", old);
        let not_ours = aged(dir.path(), ".kiln-m.json.notrandom.tmp", old);
        let live = create_locked(dir.path(), ".kiln-m.json.", ".tmp").unwrap();
        live.as_file().set_modified(SystemTime::now() - old).unwrap();
        let removed = remove_stale(dir.path(), ".kiln-m.json.", ".tmp");
        assert_eq!(removed, std::slice::from_ref(&stale));
        assert!(!stale.exists());
        for p in [&young, &other_target, &not_ours, &live.path().to_path_buf()] {
            assert!(p.exists(), "{} must stay", p.display());
        }
        // Once its writer is gone (the lock with it), the old file is a leftover too.
        let path = live.path().to_path_buf();
        let kept = live.keep().unwrap().0;
        drop(kept);
        assert_eq!(remove_stale(dir.path(), ".kiln-m.json.", ".tmp"), [path]);
    }

    #[test]
    fn tags_are_bounded_file_names() {
        assert_eq!(tag(Path::new("out/model.safetensors")), "model.safetensors");
        let long = "é".repeat(80);
        assert_eq!(tag(Path::new(&long)), "é".repeat(50));
        assert_eq!(tag(Path::new("/")), "");
    }
}
