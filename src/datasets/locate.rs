//! Where a dataset's files are: the user's directory, kiln's cache, the system copy, in that
//! order, else a download into the cache. Generic over the dataset: the caller supplies the
//! file table and the function that decodes and verifies a directory.

use super::{download, DatasetFile, DownloadOptions};
use crate::error::{Error, Result};
use crate::fs::stale;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a dataset's files came from (a `kiln data` report prints it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The directory the user named (flag or `KILN_DATA_DIR`).
    UserDir(PathBuf),
    /// kiln's cache, filled by an earlier download.
    Cache(PathBuf),
    /// The system copy (Debian's `dataset-fashion-mnist` package).
    System(PathBuf),
    /// Keras's own download folder (`~/.keras/datasets`).
    Keras(PathBuf),
    /// Downloaded just now into this directory (kiln's cache).
    Downloaded(PathBuf),
}

impl Source {
    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        match self {
            Source::UserDir(d) | Source::Cache(d) | Source::System(d) | Source::Keras(d) | Source::Downloaded(d) => d,
        }
    }

    /// A few words saying what kind of place [`Source::dir`] is.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::UserDir(_) => "user data directory",
            Source::Cache(_) => "kiln cache",
            Source::System(_) => "system copy",
            Source::Keras(_) => "Keras's download folder",
            Source::Downloaded(_) => "downloaded into the kiln cache",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.dir().display(), self.kind())
    }
}

/// Names of `files` missing from `dir`.
pub fn missing_files<'a>(dir: &Path, files: &'a [DatasetFile]) -> Vec<&'a str> {
    let missing = files.iter().filter(|f| !dir.join(&f.name).is_file());
    missing.map(|f| f.name.as_str()).collect()
}

/// Mirror URLs for `file`: each base URL (trailing `/` optional) joined with the file name.
pub fn mirror_urls(bases: &[String], file: &str) -> Vec<String> {
    let base = |b: &String| b.trim_end_matches('/').to_string();
    bases.iter().map(|b| format!("{}/{file}", base(b))).collect()
}

/// One search: the places to look, in order, and how to download when none has the files.
pub struct Lookup<'a> {
    /// Names the dataset in messages ("Fashion-MNIST").
    pub dataset: &'a str,
    /// Searched in order; a place counts only if it holds every file.
    pub places: Vec<Source>,
    /// Download target; a [`Source::Cache`] place that fails to load is downloaded again.
    pub cache: Option<&'a Path>,
    /// The files that make up the dataset.
    pub files: &'a [DatasetFile],
    /// Base URLs, each joined with a file name.
    pub mirrors: &'a [String],
    /// Download them when no place holds them all.
    pub download: bool,
    /// Show a download progress bar.
    pub progress: bool,
    /// Say where the files were found.
    pub verbose: bool,
}

impl Lookup<'_> {
    /// The first place whose files `load` accepts, else a download into the cache. A user
    /// directory must hold every file, and an error from a user or system directory is
    /// returned: those files are not ours to replace, nor to silently swap for another copy.
    pub fn run<T>(&self, load: impl Fn(&Path) -> Result<T>) -> Result<(T, Source)> {
        let say = |msg: String| {
            if self.verbose {
                crate::errln!("{}: {msg}", self.dataset)
            }
        };
        let mut stale_cache = false;
        if let Some(cache) = self.cache {
            for f in self.files {
                // `.part` files of downloads killed earlier.
                stale::remove_stale(cache, &format!(".{}.", stale::tag(&cache.join(&f.name))), ".part");
            }
        }
        for place in &self.places {
            let missing = missing_files(place.dir(), self.files);
            if let (Source::UserDir(dir), false) = (place, missing.is_empty()) {
                return Err(bad_user_dir(dir, &missing));
            }
            if !missing.is_empty() {
                say(format!("not in {place}: missing {}", missing.join(", ")));
                continue;
            }
            match load(place.dir()) {
                Ok(t) => {
                    say(format!("using {place}"));
                    return Ok((t, place.clone()));
                }
                Err(e) if matches!(place, Source::Cache(_)) && self.download => {
                    say(format!("{e}; downloading again"));
                    stale_cache = true;
                }
                Err(e) => return Err(e),
            }
        }
        let Some(cache) = self.cache.filter(|_| self.download) else {
            let dirs: Vec<String> = self.places.iter().map(|p| p.dir().display().to_string()).collect();
            let why = if self.download { "impossible without a cache directory" } else { "off" };
            return Err(Error::Download(format!(
                "{} not found in {} and downloading is {why}",
                self.dataset,
                dirs.join(", ")
            )));
        };
        std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
        let opts = DownloadOptions { progress: self.progress, ..DownloadOptions::default() };
        for f in self.files {
            let dest = cache.join(&f.name);
            if stale_cache || !dest.is_file() {
                say(format!("downloading {} into {}", f.name, cache.display()));
                download(&mirror_urls(self.mirrors, &f.name), &dest, f, &opts)?;
            }
        }
        let source = Source::Downloaded(cache.to_path_buf());
        say(format!("using {source}"));
        Ok((load(cache)?, source))
    }
}

