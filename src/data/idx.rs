//! IDX files (the format MNIST and Fashion-MNIST ship in), gzip-compressed or raw, read into
//! [`U8Tensor`]s in one streaming pass that also hashes the decompressed bytes, so a loader can
//! verify the published SHA-256 without reading the data twice.

use super::gunzip::GzReader;
use crate::error::{Error, Result};
use crate::tensor::U8Tensor;
use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Decompress and hash in slices that stay in cache between the two steps.
const CHUNK: usize = 256 * 1024;

/// A decoded IDX file: the array (shape from the header, e.g. `[60000, 28, 28]`) and the
/// lowercase hex SHA-256 of the decompressed file (header and data).
#[derive(Debug, Clone)]
pub struct Idx {
    pub tensor: U8Tensor,
    pub sha256: String,
}

/// Reads the u8 IDX file at `path` with `ndim` dimensions; gzip is detected by its magic `1f 8b`.
pub fn read_idx(path: &Path, ndim: usize) -> Result<Idx> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    decode_buffered(path, BufReader::with_capacity(CHUNK, file), ndim)
}

/// Like [`read_idx`] over bytes already in memory; `path` only names them in errors.
pub fn parse_idx(path: &Path, bytes: &[u8], ndim: usize) -> Result<Idx> {
    decode_buffered(path, bytes, ndim)
}

/// The raw (uncompressed) IDX encoding of a u8 array with shape `dims`.
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn decode_buffered<R: BufRead>(path: &Path, mut r: R, ndim: usize) -> Result<Idx> {
    let head = r.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        decode(path, GzReader::new(r), ndim, true)
    } else {
        decode(path, r, ndim, false)
    }
}

/// Maps a read error: inside a gzip stream, bad data means a corrupt file, not an I/O failure.
fn read_error(path: &Path, gz: bool, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof if gz => {
            Error::format(path, format!("corrupt gzip data: {e}"))
        }
        _ => Error::io(path, e),
    }
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn decode(path: &Path, mut r: impl Read, ndim: usize, gz: bool) -> Result<Idx> {
    let rerr = |e| read_error(path, gz, e);
    let header_len = 4 + 4 * ndim;
    let mut header = vec![0u8; header_len];
    let got = read_full(&mut r, &mut header[..4]).map_err(rerr)?;
    let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let expected = 0x0800 | ndim as u32;
    if got == 4 && magic != expected {
        let s = if ndim == 1 { "" } else { "s" };
        return Err(Error::format(
            path,
            format!("not an IDX file: magic 0x{magic:08x}, expected 0x{expected:08x} (u8, {ndim} dimension{s})"),
        ));
    }
    let got = got + read_full(&mut r, &mut header[4..]).map_err(rerr)?;
    if got < header_len {
        return Err(Error::format(path, format!("truncated: the IDX header needs {header_len} bytes, file has {got}")));
    }
    let dims: Vec<usize> =
        header[4..].chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("IDX dimensions {dims:?} overflow the address space")))?;
    let mut hasher = Sha256::new();
    hasher.update(&header);
    // Grow by chunks rather than trusting the header for one huge allocation.
    let mut data: Vec<u8> = Vec::with_capacity(n.min(1 << 28));
    while data.len() < n {
        let start = data.len();
        data.resize(start + CHUNK.min(n - start), 0);
        let k = read_full(&mut r, &mut data[start..]).map_err(rerr)?;
        hasher.update(&data[start..start + k]);
        if start + k < data.len() {
            return Err(Error::format(path, format!("truncated: header says {n} data bytes, file has {}", start + k)));
        }
    }
    let mut extra = 0usize;
    let mut buf = [0u8; 4096];
    loop {
        match read_full(&mut r, &mut buf).map_err(rerr)? {
            0 => break,
            k => extra += k,
        }
    }
    if extra > 0 {
        return Err(Error::format(
            path,
            format!("trailing garbage: {extra} bytes after the {n} data bytes the header announces"),
        ));
    }
    let tensor = U8Tensor::from_vec(&dims, data).map_err(|e| Error::format(path, e.to_string()))?;
    Ok(Idx { tensor, sha256: hex::encode(hasher.finalize()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn err(bytes: &[u8], ndim: usize) -> String {
        parse_idx(Path::new("/d/x.gz"), bytes, ndim).unwrap_err().to_string()
    }

    #[test]
    fn reads_raw_and_gzip_with_hash() {
        let raw = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let want = hex::encode(Sha256::digest(&raw));
        for bytes in [raw.clone(), gz(&raw)] {
            let idx = parse_idx(Path::new("m"), &bytes, 2).unwrap();
            assert_eq!(idx.tensor.shape(), &[2, 3]);
            assert_eq!(idx.tensor.data(), &[1, 2, 3, 4, 5, 6]);
            assert_eq!(idx.sha256, want);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.gz");
        std::fs::write(&p, gz(&raw)).unwrap();
        assert_eq!(read_idx(&p, 2).unwrap().sha256, want);
        let e = read_idx(&dir.path().join("none"), 1).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", dir.path().join("none").display())), "{e}");
    }

    #[test]
    fn rejects_wrong_magic() {
        let bytes = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0];
        assert_eq!(
            err(&bytes, 3),
            "/d/x.gz: not an IDX file: magic 0x12345678, expected 0x00000803 (u8, 3 dimensions)"
        );
        let labels = encode_idx(&[2], &[0, 1]);
        assert_eq!(
            err(&gz(&labels), 3),
            "/d/x.gz: not an IDX file: magic 0x00000801, expected 0x00000803 (u8, 3 dimensions)"
        );
    }

    #[test]
    fn rejects_truncated_and_trailing() {
        let raw = encode_idx(&[60000, 28, 28], &[7; 1000]);
        let want = "/d/x.gz: truncated: header says 47040000 data bytes, file has 1000";
        assert_eq!(err(&raw, 3), want);
        assert_eq!(err(&gz(&raw), 3), want);
        assert_eq!(err(&raw[..10], 3), "/d/x.gz: truncated: the IDX header needs 16 bytes, file has 10");
        assert_eq!(err(&raw[..2], 3), "/d/x.gz: truncated: the IDX header needs 16 bytes, file has 2");
        let mut long = encode_idx(&[2], &[1, 2]);
        long.extend_from_slice(&[0; 5]);
        assert_eq!(err(&long, 1), "/d/x.gz: trailing garbage: 5 bytes after the 2 data bytes the header announces");
    }

    #[test]
    fn rejects_corrupt_gzip() {
        let mut bytes = gz(&encode_idx(&[300], &[9; 300]));
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        let e = err(&bytes, 1);
        assert!(e.starts_with("/d/x.gz: corrupt gzip data: "), "{e}");
        // A gzip file cut short: the stream ends before its trailer.
        let whole = gz(&encode_idx(&[300], &[9; 300]));
        let e = err(&whole[..whole.len() - 6], 1);
        assert!(e.starts_with("/d/x.gz: corrupt gzip data: "), "{e}");
    }
}
