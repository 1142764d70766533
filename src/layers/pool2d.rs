//! The settings both pooling layers share ([`Pool2d`]: pool size, strides, padding, and the
//! window they give once built) and their builders.

use serde_json::{json, Value};

use super::registry::{ArgKind, ArgKind::*};
use super::window_args::{read_size2, window};
use super::LayerConfig;
use crate::error::Result;
use crate::tensor::{Padding, Size2, Window2d};

/// A pooling layer's constructor arguments and the window they give once built.
pub(crate) struct Pool2d {
    pub pool_size: Size2,
    pub strides: Option<Size2>, // None: pool_size, as Keras
    pub padding: Padding,
    pub input_shape: Option<Vec<usize>>,
    pub name: String,
    pub g: Window2d,
}

impl Pool2d {
    pub fn new(pool_size: Size2) -> Pool2d {
        let (padding, g) = (Padding::Valid, Window2d::default());
        Pool2d { pool_size, strides: None, padding, input_shape: None, name: String::new(), g }
    }

    pub fn build(&mut self, class: &str, input_shape: &[usize]) -> Result<Vec<usize>> {
        let who = format!("layer '{}' ({class})", self.name);
        let strides = self.strides.unwrap_or(self.pool_size);
        self.g = window(&who, input_shape, ("pool_size", self.pool_size), strides, self.padding)?;
        Ok(vec![self.g.oh, self.g.ow, self.g.c])
    }

    pub fn config(&self) -> Value {
        json!({
            "name": self.name,
            "pool_size": self.pool_size.to_json(),
            "strides": self.strides.unwrap_or(self.pool_size).to_json(),
            "padding": self.padding.name(),
            "data_format": "channels_last",
            "input_shape": self.input_shape,
        })
    }

    /// The grammar and config arguments of both pooling layers.
    pub const ARGS: &'static [(&'static str, ArgKind)] =
        &[("pool_size", PositiveInt), ("strides", PositiveInt), ("padding", Word)];

    /// Reads a pooling layer's config; Keras's defaults: pool_size 2, strides = pool_size.
    pub fn from_config(c: &LayerConfig) -> Result<Pool2d> {
        let mut pool = Pool2d::new(read_size2(&c, "pool_size")?.unwrap_or(Size2(2, 2)));
        pool.strides = read_size2(&c, "strides")?;
        c.data_format()?;
        if let Some(p) = c.str("padding")? {
            pool.padding = c.wrap(Padding::parse(p))?;
        }
        Ok(pool)
    }
}

/// The builders both pooling layers have: `strides` (default: `pool_size`), `padding`, and the
/// name/input_shape every layer has, all stored in their `pool: Pool2d`.
macro_rules! pool_builders {
    () => {
        /// Defaults to `pool_size`.
        pub fn strides(mut self, strides: impl Into<$crate::tensor::Size2>) -> Self {
            self.pool.strides = Some(strides.into());
            self
        }
        /// `Padding::Valid` (Keras's default) or `Padding::Same`.
        pub fn padding(mut self, padding: $crate::tensor::Padding) -> Self {
            self.pool.padding = padding;
            self
        }
        layer_builders!(pool);
    };
}
pub(crate) use pool_builders;
