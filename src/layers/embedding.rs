//! Embedding: integer ids to rows of a trainable table, `out[..., :] = embeddings[id]`.
//! Ids come in as `f32` values (kiln's one tensor type), each a whole number in
//! `0..input_dim`; [`Embedding::check_ids`] says which one is not, and `fit`, `evaluate` and
//! `predict` call it on their data before anything runs.

use rand::Rng as _;
use serde_json::json;

use super::registry::{ArgKind::*, LayerKind};
use super::{Backward, Ctx, Fold, Fusion, Layer, LayerConfig, Lookup, Param, Rng};
use crate::error::{Error, Result};
use crate::tensor::{ops, shape_str, Mat, Tensor};

/// Keras's `Embedding(input_dim, output_dim)`: a table of `input_dim` rows of `output_dim`
/// values, initialised uniform in [-0.05, 0.05] as Keras's default.
pub struct Embedding {
    input_dim: usize,
    output_dim: usize,
    mask_zero: bool,
    input_shape: Option<Vec<usize>>,
    name: String,
    embeddings: Param,
    out_row_shape: Vec<usize>, // the per-sample output shape, from build
    ids: Vec<usize>,           // (B·T) the last forward's ids
    samples: usize,            // B
    out: Tensor,               // (B, ..., output_dim)
    dinput: Tensor,            // zeros: ids have no gradient
}

impl Embedding {
    /// Embedding in the registry: class name, grammar row `embedding(500, 16)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "Embedding",
        positional: &["input_dim", "output_dim"],
        required: 2,
        args: &[("input_dim", PositiveInt), ("output_dim", PositiveInt), ("mask_zero", Bool)],
        from_config: |c| {
            let input_dim = c.required(LayerConfig::positive_int, "input_dim")?;
            let output_dim = c.required(LayerConfig::positive_int, "output_dim")?;
            let mask_zero = c.bool("mask_zero")?.unwrap_or(false);
            Ok(Box::new(Embedding::new(input_dim, output_dim).mask_zero(mask_zero).name(c.name())))
        },
    };

    /// A table for ids `0..input_dim`, each mapped to `output_dim` values.
    pub fn new(input_dim: usize, output_dim: usize) -> Embedding {
        Embedding {
            input_dim,
            output_dim,
            mask_zero: false,
            input_shape: None,
            name: String::new(),
            embeddings: Param::table("embeddings", Tensor::default()),
            out_row_shape: Vec::new(),
            ids: Vec::new(),
            samples: 0,
            out: Tensor::default(),
            dinput: Tensor::default(),
        }
    }

    /// Keras's `mask_zero`. kiln's recurrent layers do not take masks, so `true` is refused
    /// by `build` with an error saying so.
    pub fn mask_zero(mut self, on: bool) -> Self {
        self.mask_zero = on;
        self
    }

    layer_builders!();

    /// The number of ids the table holds.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// Checks that every value of `x` is a whole number in `0..input_dim`; the error names the
    /// first that is not, where it is (`first_row` is the index of `x`'s first row in the
    /// data), and `input_dim`.
    pub fn check_ids(&self, x: &Tensor, first_row: usize) -> Result<()> {
        let row = x.row_len().max(1);
        for (i, &v) in x.data().iter().enumerate() {
            if !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < self.input_dim) {
                return Err(Error::value(format!(
                    "layer '{}' (Embedding): id {v} (sample {}, position {}) is not an integer in [0, {}) \
                     (input_dim={})",
                    self.name,
                    first_row + i / row,
                    i % row,
                    self.input_dim,
                    self.input_dim
                )));
            }
        }
        Ok(())
    }
}

