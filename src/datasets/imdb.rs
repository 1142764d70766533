//! IMDB movie reviews (binary sentiment) as `keras.datasets.imdb.load_data()` returns them:
//! lists of word ids, shuffled with NumPy's `RandomState(113)`, marked with `start_char`,
//! shifted by `index_from`, filtered by `maxlen` and cut to `num_words` / `skip_top` with
//! `oov_char`, exactly as keras/src/datasets/imdb.py. Read from the file Keras downloads,
//! `imdb.npz` (object arrays of pickled lists), checked against Keras's SHA-256.

use std::path::Path;

use super::keras_file::{verify_stored, KerasFileOptions};
use super::pickle::{self, Value};
use super::{DatasetFile, Source};
use crate::data::{permutations, Array, Npz};
use crate::error::{Error, Result};

/// The file and Keras's SHA-256 of it.
pub const FILE: (&str, &str) = ("imdb.npz", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f");
/// The word index Keras publishes beside it (word -> rank, 1 the most frequent).
pub const WORD_INDEX_FILE: &str = "imdb_word_index.json";
/// Where Keras downloads it from.
pub const MIRROR: &str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets";
/// Label `i`'s meaning.
pub const CLASS_NAMES: [&str; 2] = ["negative", "positive"];

/// Reviews as lists of word ids, and their labels (0 negative, 1 positive).
pub type Reviews = (Vec<Vec<i64>>, Vec<u8>);

/// `load_data`'s arguments, Keras's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ImdbOptions {
    /// Keep the `num_words` most frequent ids (ids >= it become `oov_char`); `None`: all.
    pub num_words: Option<i64>,
    /// Ids below it become `oov_char` too.
    pub skip_top: i64,
    /// Drop reviews of `maxlen` ids or more (after `start_char` is added), as Keras does.
    pub maxlen: Option<usize>,
    /// The shuffle's seed (113).
    pub seed: u32,
    /// Put in front of every review (1); `None`: nothing.
    pub start_char: Option<i64>,
    /// What cut words become (2); `None`: they are removed.
    pub oov_char: Option<i64>,
    /// Added to every word id (3).
    pub index_from: i64,
}

impl Default for ImdbOptions {
    fn default() -> Self {
        ImdbOptions {
            num_words: None,
            skip_top: 0,
            maxlen: None,
            seed: 113,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
        }
    }
}

/// The default places (user directory, kiln's cache, `~/.keras/datasets`) and download.
pub fn options() -> KerasFileOptions {
    KerasFileOptions::new("imdb", DatasetFile::stored(FILE.0, FILE.1), MIRROR)
}

/// `keras.datasets.imdb.load_data(...)`: `((x_train, y_train), (x_test, y_test))`.
pub fn load_data(opts: &ImdbOptions) -> Result<(Reviews, Reviews)> {
    load(&options(), opts).map(|(d, _)| d)
}

/// [`load_data`] from explicit places, and where the file was found.
pub fn load(file: &KerasFileOptions, opts: &ImdbOptions) -> Result<((Reviews, Reviews), Source)> {
    file.run("IMDB", |path| {
        verify_stored(path, &file.file)?;
        prepare(read_npz(path)?, opts).map_err(|e| match e {
            Error::Value(m) => Error::format(path, m),
            e => e,
        })
    })
}

/// The four arrays of an `imdb.npz` as stored (before any of `load_data`'s processing).
pub fn read_npz(path: &Path) -> Result<(Reviews, Reviews)> {
    let mut npz = Npz::open(path)?;
    let mut part = |x: &str, y: &str| -> Result<Reviews> {
        let xs = sequences(&npz.member_bytes(x)?, &path.join(format!("{x}.npy")))?;
        let labels = match npz.array(y)? {
            Array::U8(t) => t.data().to_vec(),
            Array::F32(t) => t.data().iter().map(|&v| v as u8).collect(),
        };
        if labels.len() != xs.len() {
            return Err(Error::format(path, format!("{x} has {} reviews but {y} {} labels", xs.len(), labels.len())));
        }
        Ok((xs, labels))
    };
    Ok((part("x_train", "y_train")?, part("x_test", "y_test")?))
}

