//! [`DataSpec`]: what a model was trained on, kept with the model so that every file written
//! from it (`save`, a checkpoint) lets a later run give it new samples the same way. The model
//! only carries it; `kiln::data::InputSpec` gives it meaning (colour modes, picture sizes).

use serde::{Deserialize, Serialize};

/// The data a model was trained on, as saved in a model file's `data` metadata (JSON). Files
/// written before a field existed read it as its default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// "image", "table", "array" or "sequence".
    pub kind: String,
    /// The names of the output classes, in output order (empty when unknown).
    #[serde(default)]
    pub class_names: Vec<String>,
    /// One sample's shape as the data has it.
    #[serde(default)]
    pub sample_shape: Vec<usize>,
    /// The channels pictures are converted to ("grayscale", "rgb", "rgba").
    #[serde(default)]
    pub color_mode: Option<String>,
    /// `[height, width]` of pictures.
    #[serde(default)]
    pub image_size: Option<[usize; 2]>,
    /// Multiplies `uint8` values before the model sees them (1/255 for pictures).
    #[serde(default = "one")]
    pub scale: f32,
    /// Sequences of word ids: the vocabulary kept (`num_words` of Keras's IMDB loader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_words: Option<usize>,
}

fn one() -> f32 {
    1.0
}

impl super::Sequential {
    /// Describes the data the model is trained on; every file written from the model keeps it
    /// ([`super::ModelState::data`]).
    pub fn set_data_spec(&mut self, spec: Option<DataSpec>) {
        self.data_spec = spec;
    }

    /// The data the model was trained on, when it was described (a model loaded from a file
    /// that kept it, or one given [`Self::set_data_spec`]).
    pub fn data_spec(&self) -> Option<&DataSpec> {
        self.data_spec.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Dense;
    use crate::model::{Callback, Compile, ModelCheckpoint, Sequential};

    #[test]
    fn a_checkpoint_keeps_the_description_and_older_files_have_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut model = Sequential::new();
        model.add(Dense::new(2).input_shape(&[3]));
        model.compile(Compile::new("mse").optimizer("adam")).unwrap();
        let plain = dir.path().join("plain.safetensors");
        model.save(&plain).unwrap();
        assert_eq!(crate::io::load_model(&plain).unwrap().data_spec(), None);
        let spec = DataSpec { kind: "table".into(), class_names: vec!["a".into(), "b".into()], ..Default::default() };
        model.set_data_spec(Some(spec.clone()));
        let best = dir.path().join("best.safetensors");
        let mut checkpoint = ModelCheckpoint::new(&best);
        checkpoint.on_epoch_end(0, &[("loss".to_string(), 1.0)], &mut model).unwrap();
        assert_eq!(crate::io::load_model(&best).unwrap().data_spec(), Some(&spec));
    }

    #[test]
    fn reads_descriptions_written_before_num_words() {
        let old = r#"{"kind":"image","class_names":["cat","dog"],"sample_shape":[8,8,3],"color_mode":"rgb","image_size":[8,8],"scale":0.003921569}"#;
        let spec: DataSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec.class_names, ["cat", "dog"]);
        assert_eq!((spec.image_size, spec.num_words), (Some([8, 8]), None));
        assert_eq!(serde_json::to_string(&spec).unwrap(), old, "written back as it was");
    }
}
