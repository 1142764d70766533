//! The few HDF5 operations Keras files need, through the HDF5 library: string attributes (as
//! h5py writes them, or as older Keras wrote fixed-length ones), f32 datasets, groups. Every
//! error names the file and the object.

use std::path::{Path, PathBuf};

use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An open HDF5 file and the path to name in errors (the `.keras` file for its weights).
pub(crate) struct H5 {
    pub file: hdf5::File,
    pub shown: PathBuf,
}

/// The HDF5 file signature, at byte 0 of the files Keras writes.
pub(crate) const SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

impl H5 {
    /// Opens `path` for reading; `shown` is the path errors name.
    pub fn open(path: &Path, shown: &Path) -> Result<H5> {
        let file = hdf5::File::open(path)
            .map_err(|e| Error::format(shown, format!("not a readable HDF5 file (truncated or corrupt?): {e}")))?;
        Ok(H5 { file, shown: shown.to_path_buf() })
    }

    pub fn create(path: &Path, shown: &Path) -> Result<H5> {
        let file =
            hdf5::File::create(path).map_err(|e| Error::format(shown, format!("cannot create HDF5 file: {e}")))?;
        Ok(H5 { file, shown: shown.to_path_buf() })
    }

    /// An error about `what` in this file.
    pub fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::format(&self.shown, what.to_string())
    }

    pub fn group(&self, name: &str) -> Result<hdf5::Group> {
        self.file.group(name).map_err(|e| self.err(format!("no group '{name}': {e}")))
    }

    pub fn has(&self, name: &str) -> bool {
        self.file.link_exists(name)
    }

    /// The strings of attribute `name` of `loc` (one for a scalar), or None when it is absent.
    pub fn strings(&self, loc: &hdf5::Location, name: &str) -> Result<Option<Vec<String>>> {
        if !loc.attr_names().map_err(|e| self.err(e))?.iter().any(|n| n == name) {
            return Ok(None);
        }
        let where_ = format!("attribute '{name}' of '{}'", loc.name());
        let bad = |e: hdf5::Error| self.err(format!("{where_}: {e}"));
        let attr = loc.attr(name).map_err(bad)?;
        if attr.size() == 0 {
            return Ok(Some(Vec::new()));
        }
        let strings = match attr.dtype().and_then(|t| t.to_descriptor()).map_err(bad)? {
            TypeDescriptor::VarLenUnicode => {
                attr.read_raw::<VarLenUnicode>().map_err(bad)?.iter().map(|s| s.to_string()).collect()
            }
            TypeDescriptor::VarLenAscii => {
                attr.read_raw::<VarLenAscii>().map_err(bad)?.iter().map(|s| s.to_string()).collect()
            }
            TypeDescriptor::FixedAscii(_) => {
                attr.read_raw::<FixedAscii<4096>>().map_err(bad)?.iter().map(|s| s.to_string()).collect()
            }
            TypeDescriptor::FixedUnicode(_) => {
                attr.read_raw::<FixedUnicode<4096>>().map_err(bad)?.iter().map(|s| s.to_string()).collect()
            }
            other => return Err(self.err(format!("{where_}: expected strings, found {other:?}"))),
        };
        Ok(Some(strings))
    }

    /// Dataset `name` (a path from the root) as an f32 tensor.
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let bad = |e: hdf5::Error| self.err(format!("dataset '{name}': {e}"));
        let ds = self.file.dataset(name).map_err(bad)?;
        let shape = ds.shape();
        match ds.dtype().and_then(|t| t.to_descriptor()).map_err(bad)? {
            TypeDescriptor::Float(_) => {}
            other => return Err(self.err(format!("dataset '{name}' holds {other:?}, expected floating-point weights"))),
        }
        let data = ds.read_raw::<f32>().map_err(bad)?;
        Tensor::from_vec(&shape, data).map_err(|e| self.err(format!("dataset '{name}': {e}")))
    }

    /// Writes `t` as dataset `name` of `group`.
    pub fn write_tensor(&self, group: &hdf5::Group, name: &str, t: &Tensor) -> Result<()> {
        let bad = |e: hdf5::Error| self.err(format!("writing dataset '{name}': {e}"));
        let ds = group.new_dataset::<f32>().shape(t.shape()).create(name).map_err(bad)?;
        ds.write_raw(t.data()).map_err(bad)
    }

    /// Writes a variable-length UTF-8 string attribute (what h5py writes for a `str`).
    pub fn write_string(&self, loc: &hdf5::Location, name: &str, value: &str) -> Result<()> {
        let bad = |e: hdf5::Error| self.err(format!("writing attribute '{name}': {e}"));
        let v: VarLenUnicode = value.parse().map_err(|e| self.err(format!("attribute '{name}': {e}")))?;
        loc.new_attr::<VarLenUnicode>().shape(()).create(name).map_err(bad)?.write_scalar(&v).map_err(bad)
    }

    /// Writes a 1-D attribute of variable-length UTF-8 strings.
    pub fn write_strings(&self, loc: &hdf5::Location, name: &str, values: &[String]) -> Result<()> {
        let bad = |e: hdf5::Error| self.err(format!("writing attribute '{name}': {e}"));
        let mut v = Vec::with_capacity(values.len());
        for s in values {
            v.push(s.parse::<VarLenUnicode>().map_err(|e| self.err(format!("attribute '{name}': {e}")))?);
        }
        let attr = loc.new_attr::<VarLenUnicode>().shape(values.len()).create(name).map_err(bad)?;
        if !v.is_empty() {
            attr.write_raw(&v).map_err(bad)?;
        }
        Ok(())
    }

    pub fn create_group(&self, parent: &hdf5::Group, name: &str) -> Result<hdf5::Group> {
        parent.create_group(name).map_err(|e| self.err(format!("creating group '{name}': {e}")))
    }
}
