//! Keras's `pad_sequences` and `to_categorical` (keras/src/utils/sequence_utils.py,
//! numerical_utils.py), with the same semantics, giving kiln's `f32` tensors.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which end of a sequence `pad_sequences` pads or cuts: Keras's "pre" (the default) or "post".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Side {
    /// At the start.
    #[default]
    Pre,
    /// At the end.
    Post,
}

impl Side {
    /// Parses Keras's "pre" or "post"; `what` ("padding", "truncating") names the option in the
    /// error, as Keras's does.
    pub fn parse(s: &str, what: &str) -> Result<Side> {
        match s {
            "pre" => Ok(Side::Pre),
            "post" => Ok(Side::Post),
            other => Err(Error::value(format!("{what} type \"{other}\" not understood; expected \"pre\" or \"post\""))),
        }
    }
}

/// `pad_sequences`' options, Keras's defaults: the longest length, pad and cut at the start,
/// pad with 0.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PadOptions {
    /// The length of every output row; `None`: the longest sequence's.
    pub maxlen: Option<usize>,
    /// Where short sequences get `value`s.
    pub padding: Side,
    /// Which end of a long sequence is dropped.
    pub truncating: Side,
    /// The padding value.
    pub value: f32,
}

/// Keras's `pad_sequences`: a (sequences, maxlen) tensor of `sequences`, each cut to `maxlen`
/// (keeping its end with `truncating = Pre`, its start with `Post`) and padded with `value` at
/// its start (`padding = Pre`) or end. An empty sequence is all padding. Values must fit an
/// `f32` exactly (ids below 2^24).
pub fn pad_sequences<S: AsRef<[i64]>>(sequences: &[S], opts: &PadOptions) -> Tensor {
    let maxlen = opts.maxlen.unwrap_or_else(|| sequences.iter().map(|s| s.as_ref().len()).max().unwrap_or(0));
    let mut out = vec![opts.value; sequences.len() * maxlen];
    for (row, s) in out.chunks_exact_mut(maxlen.max(1)).zip(sequences) {
        let s = s.as_ref();
        let keep = s.len().min(maxlen);
        let trunc = match opts.truncating {
            Side::Pre => &s[s.len() - keep..],
            Side::Post => &s[..keep],
        };
        let dst = match opts.padding {
            Side::Pre => &mut row[maxlen - keep..],
            Side::Post => &mut row[..keep],
        };
        dst.iter_mut().zip(trunc).for_each(|(d, &v)| *d = v as f32);
    }
    Tensor::from_vec(&[sequences.len(), maxlen], out).expect("sized above")
}

/// Keras's `to_categorical`: one-hot rows (labels, num_classes); `num_classes` `None` means
/// the largest label + 1. A label outside `0..num_classes` is an error naming it.
pub fn to_categorical(labels: &[i64], num_classes: Option<usize>) -> Result<Tensor> {
    let n = num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&m| m.max(-1) + 1) as usize);
    let mut out = Tensor::zeros(&[labels.len(), n]);
    let data = out.data_mut();
    for (i, &l) in labels.iter().enumerate() {
        if l < 0 || l as usize >= n {
            return Err(Error::value(format!(
                "to_categorical: label {l} (index {i}) is outside 0..{n} (num_classes={n})"
            )));
        }
        data[i * n + l as usize] = 1.0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_cuts_at_either_end() {
        let seqs = vec![vec![1, 2, 3], vec![4], vec![]];
        let pad = |maxlen, padding, truncating| {
            pad_sequences(&seqs, &PadOptions { maxlen, padding, truncating, value: 0.0 }).into_vec()
        };
        assert_eq!(pad(None, Side::Pre, Side::Pre), vec![1., 2., 3., 0., 0., 4., 0., 0., 0.]);
        assert_eq!(pad(Some(2), Side::Pre, Side::Pre), vec![2., 3., 0., 4., 0., 0.]);
        assert_eq!(pad(Some(2), Side::Post, Side::Post), vec![1., 2., 4., 0., 0., 0.]);
        assert_eq!(pad(Some(0), Side::Pre, Side::Pre), Vec::<f32>::new());
        let err = Side::parse("mid", "padding").unwrap_err().to_string();
        assert_eq!(err, "padding type \"mid\" not understood; expected \"pre\" or \"post\"");
    }

    #[test]
    fn one_hot_rows_as_keras() {
        let t = to_categorical(&[0, 2, 1], None).unwrap();
        assert_eq!((t.shape(), t.data()), (&[3, 3][..], &[1., 0., 0., 0., 0., 1., 0., 1., 0.][..]));
        assert_eq!(to_categorical(&[1], Some(4)).unwrap().into_vec(), vec![0., 1., 0., 0.]);
        let err = to_categorical(&[0, 5], Some(3)).unwrap_err().to_string();
        assert_eq!(err, "to_categorical: label 5 (index 1) is outside 0..3 (num_classes=3)");
    }
}
