//! Downloading dataset files from a list of mirrors: into a temporary file beside the
//! destination, verified against the SHA-256 of the *decompressed* content (mirrors recompress),
//! then renamed into place, so the final name only ever holds a complete, verified file.

use crate::data::GzReader;
use crate::error::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

/// Downloads the first of `urls` (mirrors, in order of preference) that answers with content
/// whose decompressed SHA-256 is `expected_sha256`, and stores it at `dest`.
/// When every mirror fails, [`Error::Download`] lists each URL with its reason.
pub fn download(urls: &[String], dest: &Path, expected_sha256: &str, show_progress: bool) -> Result<()> {
    download_with(urls, dest, expected_sha256, sha256_decompressed, show_progress)
}

/// [`download`] with the checksum taken by `hash` ([`sha256_file`] for the files Keras
/// publishes the SHA-256 of as stored).
pub fn download_with(
    urls: &[String],
    dest: &Path,
    expected_sha256: &str,
    hash: fn(&Path) -> Result<String>,
    show_progress: bool,
) -> Result<()> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut failures = Vec::new();
    for url in urls {
        match fetch(&agent, url, dir, &name, (expected_sha256, hash), show_progress) {
            Ok(tmp) => return tmp.persist(dest).map(|_| ()).map_err(|e| Error::io(dest, e.error)),
            Err(why) => failures.push(format!("{url}: {why}")),
        }
    }
    if failures.is_empty() {
        failures.push("no mirror URLs given".to_string());
    }
    Err(Error::Download(format!("{}: every mirror failed:\n  {}", dest.display(), failures.join("\n  "))))
}

/// One mirror: the verified temporary file, or why this mirror failed.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    name: &str,
    (expected, hash): (&str, fn(&Path) -> Result<String>),
    show_progress: bool,
) -> std::result::Result<tempfile::NamedTempFile, String> {
    // Ask for the bytes as stored; the checksum is taken after our own decompression.
    let mut resp = agent.get(url).header("Accept-Encoding", "identity").call().map_err(|e| e.to_string())?;
    let len = resp.body().content_length();
    let bar = progress_bar(len, name, show_progress);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    let mut reader = bar.wrap_read(resp.body_mut().as_reader());
    let mut writer = BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    let copied = io::copy(&mut reader, &mut writer).and_then(|n| writer.flush().map(|_| n));
    drop(writer);
    bar.finish_and_clear();
    let n = copied.map_err(|e| format!("transfer failed after {} bytes: {e}", bar.position()))?;
    if let Some(len) = len.filter(|&len| len != n) {
        return Err(format!("transfer ended after {n} of {len} bytes"));
    }
    let actual = hash(tmp.path()).map_err(|e| e.to_string())?;
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(format!("checksum mismatch: expected sha256 {expected}, got {actual}"));
    }
    Ok(tmp)
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
/// hashed as they are), the value the dataset tables publish.
pub fn sha256_decompressed(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 18, file);
    let gz = r.fill_buf().map_err(|e| Error::io(path, e))?.starts_with(&[0x1f, 0x8b]);
    let mut hasher = Sha256::new();
    let copied = if gz { io::copy(&mut GzReader::new(r), &mut hasher) } else { io::copy(&mut r, &mut hasher) };
    copied.map_err(|e| match gz {
        true => Error::format(path, format!("corrupt gzip data: {e}")),
        false => Error::io(path, e),
    })?;
    Ok(hex::encode(hasher.finalize()))
}

/// The lowercase hex SHA-256 of the file as stored.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    io::copy(&mut BufReader::with_capacity(1 << 18, file), &mut hasher).map_err(|e| Error::io(path, e))?;
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
        assert_eq!(sha256_decompressed(&raw).unwrap(), want);
        assert_eq!(sha256_decompressed(&gz).unwrap(), want);
    }

    #[test]
    fn unreachable_mirrors_are_all_reported() {
        // Port 9 on loopback: nothing listens there, so the connection is refused at once.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.gz");
        let urls = vec!["http://127.0.0.1:9/a".to_string(), "http://127.0.0.1:9/b".to_string()];
        let e = download(&urls, &dest, "00", false).unwrap_err().to_string();
        assert!(e.starts_with(&format!("download failed: {}: every mirror failed:", dest.display())), "{e}");
        assert!(e.contains("\n  http://127.0.0.1:9/a: ") && e.contains("\n  http://127.0.0.1:9/b: "), "{e}");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary file left");
    }
}
