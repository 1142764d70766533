//! NumPy's `.npy` files (`np.save`) and `.npz` archives (`np.savez`, `np.savez_compressed`),
//! read with the `npyz` and `zip` crates: `uint8` arrays stay bytes, every other integer, bool
//! and float dtype becomes `f32`; Fortran-ordered arrays are reordered to C order.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use npyz::{NpyFile, Order, TypeChar};

use crate::error::{Error, Result};
use crate::tensor::{Tensor, U8Tensor};

/// An array as read: bytes (`uint8`) or `f32` (anything else numeric).
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// A `uint8` array, kept as bytes.
    U8(U8Tensor),
    /// Any other numeric dtype, as `f32`.
    F32(Tensor),
}

impl Array {
    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Array::U8(t) => t.shape(),
            Array::F32(t) => t.shape(),
        }
    }

    /// Size of the first dimension (0 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape().first().copied().unwrap_or(0)
    }

    /// The values as `f32`.
    pub fn to_f32(&self) -> Tensor {
        match self {
            Array::U8(t) => t.to_f32(),
            Array::F32(t) => t.clone(),
        }
    }
}

/// Reads one `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Array> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    parse_npy(BufReader::new(file), path)
}

/// Decodes `.npy` content from `reader`; errors name `path`.
pub fn parse_npy(reader: impl Read, path: &Path) -> Result<Array> {
    let bad = |e: std::io::Error| Error::format(path, format!("not a readable .npy array: {e}"));
    let npy = NpyFile::new(reader).map_err(bad)?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = npy.order() == Order::Fortran;
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(Error::format(path, "structured arrays are not supported; save plain numeric arrays"));
    };
    let (kind, size) = (ts.type_char(), ts.size_field());
    let floats = |v: Vec<f32>| Array::F32(Tensor::from_vec(&shape, reorder(v, &shape, fortran)).expect("npy shape"));
    macro_rules! as_f32 {
        ($t:ty) => {
            floats(npy.into_vec::<$t>().map_err(bad)?.into_iter().map(|v| v as f32).collect())
        };
    }
    Ok(match (kind, size) {
        (TypeChar::Uint, 1) => {
            let v = reorder(npy.into_vec::<u8>().map_err(bad)?, &shape, fortran);
            Array::U8(U8Tensor::from_vec(&shape, v).expect("npy shape"))
        }
        (TypeChar::Bool, 1) => {
            floats(npy.into_vec::<bool>().map_err(bad)?.into_iter().map(|b| b as u8 as f32).collect())
        }
        (TypeChar::Int, 1) => as_f32!(i8),
        (TypeChar::Int, 2) => as_f32!(i16),
        (TypeChar::Int, 4) => as_f32!(i32),
        (TypeChar::Int, 8) => as_f32!(i64),
        (TypeChar::Uint, 2) => as_f32!(u16),
        (TypeChar::Uint, 4) => as_f32!(u32),
        (TypeChar::Uint, 8) => as_f32!(u64),
        (TypeChar::Float, 4) => as_f32!(f32),
        (TypeChar::Float, 8) => as_f32!(f64),
        _ => {
            return Err(Error::format(
                path,
                format!("dtype {ts} is not supported: expected uint8, another integer, bool, float32 or float64"),
            ))
        }
    })
}

/// Column-major (Fortran) values of an array of `shape` in row-major (C) order.
fn reorder<T: Copy>(v: Vec<T>, shape: &[usize], fortran: bool) -> Vec<T> {
    if !fortran || shape.len() < 2 {
        return v;
    }
    // f_stride[k]: the step in the column-major buffer for one step along axis k.
    let mut f_stride = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        f_stride[k] = f_stride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(v.len());
    for _ in 0..v.len() {
        out.push(v[idx.iter().zip(&f_stride).map(|(i, s)| i * s).sum::<usize>()]);
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// An open `.npz` archive: the names of its arrays, and each array on demand.
pub struct Npz {
    path: PathBuf,
    zip: zip::ZipArchive<BufReader<File>>,
}

impl Npz {
    /// Opens `path` as a zip of `.npy` members; arrays are read by [`Npz::array`].
    pub fn open(path: impl AsRef<Path>) -> Result<Npz> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let zip = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| Error::format(&path, format!("not a readable .npz (zip) archive: {e}")))?;
        Ok(Npz { path, zip })
    }

    /// The arrays' names (`x`, `y`: the members `x.npy`, `y.npy`), in the archive's order.
    pub fn names(&self) -> Vec<String> {
        let names = self.zip.file_names_raw().map(String::from_utf8_lossy);
        names.map(|n| n.strip_suffix(".npy").unwrap_or(&n).to_string()).collect()
    }

    /// The raw bytes of member `name.npy` (for dtypes [`Npz::array`] does not read, such as
    /// the object arrays of IMDB's `imdb.npz`); the error lists the arrays when there is none.
    pub fn member_bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let (names, path) = (self.names(), self.path.clone());
        let mut entry = self.zip.by_name(&format!("{name}.npy")).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => {
                Error::format(&path, format!("has no array named \"{name}\"; its arrays are: {}", names.join(", ")))
            }
            e => Error::format(&path, format!("cannot read array \"{name}\": {e}")),
        })?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::format(&path, format!("cannot read array \"{name}\": {e}")))?;
        Ok(bytes)
    }

    /// The array `name`; when there is none, the error lists the arrays the file has.
    pub fn array(&mut self, name: &str) -> Result<Array> {
        let member = format!("{name}.npy");
        let names = self.names();
        let path = self.path.clone();
        let entry = match self.zip.by_name(&member) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => {
                return Err(Error::format(
                    &path,
                    format!("has no array named \"{name}\"; its arrays are: {}", names.join(", ")),
                ))
            }
            Err(e) => return Err(Error::format(&path, format!("cannot read array \"{name}\": {e}"))),
        };
        parse_npy(BufReader::new(entry), &path.join(&member))
    }
}

