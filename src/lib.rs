//! kiln: Keras-style deep learning in pure Rust.
//!
//! The layers of the system, bottom up: [`fs`] (atomic writes, event files) → [`tensor`] (the
//! f32 tensor and its kernels) →
//! [`layers`], [`losses`], [`optimizers`] → [`model`] (Sequential, fit/evaluate/predict) →
//! [`data`] and [`datasets`] → [`io`] (save/load) → the `kiln` CLI.

pub mod console;
pub mod error;
pub mod fs;
pub mod tensor;

pub use error::{Error, IoContext, Result};
pub use tensor::{Tensor, U8Tensor};
pub mod data;
pub mod datasets;
pub mod devices;
pub mod io;
pub mod layers;
pub mod losses;
pub mod model;
pub mod optimizers;
#[cfg(test)]
pub(crate) mod test_support;
pub mod viz;
