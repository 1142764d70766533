//! What a trained model needs to be given new samples the way it was trained: the kind of data,
//! the class names, the shape of one sample, and for pictures the colour mode and size. Saved
//! in the model file's metadata (`data`) so `kiln predict` can read a picture file.

use serde_json::{json, Value};

use super::image_decode::ColorMode;
use crate::error::{Error, Result};

/// The kind of samples a model was trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Pictures: decoded, converted to `color_mode`, resized to `image_size`, values / 255.
    Image,
    /// Rows of numbers (a CSV table).
    Table,
    /// Arrays from a NumPy file; `uint8` ones are divided by 255.
    Array,
}

impl InputKind {
    /// The word saved in a model file: "image", "table" or "array".
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Image => "image",
            InputKind::Table => "table",
            InputKind::Array => "array",
        }
    }
}

/// The model's input contract.
#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    /// What the model reads: pictures, table rows or arrays.
    pub kind: InputKind,
    /// The names of the output classes, in output order (empty when unknown).
    pub class_names: Vec<String>,
    /// One sample's shape as the data has it (`(height, width, channels)` for pictures).
    pub sample_shape: Vec<usize>,
    /// The channels pictures are converted to.
    pub color_mode: Option<ColorMode>,
    /// `(height, width)` of pictures.
    pub image_size: Option<(usize, usize)>,
    /// Multiplies `uint8` values before the model sees them (1/255 for pictures).
    pub scale: f32,
}

impl InputSpec {
    /// Pictures of `image_size` in `color_mode`, scaled by 1/255.
    pub fn image(class_names: Vec<String>, image_size: (usize, usize), color_mode: ColorMode) -> InputSpec {
        InputSpec {
            kind: InputKind::Image,
            class_names,
            sample_shape: vec![image_size.0, image_size.1, color_mode.channels()],
            color_mode: Some(color_mode),
            image_size: Some(image_size),
            scale: 1.0 / 255.0,
        }
    }

    /// The description as saved in a model file's metadata (`data`).
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.name(),
            "class_names": self.class_names,
            "sample_shape": self.sample_shape,
            "color_mode": self.color_mode.map(ColorMode::name),
            "image_size": self.image_size.map(|(h, w)| [h, w]),
            "scale": self.scale,
        })
    }

    /// Reads what [`InputSpec::to_json`] wrote; the error names the malformed key.
    pub fn from_json(v: &Value) -> Result<InputSpec> {
        let bad = |what: &str| Error::value(format!("malformed 'data' description: {what}"));
        let kind = match v["kind"].as_str() {
            Some("image") => InputKind::Image,
            Some("table") => InputKind::Table,
            Some("array") => InputKind::Array,
            _ => return Err(bad("kind")),
        };
        let strings = v["class_names"].as_array().ok_or_else(|| bad("class_names"))?;
        let class_names = strings.iter().map(|s| s.as_str().map(String::from).ok_or_else(|| bad("class_names")));
        let dims = |x: &Value| -> Option<Vec<usize>> {
            x.as_array()?.iter().map(|d| d.as_u64().map(|d| d as usize)).collect()
        };
        let color_mode = match v["color_mode"].as_str() {
            Some(m) => Some(ColorMode::parse(m)?),
            None => None,
        };
        let image_size = match dims(&v["image_size"]) {
            Some(d) if d.len() == 2 => Some((d[0], d[1])),
            _ => None,
        };
        if kind == InputKind::Image && (color_mode.is_none() || image_size.is_none()) {
            return Err(bad("pictures need color_mode and image_size"));
        }
        Ok(InputSpec {
            kind,
            class_names: class_names.collect::<Result<_>>()?,
            sample_shape: dims(&v["sample_shape"]).ok_or_else(|| bad("sample_shape"))?,
            color_mode,
            image_size,
            scale: v["scale"].as_f64().ok_or_else(|| bad("scale"))? as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let s = InputSpec::image(vec!["cat".into(), "dog".into()], (32, 24), ColorMode::Rgb);
        assert_eq!(s.sample_shape, [32, 24, 3]);
        assert_eq!(InputSpec::from_json(&s.to_json()).unwrap(), s);
        let e = InputSpec::from_json(&json!({"kind": "sound"})).unwrap_err().to_string();
        assert_eq!(e, "malformed 'data' description: kind");
    }
}
