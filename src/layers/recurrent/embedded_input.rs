//! The input projection of a recurrent layer fed by an Embedding, folded (the model's fusion
//! plan hands the layer the Embedding's ids and table, [`Fold::Lookup`]).
//! Every input row is a row of the table E, so `x·kernel` is a row of `P = E·kernel`: forward
//! projects the table once (input_dim × gates·units) and gathers the rows of P by id instead of
//! projecting each of the T·B looked-up rows; backward adds dL/dz's rows by id into
//! `D` (input_dim × gates·units) and the kernel's gradient is `Eᵀ·D`, over input_dim rows
//! instead of T·B. The sums are the same up to their order. The plan folds when the table has
//! no more rows than a batch has ids (500 against 64 × 100 in the book's model) and the layer
//! has no input dropout (its mask changes the looked-up rows).

use super::base::{product, RnnCore};
#[cfg(doc)]
use crate::layers::Fold;
use crate::layers::{Fusion, Lookup};
use crate::tensor::{ops, Mat, Tensor};

impl RnnCore {
    /// What a recurrent layer offers the fusion plan: without input dropout (which masks the
    /// looked-up rows), it takes the lookup of an Embedding below.
    pub fn fusion(&self) -> Fusion<'static> {
        Fusion { takes_lookup_below: self.dropout == 0.0, ..Fusion::default() }
    }
}

/// What a folded forward keeps for its backward.
#[derive(Default)]
pub(crate) struct EmbeddedInput {
    /// The last forward was folded.
    pub active: bool,
    /// (input_dim, F): the table as that forward read it (the optimizer changes it after the
    /// backward; the kernel's gradient needs the rows the forward used).
    table: Tensor,
    /// (T·B) the ids in processing order: time-major, reversed with `go_backwards`.
    ids: Vec<usize>,
    /// (input_dim, gates·units): `P = E·kernel` in forward, `D` in backward.
    rows: Tensor,
}

impl EmbeddedInput {
    /// Projects the table, `P = E·kernel`, and keeps the ids in processing order; `kernel` is
    /// (F, W) and `dims` (T, B). The time loop reads each step's rows of P as it reaches the
    /// step ([`step_rows`]), on the thread that runs them.
    pub fn forward(&mut self, lookup: Lookup, kernel: &Tensor, dims: (usize, usize), backwards: bool) {
        let ((t, b), (n, f), w) = (dims, (lookup.table.rows(), lookup.table.row_len()), kernel.row_len());
        self.active = true;
        self.table.ensure_shape(n, &[f]);
        self.table.data_mut().copy_from_slice(lookup.table.data());
        self.ids.clear();
        for s in 0..t {
            let tt = if backwards { t - 1 - s } else { s };
            self.ids.extend((0..b).map(|r| lookup.ids[r * t + tt]));
        }
        self.rows.ensure_shape(n, &[w]);
        product(Mat::new(self.table.data(), n, f), Mat::of(kernel), self.rows.data_mut(), 0.0);
    }

    /// When the last forward was folded: the projected table and the ids, for [`step_rows`].
    pub fn source(&self) -> Option<(Mat<'_>, &[usize])> {
        self.active.then(|| (Mat::of(&self.rows), self.ids.as_slice()))
    }

    /// The kernel's gradient from `dzs` (T·B, W): `dkernel = beta·dkernel + Eᵀ·D`, `D` the rows
    /// of `dzs` added by id.
    pub fn kernel_grad(&mut self, dzs: &[f32], dkernel: &mut [f32], beta: f32) {
        let ((n, f), w) = ((self.table.rows(), self.table.row_len()), self.rows.row_len());
        let d = self.rows.data_mut();
        d.fill(0.0);
        ops::scatter_add_rows(Mat::new(dzs, self.ids.len(), w), &self.ids, d);
        product(Mat::new(self.table.data(), n, f).t(), Mat::new(self.rows.data(), n, w), dkernel, beta);
    }
}

/// `z` (rows `lo..` of step `s` of a batch of `b`) = their rows of `P` by id.
pub(crate) fn step_rows((p, ids): (Mat, &[usize]), (s, b, lo): (usize, usize, usize), z: &mut [f32]) {
    let n = z.len() / p.cols().max(1);
    ops::gather_rows(p, &ids[s * b + lo..][..n], z);
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng};

    use crate::layers::{Backward, Ctx, Embedding, Fold, Layer, Rng, SimpleRNN, GRU, LSTM};
    use crate::tensor::Tensor;

    /// The output, the input gradient and every weight gradient of `layer` on the lookup of
    /// `ids` (B, T) in `emb`, with the lookup folded or not.
    fn run(emb: &mut Embedding, layer: &mut dyn Layer, ids: &Tensor, dout: &Tensor, folded: bool) -> Vec<Vec<f32>> {
        let mut rng = Rng::seed_from_u64(1);
        emb.forward(ids, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
        let fold = if folded { Fold::Lookup(emb.fusion().lookup.unwrap()) } else { Fold::None };
        layer.forward(emb.output(), &mut Ctx { training: true, rng: &mut rng, fold });
        layer.visit_params(&mut |p| p.zero_grad());
        layer.backward(emb.output(), dout, Backward::new(true));
        let mut all = vec![layer.output().data().to_vec(), layer.dinput().data().to_vec()];
        all.extend(layer.params().iter().map(|p| p.grad_to_vec()));
        all
    }

    #[test]
    fn folding_the_lookup_changes_only_the_order_of_sums() {
        let (b, t, input_dim, features) = (3, 5, 12, 4);
        let makers: [(&str, fn() -> Box<dyn Layer>); 4] = [
            ("lstm", || Box::new(LSTM::new(3))),
            ("gru", || Box::new(GRU::new(2).go_backwards(true))),
            ("simple_rnn", || Box::new(SimpleRNN::new(3).return_sequences(true))),
            ("gru reset_before", || Box::new(GRU::new(2).reset_after(false).return_sequences(true))),
        ];
        for (name, make) in makers {
            let mut rng = Rng::seed_from_u64(7);
            let mut emb = Embedding::new(input_dim, features);
            emb.build(&[t], &mut rng).unwrap();
            let mut layer = make();
            let out_shape = layer.build(&[t, features], &mut rng).unwrap();
            // Ids with repeats and unused rows; the table has no more rows than the batch has steps.
            let ids = Tensor::from_vec(&[b, t], (0..b * t).map(|i| ((i * 7) % 11) as f32).collect()).unwrap();
            let n: usize = out_shape.iter().product();
            let dout = Tensor::from_vec(&[b, n], (0..b * n).map(|_| rng.random_range(-1.0..1.0)).collect()).unwrap();
            let plain = run(&mut emb, layer.as_mut(), &ids, &dout, false);
            let folded = run(&mut emb, layer.as_mut(), &ids, &dout, true);
            let what = ["output", "input gradient", "kernel", "recurrent_kernel", "bias"];
            for ((p, f), what) in plain.iter().zip(&folded).zip(what) {
                assert_eq!(p.len(), f.len(), "{name} {what}");
                for (i, (&p, &f)) in p.iter().zip(f).enumerate() {
                    assert!((p - f).abs() <= 1e-6 * (1.0 + p.abs()), "{name} {what}[{i}]: {p} unfolded, {f} folded");
                }
            }
            assert_ne!(plain[2], folded[2], "{name}: the kernel's gradient went the folded way");
        }
    }
}
