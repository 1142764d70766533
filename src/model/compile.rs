//! `compile`'s arguments: optimizer (RMSprop when none is named, as Keras), loss, metrics; and
//! the fusion plan of the training step that compiling a built model settles.

use crate::error::Result;
use crate::layers::{Activation, Backward, Fold, Layer};
use crate::losses::Loss;
use crate::optimizers::{self, Optimizer};
use crate::tensor::Tensor;

/// What `Sequential::compile` takes, built Keras-style:
/// `Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam")`.
///
/// ```
/// use kiln::layers::{Activation, Dense};
/// use kiln::model::{Compile, Sequential};
///
/// let mut model = Sequential::new();
/// model.add(Dense::new(3).activation(Activation::Softmax).input_shape(&[4]));
/// // RMSprop when no optimizer is named, as Keras.
/// model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]))?;
/// // A name Keras does not know is an error.
/// let e = model.compile(Compile::new("sparse_categorical_crossentropy").optimizer("adamm"));
/// assert!(e.unwrap_err().to_string().contains("adamm"));
/// # Ok::<(), kiln::Error>(())
/// ```
pub struct Compile {
    pub(crate) optimizer: OptimizerArg,
    pub(crate) loss: String,
    pub(crate) metrics: Vec<String>,
}

pub(crate) enum OptimizerArg {
    Name(String),
    Built(Box<dyn Optimizer>),
}

impl Compile {
    /// Compiling with `loss` (Keras's name), RMSprop and no metrics.
    pub fn new(loss: &str) -> Compile {
        Compile { optimizer: OptimizerArg::Name("rmsprop".into()), loss: loss.into(), metrics: vec![] }
    }

    /// A Keras optimizer string ("adam", "sgd", ...) with Keras's defaults.
    pub fn optimizer(mut self, name: &str) -> Compile {
        self.optimizer = OptimizerArg::Name(name.into());
        self
    }

    /// A configured optimizer: `.optimizer_with(Adam { learning_rate: 3e-4, ..Default::default() })`.
    pub fn optimizer_with(mut self, optimizer: impl Optimizer + 'static) -> Compile {
        self.optimizer = OptimizerArg::Built(Box::new(optimizer));
        self
    }

    /// A configured optimizer, already boxed.
    pub fn optimizer_boxed(mut self, optimizer: Box<dyn Optimizer>) -> Compile {
        self.optimizer = OptimizerArg::Built(optimizer);
        self
    }

    /// Keras's metrics: `&["accuracy"]`.
    pub fn metrics(mut self, metrics: &[&str]) -> Compile {
        self.metrics = metrics.iter().map(|m| m.to_string()).collect();
        self
    }
}

impl OptimizerArg {
    /// The optimizer itself: a name resolved with Keras's defaults, or the one given.
    pub(crate) fn build(self) -> Result<Box<dyn Optimizer>> {
        match self {
            OptimizerArg::Name(name) => optimizers::from_name(&name),
            OptimizerArg::Built(opt) => Ok(opt),
        }
    }
}

/// The fusions of a training step, settled once the model is compiled and built: which layer's
/// activation the loss takes over, which relus the layer above takes over, and which Embeddings
/// the recurrent layer above folds into its input product. Layers carry no
/// flags that neighbours set: the step hands each layer its part of the plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// The loss reads the last layer's logits and hands it dL/d(logits): softmax (sigmoid) and
    /// a crossentropy, one stable gradient `p - y` (Keras's `fit` does the same).
    pub loss_takes_activation: bool,
    /// Per layer, how its backward runs (`need_dinput` is the step's to set).
    pub backward: Vec<Backward>,
    /// Per layer, whether it takes the lookup of the Embedding right below: the step hands it
    /// that Embedding's ids and table ([`Plan::fold`]).
    pub lookup_below: Vec<bool>,
}

impl Plan {
    /// The plan for `layers` (built) trained with `loss`:
    /// - the last layer ends in softmax/sigmoid, keeps its logits, and the loss is a matching
    ///   crossentropy: the loss computes from the logits and the layer skips its activation's
    ///   backward;
    /// - a layer ends in relu and the layer above can do relu's backward along with its own (max
    ///   pooling: the gradient goes where the window's maximum was, and relu's mask there is
    ///   whether that maximum is positive): the upper layer does both, the lower one skips it;
    /// - an Embedding feeds a layer that can take its lookup (a recurrent layer): that layer
    ///   reads the ids and the table beside the looked-up rows.
    pub(crate) fn new(layers: &[Box<dyn Layer>], loss: Loss) -> Plan {
        let mut backward = vec![Backward::default(); layers.len()];
        let last = layers.last().map(|l| l.fusion());
        let loss_takes_activation =
            last.is_some_and(|f| f.logits.is_some() && f.activation.is_some_and(|a| loss.fuses_with(a)));
        if let (true, Some(b)) = (loss_takes_activation, backward.last_mut()) {
            b.activation_done = true;
        }
        let mut lookup_below = vec![false; layers.len()];
        for i in 1..layers.len() {
            lookup_below[i] = layers[i - 1].fusion().lookup.is_some() && layers[i].fusion().takes_lookup_below;
            let below_relu = layers[i - 1].fusion().activation == Some(Activation::Relu);
            if below_relu && layers[i].fusion().takes_relu_below {
                backward[i].relu_below = true;
                backward[i - 1].activation_done = true;
            }
        }
        Plan { loss_takes_activation, backward, lookup_below }
    }

