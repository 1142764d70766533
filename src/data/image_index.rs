//! Which files a folder of pictures holds, in Keras's order: `index_directory` and
//! `get_training_or_validation_split` of `keras.utils.image_dataset_from_directory`, so that the
//! same folder, split and seed give the same files in the same order and the same subsets.
//!
//! Keras lists the class folders (`sorted(os.listdir)`, hidden ones skipped), walks each one
//! recursively (`os.walk`, directories sorted by path, file names sorted), keeps the names whose
//! lower-cased form ends with an allowed extension, then shuffles the whole list with
//! `numpy.random.RandomState(seed).shuffle` and takes the last `int(split * n)` files for
//! validation.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::split::permutation;
use crate::error::{Error, Result};

/// The extensions Keras reads (`ALLOWLIST_FORMATS`), matched on the lower-cased file name.
pub const ALLOWLIST_FORMATS: [&str; 5] = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];

/// Where the labels come from (Keras's `labels` argument).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Labels {
    /// One subfolder per class, named after it.
    #[default]
    Inferred,
    /// One integer label per file, in the sorted order of the files' paths; the class names are
    /// the distinct labels, sorted.
    Given(Vec<usize>),
    /// Pictures only.
    None,
}

/// Which part of a split to return (Keras's `subset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subset {
    /// The first `1 - validation_split` of the shuffled files.
    Training,
    /// The last `validation_split` of the shuffled files.
    Validation,
    /// Both subsets.
    Both,
}

impl Subset {
    /// Keras's words: "training", "validation", "both".
    pub fn parse(s: &str) -> Result<Subset> {
        match s {
            "training" => Ok(Subset::Training),
            "validation" => Ok(Subset::Validation),
            "both" => Ok(Subset::Both),
            _ => Err(Error::value(format!(
                "`subset` must be either \"training\", \"validation\" or \"both\", received: {s}"
            ))),
        }
    }
}

/// The files of a folder in Keras's order, paths relative to the folder (`cat/img_1.png`),
/// each with its class index unless the labels are [`Labels::None`].
#[derive(Clone, Debug, PartialEq)]
pub struct FileIndex {
    /// Paths relative to the folder, in Keras's order.
    pub file_paths: Vec<PathBuf>,
    /// Each file's class index, unless the labels are [`Labels::None`].
    pub labels: Option<Vec<usize>>,
    /// Class names; index `i` is label `i`.
    pub class_names: Vec<String>,
}

/// `index_directory(directory, labels, formats, class_names, shuffle, seed)`.
pub fn index_directory(
    dir: &Path,
    labels: &Labels,
    class_names: Option<&[String]>,
    shuffle: bool,
    seed: u32,
) -> Result<FileIndex> {
    if !dir.is_dir() {
        return Err(Error::value(format!("{}: no such directory", dir.display())));
    }
    let subdirs = match labels {
        Labels::Inferred => class_folders(dir, class_names)?,
        _ if class_names.is_some() => {
            return Err(Error::value("class names can only be given with labels inferred from the folders"))
        }
        _ => vec![String::new()],
    };
    let mut file_paths = Vec::new();
    let mut inferred = Vec::new();
    for (class, sub) in subdirs.iter().enumerate() {
        let files = walk_sorted(&dir.join(sub), Path::new(sub))?;
        inferred.extend(std::iter::repeat_n(class, files.len()));
        file_paths.extend(files);
    }
    let (mut labels, class_names) = match labels {
        Labels::Inferred => (Some(inferred), subdirs),
        Labels::None => (None, Vec::new()),
        Labels::Given(given) => (Some(given.clone()), given_class_names(given, file_paths.len(), dir)?),
    };
    if shuffle {
        let p = permutation(file_paths.len(), seed);
        file_paths = p.iter().map(|&i| file_paths[i].clone()).collect();
        labels = labels.map(|l| p.iter().map(|&i| l[i]).collect());
    }
    Ok(FileIndex { file_paths, labels, class_names })
}

