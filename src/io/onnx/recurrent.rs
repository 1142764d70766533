//! Embedding, SimpleRNN, LSTM and GRU as ONNX's Gather, RNN, LSTM and GRU operators.
//!
//! The ids arrive as the model's float input and are cast to int64 for Gather. ONNX's
//! recurrent operators read time-major sequences and keep their gates in another order than
//! Keras (LSTM: i, o, f, c against Keras's i, f, c, o; GRU and RNN: the same), with the
//! weights transposed: `W[g·H + j, f] = kernel[f, keras_gate(g)·H + j]`. Keras's single bias is
//! ONNX's input bias, the recurrent bias zero, except GRU with `reset_after`, whose two bias rows
//! are exactly ONNX's `Wb` and `Rb` (`linear_before_reset = 1`). `go_backwards` reverses the
//! sequence before a forward pass, which gives Keras's output order for the whole sequence too.

use serde_json::Value;

use super::graph::{unsupported, weight, GraphBuilder};
use super::proto::{AttributeProto, NodeProto};
use crate::error::Result;
use crate::model::LayerState;

/// ONNX's `Cast` target for int64.
const TO_INT64: i64 = 7;

/// For each ONNX gate in ONNX's order, the index of the same gate in Keras's order.
fn keras_gates(class: &str) -> &'static [usize] {
    match class {
        "LSTM" => &[0, 3, 1, 2],
        "GRU" => &[0, 1, 2],
        _ => &[0],
    }
}

/// `kernel` (rows, gates·H) as ONNX's (gates·H, rows), gates in ONNX's order.
fn gates_transposed(kernel: &[f32], rows: usize, h: usize, order: &[usize]) -> Vec<f32> {
    let width = order.len() * h;
    let mut out = Vec::with_capacity(width * rows);
    for &k in order {
        for j in 0..h {
            out.extend((0..rows).map(|r| kernel[r * width + k * h + j]));
        }
    }
    out
}

/// A bias row (gates·H) with its gates in ONNX's order.
fn gates_reordered(bias: &[f32], h: usize, order: &[usize]) -> Vec<f32> {
    order.iter().flat_map(|&k| bias[k * h..(k + 1) * h].iter().copied()).collect()
}

/// ONNX's name of a Keras activation inside a recurrent cell.
fn onnx_activation(layer: &LayerState, key: &str, default: &str) -> Result<&'static str> {
    match layer.config.get(key).and_then(Value::as_str).unwrap_or(default) {
        "tanh" => Ok("Tanh"),
        "sigmoid" => Ok("Sigmoid"),
        "relu" => Ok("Relu"),
        other => Err(unsupported(layer, &format!("{key} '{other}'"))),
    }
}

fn flag(layer: &LayerState, key: &str, default: bool) -> bool {
    layer.config.get(key).and_then(Value::as_bool).unwrap_or(default)
}

impl GraphBuilder {
    /// Embedding: the float ids cast to int64 pick rows of the table.
    pub(super) fn embedding(&mut self, layer: &LayerState) -> Result<()> {
        let n = layer.name.as_str();
        self.unary(&format!("{n}/Cast"), "Cast", vec![AttributeProto::int("to", TO_INT64)]);
        let table = weight(layer, "embeddings")?;
        let t = self.init_f32(&format!("{n}.embeddings"), table.shape(), table.data());
        let ids = self.current.clone();
        self.node(&format!("{n}/Gather"), "Gather", vec![t, ids], vec![AttributeProto::int("axis", 0)]);
        Ok(())
    }

