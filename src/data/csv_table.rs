//! A CSV table for training: a header row, numeric feature columns and one named target column.
//! String targets become class indices (names sorted, as scikit-learn's `LabelEncoder` orders
//! them); numeric targets must be class indices 0, 1, 2, …. Missing values and non-numbers are
//! errors that give the line and the column; nothing is guessed.

use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Features `x` `(rows, columns)`, targets `y` `(rows,)` as class indices, and the names.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    /// The feature columns, `(rows, columns)`, in file order.
    pub x: Tensor,
    /// The target column as class indices (or its numbers), `(rows,)`.
    pub y: Tensor,
    /// The header's names of the feature columns.
    pub feature_names: Vec<String>,
    /// The target's distinct strings, sorted; index `i` of `y` is `class_names[i]` (empty for a numeric target).
    pub class_names: Vec<String>,
}

/// Reads `path` with `target` as the label column.
pub fn read_csv(path: impl AsRef<Path>, target: &str) -> Result<CsvTable> {
    let path = path.as_ref();
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_csv(&text, target, path)
}

/// Parses CSV content; errors name `path`, the line (counting from 1, the header's is 1) and
/// the column (1-based, with its name).
pub fn parse_csv(content: &[u8], target: &str, path: &Path) -> Result<CsvTable> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(content);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::format(path, format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.len() < 2 || header.iter().all(String::is_empty) {
        return Err(Error::format(path, "expected a header row naming at least two columns"));
    }
    let t = header.iter().position(|h| h == target).ok_or_else(|| {
        Error::format(path, format!("no column named \"{target}\"; the columns are: {}", header.join(", ")))
    })?;
    let mut x = Vec::new();
    let mut targets = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::format(path, format!("cannot read a row: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if record.len() != header.len() {
            return Err(Error::format(
                path,
                format!("line {line}: expected {} fields as in the header, found {}", header.len(), record.len()),
            ));
        }
        for (c, field) in record.iter().enumerate() {
            let field = field.trim();
            let at = || format!("line {line}, column {} (\"{}\")", c + 1, header[c]);
            if field.is_empty() || field.eq_ignore_ascii_case("na") || field.eq_ignore_ascii_case("nan") {
                return Err(Error::format(path, format!("{}: missing value", at())));
            }
            if c == t {
                targets.push(field.to_string());
            } else {
                let v: f32 = field
                    .parse()
                    .map_err(|_| Error::format(path, format!("{}: expected a number, received \"{field}\"", at())))?;
                x.push(v);
            }
        }
    }
    let rows = targets.len();
    if rows == 0 {
        return Err(Error::format(path, "the table has a header but no rows"));
    }
    let (y, class_names) = encode_targets(&targets, path, target)?;
    let mut feature_names = header;
    feature_names.remove(t);
    Ok(CsvTable {
        x: Tensor::from_vec(&[rows, feature_names.len()], x)?,
        y: Tensor::from_vec(&[rows], y)?,
        feature_names,
        class_names,
    })
}

/// Class indices for the target column: the sorted distinct strings when any is not a number,
/// else the numbers themselves, which must be whole and count from 0.
fn encode_targets(targets: &[String], path: &Path, column: &str) -> Result<(Vec<f32>, Vec<String>)> {
    let numbers: Option<Vec<f64>> = targets.iter().map(|s| s.parse::<f64>().ok()).collect();
    match numbers {
        None => {
            let mut names = targets.to_vec();
            names.sort();
            names.dedup();
            let y = targets.iter().map(|s| names.binary_search(s).expect("a name") as f32).collect();
            Ok((y, names))
        }
        Some(v) => {
            if let Some((i, bad)) = v.iter().enumerate().find(|(_, &v)| v < 0.0 || v.fract() != 0.0 || v > 1e6) {
                return Err(Error::format(
                    path,
                    format!(
                        "target column \"{column}\", row {}: expected a class index 0, 1, 2, … or a class name, received {bad}",
                        i + 1
                    ),
                ));
            }
            let k = v.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1;
            Ok((v.iter().map(|&v| v as f32).collect(), (0..k).map(|i| i.to_string()).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, target: &str) -> Result<CsvTable> {
        parse_csv(text.as_bytes(), target, Path::new("t.csv"))
    }

    #[test]
    fn reads_numbers_and_class_names() {
        let t = parse("a,species,b\n1.5,setosa,2\n-3,virginica,4e1\n0,setosa,0\n", "species").unwrap();
        assert_eq!(t.x.shape(), &[3, 2]);
        assert_eq!(t.x.data(), &[1.5, 2.0, -3.0, 40.0, 0.0, 0.0]);
        assert_eq!(t.y.data(), &[0.0, 1.0, 0.0]);
        assert_eq!(t.class_names, ["setosa", "virginica"]);
        assert_eq!(t.feature_names, ["a", "b"]);
        let t = parse("x,label\n1,2\n3,0\n", "label").unwrap();
        assert_eq!(t.class_names, ["0", "1", "2"]);
        assert_eq!(t.y.data(), &[2.0, 0.0]);
    }

    #[test]
    fn errors_give_line_and_column() {
        let e = parse("a,b,y\n1,2,0\n3,4\n", "y").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 3: expected 3 fields as in the header, found 2");
        let e = parse("a,b,y\n1,2,0\n3,x4,1\n", "y").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 3, column 2 (\"b\"): expected a number, received \"x4\"");
        let e = parse("a,b,y\n1,,0\n", "y").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2, column 2 (\"b\"): missing value");
        let e = parse("a,b,y\n1,2,NaN\n", "y").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2, column 3 (\"y\"): missing value");
        let e = parse("a,b,y\n1,2,0\n", "class").unwrap_err().to_string();
        assert_eq!(e, "t.csv: no column named \"class\"; the columns are: a, b, y");
        let e = parse("a,y\n1,0.5\n", "y").unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv: target column \"y\", row 1: expected a class index 0, 1, 2, … or a class name, received 0.5"
        );
        let e = parse("a,y\n", "y").unwrap_err().to_string();
        assert_eq!(e, "t.csv: the table has a header but no rows");
    }
}
