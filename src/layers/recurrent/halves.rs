//! A recurrent layer's batch rows never meet inside the time loop: row `r` of step `s` reads
//! row `r` of step `s - 1` and nothing else of the batch. So the whole loop (all its steps) runs
//! in two halves of rows on two threads, each half one hand-off per forward or backward, not one
//! per step. Every row is computed by the same code whichever half it falls in, so the bits do
//! not depend on the threads. [`Seq`] is the view of a (steps, B, W) buffer that gives each half
//! its own rows of every step.

use std::marker::PhantomData;

use crate::tensor::num_threads;

/// Rows `lo..hi` of every step of a (steps, B, W) buffer, borrowed mutably: two `Seq`s made by
/// [`Seq::split`] reach disjoint rows of the same buffer.
pub(crate) struct Seq<'a> {
    ptr: *mut f32,
    steps: usize,
    b: usize,
    w: usize,
    lo: usize,
    hi: usize,
    _buffer: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `Seq` is a `&mut [f32]` restricted to some rows; halves made by `split` never share
// a value, so moving one to another thread is as sound as moving a `&mut [f32]`.
unsafe impl Send for Seq<'_> {}

impl<'a> Seq<'a> {
    /// All rows of `data`, (steps, b, w) with `steps = data.len() / (b·w)`.
    pub fn new(data: &'a mut [f32], b: usize, w: usize) -> Seq<'a> {
        let steps = if b * w == 0 { 0 } else { data.len() / (b * w) };
        Seq { ptr: data.as_mut_ptr(), steps, b, w, lo: 0, hi: b, _buffer: PhantomData }
    }

    /// Rows `lo..lo + at` and the rest.
    pub fn split(self, at: usize) -> (Seq<'a>, Seq<'a>) {
        assert!(at <= self.hi - self.lo, "Seq::split: {at} of {} rows", self.hi - self.lo);
        let mid = self.lo + at;
        (Seq { hi: mid, ..self }, Seq { lo: mid, ..self })
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.hi - self.lo
    }

    /// The first row's index in the batch.
    pub fn first_row(&self) -> usize {
        self.lo
    }

    /// Offset and length of this view's rows of step `s`.
    fn span(&self, s: usize) -> (usize, usize) {
        assert!(s < self.steps, "Seq: step {s} of {}", self.steps);
        ((s * self.b + self.lo) * self.w, (self.hi - self.lo) * self.w)
    }

    /// This view's rows of step `s`, (rows, w).
    pub fn step(&mut self, s: usize) -> &mut [f32] {
        let (at, len) = self.span(s);
        // SAFETY: `span` keeps the range inside the buffer this view borrows mutably for 'a;
        // the range holds only this view's rows, which no other view reaches, and `&mut self`
        // keeps this slice the only one from this view while it lives.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(at), len) }
    }

    /// This view's rows of steps `s` (to read) and `s + 1` (to write).
    pub fn pair(&mut self, s: usize) -> (&[f32], &mut [f32]) {
        let ((at, len), (next, _)) = (self.span(s), self.span(s + 1));
        // SAFETY: as in `step`; the two ranges lie in different steps, so they do not overlap.
        unsafe {
            (std::slice::from_raw_parts(self.ptr.add(at), len), std::slice::from_raw_parts_mut(self.ptr.add(next), len))
        }
    }
}

/// Rows `rows` of step `s` of a (steps, B, w) buffer, to read.
pub(crate) fn rows_of(data: &[f32], b: usize, w: usize, s: usize, rows: std::ops::Range<usize>) -> &[f32] {
    &data[(s * b + rows.start) * w..(s * b + rows.end) * w]
}

/// Batches of at least this many rows run their time loop in two halves (on two threads when
/// the pool has them): below it the hand-off costs more than half the loop.
const HALVES_MIN_ROWS: usize = 16;

/// What [`in_halves`] splits: a view, or arrays and pairs of them.
pub(crate) trait Halve: Sized + Send {
    /// The first `at` rows and the rest.
    fn halve(self, at: usize) -> (Self, Self);
}

impl Halve for Seq<'_> {
    fn halve(self, at: usize) -> (Self, Self) {
        self.split(at)
    }
}

