//! One error type for everything that comes from outside: files, datasets, user-built models,
//! CLI flags. Each variant's message names the thing at fault and what was expected.

use std::path::{Path, PathBuf};

/// Errors returned by kiln. Messages name the file, layer or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed. `path` is empty only for an error converted with
    /// `?` from a bare [`std::io::Error`]; then the message is the I/O error's alone.
    #[error("{}{source}", path_prefix(path))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not what its format requires (bad magic, truncated data, ...).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file's SHA-256 differs from the published one.
    #[error("{path}: checksum mismatch: expected sha256 {expected}, got {actual}")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The published SHA-256, hex.
        expected: String,
        /// The file's SHA-256, hex.
        actual: String,
    },
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

/// `path: ` before an I/O error's message, nothing when the path is unknown.
fn path_prefix(path: &Path) -> String {
    match path.as_os_str().is_empty() {
        true => String::new(),
        false => format!("{}: ", path.display()),
    }
}

/// A bare I/O error, for `?` where no file is involved or its message already names it; for a
/// file, [`IoContext::at`] keeps the path in the message.
impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io { path: PathBuf::new(), source }
    }
}

/// Names the file an I/O error happened on: `File::open(p).at(p)?` instead of
/// `.map_err(|e| Error::io(p, e))?`.
pub trait IoContext<T> {
    /// The error as [`Error::Io`] with `path`.
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

/// `Result` with kiln's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// [`Error::Io`] on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// [`Error::Format`] in `path`.
    pub fn format(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Format { path: path.as_ref().to_path_buf(), message: message.into() }
    }

    /// [`Error::Value`].
    pub fn value(message: impl Into<String>) -> Self {
        Error::Value(message.into())
    }

    /// [`Error::Shape`].
    pub fn shape(message: impl Into<String>) -> Self {
        Error::Shape(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_their_path() {
        let missing = std::fs::File::open("/nonexistent/kiln").at("/nonexistent/kiln").unwrap_err();
        assert_eq!(missing.to_string(), "/nonexistent/kiln: No such file or directory (os error 2)");
        let bare = || -> Result<()> { Err(std::io::Error::other("stdout closed"))? };
        let e = bare().unwrap_err();
        assert!(matches!(&e, Error::Io { path, .. } if path.as_os_str().is_empty()));
        assert_eq!(e.to_string(), "stdout closed");
    }
}
