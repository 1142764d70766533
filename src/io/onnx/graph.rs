//! Each kiln layer as standard ONNX operators (opset 17).
//!
//! kiln's tensors are channels-last (NHWC), ONNX's Conv and pooling channels-first (NCHW): the
//! graph transposes into NCHW before the first spatial layer and back before a layer that needs
//! Keras's order (Flatten, Dense, Reshape), so the exported model takes and returns exactly what
//! kiln's `predict` does.

use serde_json::Value;

use super::proto::{AttributeProto, NodeProto, TensorProto, FLOAT, INT64};
use crate::error::{Error, Result};
use crate::model::LayerState;
use crate::tensor::Tensor;

/// Builds the node list while following the current value and its layout.
pub(super) struct GraphBuilder {
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    /// The name of the value the next layer reads.
    pub current: String,
    /// Whether `current` is channels-first (then its rank is `rank`).
    channels_first: bool,
    rank: usize,
}

impl GraphBuilder {
    pub fn new(input: &str) -> GraphBuilder {
        GraphBuilder {
            nodes: Vec::new(),
            initializers: Vec::new(),
            current: input.into(),
            channels_first: false,
            rank: 0,
        }
    }

    /// Appends `op` reading `inputs` (the current value first when `inputs` starts with it) and
    /// makes its output, `name:0`, the current value.
    pub(super) fn node(&mut self, name: &str, op: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) {
        let output = format!("{name}:0");
        self.nodes.push(NodeProto {
            input: inputs,
            output: vec![output.clone()],
            name: name.into(),
            op_type: op.into(),
            attribute,
        });
        self.current = output;
    }

    /// `op` on the current value alone.
    pub(super) fn unary(&mut self, name: &str, op: &str, attribute: Vec<AttributeProto>) {
        let x = self.current.clone();
        self.node(name, op, vec![x], attribute);
    }

    pub(super) fn init_f32(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        let raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let dims = dims.iter().map(|&d| d as i64).collect();
        self.initializers.push(TensorProto { dims, data_type: FLOAT, name: name.into(), raw_data });
        name.into()
    }

    pub(super) fn init_i64(&mut self, name: &str, data: &[i64]) -> String {
        let raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializers.push(TensorProto {
            dims: vec![data.len() as i64],
            data_type: INT64,
            name: name.into(),
            raw_data,
        });
        name.into()
    }

    /// Moves the channels (last axis of a `rank`-dimensional sample) to axis 1.
    fn channels_first(&mut self, prefix: &str, rank: usize) {
        if self.channels_first || rank < 2 {
            return;
        }
        let mut perm = vec![0, rank as i64];
        perm.extend(1..rank as i64);
        self.unary(&format!("{prefix}/to_channels_first"), "Transpose", vec![AttributeProto::ints("perm", &perm)]);
        (self.channels_first, self.rank) = (true, rank);
    }

    /// Moves the channels back to the last axis (Keras's order).
    pub fn channels_last(&mut self, prefix: &str) {
        if !self.channels_first {
            return;
        }
        let mut perm = vec![0];
        perm.extend(2..=self.rank as i64);
        perm.push(1);
        self.unary(&format!("{prefix}/to_channels_last"), "Transpose", vec![AttributeProto::ints("perm", &perm)]);
        self.channels_first = false;
    }

    /// The layer's activation (`activation` in its config) as a node; linear adds none.
    fn activation(&mut self, layer: &LayerState, name: &str) -> Result<()> {
        let act = layer.config.get("activation").and_then(Value::as_str).unwrap_or("linear");
        let name = format!("{}/{name}", layer.name);
        match act {
            "linear" => {}
            "relu" => self.unary(&name, "Relu", vec![]),
            "sigmoid" => self.unary(&name, "Sigmoid", vec![]),
            "tanh" => self.unary(&name, "Tanh", vec![]),
            "softmax" => {
                let axis = if self.channels_first { 1 } else { -1 };
                self.unary(&name, "Softmax", vec![AttributeProto::int("axis", axis)]);
            }
            other => return Err(unsupported(layer, &format!("activation '{other}'"))),
        }
        Ok(())
    }

