//! Downloading dataset files from a list of mirrors: into a temporary file beside the
//! destination, verified against the SHA-256 of the *decompressed* content (mirrors recompress),
//! then renamed into place, so the final name only ever holds a complete, verified file.
//!
//! Each mirror gets an overall deadline and a size cap, so a server that trickles or sends an
//! endless body fails in bounded time and space. `.part` files left by an interrupted download
//! of the same file are removed first (`fs::stale` tells them from a live one).

use super::DatasetFile;
use crate::error::{Error, IoContext, Result};
use crate::fs::stale;
use flate2::bufread::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Limits and display of one download.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
    /// The most one mirror may take, from connecting to the last byte.
    pub deadline: Duration,
    /// The most bytes one mirror may send; a file's published size lowers it further.
    pub max_bytes: u64,
}

impl Default for DownloadOptions {
    /// No bar, 15 minutes per mirror (26 MB at 30 kB/s), 1 GiB.
    fn default() -> Self {
        DownloadOptions { progress: false, deadline: Duration::from_secs(15 * 60), max_bytes: 1 << 30 }
    }
}

impl DownloadOptions {
    /// The size cap for `file`: gzip of incompressible data is a little larger than the data
    /// (5 bytes per stored block of up to 64 KiB, plus a header), so 1/64 and 64 KiB of slack.
    fn cap_for(&self, file: &DatasetFile) -> u64 {
        let published = file.size.map_or(u64::MAX, |s| s.saturating_add(s / 64).saturating_add(64 * 1024));
        self.max_bytes.min(published)
    }
}

/// Downloads `file` from the first of `urls` (mirrors, in order of preference) that answers
/// with content whose SHA-256 is `file.sha256` (of the decompressed content, or of the bytes
/// as stored for a [`DatasetFile::stored`] file), and stores it at `dest`.
/// When every mirror fails, [`Error::Download`] lists each URL with its reason.
pub fn download(urls: &[String], dest: &Path, file: &DatasetFile, opts: &DownloadOptions) -> Result<()> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", stale::tag(dest));
    stale::remove_stale(dir, &prefix, ".part");
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(opts.deadline))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut failures = Vec::new();
    for url in urls {
        let mirror = Mirror { agent: &agent, url, dir, prefix: &prefix, file, opts };
        match mirror.fetch() {
            Ok(tmp) => return tmp.persist(dest).map(|_| ()).map_err(|e| e.error).at(dest),
            Err(why) => failures.push(format!("{url}: {why}")),
        }
    }
    if failures.is_empty() {
        failures.push("no mirror URLs given".to_string());
    }
    Err(Error::Download(format!("{}: every mirror failed:\n  {}", dest.display(), failures.join("\n  "))))
}

/// One attempt at one mirror.
struct Mirror<'a> {
    agent: &'a ureq::Agent,
    url: &'a str,
    dir: &'a Path,
    /// Temporary files are `{prefix}{random}.part`.
    prefix: &'a str,
    file: &'a DatasetFile,
    opts: &'a DownloadOptions,
}

impl Mirror<'_> {
    /// The verified temporary file, or why this mirror failed.
    fn fetch(&self) -> std::result::Result<tempfile::NamedTempFile, String> {
        let started = Instant::now();
        let deadline = self.opts.deadline;
        // A failure past the deadline is the deadline's doing, whatever the transport says.
        let late = |why: String| match started.elapsed() >= deadline {
            true => format!("gave up at the deadline of {deadline:?} ({why})"),
            false => why,
        };
        // Ask for the bytes as stored; the checksum is taken after our own decompression.
        let request = self.agent.get(self.url).header("Accept-Encoding", "identity");
        let mut resp = request.call().map_err(|e| late(e.to_string()))?;
        let cap = self.opts.cap_for(self.file);
        let len = resp.body().content_length();
        if let Some(len) = len.filter(|&len| len > cap) {
            return Err(format!("the server announces {len} bytes, more than the cap of {cap} bytes"));
        }
        let bar = progress_bar(len, &self.file.name, self.opts.progress);
        let mut tmp = stale::create_locked(self.dir, self.prefix, ".part")
            .map_err(|e| format!("cannot create a temporary file in {}: {e}", self.dir.display()))?;
        let mut reader = bar.wrap_read(resp.body_mut().as_reader().take(cap + 1));
        let mut writer = BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        let copied = io::copy(&mut reader, &mut writer).and_then(|n| writer.flush().map(|_| n));
        drop(writer);
        bar.finish_and_clear();
        let n = copied.map_err(|e| late(format!("transfer failed after {} bytes: {e}", bar.position())))?;
        if n > cap {
            return Err(format!("the body exceeds the cap of {cap} bytes"));
        }
        if let Some(len) = len.filter(|&len| len != n) {
            return Err(format!("transfer ended after {n} of {len} bytes"));
        }
        let actual = match self.file.stored {
            true => sha256_file(tmp.path()),
            false => sha256_decompressed(tmp.path(), self.file.size),
        };
        // The temporary file's name means nothing to the user: the message alone.
        let actual = actual.map_err(|e| match e {
            Error::Format { message, .. } => message,
            e => e.to_string(),
        })?;
        if !actual.eq_ignore_ascii_case(&self.file.sha256) {
            return Err(format!("checksum mismatch: expected sha256 {}, got {actual}", self.file.sha256));
        }
        Ok(tmp)
    }
}

