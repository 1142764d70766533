//! Where the datasets Keras downloads itself are looked for: the user's directory, kiln's cache,
//! then Keras's own `~/.keras/datasets`, else a download (checked against Keras's published
//! SHA-256 of the file) into kiln's cache. Shared by [`super::mnist`] and [`super::cifar10`].

use std::path::{Path, PathBuf};

use super::{DatasetFile, Lookup, Source};
use crate::error::Result;

/// Places and download options for one Keras dataset file. `Default` for a dataset comes from
/// [`KerasFileOptions::new`]; tests set every field themselves.
#[derive(Clone, Debug)]
pub struct KerasFileOptions {
    /// Looked in first (`--data-dir` or `KILN_DATA_DIR`).
    pub data_dir: Option<PathBuf>,
    /// Looked in second, and where downloads go (`<cache>/kiln/datasets/<name>`).
    pub cache_dir: Option<PathBuf>,
    /// Looked in third: Keras's `~/.keras/datasets`.
    pub keras_dir: Option<PathBuf>,
    /// Base URLs the file name is appended to.
    pub mirrors: Vec<String>,
    /// The file, its checksum and size.
    pub file: DatasetFile,
    /// Download it when no place holds it.
    pub download: bool,
    /// Show a download progress bar.
    pub progress: bool,
    /// Say where the file was found.
    pub verbose: bool,
}

impl KerasFileOptions {
    /// The default places for dataset `folder` (kiln's cache sub-folder) and its file.
    pub fn new(folder: &str, file: DatasetFile, mirror: &str) -> KerasFileOptions {
        let env = |k| std::env::var(k).ok().filter(|v: &String| !v.trim().is_empty());
        let mirrors = env("KILN_MIRRORS")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_else(|| vec![mirror.to_string()]);
        KerasFileOptions {
            data_dir: env("KILN_DATA_DIR").map(PathBuf::from),
            cache_dir: dirs::cache_dir().map(|d| d.join("kiln").join("datasets").join(folder)),
            keras_dir: dirs::home_dir().map(|h| h.join(".keras").join("datasets")),
            mirrors,
            file,
            download: true,
            progress: true,
            verbose: false,
        }
    }

    /// Finds (or downloads) the file and decodes it with `load`, which gets its path.
    pub fn run<T>(&self, dataset: &str, load: impl Fn(&Path) -> Result<T>) -> Result<(T, Source)> {
        let places = [
            self.data_dir.clone().map(Source::UserDir),
            self.cache_dir.clone().map(Source::Cache),
            self.keras_dir.clone().map(Source::Keras),
        ];
        let lookup = Lookup {
            dataset,
            places: places.into_iter().flatten().collect(),
            cache: self.cache_dir.as_deref(),
            files: std::slice::from_ref(&self.file),
            mirrors: &self.mirrors,
            download: self.download,
            progress: self.progress,
            verbose: self.verbose,
        };
        lookup.run(|dir| load(&dir.join(&self.file.name)))
    }
}

/// Checks the file's SHA-256 as stored against the published one.
pub fn verify_stored(path: &Path, file: &DatasetFile) -> Result<()> {
    let actual = super::sha256_file(path)?;
    if actual != file.sha256 {
        return Err(crate::Error::Checksum { path: path.to_path_buf(), expected: file.sha256.clone(), actual });
    }
    Ok(())
}
