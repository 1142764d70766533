//! What a trained model needs to be given new samples the way it was trained: the kind of data,
//! the class names, the shape of one sample, for pictures the colour mode and size, for word-id
//! sequences the vocabulary kept. The model carries it as a plain [`DataSpec`] (saved in every
//! file written from it, checkpoints included) so `kiln predict` can read a picture file.

use super::image_decode::ColorMode;
use crate::error::{Error, Result};
use crate::model::DataSpec;

/// The kind of samples a model was trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Pictures: decoded, converted to `color_mode`, resized to `image_size`, values / 255.
    Image,
    /// Rows of numbers (a CSV table).
    Table,
    /// Arrays from a NumPy file; `uint8` ones are divided by 255.
    Array,
    /// Word ids padded or cut to one length (IMDB reviews); the model starts with an Embedding.
    Sequence,
}

impl InputKind {
    /// The word saved in a model file: "image", "table", "array" or "sequence".
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Image => "image",
            InputKind::Table => "table",
            InputKind::Array => "array",
            InputKind::Sequence => "sequence",
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
    /// Word-id sequences: the `num_words` they were cut to (None: every word kept).
    pub num_words: Option<usize>,
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
            num_words: None,
        }
    }

    /// Samples of `kind` and `sample_shape`, nothing scaled.
    pub fn plain(kind: InputKind, class_names: Vec<String>, sample_shape: Vec<usize>) -> InputSpec {
        InputSpec { kind, class_names, sample_shape, color_mode: None, image_size: None, scale: 1.0, num_words: None }
    }

    /// The description as the model carries it and saves it (`data`).
    pub fn to_data_spec(&self) -> DataSpec {
        DataSpec {
            kind: self.kind.name().to_string(),
            class_names: self.class_names.clone(),
            sample_shape: self.sample_shape.clone(),
            color_mode: self.color_mode.map(|m| m.name().to_string()),
            image_size: self.image_size.map(|(h, w)| [h, w]),
            scale: self.scale,
            num_words: self.num_words,
        }
    }

    /// Reads what [`InputSpec::to_data_spec`] made; the error names the malformed field.
    pub fn from_data_spec(d: &DataSpec) -> Result<InputSpec> {
        let bad = |what: &str| Error::value(format!("malformed 'data' description: {what}"));
        let kind = match d.kind.as_str() {
            "image" => InputKind::Image,
            "table" => InputKind::Table,
            "array" => InputKind::Array,
            "sequence" => InputKind::Sequence,
            _ => return Err(bad(&format!("kind {:?}", d.kind))),
        };
        let color_mode = d.color_mode.as_deref().map(ColorMode::parse).transpose()?;
        let image_size = d.image_size.map(|[h, w]| (h, w));
        if kind == InputKind::Image && (color_mode.is_none() || image_size.is_none()) {
            return Err(bad("pictures need color_mode and image_size"));
        }
        Ok(InputSpec {
            kind,
            class_names: d.class_names.clone(),
            sample_shape: d.sample_shape.clone(),
            color_mode,
            image_size,
            scale: d.scale,
            num_words: d.num_words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_models_description() {
        let s = InputSpec::image(vec!["cat".into(), "dog".into()], (32, 24), ColorMode::Rgb);
        assert_eq!(s.sample_shape, [32, 24, 3]);
        assert_eq!(InputSpec::from_data_spec(&s.to_data_spec()).unwrap(), s);
        let sound = DataSpec { kind: "sound".into(), ..Default::default() };
        let e = InputSpec::from_data_spec(&sound).unwrap_err().to_string();
        assert_eq!(e, "malformed 'data' description: kind \"sound\"");
    }
}
