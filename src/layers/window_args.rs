//! The window arguments of Conv2D and the pooling layers: reading a size or strides from a
//! config (an int or a pair, as Keras takes), and checking a window against the per-sample
//! input shape, with errors that name the layer.

use super::LayerConfig;
use crate::error::{Error, Result};
use crate::tensor::{shape_str, Padding, Size2, Window2d};

/// Checks a per-sample input shape (H, W, C) and a window on it; `who` is "layer 'c' (Conv2D)",
/// `size` the window's Keras name and value. Shared by Conv2D and the pooling layers.
pub(crate) fn window(
    who: &str,
    input: &[usize],
    size: (&str, Size2),
    strides: Size2,
    padding: Padding,
) -> Result<Window2d> {
    let &[h, w, c] = input else {
        let hint = match *input {
            [n] if (n as f64).sqrt().round().powi(2) as usize == n => {
                let s = (n as f64).sqrt().round() as usize;
                format!("; reshape the images to ({s}, {s}, 1)")
            }
            [h, w] => format!("; reshape the images to ({h}, {w}, 1)"),
            _ => String::new(),
        };
        return Err(Error::shape(format!(
            "{who} expects samples of shape (height, width, channels), got {}{hint}",
            shape_str(input)
        )));
    };
    if h == 0 || w == 0 || c == 0 {
        return Err(Error::shape(format!(
            "{who} expects samples with positive height, width and channels, got {}",
            shape_str(input)
        )));
    }
    let (name, k) = size;
    if !k.is_positive() {
        return Err(Error::value(format!("{who}: expected positive integers, received {name}={k}")));
    }
    if !strides.is_positive() {
        return Err(Error::value(format!("{who}: expected positive integers, received strides={strides}")));
    }
    Window2d::new([h, w, c], k, strides, padding).ok_or_else(|| {
        Error::shape(format!(
            "{who}: {name} {k} is larger than the input {} with padding='valid'; use padding='same' or a smaller {name}",
            shape_str(input)
        ))
    })
}

/// A window size or strides: an int (square) or a pair of positive integers, as Keras takes.
pub(crate) fn read_size2(c: &LayerConfig, key: &str) -> Result<Option<Size2>> {
    let as_int = c.positive_int(key);
    if let Ok(n) = as_int {
        return Ok(n.map(Size2::from));
    }
    match c.int_list(key) {
        Ok(Some(l)) if l.len() == 2 && l.iter().all(|&d| d > 0) => Ok(Some(Size2(l[0] as usize, l[1] as usize))),
        Ok(Some(l)) => Err(Error::value(format!(
            "{}: expected a positive integer or a pair of them, received {key}={l:?}",
            c.who()
        ))),
        _ => as_int.map(|n| n.map(Size2::from)),
    }
}
