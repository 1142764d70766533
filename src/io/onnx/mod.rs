//! ONNX export: a model as a graph of standard ONNX operators (opset 17), its weights as
//! initializers named as kiln names them (`hidden.kernel`), the input `input` and the output
//! `output`, both with a dynamic `batch` dimension. Softmax stays in the graph, so ONNX Runtime
//! returns what `predict` returns.

mod graph;
pub mod proto;
mod recurrent;

use std::path::Path;

use prost::Message;

use super::write_atomic;
use crate::error::{Error, Result};
use crate::model::{ModelState, Sequential};
use graph::GraphBuilder;
use proto::{GraphProto, ModelProto, NodeProto, OperatorSetIdProto, ValueInfoProto};

/// The operator set the graph uses.
pub const OPSET: i64 = 17;
/// ONNX's IR version for opset 17 (ONNX 1.12).
const IR_VERSION: i64 = 8;

impl Sequential {
    /// The model as an ONNX `ModelProto`'s bytes.
    ///
    /// ```
    /// use kiln::layers::{Activation, Dense};
    /// use kiln::model::Sequential;
    ///
    /// let mut model = Sequential::new();
    /// model.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784]));
    /// model.build(&[784])?;
    /// let bytes = model.to_onnx()?;
    /// let onnx = kiln::io::onnx::read_onnx(std::path::Path::new("m.onnx"), &bytes)?;
    /// assert_eq!(onnx.op_types(), ["MatMul", "Add", "Softmax"]);
    /// # Ok::<(), kiln::Error>(())
    /// ```
    pub fn to_onnx(&self) -> Result<Vec<u8>> {
        Ok(model_proto(&self.state(false)?)?.encode_to_vec())
    }

    /// Writes [`Sequential::to_onnx`] to `path`, atomically.
    pub fn save_onnx(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_onnx()?)
    }
}

/// The ONNX model of a built model's state.
fn model_proto(state: &ModelState) -> Result<ModelProto> {
    let input_shape = state.built_input_shape()?;
    let mut g = GraphBuilder::new("input");
    for layer in &state.layers {
        g.layer(layer)?;
    }
    g.channels_last("output");
    match g.nodes.last_mut() {
        Some(last) => last.output = vec!["output".into()],
        None => g.nodes.push(NodeProto {
            input: vec!["input".into()],
            output: vec!["output".into()],
            name: "output".into(),
            op_type: "Identity".into(),
            attribute: vec![],
        }),
    }
    let out_shape = state.layers.last().map_or(input_shape, |l| &l.output_shape);
    let graph = GraphProto {
        node: g.nodes,
        name: state.name.clone(),
        initializer: g.initializers,
        input: vec![ValueInfoProto::batched("input", input_shape)],
        output: vec![ValueInfoProto::batched("output", out_shape)],
    };
    Ok(ModelProto {
        ir_version: IR_VERSION,
        producer_name: "kiln".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: String::new(),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
    })
}

/// Parses an ONNX file's bytes, with errors naming the file: truncated or corrupt bytes, or a
/// model without a graph.
pub fn read_onnx(path: &Path, bytes: &[u8]) -> Result<ModelProto> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| Error::format(path, format!("not a valid ONNX model (the file is truncated or corrupt): {e}")))?;
    if model.graph.is_none() || model.ir_version == 0 {
        return Err(Error::format(path, "not an ONNX model: no graph or IR version"));
    }
    Ok(model)
}

impl ModelProto {
    /// The operator of each node, in order.
    pub fn op_types(&self) -> Vec<&str> {
        self.graph.iter().flat_map(|g| g.node.iter().map(|n| n.op_type.as_str())).collect()
    }
}

#[cfg(test)]
mod tests;