/// The class folders in alphanumeric order (hidden ones skipped), or the `given` ones in their
/// order, each of which must exist.
fn class_folders(dir: &Path, given: Option<&[String]>) -> Result<Vec<String>> {
    let mut names: Vec<OsString> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.path().is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            names.push(entry.file_name());
        }
    }
    names.sort();
    let names: Vec<String> = names.into_iter().map(|n| n.to_string_lossy().into_owned()).collect();
    match given {
        None => Ok(names),
        Some(given) if given.iter().all(|g| names.contains(g)) => Ok(given.to_vec()),
        Some(given) => Err(Error::value(format!(
            "{}: the class names given do not match the folder's subfolders: expected {names:?} (or a subset), \
             received {given:?}",
            dir.display()
        ))),
    }
}

/// Keras's class names for given labels: the distinct labels, sorted, as strings. Labels must
/// count from 0 without gaps, so that label `i` names class `i`.
fn given_class_names(given: &[usize], n_files: usize, dir: &Path) -> Result<Vec<String>> {
    if given.len() != n_files {
        return Err(Error::value(format!(
            "expected one label per picture: {} labels were given, but {} holds {n_files} pictures",
            given.len(),
            dir.display()
        )));
    }
    let mut distinct = given.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if let Some((i, &l)) = distinct.iter().enumerate().find(|(i, &l)| *i != l) {
        return Err(Error::value(format!("labels must be 0, 1, 2, … without gaps; label {i} is missing before {l}")));
    }
    Ok(distinct.iter().map(usize::to_string).collect())
}

/// The pictures under `root`, recursively, as `os.walk` sorted by directory path and then by
/// file name gives them, each as `prefix/relative path`.
fn walk_sorted(root: &Path, prefix: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = vec![(root.to_path_buf(), Vec::<PathBuf>::new())];
    let mut i = 0;
    while i < dirs.len() {
        let (dir, _) = dirs[i].clone();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            // os.walk descends into real directories only; a link to a directory is neither
            // walked nor a file.
            if kind.is_dir() {
                dirs.push((entry.path(), Vec::new()));
            } else if !(kind.is_symlink() && entry.path().is_dir()) && is_picture_name(&entry.file_name()) {
                files.push(entry.file_name().into());
            }
        }
        files.sort();
        dirs[i].1 = files;
        i += 1;
    }
    // Python sorts the walk by the directory's path string: byte order, as OsStr compares.
    dirs.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    let mut out = Vec::new();
    for (dir, files) in dirs {
        let rel = dir.strip_prefix(root).expect("walked below root");
        out.extend(files.into_iter().map(|f| prefix.join(rel).join(f)));
    }
    Ok(out)
}

/// Whether the lower-cased name ends with one of [`ALLOWLIST_FORMATS`].
pub fn is_picture_name(name: &std::ffi::OsStr) -> bool {
    let lower = name.to_string_lossy().to_lowercase();
    ALLOWLIST_FORMATS.iter().any(|ext| lower.ends_with(ext))
}

/// `get_training_or_validation_split`: the first `n - int(split * n)` items for training, the
/// last `int(split * n)` for validation. As in Keras, a split that rounds to zero files leaves
/// the training subset empty (Python's `items[:-0]`).
pub fn training_or_validation<T: Clone>(items: &[T], validation_split: f64, subset: Subset) -> Vec<T> {
    let n_val = (validation_split * items.len() as f64) as usize;
    let cut = if n_val == 0 { 0 } else { items.len() - n_val };
    match subset {
        Subset::Training => items[..cut].to_vec(),
        Subset::Validation => items[cut..].to_vec(),
        Subset::Both => items.to_vec(),
    }
}

