//! Hostile dataset files: IDX headers that lie about their size, wrong magic numbers, corrupt
//! and truncated gzip, gzip bombs. Each is refused with a message naming the file and what was
//! expected, before memory is spent on what the header claims; a published size is checked
//! before the data is read.

use flate2::{write::GzEncoder, Compression};
use kiln::data::{encode_idx, read_idx, read_idx_sized};
use std::io::Write;
use std::path::{Path, PathBuf};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX header alone: magic for u8 with `dims.len()` dimensions, then the dimensions.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| h.extend(d.to_be_bytes()));
    h
}

/// Writes `bytes` to `dir/name` and reads it back as an IDX file with `ndim` dimensions.
fn read(dir: &Path, name: &str, bytes: &[u8], ndim: usize) -> (PathBuf, String) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    let e = read_idx(&p, ndim).map(|_| "no error".to_string()).unwrap_or_else(|e| e.to_string());
    let prefix = format!("{}: ", p.display());
    assert!(e.starts_with(&prefix), "{e}");
    (p, e[prefix.len()..].to_string())
}

#[test]
fn headers_that_claim_four_billion_images() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = header(&[u32::MAX, 28, 28]);
    raw.extend([0u8; 784]);
    let (_, e) = read(dir.path(), "raw", &raw, 3);
    assert_eq!(e, "truncated: header says 3367254359280 data bytes, file has 784");
    let (_, e) = read(dir.path(), "x.gz", &gz(&raw), 3);
    let n = gz(&raw).len();
    assert_eq!(
        e,
        format!(
            "the IDX header claims shape [4294967295, 28, 28], 3367254359296 bytes, more than {n} bytes of gzip \
             can hold (at most 1032× as much)"
        )
    );
    // Every dimension at its largest: the product overflows 64 bits.
    let (_, e) = read(dir.path(), "huge", &header(&[u32::MAX; 3]), 3);
    assert_eq!(e, "IDX dimensions [4294967295, 4294967295, 4294967295] overflow the address space");
}

#[test]
fn headers_that_claim_less_or_more_than_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let file = encode_idx(&[10], &[1; 10]);
    let mut short = header(&[4]);
    short.extend([1; 10]);
    let (_, e) = read(dir.path(), "short", &short, 1);
    assert_eq!(e, "trailing garbage: 6 bytes after the 4 data bytes the header announces");
    let (_, e) = read(dir.path(), "short.gz", &gz(&short), 1);
    assert_eq!(e, "trailing garbage: 6 bytes after the 4 data bytes the header announces");
    let mut long = header(&[20]);
    long.extend([1; 10]);
    let (_, e) = read(dir.path(), "long.gz", &gz(&long), 1);
    assert_eq!(e, "truncated: header says 20 data bytes, file has 10");
    let (_, e) = read(dir.path(), "cut", &file[..6], 1);
    assert_eq!(e, "truncated: the IDX header needs 8 bytes, file has 6");
    let (_, e) = read(dir.path(), "empty.gz", &gz(b""), 1);
    assert_eq!(e, "truncated: the IDX header needs 8 bytes, file has 0");
}

#[test]
fn a_published_size_is_checked_before_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train-images-idx3-ubyte.gz");
    // A plausible header with no data behind it: refused from the header alone.
    std::fs::write(&p, gz(&header(&[60_001, 28, 28]))).unwrap();
    let e = read_idx_sized(&p, 3, Some(47_040_016)).unwrap_err().to_string();
    let want = "the IDX header claims shape [60001, 28, 28], 47040800 bytes with the header; this file is \
                published as 47040016 bytes";
    assert_eq!(e, format!("{}: {want}", p.display()));
    std::fs::write(&p, gz(&encode_idx(&[2, 28, 28], &[0; 2 * 784]))).unwrap();
    assert_eq!(read_idx_sized(&p, 3, Some(16 + 2 * 784)).unwrap().tensor.shape(), &[2, 28, 28]);
}

#[test]
fn wrong_magic_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let labels = encode_idx(&[3], &[0, 1, 2]);
    let (_, e) = read(dir.path(), "labels-as-images", &labels, 3);
    assert_eq!(e, "not an IDX file: magic 0x00000801, expected 0x00000803 (u8, 3 dimensions)");
    let floats = [0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    let (_, e) = read(dir.path(), "floats.gz", &gz(&floats), 1);
    assert_eq!(e, "not an IDX file: magic 0x00000d01, expected 0x00000801 (u8, 1 dimension)");
    let (_, e) = read(dir.path(), "png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1);
    assert_eq!(e, "not an IDX file: magic 0x89504e47, expected 0x00000801 (u8, 1 dimension)");
}

#[test]
fn corrupt_and_truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let good = gz(&encode_idx(&[1000], &(0..1000).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>()));
    let n = good.len();
    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 1;
    assert_eq!(
        read(dir.path(), "crc.gz", &bad_crc, 1).1,
        "corrupt gzip data: corrupt gzip stream does not have a matching checksum"
    );
    let mut bad_len = good.clone();
    bad_len[n - 1] ^= 1;
    assert_eq!(
        read(dir.path(), "len.gz", &bad_len, 1).1,
        "corrupt gzip data: corrupt gzip stream does not have a matching checksum"
    );
    let mut flipped = good.clone();
    flipped[n / 2] ^= 0xff;
    let e = read(dir.path(), "flipped.gz", &flipped, 1).1;
    assert!(e.starts_with("corrupt gzip data: "), "{e}");
    let e = read(dir.path(), "cut.gz", &good[..n - 4], 1).1;
    assert_eq!(e, "corrupt gzip data: unexpected end of file");
    let e = read(dir.path(), "junk.gz", &[good.clone(), b"this is not gzip data".to_vec()].concat(), 1).1;
    assert_eq!(e, "corrupt gzip data: invalid gzip header");
    // Two members read as one stream, as gzip(1) does.
    let raw = encode_idx(&[4], &[1, 2, 3, 4]);
    let two = [gz(&raw[..6]), gz(&raw[6..])].concat();
    let p = dir.path().join("two.gz");
    std::fs::write(&p, two).unwrap();
    assert_eq!(read_idx(&p, 1).unwrap().tensor.data(), &[1, 2, 3, 4]);
}

#[test]
fn gzip_bombs() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MB of zeros after a 4-byte claim: reading stops 64 KiB past the announced end.
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(&header(&[4])).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    let (_, e) = read(dir.path(), "bomb.gz", &bomb, 1);
    assert_eq!(e, "trailing garbage: more than 65536 bytes after the 4 data bytes the header announces");
    // A tiny file claiming what a bomb would inflate to: more than its size can honestly hold.
    let claim = 1 << 30;
    let small = gz(&header(&[claim]));
    let (_, e) = read(dir.path(), "claim.gz", &small, 1);
    let n = small.len();
    assert_eq!(
        e,
        format!(
            "the IDX header claims shape [{claim}], {} bytes, more than {n} bytes of gzip can hold (at most 1032× as much)",
            claim as u64 + 8
        )
    );
}