impl<T: Halve, const N: usize> Halve for [T; N] {
    fn halve(self, at: usize) -> (Self, Self) {
        let (mut hi, mut i): ([Option<T>; N], usize) = ([const { None }; N], 0);
        let lo = self.map(|v| {
            let (a, h) = v.halve(at);
            hi[i] = Some(h);
            i += 1;
            a
        });
        (lo, hi.map(|h| h.expect("every view halved")))
    }
}

impl<A: Halve, B: Halve> Halve for (A, B) {
    fn halve(self, at: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.halve(at), self.1.halve(at));
        ((a0, b0), (a1, b1))
    }
}

/// Runs `f` on `views` (of a batch of `b` rows) whole, or on each half of their rows, the
/// second half on the pool's other thread when it is free.
pub(crate) fn in_halves<V: Halve>(b: usize, views: V, f: impl Fn(V) + Sync) {
    if b < HALVES_MIN_ROWS || num_threads() < 2 {
        return f(views);
    }
    let (lo, hi) = views.halve(b / 2);
    rayon::join(|| f(lo), || f(hi));
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng as _};

    use super::*;
    use crate::layers::{Backward, Ctx, Layer, Rng, SimpleRNN, GRU, LSTM};
    use crate::tensor::cpu::on_threads;
    use crate::tensor::Tensor;

    #[test]
    fn halves_reach_their_own_rows_of_every_step() {
        // 3 steps, 4 rows, width 2: value = 100·step + 10·row + column.
        let mut data: Vec<f32> = (0..24).map(|i| (100 * (i / 8) + 10 * (i % 8 / 2) + i % 2) as f32).collect();
        let (mut a, mut b) = Seq::new(&mut data, 4, 2).split(1);
        assert_eq!((a.rows(), b.rows(), b.first_row()), (1, 3, 1));
        assert_eq!(a.step(2), &[200.0, 201.0]);
        let (prev, next) = b.pair(0);
        assert_eq!(prev, &[10.0, 11.0, 20.0, 21.0, 30.0, 31.0]);
        next.fill(-1.0);
        assert_eq!(&data[8..16], &[100.0, 101.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]);
        assert_eq!(rows_of(&data, 4, 2, 2, 3..4), &[230.0, 231.0]);
    }

    /// Output, input gradient and weight gradients of a batch of 20 (halves of 10 rows).
    fn run(layer: &mut dyn Layer) -> Vec<Vec<f32>> {
        let mut rng = Rng::seed_from_u64(5);
        layer.build(&[6, 3], &mut rng).expect("build");
        let x = Tensor::from_vec(&[20, 6, 3], (0..360).map(|_| rng.random_range(-1.0..1.0)).collect()).unwrap();
        layer.forward(&x, &mut Ctx { training: true, rng: &mut Rng::seed_from_u64(9), fold: Default::default() });
        let n = layer.output().len();
        let dout = Tensor::from_vec(layer.output().shape(), (0..n).map(|i| (i % 7) as f32 - 3.0).collect()).unwrap();
        layer.visit_params(&mut |p| p.zero_grad());
        layer.backward(&x, &dout, Backward::new(true));
        let mut got = vec![layer.output().data().to_vec(), layer.dinput().data().to_vec()];
        got.extend(layer.params().iter().map(|p| p.grad_to_vec()));
        got
    }

    #[test]
    fn every_recurrent_layer_gives_the_same_bits_on_one_and_two_threads() {
        let layers: [fn() -> Box<dyn Layer>; 5] = [
            || Box::new(SimpleRNN::new(5).return_sequences(true).recurrent_dropout(0.3)),
            || Box::new(LSTM::new(8).dropout(0.2).recurrent_dropout(0.3)),
            || Box::new(LSTM::new(4).go_backwards(true)),
            || Box::new(GRU::new(8).recurrent_dropout(0.3).return_sequences(true)),
            || Box::new(GRU::new(5).reset_after(false).recurrent_dropout(0.3)),
        ];
        for make in layers {
            let one = on_threads(1, || run(&mut *make()));
            assert_eq!(on_threads(2, || run(&mut *make())), one, "{}", make().class_name());
        }
    }

    #[test]
    #[should_panic(expected = "Seq: step 3 of 3")]
    fn a_step_past_the_end_panics() {
        let mut data = vec![0.0; 24];
        Seq::new(&mut data, 4, 2).step(3);
    }
}