    /// Layer `below.len()`'s part of the Embedding → recurrent fold in a forward pass of `x`
    /// (its input), `below` the layers under it (already run). The fold pays when the table has
    /// no more rows than the batch has ids: projecting the table then costs no more than
    /// projecting the looked-up rows. The Embedding's own output is skipped in training only
    /// (inference may show every layer's output).
    pub(crate) fn fold<'a>(
        &self,
        below: &'a [Box<dyn Layer>],
        layer: &dyn Layer,
        x: &Tensor,
        training: bool,
    ) -> Fold<'a> {
        let i = below.len();
        let pays = |table: &Tensor, ids: usize| table.rows() <= ids;
        if self.lookup_below.get(i) == Some(&true) {
            if let Some(lookup) = below[i - 1].fusion().lookup.filter(|l| pays(l.table, l.ids.len())) {
                return Fold::Lookup(lookup);
            }
        } else if training && self.lookup_below.get(i + 1) == Some(&true) {
            if layer.fusion().lookup.is_some_and(|l| pays(l.table, x.len())) {
                return Fold::IntoAbove;
            }
        }
        Fold::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{parse_layers, Rng};

    fn plan(spec: &str, input: &[usize], loss: Loss) -> Plan {
        let mut layers = parse_layers(spec).unwrap();
        let (mut shape, mut rng) = (input.to_vec(), <Rng as rand::SeedableRng>::seed_from_u64(0));
        for l in &mut layers {
            shape = l.build(&shape, &mut rng).unwrap();
        }
        Plan::new(&layers, loss)
    }

    #[test]
    fn the_loss_takes_a_matching_output_activation_and_pooling_takes_the_relu_below() {
        let spec = "conv2d(4, 3, activation=relu), max_pooling2d(2), conv2d(4, 3), max_pooling2d(2), flatten, \
                    dense(10, activation=softmax)";
        let p = plan(spec, &[12, 12, 1], Loss::SparseCategoricalCrossentropy);
        assert!(p.loss_takes_activation);
        let (done, relu): (Vec<bool>, Vec<bool>) = p.backward.iter().map(|b| (b.activation_done, b.relu_below)).unzip();
        assert_eq!(done, [true, false, false, false, false, true], "relu'd conv and the fused output");
        assert_eq!(relu, [false, true, false, false, false, false], "only the pooling above a relu");
        // A sigmoid output with a categorical loss, or softmax with MSE: nothing fused.
        let p = plan("dense(3, activation=sigmoid)", &[4], Loss::SparseCategoricalCrossentropy);
        let unfused =
            Plan { loss_takes_activation: false, backward: vec![Backward::default()], lookup_below: vec![false] };
        assert_eq!(p, unfused);
        let p = plan("dense(3, activation=softmax)", &[4], Loss::MeanSquaredError);
        assert!(!p.loss_takes_activation);
        let p = plan("dense(3), activation(sigmoid)", &[4], Loss::BinaryCrossentropy);
        assert!(p.loss_takes_activation && p.backward[1].activation_done && !p.backward[0].activation_done);
    }

    #[test]
    fn a_recurrent_layer_takes_the_lookup_of_the_embedding_right_below() {
        let spec = "embedding(20, 4), lstm(3, return_sequences=true), gru(2), dense(1, activation=sigmoid)";
        let p = plan(spec, &[5], Loss::BinaryCrossentropy);
        assert_eq!(p.lookup_below, [false, true, false, false], "only the layer right above the Embedding");
        let p = plan("embedding(20, 4), simple_rnn(3, dropout=0.5)", &[5], Loss::MeanSquaredError);
        assert_eq!(p.lookup_below, [false, false], "dropout masks the looked-up rows");
        let p = plan("embedding(20, 4), flatten, dense(1)", &[5], Loss::MeanSquaredError);
        assert_eq!(p.lookup_below, [false, false, false]);
    }
}
