//! IDX files (the format MNIST and Fashion-MNIST ship in), gzip-compressed or raw, read into
//! [`U8Tensor`]s in one streaming pass that also hashes the decompressed bytes, so a loader can
//! verify the published SHA-256 without reading the data twice.
//!
//! The header's dimensions are a claim, not a fact: before anything is allocated they are
//! checked against the file's size (a raw file must hold exactly header + data; a gzip file can
//! inflate to at most [`MAX_DEFLATE_RATIO`] times its size) and, for a file whose size is
//! published, against that size. Decompression stops a little past what the header announces.

use crate::error::{Error, IoContext, Result};
use crate::tensor::U8Tensor;
use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Decompress and hash in slices that stay in cache between the two steps.
const CHUNK: usize = 256 * 1024;

/// Deflate's largest expansion: one byte of compressed input never yields more than 1032
/// bytes (a 258-byte match coded in two bits), so a gzip file of `n` bytes inflates to less
/// than `1032 * n`.
pub const MAX_DEFLATE_RATIO: u64 = 1032;

/// How much decompressed data past the announced end is read to report trailing garbage;
/// a gzip bomb after valid data costs no more than this.
const TRAILING_PROBE: u64 = 64 * 1024;

/// A decoded IDX file: the array (shape from the header, e.g. `[60000, 28, 28]`) and the
/// lowercase hex SHA-256 of the decompressed file (header and data).
#[derive(Debug, Clone)]
pub struct Idx {
    /// The array, shaped as the header says.
    pub tensor: U8Tensor,
    /// Lowercase hex SHA-256 of the decompressed file.
    pub sha256: String,
}

/// Reads the u8 IDX file at `path` with `ndim` dimensions; gzip is detected by its magic `1f 8b`.
pub fn read_idx(path: &Path, ndim: usize) -> Result<Idx> {
    read_idx_sized(path, ndim, None)
}

/// Like [`read_idx`] for a file whose decompressed size (header and data) is published:
/// a header that claims any other size is refused before its data is read.
pub fn read_idx_sized(path: &Path, ndim: usize, expected_len: Option<u64>) -> Result<Idx> {
    let file = std::fs::File::open(path).at(path)?;
    let meta = file.metadata().at(path)?;
    // A pipe or device has no size to compare the header with.
    let stored_len = meta.is_file().then_some(meta.len());
    let input = Input { path, ndim, stored_len, expected_len };
    input.decode_buffered(BufReader::with_capacity(CHUNK, file))
}

/// Like [`read_idx`] over bytes already in memory; `path` only names them in errors.
pub fn parse_idx(path: &Path, bytes: &[u8], ndim: usize) -> Result<Idx> {
    let input = Input { path, ndim, stored_len: Some(bytes.len() as u64), expected_len: None };
    input.decode_buffered(bytes)
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

/// One file being read and what is known of it beside its bytes.
struct Input<'a> {
    path: &'a Path,
    ndim: usize,
    /// Bytes stored (compressed or not), when the source is a regular file or memory.
    stored_len: Option<u64>,
    /// The published decompressed size, header included.
    expected_len: Option<u64>,
}