impl Layer for Embedding {
    layer_identity!();

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let name = &self.name;
        if self.input_dim == 0 || self.output_dim == 0 {
            return Err(Error::value(format!(
                "layer '{name}' (Embedding): expected positive integers, received input_dim={}, output_dim={}",
                self.input_dim, self.output_dim
            )));
        }
        if self.mask_zero {
            return Err(Error::value(format!(
                "layer '{name}' (Embedding): mask_zero=true is not supported (kiln's layers do not take \
                 masks); pad with pad_sequences and leave mask_zero=false"
            )));
        }
        if input_shape.is_empty() {
            return Err(Error::shape(format!(
                "layer '{name}' (Embedding) expects samples of ids of shape (timesteps,), got input shape {}",
                shape_str(input_shape)
            )));
        }
        let mut table = Tensor::zeros(&[self.input_dim, self.output_dim]);
        table.data_mut().iter_mut().for_each(|v| *v = rng.random_range(-0.05f32..0.05));
        self.embeddings = Param::table("embeddings", table);
        self.out_row_shape = input_shape.to_vec();
        self.out_row_shape.push(self.output_dim);
        Ok(self.out_row_shape.clone())
    }

    fn weights_len(&self, _input_shape: &[usize]) -> u128 {
        (self.input_dim as u128).saturating_mul(self.output_dim as u128)
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        // `check_ids` ran before (fit, evaluate and predict check the data); an id past the table here
        // is a programmer's error, and the gather panics naming it.
        self.ids.clear();
        self.ids.extend(x.data().iter().map(|&id| id as usize));
        self.samples = x.rows();
        if let Fold::IntoAbove = ctx.fold {
            return; // the layer above reads the lookup
        }
        self.out.ensure_shape(x.rows(), &self.out_row_shape);
        let table = Mat::of(&self.embeddings.value);
        ops::gather_rows(table, &self.ids, self.out.data_mut());
    }

    fn output(&self) -> &Tensor {
        &self.out
    }

    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        let need_dinput = how.need_dinput;
        let (n, d) = (self.ids.len(), self.output_dim);
        let (dtable, sq, beta) = self.embeddings.table_grad_accumulator();
        if beta == 0.0 {
            dtable.fill(0.0);
            sq.fill(0.0);
        }
        // Rows used several times sum their gradients, in the order of the batch, and beside
        // them the squares of each use's gradient (what Keras's optimizers square; see
        // `Param::table`).
        ops::scatter_add_rows_and_squares(&dout.data()[..n * d], &self.ids, dtable, sq);
        if need_dinput {
            self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
            self.dinput.data_mut().fill(0.0);
        }
    }

    fn dinput(&self) -> &Tensor {
        &self.dinput
    }

    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        f(&mut self.embeddings);
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.embeddings]
    }

    fn fusion(&self) -> Fusion<'_> {
        let lookup = Lookup { ids: &self.ids, samples: self.samples, table: &self.embeddings.value };
        Fusion { lookup: Some(lookup), ..Fusion::default() }
    }

    fn check_input(&self, x: &Tensor, first_row: usize) -> Option<Result<()>> {
        Some(self.check_ids(x, first_row))
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "mask_zero": self.mask_zero,
            "input_shape": self.input_shape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn looks_up_rows_and_sums_gradients_of_repeated_ids() {
        let mut rng = Rng::seed_from_u64(0);
        let mut layer = Embedding::new(4, 2).name("emb");
        assert_eq!(layer.build(&[3], &mut rng).unwrap(), vec![3, 2]);
        assert!(layer.embeddings.value.data().iter().all(|v| v.abs() <= 0.05));
        layer.embeddings.value = Tensor::from_vec(&[4, 2], (0..8).map(|v| v as f32).collect()).unwrap();
        let x = Tensor::from_vec(&[2, 3], vec![3.0, 0.0, 3.0, 1.0, 1.0, 2.0]).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        assert_eq!(layer.output().data(), &[6., 7., 0., 1., 6., 7., 2., 3., 2., 3., 4., 5.]);
        let dout = Tensor::from_vec(&[2, 3, 2], (1..=12).map(|v| v as f32).collect()).unwrap();
        layer.embeddings.zero_grad();
        layer.backward(&x, &dout, Backward::new(false));
        assert_eq!(layer.embeddings.grad_to_vec(), vec![3., 4., 7. + 9., 8. + 10., 11., 12., 1. + 5., 2. + 6.]);
    }

    #[test]
    fn ids_out_of_range_and_mask_zero_are_clear_errors() {
        let mut rng = Rng::seed_from_u64(0);
        let mut layer = Embedding::new(500, 16).name("embedding");
        layer.build(&[2], &mut rng).unwrap();
        let x = Tensor::from_vec(&[2, 2], vec![1.0, 499.0, 500.0, 3.0]).unwrap();
        assert_eq!(
            layer.check_ids(&x, 0).unwrap_err().to_string(),
            "layer 'embedding' (Embedding): id 500 (sample 1, position 0) is not an integer in [0, 500) (input_dim=500)"
        );
        let x = Tensor::from_vec(&[1, 2], vec![1.5, -1.0]).unwrap();
        assert!(layer.check_ids(&x, 0).unwrap_err().to_string().contains("id 1.5 (sample 0, position 0)"));
        let err = Embedding::new(5, 2).name("e").mask_zero(true).build(&[3], &mut rng).unwrap_err();
        assert!(err.to_string().starts_with("layer 'e' (Embedding): mask_zero=true is not supported"));
    }
}
