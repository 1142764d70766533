//! The model and its training loop: Sequential, compile, fit/evaluate/predict, callbacks,
//! progress display, history.

mod callbacks;
mod compile;
mod data_spec;
mod fit;
mod history;
mod inspect;
mod memory;
mod metrics;
mod progress;
mod restore;
mod samples;
mod sequential;
mod state;
mod step;
mod summary;
mod weights;

pub use callbacks::{log_value, Callback, Logs};
pub use callbacks::{CSVLogger, EarlyStopping, Mode, ModelCheckpoint, ReduceLROnPlateau, TensorBoard, TerminateOnNaN};
pub use compile::Compile;
pub use data_spec::DataSpec;
pub use fit::{Evaluation, FitOptions};
pub use history::History;
pub use metrics::Metric;
pub use progress::Progbar;
pub use samples::{Samples, ScaledBytes};
pub use sequential::Sequential;
pub use state::{CompileState, LayerState, ModelState, TrainingState};

mod architecture;
#[cfg(test)]
mod tests;
