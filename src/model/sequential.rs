//! `Sequential`: a stack of layers, compiled with a loss and an optimizer; one training step is
//! forward → loss → zero_grad → backward → update, on buffers reused from step to step.

use std::collections::HashSet;

use rand::SeedableRng as _;

use super::compile::Plan;
use super::memory::{check_layer_output, check_layer_weights};
use super::{Compile, DataSpec, Metric};
use crate::error::{Error, Result};
use crate::layers::names::{check_name, Namer};
use crate::layers::{count_params, Layer, Rng};
use crate::losses::Loss;
use crate::optimizers::{Optimizer, OptimizerState};
use crate::tensor::limits::{check_values, len_u128};
use crate::tensor::{shape_str, Tensor};

/// What compile settled: the loss, the metric, the optimizer and its state.
pub(crate) struct Compiled {
    pub loss: Loss,
    pub metric: Option<Metric>,
    pub optimizer: Box<dyn Optimizer>,
    pub state: OptimizerState,
    /// The step's fusions, settled once the model is built ([`Plan::new`]).
    pub plan: Plan,
}

/// Keras's `Sequential` model: layers in a stack, `compile`, `fit`, `evaluate`, `predict`.
///
/// ```
/// use kiln::layers::{Activation, Dense};
/// use kiln::model::{Compile, FitOptions, Sequential};
/// use kiln::Tensor;
///
/// // Points left of 0 are class 0, right of it class 1.
/// let x = Tensor::from_vec(&[8, 1], vec![-4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0])?;
/// let y = Tensor::from_vec(&[8], vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])?;
/// let mut model = Sequential::new().seed(42);
/// model.add(Dense::new(2).activation(Activation::Softmax).input_shape(&[1]));
/// model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]))?;
/// let history = model.fit(&x, &y, FitOptions { epochs: 100, batch_size: 8, verbose: 0, ..Default::default() })?;
/// assert!(history.loss().last() < history.loss().first());
/// let result = model.evaluate_with(&x, &y, 8, 0)?;
/// assert_eq!(result.accuracy, Some(1.0));
/// let probabilities = model.predict(&x)?;
/// assert_eq!(probabilities.shape(), &[8, 2]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub struct Sequential {
    pub(super) name: String,
    pub(super) layers: Vec<Box<dyn Layer>>,
    pub(super) input_shape: Option<Vec<usize>>,
    pub(super) output_shape: Vec<usize>,
    /// Per-sample output shape of each layer, set by `build`.
    pub(super) layer_shapes: Vec<Vec<usize>>,
    /// Index of the first layer with parameters: layers up to it need no input gradient.
    pub(super) first_with_params: usize,
    pub(super) compiled: Option<Compiled>,
    pub(super) seed: u64,
    /// Stream 2 of the seed: dropout masks.
    pub(super) dropout_rng: Rng,
    /// Stream 1 of the seed: the order of samples each epoch.
    pub(super) shuffle_rng: Rng,
    /// Set by callbacks (EarlyStopping, TerminateOnNaN) to end `fit` after the current epoch.
    pub stop_training: bool,
    /// Epochs `fit` has ended (an interrupted one included), saved with the model.
    pub(super) epochs_trained: usize,
    pub(super) batch_x: Tensor,
    pub(super) batch_y: Tensor,
    pub(super) loss_grad: Tensor,
    /// Makes the names of unnamed layers as they are added.
    pub(super) names: Namer,
    /// What the model was trained on, saved with it (set by whoever loads the data).
    pub(super) data_spec: Option<DataSpec>,
}