/// The directory the user named lacks files: an error, never a reason to use another copy.
fn bad_user_dir(dir: &Path, missing: &[&str]) -> Error {
    let what = match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
        Err(e) => format!("cannot be read: {e}"),
        Ok(m) if !m.is_dir() => "is not a directory".to_string(),
        Ok(_) => format!("is missing {}", missing.join(", ")),
    };
    Error::value(format!("{}: the data directory (--data-dir or KILN_DATA_DIR) {what}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loader that accepts any directory holding the files and returns its path.
    fn lookup<'a>(places: Vec<Source>, files: &'a [DatasetFile]) -> Lookup<'a> {
        let (cache, mirrors, download, progress, verbose) = (None, &[][..], false, false, false);
        let dataset = "Test-Set";
        Lookup { dataset, places, cache, files, mirrors, download, progress, verbose }
    }

    #[test]
    fn first_complete_place_wins() {
        let (user, sys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let files = [DatasetFile::new("a", "00"), DatasetFile::new("b", "00")];
        for d in [user.path(), sys.path()] {
            std::fs::write(d.join("a"), b"").unwrap();
            std::fs::write(d.join("b"), b"").unwrap();
        }
        let user_src = Source::UserDir(user.path().to_path_buf());
        let sys_src = Source::System(sys.path().to_path_buf());
        let found = |l: Lookup| l.run(|d| Ok(d.to_path_buf())).map(|(_, s)| s);
        assert_eq!(found(lookup(vec![user_src.clone(), sys_src.clone()], &files)).unwrap(), user_src);
        let cache_src = Source::Cache(user.path().to_path_buf());
        std::fs::remove_file(user.path().join("b")).unwrap();
        assert_eq!(found(lookup(vec![cache_src.clone(), sys_src.clone()], &files)).unwrap(), sys_src);
        let e = found(lookup(vec![cache_src], &files)).unwrap_err().to_string();
        let want = format!("download failed: Test-Set not found in {} and downloading is off", user.path().display());
        assert_eq!(e, want);
        // A user directory whose files fail to load is an error, not a reason to look further.
        let both = vec![Source::UserDir(sys.path().to_path_buf()), Source::System(sys.path().to_path_buf())];
        let e = lookup(both, &files).run(|_| Err::<(), _>(Error::value("bad"))).unwrap_err();
        assert_eq!(e.to_string(), "bad");
    }

    #[test]
    fn a_bad_user_dir_is_an_error_not_a_fallback() {
        let (user, sys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let files = [DatasetFile::new("a", "00"), DatasetFile::new("b", "00"), DatasetFile::new("c", "00")];
        for f in &files {
            std::fs::write(sys.path().join(&f.name), b"").unwrap();
        }
        std::fs::write(user.path().join("b"), b"").unwrap();
        let sys_src = Source::System(sys.path().to_path_buf());
        let err = |dir: &Path| {
            let places = vec![Source::UserDir(dir.to_path_buf()), sys_src.clone()];
            lookup(places, &files).run(|d| Ok(d.to_path_buf())).unwrap_err().to_string()
        };
        let flag = "the data directory (--data-dir or KILN_DATA_DIR)";
        let u = user.path().display();
        assert_eq!(err(user.path()), format!("{u}: {flag} is missing a, c"));
        assert_eq!(err(&user.path().join("nope")), format!("{u}/nope: {flag} does not exist"));
        assert_eq!(err(&user.path().join("b")), format!("{u}/b: {flag} is not a directory"));
    }

    #[test]
    fn builds_urls_and_finds_missing() {
        let bases = vec!["http://a/x/".to_string(), "http://b".to_string()];
        assert_eq!(mirror_urls(&bases, "f.gz"), ["http://a/x/f.gz", "http://b/f.gz"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"").unwrap();
        let files = [DatasetFile::new("a", "AB"), DatasetFile::new("b", "cd")];
        assert_eq!(missing_files(dir.path(), &files), ["b"]);
        let s = Source::System(PathBuf::from("/usr/share/datasets/fashion-mnist"));
        assert_eq!(s.to_string(), "/usr/share/datasets/fashion-mnist (system copy)");
    }
}