/// An `.npy` object array of integer lists (`np.save` of Keras's `x_train`): the header says
/// dtype `|O`, the rest is a pickle of the array.
fn sequences(npy: &[u8], path: &Path) -> Result<Vec<Vec<i64>>> {
    let bad = |m: &str| Error::format(path, m.to_string());
    if npy.len() < 10 || &npy[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array (no \\x93NUMPY magic)"));
    }
    let (len, start) = match npy[6] {
        1 => (u16::from_le_bytes([npy[8], npy[9]]) as usize, 10),
        _ if npy.len() >= 12 => (u32::from_le_bytes([npy[8], npy[9], npy[10], npy[11]]) as usize, 12),
        _ => return Err(bad("the .npy header is cut short")),
    };
    let header = npy.get(start..start + len).ok_or_else(|| bad("the .npy header is cut short"))?;
    if !String::from_utf8_lossy(header).contains("'descr': '|O'") {
        return Err(bad("expected an object array of word-id lists (dtype |O), as Keras's imdb.npz holds"));
    }
    let Value::Objects { items, .. } = pickle::parse(&npy[start + len..], path)? else {
        return Err(bad("the pickle does not hold a NumPy object array"));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Ints(ids) => Ok(ids),
            Value::List(l) if l.is_empty() => Ok(Vec::new()),
            _ => Err(Error::format(path, format!("review {i} is not a list of integers"))),
        })
        .collect()
}