    /// Appends the nodes of one layer.
    pub fn layer(&mut self, layer: &LayerState) -> Result<()> {
        let rank = layer.input_shape.len();
        let n = layer.name.as_str();
        match layer.class.as_str() {
            "Dense" => {
                self.channels_last(n);
                let kernel = weight(layer, "kernel")?;
                let k = self.init_f32(&format!("{n}.kernel"), kernel.shape(), kernel.data());
                let x = self.current.clone();
                self.node(&format!("{n}/MatMul"), "MatMul", vec![x, k], vec![]);
                self.bias(layer)?;
                self.activation(layer, "activation")?;
            }
            "Conv2D" => {
                self.channels_first(n, rank);
                let kernel = weight(layer, "kernel")?; // (kh, kw, cin, cout) -> (cout, cin, kh, kw)
                let w = self.init_f32(&format!("{n}.kernel"), &kernel_oihw_shape(kernel), &kernel_oihw(kernel));
                let mut inputs = vec![self.current.clone(), w];
                if let Some(b) = layer.weight("bias").filter(|b| b.len() > 0) {
                    inputs.push(self.init_f32(&format!("{n}.bias"), b.shape(), b.data()));
                }
                let kernel_shape = [kernel.shape()[0], kernel.shape()[1]];
                let mut attrs = window_attrs(layer, kernel_shape)?;
                attrs.push(AttributeProto::ints("dilations", &[1, 1]));
                self.node(&format!("{n}/Conv"), "Conv", inputs, attrs);
                self.activation(layer, "activation")?;
            }
            "MaxPooling2D" | "AveragePooling2D" => {
                self.channels_first(n, rank);
                let pool = size2(layer, "pool_size")?;
                let attrs = window_attrs(layer, pool)?;
                let op = if layer.class == "MaxPooling2D" { "MaxPool" } else { "AveragePool" };
                self.unary(&format!("{n}/{op}"), op, attrs);
            }
            "Rescaling" => self.rescaling(layer)?,
            "BatchNormalization" => self.batch_normalization(layer)?,
            "Activation" => self.activation(layer, "activation")?,
            "Dropout" => self.unary(&format!("{n}/Identity"), "Identity", vec![]),
            "Flatten" => {
                self.channels_last(n);
                self.unary(&format!("{n}/Flatten"), "Flatten", vec![AttributeProto::int("axis", 1)]);
            }
            "Reshape" => {
                self.channels_last(n);
                let mut shape = vec![-1];
                shape.extend(layer.output_shape.iter().map(|&d| d as i64));
                let s = self.init_i64(&format!("{n}.shape"), &shape);
                let x = self.current.clone();
                self.node(&format!("{n}/Reshape"), "Reshape", vec![x, s], vec![]);
            }
            "Embedding" => self.embedding(layer)?,
            "GlobalAveragePooling1D" => {
                let keepdims = layer.config.get("keepdims").and_then(Value::as_bool).unwrap_or(false);
                let attrs = vec![AttributeProto::ints("axes", &[1]), AttributeProto::int("keepdims", keepdims as i64)];
                self.channels_last(n);
                self.unary(&format!("{n}/ReduceMean"), "ReduceMean", attrs);
            }
            "SimpleRNN" | "LSTM" | "GRU" => self.recurrent(layer)?,
            _ => return Err(unsupported(layer, "the layer class")),
        }
        Ok(())
    }

    /// Adds the layer's bias, when it has one, to the current value (channels-last).
    fn bias(&mut self, layer: &LayerState) -> Result<()> {
        if let Some(b) = layer.weight("bias").filter(|b| b.len() > 0) {
            let b = self.init_f32(&format!("{}.bias", layer.name), b.shape(), b.data());
            let x = self.current.clone();
            self.node(&format!("{}/BiasAdd", layer.name), "Add", vec![x, b], vec![]);
        }
        Ok(())
    }

    /// `x · scale + offset` as Mul and Add with scalar initializers (elementwise: any layout).
    fn rescaling(&mut self, layer: &LayerState) -> Result<()> {
        let n = layer.name.as_str();
        let number = |key: &str| layer.config.get(key).and_then(Value::as_f64);
        let scale = number("scale").ok_or_else(|| unsupported(layer, "a scale that is not one number"))?;
        let offset = number("offset").unwrap_or(0.0);
        let s = self.init_f32(&format!("{n}.scale"), &[], &[scale as f32]);
        let x = self.current.clone();
        self.node(&format!("{n}/Mul"), "Mul", vec![x, s], vec![]);
        let o = self.init_f32(&format!("{n}.offset"), &[], &[offset as f32]);
        let x = self.current.clone();
        self.node(&format!("{n}/Add"), "Add", vec![x, o], vec![]);
        Ok(())
    }

