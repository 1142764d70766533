//! `compile`'s arguments: optimizer (RMSprop when none is named, as Keras), loss, metrics.

use crate::error::Result;
use crate::optimizers::{self, Optimizer};

/// What `Sequential::compile` takes, built Keras-style:
/// `Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam")`.
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

    pub fn optimizer_boxed(mut self, optimizer: Box<dyn Optimizer>) -> Compile {
        self.optimizer = OptimizerArg::Built(optimizer);
        self
    }

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