fn stream(seed: u64, n: u64) -> Rng {
    let mut rng = Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl Sequential {
    /// An empty model named "sequential", seeded with 0 (set another with [`Sequential::seed`]).
    pub fn new() -> Sequential {
        Sequential {
            name: "sequential".into(),
            layers: Vec::new(),
            input_shape: None,
            output_shape: Vec::new(),
            layer_shapes: Vec::new(),
            first_with_params: 0,
            compiled: None,
            seed: 0,
            dropout_rng: stream(0, 2),
            shuffle_rng: stream(0, 1),
            stop_training: false,
            epochs_trained: 0,
            batch_x: Tensor::default(),
            batch_y: Tensor::default(),
            loss_grad: Tensor::default(),
            names: Namer::default(),
            data_spec: None,
        }
    }

    /// An empty model called `name` (Keras's `Sequential(name=...)`).
    pub fn named(name: &str) -> Sequential {
        let mut m = Sequential::new();
        m.name = name.into();
        m
    }

    /// The one seed behind weight initialisation (stream 0), shuffling (1) and dropout (2).
    pub fn seed(mut self, seed: u64) -> Sequential {
        self.set_seed(seed);
        self
    }

    /// Reseeds initialisation, shuffling and dropout.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.shuffle_rng = stream(seed, 1);
        self.dropout_rng = stream(seed, 2);
    }

    /// Epochs trained so far, over every `fit` and saved with the model: the `initial_epoch`
    /// of a run that continues it.
    pub fn epochs_trained(&self) -> usize {
        self.epochs_trained
    }

    /// The model's name ("sequential" unless given).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends a layer; unnamed layers get Keras's names (dense, dense_1, ...).
    pub fn add(&mut self, layer: impl Layer + 'static) {
        self.add_boxed(Box::new(layer));
    }

    /// [`Sequential::add`] for a boxed layer.
    pub fn add_boxed(&mut self, mut layer: Box<dyn Layer>) {
        let name = self.names.name(layer.class_name(), layer.name());
        layer.set_name(name);
        if self.layers.is_empty() {
            self.input_shape = layer.declared_input_shape().map(|s| s.to_vec());
        }
        self.layers.push(layer);
        self.output_shape.clear(); // built again on compile or first data
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// Per-sample output shape of each layer (empty before the model is built).
    pub fn layer_output_shapes(&self) -> &[Vec<usize>] {
        &self.layer_shapes
    }

    /// Per-sample input shape, once known.
    pub fn input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    /// Whether the layers have their weights (after `build` or the first `fit`).
    pub fn is_built(&self) -> bool {
        !self.output_shape.is_empty()
    }

    /// Builds every layer for a per-sample `input_shape`, initialising weights from the seed.
    pub fn build(&mut self, input_shape: &[usize]) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::value(format!("model '{}' has no layers; add one before building", self.name)));
        }
        let mut names = HashSet::new();
        for layer in &self.layers {
            check_name(layer.name())?;
            if !names.insert(layer.name()) {
                return Err(Error::value(format!("layer name '{}' is used twice; names must be unique", layer.name())));
            }
        }
        check_values(len_u128(input_shape), || {
            format!("model '{}': its input of shape {} per sample", self.name, shape_str(input_shape))
        })?;
        let mut rng = stream(self.seed, 0);
        let mut shape = input_shape.to_vec();
        let mut weights = 0;
        self.layer_shapes.clear();
        for layer in &mut self.layers {
            check_layer_weights(layer.as_ref(), &shape, &mut weights)?;
            shape = layer.build(&shape, &mut rng)?;
            check_layer_output(layer.as_ref(), &shape)?;
            self.layer_shapes.push(shape.clone());
        }
        self.input_shape = Some(input_shape.to_vec());
        self.output_shape = shape;
        self.first_with_params = self.layers.iter().position(|l| !l.params().is_empty()).unwrap_or(self.layers.len());
        Ok(())
    }

    /// Builds when the input shape is known and the model is not built yet.
    pub(crate) fn ensure_built(&mut self, data_shape: &[usize]) -> Result<()> {
        if !self.is_built() {
            let shape = self.input_shape.clone().unwrap_or_else(|| data_shape.to_vec());
            self.build(&shape)?;
        }
        Ok(())
    }

    /// Settles loss, metrics and optimizer; errors name the bad value and the valid ones.
    pub fn compile(&mut self, args: Compile) -> Result<()> {
        let loss = Loss::parse(&args.loss)?;
        let metric = match args.metrics.as_slice() {
            [] => None,
            [m] => Some(Metric::resolve(m, loss)?),
            more => return Err(Error::value(format!("kiln supports one metric per model, got {more:?}"))),
        };
        let optimizer = args.optimizer.build()?;
        // A hand-built optimizer goes through the checks a saved one does (learning_rate > 0...).
        crate::optimizers::from_config(optimizer.name(), &optimizer.config())?;
        if let Some(shape) = self.input_shape.clone() {
            if !self.is_built() {
                self.build(&shape)?;
            }
        }
        let plan = Plan::default();
        self.compiled = Some(Compiled { loss, metric, optimizer, state: OptimizerState::default(), plan });
        if self.is_built() {
            self.check_output_fits_loss()?;
        }
        Ok(())
    }

    /// After build: a loss whose labels do not fit the output is an error at compile time; the
    /// step's fusion plan is settled.
    pub(crate) fn check_output_fits_loss(&mut self) -> Result<()> {
        let Some(c) = self.compiled.as_mut() else { return Ok(()) };
        let last = self.layers.last().expect("built models have layers");
        if self.output_shape.len() != 1 {
            return Err(Error::shape(format!(
                "the model's output has shape {} per sample; {} needs 1-D outputs (add Flatten and Dense)",
                shape_str(&self.output_shape),
                c.loss.name()
            )));
        }
        let width = self.output_shape[0];
        if c.loss == Loss::SparseCategoricalCrossentropy && width < 2 {
            return Err(Error::shape(format!(
                "{} needs one output per class, but the last layer '{}' has {width} output",
                c.loss.name(),
                last.name()
            )));
        }
        c.plan = Plan::new(&self.layers, c.loss);
        Ok(())
    }

    /// The optimizer, once compiled.
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        self.compiled.as_ref().map(|c| c.optimizer.as_ref())
    }

    /// The optimizer, once compiled, to change (ReduceLROnPlateau sets its rate).
    pub fn optimizer_mut(&mut self) -> Option<&mut Box<dyn Optimizer>> {
        self.compiled.as_mut().map(|c| &mut c.optimizer)
    }

    /// The optimizer's slots and step count, once compiled.
    pub fn optimizer_state(&self) -> Option<&OptimizerState> {
        self.compiled.as_ref().map(|c| &c.state)
    }

    /// The optimizer's slots and step count, to change (loading, resuming).
    pub fn optimizer_state_mut(&mut self) -> Option<&mut OptimizerState> {
        self.compiled.as_mut().map(|c| &mut c.state)
    }

    /// The loss, once compiled.
    pub fn loss(&self) -> Option<Loss> {
        self.compiled.as_ref().map(|c| c.loss)
    }

    /// Names of the logged values: ["loss", "accuracy"].
    pub fn metrics_names(&self) -> Vec<&'static str> {
        let mut names = vec!["loss"];
        if let Some(m) = self.compiled.as_ref().and_then(|c| c.metric) {
            names.push(m.name());
        }
        names
    }

    /// Total and trainable parameter counts.
    pub fn count_params(&self) -> (usize, usize) {
        self.layers.iter().map(|l| count_params(l.as_ref())).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}