/// A version-1.0 `.npy` file of dtype `descr` (`|u1`, `<f4`, ...): magic, header dict padded to
/// 64 bytes, then `data` as given (already in that dtype's bytes and order).
pub fn encode_npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// `arrays` (name, `.npy` bytes) as the bytes of an uncompressed `.npz` archive (`np.savez`).
pub fn encode_npz(arrays: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), opts).expect("writing to memory");
        std::io::Write::write_all(&mut zip, bytes).expect("writing to memory");
    }
    zip.finish().expect("writing to memory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Array> {
        parse_npy(bytes, Path::new("a.npy"))
    }

    #[test]
    fn reads_dtypes_and_orders() {
        let a = parse(&encode_npy("|u1", false, &[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(a, Array::U8(U8Tensor::from_vec(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap()));
        // Fortran order: the buffer holds columns [1, 4], [2, 5], [3, 6].
        let a = parse(&encode_npy("|u1", true, &[2, 3], &[1, 4, 2, 5, 3, 6])).unwrap();
        assert_eq!(a, Array::U8(U8Tensor::from_vec(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap()));
        let f64s: Vec<u8> = [0.5f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse(&encode_npy("<f8", false, &[2], &f64s)).unwrap().to_f32().data(), &[0.5, -2.0]);
        let i64s: Vec<u8> = [7i64, -3].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(parse(&encode_npy(">i8", false, &[2, 1], &i64s)).unwrap().to_f32().data(), &[7.0, -3.0]);
        let i32f: Vec<u8> = [1i32, 3, 5, 2, 4, 6].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse(&encode_npy("<i4", true, &[3, 2], &i32f)).unwrap();
        assert_eq!(a.to_f32().data(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // (2, 2, 2) in Fortran order: element (i, j, k) at i + 2j + 4k.
        let a = parse(&encode_npy("|u1", true, &[2, 2, 2], &[0, 4, 2, 6, 1, 5, 3, 7])).unwrap();
        assert_eq!(a.to_f32().data(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        let e = parse(&encode_npy("<c8", false, &[1], &[0; 8])).unwrap_err().to_string();
        assert_eq!(e, "a.npy: dtype <c8 is not supported: expected uint8, another integer, bool, float32 or float64");
        let e = parse(b"PK\x03\x04 not npy").unwrap_err().to_string();
        assert!(e.starts_with("a.npy: not a readable .npy array: "), "{e}");
        let e = parse(&encode_npy("<f4", false, &[4], &[0; 6])).unwrap_err().to_string();
        assert!(e.starts_with("a.npy: not a readable .npy array: "), "{e}");
    }

    #[test]
    fn npz_round_trip_and_missing_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.npz");
        let y: Vec<u8> = [1.5f32, 2.5].iter().flat_map(|v| v.to_le_bytes()).collect();
        let npz = encode_npz(&[
            ("x", encode_npy("|u1", false, &[2, 2], &[9, 8, 7, 6])),
            ("y", encode_npy("<f4", false, &[2], &y)),
        ]);
        std::fs::write(&path, npz).unwrap();
        let mut f = Npz::open(&path).unwrap();
        assert_eq!(f.names(), ["x", "y"]);
        assert_eq!(f.array("x").unwrap(), Array::U8(U8Tensor::from_vec(&[2, 2], vec![9, 8, 7, 6]).unwrap()));
        assert_eq!(f.array("y").unwrap().to_f32().data(), &[1.5, 2.5]);
        let e = f.array("labels").unwrap_err().to_string();
        assert_eq!(e, format!("{}: has no array named \"labels\"; its arrays are: x, y", path.display()));
        std::fs::write(&path, b"not a zip").unwrap();
        let e = Npz::open(&path).err().unwrap().to_string();
        assert!(e.starts_with(&format!("{}: not a readable .npz (zip) archive: ", path.display())), "{e}");
    }
}