impl Input<'_> {
    fn decode_buffered<R: BufRead>(&self, mut r: R) -> Result<Idx> {
        let head = r.fill_buf().at(self.path)?;
        if head.starts_with(&[0x1f, 0x8b]) {
            self.decode(MultiGzDecoder::new(r), true)
        } else {
            self.decode(r, false)
        }
    }

    fn decode(&self, mut r: impl Read, gz: bool) -> Result<Idx> {
        let rerr = |e| read_error(self.path, gz, e);
        let header = self.read_header(&mut r, gz)?;
        let dims: Vec<usize> =
            header[4..].chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).collect();
        let n = self.check_claim(&dims, header.len() as u64, gz)?;
        let mut hasher = Sha256::new();
        hasher.update(&header);
        let mut data: Vec<u8> = Vec::with_capacity(self.initial_capacity(n, gz));
        while data.len() < n {
            let start = data.len();
            let end = start + CHUNK.min(n - start);
            if data.capacity() < end {
                // Grow with the data actually read, never past the header's claim.
                let want = (data.capacity() * 2).clamp(end, n);
                data.reserve_exact(want - start);
            }
            data.resize(end, 0);
            let k = read_full(&mut r, &mut data[start..]).map_err(rerr)?;
            hasher.update(&data[start..start + k]);
            if start + k < end {
                return Err(Error::format(
                    self.path,
                    format!("truncated: header says {n} data bytes, file has {}", start + k),
                ));
            }
        }
        // Reading on to the end also checks the gzip trailer (CRC-32 and length).
        let extra = io::copy(&mut r.take(TRAILING_PROBE + 1), &mut io::sink()).map_err(rerr)?;
        if extra > 0 {
            let many = if extra > TRAILING_PROBE { format!("more than {TRAILING_PROBE}") } else { extra.to_string() };
            let msg = format!("trailing garbage: {many} bytes after the {n} data bytes the header announces");
            return Err(Error::format(self.path, msg));
        }
        let tensor = U8Tensor::from_vec(&dims, data).map_err(|e| Error::format(self.path, e.to_string()))?;
        Ok(Idx { tensor, sha256: hex::encode(hasher.finalize()) })
    }

    /// The magic and the `ndim` big-endian u32 dimensions.
    fn read_header(&self, r: &mut impl Read, gz: bool) -> Result<Vec<u8>> {
        let rerr = |e| read_error(self.path, gz, e);
        let (path, ndim) = (self.path, self.ndim);
        let header_len = 4 + 4 * ndim;
        let mut header = vec![0u8; header_len];
        let got = read_full(r, &mut header[..4]).map_err(rerr)?;
        let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let expected = 0x0800 | ndim as u32;
        if got == 4 && magic != expected {
            let s = if ndim == 1 { "" } else { "s" };
            let msg =
                format!("not an IDX file: magic 0x{magic:08x}, expected 0x{expected:08x} (u8, {ndim} dimension{s})");
            return Err(Error::format(path, msg));
        }
        let got = got + read_full(r, &mut header[4..]).map_err(rerr)?;
        if got < header_len {
            return Err(Error::format(
                path,
                format!("truncated: the IDX header needs {header_len} bytes, file has {got}"),
            ));
        }
        Ok(header)
    }

    /// The number of data bytes `dims` announce, once the claim is checked against the
    /// published size and what the stored bytes can hold.
    fn check_claim(&self, dims: &[usize], header_len: u64, gz: bool) -> Result<usize> {
        let fail = |msg: String| Err(Error::format(self.path, msg));
        let n = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
        let (Some(n), Some(total)) = (n, n.and_then(|n| n.checked_add(header_len))) else {
            return fail(format!("IDX dimensions {dims:?} overflow the address space"));
        };
        if let Some(e) = self.expected_len.filter(|&e| e != total) {
            return fail(format!(
                "the IDX header claims shape {dims:?}, {total} bytes with the header; this file is published as {e} bytes"
            ));
        }
        match self.stored_len {
            Some(s) if !gz && total > s => {
                return fail(format!("truncated: header says {n} data bytes, file has {}", s - header_len))
            }
            Some(s) if !gz && total < s => {
                let extra = s - total;
                return fail(format!("trailing garbage: {extra} bytes after the {n} data bytes the header announces"));
            }
            Some(s) if gz && total > s.saturating_mul(MAX_DEFLATE_RATIO) => {
                return fail(format!(
                    "the IDX header claims shape {dims:?}, {total} bytes, more than {s} bytes of gzip can hold \
                     (at most {MAX_DEFLATE_RATIO}× as much)"
                ))
            }
            _ => {}
        }
        usize::try_from(n).or_else(|_| fail(format!("IDX dimensions {dims:?} overflow the address space")))
    }

    /// Room reserved before reading: the whole claim when the file's size or its published
    /// size vouch for it, else what the compressed size makes likely; grown as data arrives.
    fn initial_capacity(&self, n: usize, gz: bool) -> usize {
        if self.expected_len.is_some() || (!gz && self.stored_len.is_some()) {
            return n;
        }
        let likely = self.stored_len.map_or(CHUNK as u64, |s| s.saturating_mul(16));
        n.min(usize::try_from(likely).unwrap_or(usize::MAX))
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
        assert_eq!(err(&raw, 3), "/d/x.gz: truncated: header says 47040000 data bytes, file has 1000");
        // 45 bytes of gzip cannot hold 47 MB: refused before anything is read or allocated.
        let want = "/d/x.gz: the IDX header claims shape [60000, 28, 28], 47040016 bytes, more than 45 bytes \
                    of gzip can hold (at most 1032× as much)";
        assert_eq!(err(&gz(&raw), 3), want);
        // A claim gzip could hold, but the stream ends early.
        let small = encode_idx(&[3000], &[7; 1000]);
        assert_eq!(err(&gz(&small), 1), "/d/x.gz: truncated: header says 3000 data bytes, file has 1000");
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
