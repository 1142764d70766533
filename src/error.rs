//! One error type for everything that comes from outside: files, datasets, user-built models,
//! CLI flags. Each variant's message names the thing at fault and what was expected.

use std::path::{Path, PathBuf};

/// Errors returned by kiln. Messages name the file, layer or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not what its format requires (bad magic, truncated data, ...).
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A file's SHA-256 differs from the published one.
    #[error("{path}: checksum mismatch: expected sha256 {expected}, got {actual}")]
    Checksum { path: PathBuf, expected: String, actual: String },
    /// A download failed on every mirror.
    #[error("download failed: {0}")]
    Download(String),
    /// Shapes that must agree do not (model vs. data, layer vs. layer).
    #[error("{0}")]
    Shape(String),
    /// An argument or configuration value is out of its valid range or unknown.
    #[error("{0}")]
    Value(String),
}

/// `Result` with kiln's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    pub fn format(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Format { path: path.as_ref().to_path_buf(), message: message.into() }
    }

    pub fn value(message: impl Into<String>) -> Self {
        Error::Value(message.into())
    }

    pub fn shape(message: impl Into<String>) -> Self {
        Error::Shape(message.into())
    }
}