    /// ONNX's BatchNormalization (inference: the moving statistics), channels on axis 1.
    fn batch_normalization(&mut self, layer: &LayerState) -> Result<()> {
        let n = layer.name.as_str();
        self.channels_first(n, layer.input_shape.len());
        let mean = weight(layer, "moving_mean")?;
        let c = mean.len();
        let ones = vec![1.0; c];
        let zeros = vec![0.0; c];
        let gamma = layer.weight("gamma").map_or(&ones[..], Tensor::data).to_vec();
        let beta = layer.weight("beta").map_or(&zeros[..], Tensor::data).to_vec();
        let var = weight(layer, "moving_variance")?.data().to_vec();
        let epsilon = layer.config.get("epsilon").and_then(Value::as_f64).unwrap_or(1e-3) as f32;
        let inputs = vec![
            self.current.clone(),
            self.init_f32(&format!("{n}.gamma"), &[c], &gamma),
            self.init_f32(&format!("{n}.beta"), &[c], &beta),
            self.init_f32(&format!("{n}.moving_mean"), &[c], mean.data()),
            self.init_f32(&format!("{n}.moving_variance"), &[c], &var),
        ];
        self.node(
            &format!("{n}/BatchNormalization"),
            "BatchNormalization",
            inputs,
            vec![AttributeProto::float("epsilon", epsilon)],
        );
        Ok(())
    }
}

pub(super) fn unsupported(layer: &LayerState, what: &str) -> Error {
    Error::value(format!("layer '{}' ({}): {what} has no ONNX mapping in kiln", layer.name, layer.class))
}

pub(super) fn weight<'a>(layer: &'a LayerState, name: &str) -> Result<&'a Tensor> {
    layer
        .weight(name)
        .ok_or_else(|| Error::value(format!("layer '{}' ({}) has no weight '{name}'", layer.name, layer.class)))
}

/// A size from the config: `[h, w]` or one integer.
fn size2(layer: &LayerState, key: &str) -> Result<[usize; 2]> {
    let v = layer.config.get(key);
    let pair = match v {
        Some(Value::Array(a)) if a.len() == 2 => {
            a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect::<Option<Vec<_>>>()
        }
        Some(Value::Number(n)) => n.as_u64().map(|d| vec![d as usize; 2]),
        _ => None,
    };
    pair.map(|p| [p[0], p[1]]).ok_or_else(|| unsupported(layer, &format!("{key}={}", v.unwrap_or(&Value::Null))))
}

/// `kernel_shape`, `strides` and explicit `pads` (TensorFlow's "same": the extra row or column
/// at the end) for a window of `k` over the layer's (H, W, C) input.
fn window_attrs(layer: &LayerState, k: [usize; 2]) -> Result<Vec<AttributeProto>> {
    let s = size2(layer, "strides")?;
    let same = layer.config.get("padding").and_then(Value::as_str) == Some("same");
    let (inp, out) = (&layer.input_shape, &layer.output_shape);
    let mut pads = [0i64; 4]; // top, left, bottom, right
    if same {
        for axis in 0..2 {
            let total = ((out[axis] - 1) * s[axis] + k[axis]).saturating_sub(inp[axis]) as i64;
            pads[axis] = total / 2;
            pads[axis + 2] = total - total / 2;
        }
    }
    Ok(vec![
        AttributeProto::ints("kernel_shape", &[k[0] as i64, k[1] as i64]),
        AttributeProto::ints("strides", &[s[0] as i64, s[1] as i64]),
        AttributeProto::ints("pads", &pads),
    ])
}

fn kernel_oihw_shape(kernel: &Tensor) -> [usize; 4] {
    let s = kernel.shape();
    [s[3], s[2], s[0], s[1]]
}

/// A Keras kernel (kh, kw, cin, cout) in ONNX's order (cout, cin, kh, kw).
fn kernel_oihw(kernel: &Tensor) -> Vec<f32> {
    let &[kh, kw, ci, co] = kernel.shape() else { unreachable!("Conv2D kernels have rank 4") };
    let k = kernel.data();
    let mut out = vec![0.0; k.len()];
    for (i, v) in k.iter().enumerate() {
        let (h, w, c, o) = (i / (kw * ci * co), i / (ci * co) % kw, i / co % ci, i % co);
        out[((o * ci + c) * kh + h) * kw + w] = *v;
    }
    out
}