    /// SimpleRNN, LSTM or GRU on the current (batch, time, features) value.
    pub(super) fn recurrent(&mut self, layer: &LayerState) -> Result<()> {
        let (n, class) = (layer.name.as_str(), layer.class.as_str());
        self.channels_last(n);
        let kernel = weight(layer, "kernel")?;
        let recurrent = weight(layer, "recurrent_kernel")?;
        let (features, h) = (kernel.shape()[0], recurrent.shape()[0]);
        let order = keras_gates(class);
        let w = gates_transposed(kernel.data(), features, h, order);
        let r = gates_transposed(recurrent.data(), h, h, order);
        let gh = order.len() * h;
        let mut attrs = vec![AttributeProto::int("hidden_size", h as i64)];
        let activation = onnx_activation(layer, "activation", "tanh")?;
        let activations: Vec<&str> = match class {
            "SimpleRNN" => vec![activation],
            "LSTM" => vec![onnx_activation(layer, "recurrent_activation", "sigmoid")?, activation, activation],
            _ => vec![onnx_activation(layer, "recurrent_activation", "sigmoid")?, activation],
        };
        attrs.push(AttributeProto::strings("activations", &activations));
        let reset_after = class == "GRU" && flag(layer, "reset_after", true);
        if class == "GRU" {
            attrs.push(AttributeProto::int("linear_before_reset", reset_after as i64));
        }

        self.unary(&format!("{n}/to_time_major"), "Transpose", vec![AttributeProto::ints("perm", &[1, 0, 2])]);
        if flag(layer, "go_backwards", false) {
            self.reverse_time(n);
        }
        let mut inputs = vec![
            self.current.clone(),
            self.init_f32(&format!("{n}.kernel"), &[1, gh, features], &w),
            self.init_f32(&format!("{n}.recurrent_kernel"), &[1, gh, h], &r),
        ];
        if let Some(b) = layer.weight("bias").filter(|b| b.len() > 0) {
            let mut both = gates_reordered(&b.data()[..gh], h, order);
            match reset_after {
                true => both.extend(gates_reordered(&b.data()[gh..], h, order)),
                false => both.extend(std::iter::repeat_n(0.0, gh)),
            }
            inputs.push(self.init_f32(&format!("{n}.bias"), &[1, 2 * gh], &both));
        }
        let sequences = flag(layer, "return_sequences", false);
        // Y (time, 1, batch, H) for the whole sequence, else Y_h (1, batch, H).
        let out = format!("{n}/{class}:0");
        let outputs = if sequences { vec![out.clone()] } else { vec![String::new(), out.clone()] };
        self.nodes.push(NodeProto {
            input: inputs,
            output: outputs,
            name: format!("{n}/{class}"),
            op_type: if class == "SimpleRNN" { "RNN".into() } else { class.into() },
            attribute: attrs,
        });
        self.current = out;
        let axis = self.init_i64(&format!("{n}.direction_axis"), &[if sequences { 1 } else { 0 }]);
        let x = self.current.clone();
        self.node(&format!("{n}/Squeeze"), "Squeeze", vec![x, axis], vec![]);
        if sequences {
            self.unary(&format!("{n}/to_batch_major"), "Transpose", vec![AttributeProto::ints("perm", &[1, 0, 2])]);
        }
        Ok(())
    }

    /// The current time-major value with its time steps in reverse order.
    fn reverse_time(&mut self, n: &str) {
        let starts = self.init_i64(&format!("{n}.reverse_starts"), &[-1]);
        let ends = self.init_i64(&format!("{n}.reverse_ends"), &[i64::MIN]);
        let axes = self.init_i64(&format!("{n}.reverse_axes"), &[0]);
        let steps = self.init_i64(&format!("{n}.reverse_steps"), &[-1]);
        let x = self.current.clone();
        self.node(&format!("{n}/go_backwards"), "Slice", vec![x, starts, ends, axes, steps], vec![]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm_gates_move_to_onnx_order_and_transpose() {
        // Two features, H = 1: kernel row r, Keras gate k holds 10·r + k.
        let kernel = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0];
        let w = gates_transposed(&kernel, 2, 1, keras_gates("LSTM"));
        // ONNX i, o, f, c = Keras gates 0, 3, 1, 2, each as a row over the features.
        assert_eq!(w, [0.0, 10.0, 3.0, 13.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(gates_reordered(&[0.0, 1.0, 2.0, 3.0], 1, keras_gates("LSTM")), [0.0, 3.0, 1.0, 2.0]);
    }
}
