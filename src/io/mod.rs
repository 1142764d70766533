//! Files kiln writes: always atomically (temporary file in the same directory, then rename),
//! so an interrupted write never destroys the previous good file.

mod atomic;
mod output;
pub(crate) mod stale;

pub use atomic::{write_atomic, write_atomic_with};
pub use output::{check_distinct, check_writable, same_file};
mod keras;
mod model_file;
mod model_load;
mod model_view;
pub mod onnx;
pub mod tfevents;
pub use model_file::{keeps_metadata, read_metadata, FORMAT};
pub use model_load::{load_model, non_finite_warning, read_architecture};