/// A byte-counting bar on stderr; hidden when off or when stderr is not a terminal.
fn progress_bar(len: Option<u64>, name: &str, show: bool) -> ProgressBar {
    if !show || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = match len {
        Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        None => "{msg} {spinner} {bytes} {bytes_per_sec}",
    };
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ");
    ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr())
        .with_style(style)
        .with_message(format!("Downloading {name}"))
}

/// The lowercase hex SHA-256 of the file's content after gzip decompression (raw files are
/// hashed as they are), the value the dataset tables publish. With `max_len` (the published
/// size), decompression stops one byte past it: a gzip bomb costs no more than the real file.
pub fn sha256_decompressed(path: &Path, max_len: Option<u64>) -> Result<String> {
    let file = std::fs::File::open(path).at(path)?;
    let mut r = BufReader::with_capacity(1 << 18, file);
    let gz = r.fill_buf().at(path)?.starts_with(&[0x1f, 0x8b]);
    let limit = max_len.map_or(u64::MAX, |m| m.saturating_add(1));
    let mut hasher = Sha256::new();
    let copied = match gz {
        true => io::copy(&mut MultiGzDecoder::new(r).take(limit), &mut hasher),
        false => io::copy(&mut r.take(limit), &mut hasher),
    };
    let n = copied.map_err(|e| match gz {
        true => Error::format(path, format!("corrupt gzip data: {e}")),
        false => Error::io(path, e),
    })?;
    if let Some(max) = max_len.filter(|&m| n > m) {
        return Err(Error::format(path, format!("is larger than the published {max} bytes (after decompression)")));
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The lowercase hex SHA-256 of the file as stored.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).at(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut BufReader::with_capacity(1 << 18, file), &mut hasher).at(path)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};

    #[test]
    fn hashes_decompressed_content() {
        let dir = tempfile::tempdir().unwrap();
        let (raw, gz) = (dir.path().join("a"), dir.path().join("a.gz"));
        std::fs::write(&raw, b"hello idx").unwrap();
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(b"hello idx").unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let want = hex::encode(Sha256::digest(b"hello idx"));
        assert_eq!(sha256_decompressed(&raw, None).unwrap(), want);
        assert_eq!(sha256_decompressed(&gz, Some(9)).unwrap(), want);
        let e = sha256_decompressed(&gz, Some(8)).unwrap_err().to_string();
        assert_eq!(e, format!("{}: is larger than the published 8 bytes (after decompression)", gz.display()));
    }

    #[test]
    fn caps_follow_the_published_size() {
        let opts = DownloadOptions::default();
        assert_eq!(opts.cap_for(&DatasetFile::new("f", "00")), 1 << 30);
        assert_eq!(opts.cap_for(&DatasetFile::new("f", "00").with_size(6400)), 6400 + 100 + 65536);
        let small = DownloadOptions { max_bytes: 10, ..opts };
        assert_eq!(small.cap_for(&DatasetFile::new("f", "00").with_size(6400)), 10);
    }

    #[test]
    fn unreachable_mirrors_are_all_reported() {
        // Port 9 on loopback: nothing listens there, so the connection is refused at once.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.gz");
        let urls = vec!["http://127.0.0.1:9/a".to_string(), "http://127.0.0.1:9/b".to_string()];
        let e = download(&urls, &dest, &DatasetFile::new("f.gz", "00"), &DownloadOptions::default());
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with(&format!("download failed: {}: every mirror failed:", dest.display())), "{e}");
        assert!(e.contains("\n  http://127.0.0.1:9/a: ") && e.contains("\n  http://127.0.0.1:9/b: "), "{e}");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary file left");
    }
}