/// `load_data`'s processing of the stored arrays, step by step as Keras's.
pub fn prepare(raw: (Reviews, Reviews), opts: &ImdbOptions) -> Result<(Reviews, Reviews)> {
    let ((x_train, y_train), (x_test, y_test)) = raw;
    let perms = permutations(&[x_train.len(), x_test.len()], opts.seed);
    let shuffle = |x: Vec<Vec<i64>>, y: Vec<u8>, p: &[usize]| {
        let x: Vec<Vec<i64>> = p.iter().map(|&i| x[i].clone()).collect();
        (x, p.iter().map(|&i| y[i]).collect::<Vec<u8>>())
    };
    let (mut x_train, mut y_train) = shuffle(x_train, y_train, &perms[0]);
    let (mut x_test, mut y_test) = shuffle(x_test, y_test, &perms[1]);
    for x in x_train.iter_mut().chain(x_test.iter_mut()) {
        x.iter_mut().for_each(|w| *w += opts.index_from);
        if let Some(start) = opts.start_char {
            x.insert(0, start);
        }
    }
    if let Some(maxlen) = opts.maxlen.filter(|&m| m > 0) {
        // Keras's remove_long_seq keeps sequences strictly shorter than maxlen.
        let keep = |x: Vec<Vec<i64>>, y: Vec<u8>| -> (Vec<Vec<i64>>, Vec<u8>) {
            x.into_iter().zip(y).filter(|(s, _)| s.len() < maxlen).unzip()
        };
        (x_train, y_train) = keep(x_train, y_train);
        (x_test, y_test) = keep(x_test, y_test);
        if x_train.is_empty() || x_test.is_empty() {
            return Err(Error::value(format!(
                "After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )));
        }
    }
    let num_words = match opts.num_words.filter(|&n| n != 0) {
        Some(n) => n,
        None => x_train.iter().chain(&x_test).filter_map(|x| x.iter().max()).max().copied().unwrap_or(0),
    };
    for x in x_train.iter_mut().chain(x_test.iter_mut()) {
        let kept = |w: i64| opts.skip_top <= w && w < num_words;
        match opts.oov_char {
            Some(oov) => x.iter_mut().filter(|w| !kept(**w)).for_each(|w| *w = oov),
            None => x.retain(|&w| kept(w)),
        }
    }
    Ok(((x_train, y_train), (x_test, y_test)))
}

/// `keras.datasets.imdb.get_word_index()`: word -> rank (1 the most frequent; add
/// `index_from` to match `load_data`'s ids), read from `imdb_word_index.json` in the places
/// [`options`] looks in (user directory, kiln's cache, `~/.keras/datasets`).
pub fn get_word_index() -> Result<Vec<(String, i64)>> {
    let opts = options();
    let dirs = [opts.data_dir, opts.cache_dir, opts.keras_dir];
    let Some(path) = dirs.into_iter().flatten().map(|d| d.join(WORD_INDEX_FILE)).find(|p| p.is_file()) else {
        return Err(Error::value(format!(
            "{WORD_INDEX_FILE} was not found in the data directory (--data-dir or KILN_DATA_DIR), kiln's cache \
             or ~/.keras/datasets; Keras publishes it at {MIRROR}/{WORD_INDEX_FILE}"
        )));
    };
    read_word_index(&path)
}

/// A word index file: a JSON object of word -> rank, in the file's order.
pub fn read_word_index(path: &Path) -> Result<Vec<(String, i64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::format(path, format!("not valid JSON: {e}")))?;
    let map = json.as_object().ok_or_else(|| Error::format(path, "expected a JSON object of word -> rank"))?;
    map.iter()
        .map(|(w, r)| match r.as_i64() {
            Some(r) => Ok((w.clone(), r)),
            None => Err(Error::format(path, format!("word {w:?}: expected an integer rank, found {r}"))),
        })
        .collect()
}

/// `reviews` as the `.npy` bytes `np.save` writes for an object array of Python int lists
/// (pickle protocol 2), the format of `imdb.npz`'s `x_train` and `x_test`: for fixture files.
pub fn encode_reviews_npy(reviews: &[Vec<i64>]) -> Vec<u8> {
    let mut p = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02U\x01bq\x03\x87q\x04Rq\x05(K\x01".to_vec();
    p.extend(b"J");
    p.extend((reviews.len() as u32).to_le_bytes());
    p.extend(b"\x85cnumpy\ndtype\nq\x06U\x02O8K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89](");
    for r in reviews {
        p.extend(b"](");
        for &w in r {
            p.push(b'J');
            p.extend((w as i32).to_le_bytes());
        }
        p.push(b'e');
    }
    p.extend(b"etb.");
    let header = format!("{{'descr': '|O', 'fortran_order': False, 'shape': ({},), }}", reviews.len());
    let mut out = crate::data::encode_npy("|O", false, &[reviews.len()], &[]);
    debug_assert!(String::from_utf8_lossy(&out).contains(&header));
    out.extend(p);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> (Reviews, Reviews) {
        let train = vec![vec![1, 2, 3], vec![4, 5], vec![6], vec![7, 8, 9, 10]];
        ((train, vec![0, 1, 0, 1]), (vec![vec![11, 1], vec![2]], vec![1, 0]))
    }

    #[test]
    fn a_pickled_object_array_reads_back() {
        let reviews = vec![vec![1, 14, 22, 70000], vec![], vec![5]];
        let npy = encode_reviews_npy(&reviews);
        assert_eq!(sequences(&npy, Path::new("x.npy")).unwrap(), reviews);
        let e = sequences(&crate::data::encode_npy("<i8", false, &[0], &[]), Path::new("x.npy")).unwrap_err();
        assert!(e.to_string().contains("expected an object array of word-id lists (dtype |O)"), "{e}");
    }

    #[test]
    fn start_index_and_oov_as_keras() {
        // Both sets are shuffled by one RandomState(113) in turn (its permutations are checked
        // against numpy's in data::split); the expectations below are per original review.
        let p = permutations(&[4, 2], 113);
        let order = |v: &[Vec<i64>], p: &[usize]| p.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        // +3, a 1 in front, then ids outside 5..8 become 2.
        let opts = ImdbOptions { num_words: Some(8), skip_top: 5, ..ImdbOptions::default() };
        let ((x, y), (xt, yt)) = prepare(raw(), &opts).unwrap();
        let want = [vec![2, 2, 5, 6], vec![2, 7, 2], vec![2, 2], vec![2, 2, 2, 2, 2]];
        assert_eq!(x, order(&want, &p[0]));
        assert_eq!(y, p[0].iter().map(|&i| [0, 1, 0, 1][i]).collect::<Vec<u8>>());
        assert_eq!(xt, order(&[vec![2, 2, 2], vec![2, 5]], &p[1]));
        assert_eq!(yt, p[1].iter().map(|&i| [1, 0][i]).collect::<Vec<u8>>());
        // Reviews of maxlen ids or more dropped; without num_words the largest id (11) is the
        // bound, itself excluded, and without oov_char cut ids are removed.
        let opts =
            ImdbOptions { maxlen: Some(3), start_char: None, oov_char: None, index_from: 0, ..ImdbOptions::default() };
        let ((x, _), (xt, _)) = prepare(raw(), &opts).unwrap();
        let kept: Vec<usize> = p[0].iter().copied().filter(|&i| i == 1 || i == 2).collect();
        assert_eq!(x, order(&[vec![], vec![4, 5], vec![6], vec![]], &kept));
        assert_eq!(xt, order(&[vec![1], vec![2]], &p[1]));
        let e = prepare(raw(), &ImdbOptions { maxlen: Some(1), ..ImdbOptions::default() }).unwrap_err();
        assert_eq!(
            e.to_string(),
            "After filtering for sequences shorter than maxlen=1, no sequence was kept. Increase maxlen."
        );
    }
}
