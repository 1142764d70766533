//! File primitives every layer above may use: atomic writes (temporary file in the same
//! directory, then rename, so an interrupted write never destroys the previous good file),
//! where an output may go (never over a device it must not replace, a read-only file or an
//! input), stale temporary files, and TensorBoard's event records. They know nothing of models:
//! `model`'s callbacks write through them, and `io` builds the model formats on them.

mod atomic;
mod output;
pub(crate) mod stale;
pub mod tfevents;

pub use atomic::{write_atomic, write_atomic_with};
pub use output::{check_distinct, check_writable, same_file};
