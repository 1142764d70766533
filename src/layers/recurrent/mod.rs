//! Recurrent layers: [`SimpleRNN`], [`LSTM`] and [`GRU`], Keras 3's semantics, defaults and
//! weight layout (gate order i, f, c, o for LSTM and z, r, h for GRU), each with its forward
//! loop and, right below it, backpropagation through time. What they share (options, weights,
//! the input's projection before the loop and the products after it) is in `base`.

mod base;
mod config;
mod embedded_input;
mod fused8;
pub(crate) mod gate_math;
mod gru;
mod halves;
mod lanes;
mod lstm;
mod orthogonal;
mod simple_rnn;

pub use gru::GRU;
pub use lstm::LSTM;
pub use simple_rnn::SimpleRNN;

/// Inside a recurrent layer's inherent `impl`: Keras's options every recurrent layer has, set
/// on its `core`.
macro_rules! rnn_builders {
    () => {
        /// The activation of the candidate state and the output (Keras's default tanh).
        pub fn activation(mut self, activation: $crate::layers::Activation) -> Self {
            self.core.activation = activation;
            self
        }

        /// The gates' activation (Keras's default sigmoid).
        pub fn recurrent_activation(mut self, activation: $crate::layers::Activation) -> Self {
            self.core.recurrent_activation = activation;
            self
        }

        /// Whether the cell adds a bias (default true).
        pub fn use_bias(mut self, use_bias: bool) -> Self {
            self.core.use_bias = use_bias;
            self
        }

        /// Output every step's state, (batch, timesteps, units), instead of the last one.
        pub fn return_sequences(mut self, on: bool) -> Self {
            self.core.return_sequences = on;
            self
        }

        /// Process the sequence backwards; with `return_sequences` the output is in that
        /// (reversed) order, as Keras's.
        pub fn go_backwards(mut self, on: bool) -> Self {
            self.core.go_backwards = on;
            self
        }

        /// Fraction of the input features dropped in training, one mask per sequence.
        pub fn dropout(mut self, rate: f32) -> Self {
            self.core.dropout = rate;
            self
        }

        /// Fraction of the state's units dropped from the recurrent product in training, one
        /// mask per sequence.
        pub fn recurrent_dropout(mut self, rate: f32) -> Self {
            self.core.recurrent_dropout = rate;
            self
        }

        /// The number of units, the size of the state.
        pub fn units(&self) -> usize {
            self.core.units
        }
    };
}
use rnn_builders;
