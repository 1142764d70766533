//! fit, evaluate, predict: the training loop readable on one screen.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::seq::SliceRandom;

use super::{Callback, History, Progbar, Samples, Sequential};
use crate::error::{Error, Result};
use crate::tensor::cpu::{self, with_workers};
use crate::tensor::{shape_str, Tensor};

/// `fit`'s arguments with Keras's defaults (epochs 1, batch 32, verbose 1, shuffle).
///
/// ```
/// use kiln::model::FitOptions;
///
/// let opts = FitOptions { epochs: 5, verbose: 0, ..Default::default() };
/// assert_eq!((opts.epochs, opts.batch_size, opts.shuffle), (5, 32, true));
/// assert!(opts.validation_data.is_none() && opts.callbacks.is_empty());
/// ```
pub struct FitOptions<'a> {
    /// Train up to this epoch (counted over the model's life, with `initial_epoch`).
    pub epochs: usize,
    /// The epoch to start from (Keras's `initial_epoch`): a run continued after `load_model`
    /// passes [`Sequential::epochs_trained`] and runs the epochs `initial_epoch..epochs`.
    pub initial_epoch: usize,
    /// Samples per gradient step (Keras's default 32).
    pub batch_size: usize,
    /// 0 silent, 1 a progress bar, 2 one line per epoch.
    pub verbose: u8,
    /// Shuffle the samples afresh each epoch (default true).
    pub shuffle: bool,
    /// Fraction of the data, taken from the end before shuffling, used for validation.
    pub validation_split: f64,
    /// Evaluated at the end of each epoch (`val_loss`, `val_accuracy`).
    pub validation_data: Option<(&'a dyn Samples, &'a Tensor)>,
    /// Hooks run at the start and end of training, epochs and batches.
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// Set it (from a signal handler, another thread) to stop after the current batch: the
    /// epoch then ends as with `stop_training` (validation, `on_epoch_end`, `on_train_end`).
    pub stop: Option<&'a AtomicBool>,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            initial_epoch: 0,
            batch_size: 32,
            verbose: 1,
            shuffle: true,
            validation_split: 0.0,
            validation_data: None,
            callbacks: Vec::new(),
            stop: None,
        }
    }
}

/// `evaluate`'s result: the loss and the metric, as Keras's `[loss, accuracy]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss over the samples.
    pub loss: f64,
    /// The accuracy, when compiled with `metrics=["accuracy"]`.
    pub accuracy: Option<f64>,
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.accuracy {
            Some(a) => write!(f, "[{:.4}, {a:.4}]", self.loss),
            None => write!(f, "{:.4}", self.loss),
        }
    }
}

impl Sequential {
    /// Trains for `opts.epochs` epochs; returns the per-epoch history. `x` is a [`Tensor`] or
    /// bytes scaled as each batch is gathered ([`super::ScaledBytes`]).
    pub fn fit<X: Samples + ?Sized>(&mut self, x: &X, y: &Tensor, opts: FitOptions) -> Result<History> {
        if opts.batch_size == 0 {
            return Err(Error::value("batch_size must be a positive integer, received batch_size=0"));
        }
        if !(0.0..1.0).contains(&opts.validation_split) {
            return Err(Error::value(format!(
                "validation_split must be in [0, 1), received {}",
                opts.validation_split
            )));
        }
        self.check_data(x, y, "training", opts.batch_size)?;
        let n = x.rows();
        // Keras: split_at = ceil(n * (1 - validation_split)); the tail validates.
        let n_train = ((n as f64) * (1.0 - opts.validation_split)).ceil() as usize;
        let split;
        let validation: Option<(&dyn Samples, &Tensor)> = match opts.validation_data {
            Some((vx, vy)) => {
                self.check_data(vx, vy, "validation", opts.batch_size)?;
                Some((vx, vy))
            }
            None if n_train < n => {
                let mut tail = Tensor::default();
                x.copy_rows_into(n_train, n, &mut tail);
                split = (tail, y.slice_rows(n_train, n));
                Some((&split.0, &split.1))
            }
            None => None,
        };
        if n_train == 0 {
            let fraction = opts.validation_split;
            return Err(Error::value(format!("no training samples left after validation_split={fraction}")));
        }
        // On a worker of the pool, with its other threads waiting for the jobs the loop hands out.
        with_workers(|| self.fit_loop(x, y, n_train, validation, opts))
    }

