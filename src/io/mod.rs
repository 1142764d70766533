//! Model files: safetensors save/load, Keras `.keras`/`.h5` in and out, ONNX export. They are
//! written atomically through [`crate::fs`], whose primitives are also re-exported here.

pub use crate::fs::tfevents;
pub use crate::fs::{check_distinct, check_writable, same_file, write_atomic, write_atomic_with};
mod keras;
mod model_file;
mod model_load;
pub mod onnx;
pub use model_file::{keeps_metadata, read_metadata, FORMAT};
pub use model_load::{load_model, non_finite_warning, read_architecture};