/// Keras's checks of `validation_split` and `subset` together.
pub fn check_validation_split(validation_split: Option<f64>, subset: Option<Subset>) -> Result<()> {
    if let Some(s) = validation_split {
        if !(s > 0.0 && s < 1.0) {
            return Err(Error::value(format!("`validation_split` must be between 0 and 1, received: {s}")));
        }
    }
    if validation_split.is_some() != subset.is_some() {
        return Err(Error::value("If `subset` is set, `validation_split` must be set, and inversely."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn walks_like_os_walk_sorted_and_filters_extensions() {
        let t = tempfile::tempdir().unwrap();
        for f in [
            "b/z.png",
            "b/A.JPG",
            "b/sub/c.gif",
            "b/sub b/d.bmp",
            "b/sub/deeper/g.png",
            "b/x.txt",
            "a/e.jpeg",
            ".hidden/f.png",
        ] {
            touch(t.path(), f);
        }
        std::fs::create_dir(t.path().join("empty")).unwrap();
        let idx = index_directory(t.path(), &Labels::Inferred, None, false, 0).unwrap();
        assert_eq!(idx.class_names, ["a", "b", "empty"]);
        let paths: Vec<String> = idx.file_paths.iter().map(|p| p.display().to_string()).collect();
        // Directories sort by their path strings: "b/sub" < "b/sub b" < "b/sub/deeper" (' ' < '/').
        assert_eq!(paths, ["a/e.jpeg", "b/A.JPG", "b/z.png", "b/sub/c.gif", "b/sub b/d.bmp", "b/sub/deeper/g.png"]);
        assert_eq!(idx.labels.unwrap(), [0, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn given_labels_and_class_names() {
        let t = tempfile::tempdir().unwrap();
        for f in ["b/1.png", "a/2.png", "a/1.png"] {
            touch(t.path(), f);
        }
        let names = ["b".to_string(), "a".to_string()];
        let idx = index_directory(t.path(), &Labels::Inferred, Some(&names), false, 0).unwrap();
        assert_eq!(idx.file_paths, [PathBuf::from("b/1.png"), "a/1.png".into(), "a/2.png".into()]);
        assert_eq!(idx.labels.unwrap(), [0, 1, 1]);
        let idx = index_directory(t.path(), &Labels::Given(vec![1, 0, 1]), None, false, 0).unwrap();
        assert_eq!(idx.file_paths, [PathBuf::from("a/1.png"), "a/2.png".into(), "b/1.png".into()]);
        assert_eq!(idx.class_names, ["0", "1"]);
        let e = index_directory(t.path(), &Labels::Given(vec![1, 0]), None, false, 0).unwrap_err().to_string();
        assert!(e.starts_with("expected one label per picture: 2 labels were given, but "), "{e}");
        let e = index_directory(t.path(), &Labels::Given(vec![0, 2, 2]), None, false, 0).unwrap_err().to_string();
        assert_eq!(e, "labels must be 0, 1, 2, … without gaps; label 1 is missing before 2");
        let bad = ["c".to_string()];
        let e = index_directory(t.path(), &Labels::Inferred, Some(&bad), false, 0).unwrap_err().to_string();
        assert!(e.ends_with("expected [\"a\", \"b\"] (or a subset), received [\"c\"]"), "{e}");
    }

    #[test]
    fn splits_as_python_slices() {
        let v: Vec<usize> = (0..10).collect();
        assert_eq!(training_or_validation(&v, 0.25, Subset::Training), (0..8).collect::<Vec<_>>());
        assert_eq!(training_or_validation(&v, 0.25, Subset::Validation), [8, 9]);
        assert!(training_or_validation(&v, 0.05, Subset::Training).is_empty());
        assert_eq!(training_or_validation(&v, 0.05, Subset::Validation).len(), 10);
        assert!(check_validation_split(Some(0.2), None).is_err());
        let e = check_validation_split(Some(1.5), Some(Subset::Both)).unwrap_err().to_string();
        assert_eq!(e, "`validation_split` must be between 0 and 1, received: 1.5");
        assert_eq!(Subset::parse("both").unwrap(), Subset::Both);
    }
}