    fn fit_loop<X: Samples + ?Sized>(
        &mut self,
        x: &X,
        y: &Tensor,
        n_train: usize,
        validation: Option<(&dyn Samples, &Tensor)>,
        mut opts: FitOptions,
    ) -> Result<History> {
        let steps = n_train.div_ceil(opts.batch_size);
        let mut order: Vec<usize> = (0..n_train).collect();
        let mut history = History::default();
        let mut next = (Tensor::default(), Tensor::default());
        self.stop_training = false;
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_begin(self)?;
        }
        for epoch in opts.initial_epoch..opts.epochs {
            for cb in opts.callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, self)?;
            }
            if opts.verbose > 0 {
                crate::outln!("Epoch {}/{}", epoch + 1, opts.epochs);
            }
            if opts.shuffle {
                // A fresh permutation of 0..n each epoch (as Keras draws one), not a shuffle of
                // the last epoch's order: the order then depends only on the shuffle stream's
                // position, which a saved model keeps, so a resumed fit goes on exactly.
                order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
                order.shuffle(&mut self.shuffle_rng);
            }
            let mut bar = Progbar::new(steps, opts.verbose);
            let sums = self.run_batches(x, y, &order, &mut next, &mut bar, &mut opts)?;
            let logs = self.epoch_logs(sums, validation, opts.batch_size)?;
            let shown: Vec<(&str, f64)> = logs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            bar.finish(&shown);
            history.push(epoch, &logs);
            self.epochs_trained = epoch + 1;
            for cb in opts.callbacks.iter_mut() {
                cb.on_epoch_end(epoch, &logs, self)?;
            }
            if self.stop_training {
                break;
            }
        }
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_end(self)?;
        }
        Ok(history)
    }

    /// The batches of one epoch in `order`: each gathered while the one before trains, one step
    /// each, the progress bar and the batch callbacks after it. Returns the sums of the loss and
    /// the metric and the samples seen (fewer when a callback or `opts.stop` ends the epoch).
    fn run_batches<X: Samples + ?Sized>(
        &mut self,
        x: &X,
        y: &Tensor,
        order: &[usize],
        (next_x, next_y): &mut (Tensor, Tensor),
        bar: &mut Progbar,
        opts: &mut FitOptions,
    ) -> Result<(f64, f64, usize)> {
        let (mut loss_sum, mut metric_sum, mut seen) = (0.0, 0.0, 0usize);
        let mut batches = order.chunks(opts.batch_size).enumerate();
        let mut next = batches.next();
        if let Some((_, first)) = next {
            x.gather_rows_into(first, next_x);
            y.gather_rows_into(first, next_y);
        }
        while let Some((step, idx)) = next {
            std::mem::swap(&mut self.batch_x, next_x);
            std::mem::swap(&mut self.batch_y, next_y);
            next = batches.next();
            // The next batch is gathered while this one trains, by another worker when one is
            // free (the gather reads rows scattered over the whole training set, mostly from
            // memory, not cache); otherwise by this thread after the step.
            let gather_next = || {
                if let Some((_, idx)) = next {
                    x.gather_rows_into(idx, next_x);
                    y.gather_rows_into(idx, next_y);
                }
            };
            let ((loss, metric), ()) = cpu::alongside(|| self.train_batch(), gather_next);
            (loss_sum, metric_sum, seen) = (loss_sum + loss, metric_sum + metric, seen + idx.len());
            let logs = self.running_logs(loss_sum, metric_sum, seen);
            bar.update(step + 1, logs.as_slice());
            if !opts.callbacks.is_empty() {
                let owned = logs.to_owned();
                for cb in opts.callbacks.iter_mut() {
                    cb.on_train_batch_end(step, &owned, self)?;
                }
                if self.stop_training {
                    break; // TerminateOnNaN: stop at this batch, as Keras does
                }
            }
            if opts.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                self.stop_training = true;
                break;
            }
        }
        Ok((loss_sum, metric_sum, seen))
    }

    /// An epoch's logs: the running means, then the validation loss and metric (`val_`).
    fn epoch_logs(
        &mut self,
        (loss_sum, metric_sum, seen): (f64, f64, usize),
        validation: Option<(&dyn Samples, &Tensor)>,
        batch_size: usize,
    ) -> Result<Vec<(String, f64)>> {
        let mut logs = self.running_logs(loss_sum, metric_sum, seen).to_owned();
        if let Some((vx, vy)) = validation {
            let e = self.evaluate_with(vx, vy, batch_size, 0)?;
            logs.push(("val_loss".into(), e.loss));
            if let Some(a) = e.accuracy {
                logs.push((format!("val_{}", self.metrics_names()[1]), a));
            }
        }
        Ok(logs)
    }

    /// One gradient step on `(x, y)` as a single batch; returns the loss before the update
    /// (Keras's `train_on_batch`).
    pub fn train_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<f64> {
        self.check_data(x, y, "training", x.rows())?;
        x.copy_rows_into(0, x.rows(), &mut self.batch_x);
        y.copy_rows_into(0, y.rows(), &mut self.batch_y);
        let (loss, _) = self.train_batch();
        Ok(loss / x.rows() as f64)
    }

    /// The running means shown while an epoch runs; a fixed-size array, so no allocation.
    fn running_logs(&self, loss_sum: f64, metric_sum: f64, seen: usize) -> RunningLogs {
        let n = seen.max(1) as f64;
        let metric = self.compiled.as_ref().and_then(|c| c.metric);
        RunningLogs {
            values: [("loss", loss_sum / n), (metric.map_or("", |m| m.name()), metric_sum / n)],
            len: 1 + metric.is_some() as usize,
        }
    }

    /// Loss and metric over `(x, y)`, batch 32, with a progress bar (Keras's `evaluate`).
    pub fn evaluate<X: Samples + ?Sized>(&mut self, x: &X, y: &Tensor) -> Result<Evaluation> {
        self.evaluate_with(x, y, 32, 1)
    }

    /// [`Sequential::evaluate`] with a batch size and a verbosity.
    pub fn evaluate_with<X: Samples + ?Sized>(
        &mut self,
        x: &X,
        y: &Tensor,
        batch_size: usize,
        verbose: u8,
    ) -> Result<Evaluation> {
        if batch_size == 0 {
            return Err(Error::value("batch_size must be a positive integer, received batch_size=0"));
        }
        self.check_data(x, y, "evaluation", batch_size)?;
        let _flush = cpu::FlushDenormals::on(); // as Keras's TensorFlow kernels
        let n = x.rows();
        let steps = n.div_ceil(batch_size);
        let mut bar = Progbar::new(steps, verbose);
        let (mut loss_sum, mut metric_sum) = (0.0, 0.0);
        for step in 0..steps {
            let (start, end) = (step * batch_size, ((step + 1) * batch_size).min(n));
            x.copy_rows_into(start, end, &mut self.batch_x);
            y.copy_rows_into(start, end, &mut self.batch_y);
            self.forward_batch(false);
            loss_sum += self.batch_loss(false);
            let metric = self.compiled.as_ref().and_then(|c| c.metric);
            metric_sum += metric.map_or(0.0, |m| m.sum(self.layers.last().expect("built").output(), &self.batch_y));
            bar.update(step + 1, self.running_logs(loss_sum, metric_sum, end).as_slice());
        }
        let logs = self.running_logs(loss_sum, metric_sum, n);
        bar.finish(logs.as_slice());
        let logs = logs.as_slice();
        Ok(Evaluation { loss: logs[0].1, accuracy: logs.get(1).map(|l| l.1) })
    }

    /// The model's outputs for `x`, computed in batches of 32 (Keras's `predict`).
    pub fn predict<X: Samples + ?Sized>(&mut self, x: &X) -> Result<Tensor> {
        self.check_input(x, 32, false)?;
        let _flush = cpu::FlushDenormals::on(); // as Keras's TensorFlow kernels
        let n = x.rows();
        let mut shape = vec![n];
        shape.extend_from_slice(&self.output_shape);
        let mut out = Tensor::zeros(&shape);
        let w = out.row_len();
        for start in (0..n).step_by(32) {
            let end = (start + 32).min(n);
            x.copy_rows_into(start, end, &mut self.batch_x);
            self.forward_batch(false);
            let y = self.layers.last().expect("built").output();
            out.data_mut()[start * w..end * w].copy_from_slice(y.data());
        }
        Ok(out)
    }

    /// Input checks shared by fit/evaluate/predict: built, widths agree, the buffers of a batch
    /// of `batch` fit in memory, values finite.
    pub(crate) fn check_input<X: Samples + ?Sized>(&mut self, x: &X, batch: usize, training: bool) -> Result<()> {
        if x.rows() == 0 {
            return Err(Error::value(format!("the input is empty: shape {}", shape_str(x.shape()))));
        }
        self.ensure_built(&x.shape()[1..])?;
        let planned = |c: &super::sequential::Compiled| {
            c.plan.loss_takes_activation && c.plan.backward.len() == self.layers.len()
        };
        if self.compiled.as_ref().is_some_and(|c| !planned(c)) {
            self.check_output_fits_loss()?;
        }
        let want = self.input_shape.as_deref().unwrap_or(&[]);
        if &x.shape()[1..] != want {
            return Err(Error::shape(format!(
                "input of shape {} does not fit the model '{}': it expects samples of shape {} (None{})",
                shape_str(x.shape()),
                self.name,
                shape_str(want),
                want.iter().map(|d| format!(", {d}")).collect::<String>()
            )));
        }
        self.check_batch_memory(batch.min(x.rows()), training)?;
        if let Some((v, i)) = x.first_non_finite() {
            return Err(Error::value(format!("the input holds a non-finite value ({v}) at sample {i}")));
        }
        self.check_first_layer_input(x)
    }

    /// Lets the first layer check the values (an Embedding's ids), in chunks of rows.
    fn check_first_layer_input<X: Samples + ?Sized>(&self, x: &X) -> Result<()> {
        let Some(first) = self.layers.first() else { return Ok(()) };
        if first.check_input(&Tensor::default(), 0).is_none() {
            return Ok(()); // the layer takes any value: no need to look
        }
        if let Some(t) = x.as_tensor() {
            return first.check_input(t, 0).unwrap_or(Ok(())); // in place: a step allocates nothing
        }
        let mut chunk = Tensor::default();
        for start in (0..x.rows()).step_by(4096) {
            x.copy_rows_into(start, (start + 4096).min(x.rows()), &mut chunk);
            match first.check_input(&chunk, start) {
                None => return Ok(()),
                Some(r) => r?,
            }
        }
        Ok(())
    }

    fn check_data<X: Samples + ?Sized>(&mut self, x: &X, y: &Tensor, what: &str, batch: usize) -> Result<()> {
        let Some(c) = &self.compiled else {
            return Err(Error::value(format!(
                "model '{}' must be compiled before {what}: call compile(...) first",
                self.name
            )));
        };
        let loss = c.loss;
        self.check_input(x, batch, what == "training")?;
        if x.rows() != y.rows() {
            return Err(Error::shape(format!(
                "{what} data: x has {} samples but y has {} (x: {}, y: {})",
                x.rows(),
                y.rows(),
                shape_str(x.shape()),
                y.shape_str()
            )));
        }
        loss.check_targets(y, self.output_shape.iter().product())
    }
}

/// Running means of the loss and the metric, without allocating.
struct RunningLogs {
    values: [(&'static str, f64); 2],
    len: usize,
}

impl RunningLogs {
    fn as_slice(&self) -> &[(&'static str, f64)] {
        &self.values[..self.len]
    }

    fn to_owned(&self) -> Vec<(String, f64)> {
        self.as_slice().iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }
}
