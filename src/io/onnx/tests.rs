use std::path::Path;

use super::proto::{AttributeProto, TensorProto, FLOAT};
use super::*;
use crate::layers::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D,
    Padding, Reshape,
};

fn cnn() -> Sequential {
    let mut m = Sequential::named("cnn").seed(3);
    m.add(Conv2D::new(4, 3).padding(Padding::Same).activation(Activation::Relu).input_shape(&[6, 5, 2]));
    m.add(MaxPooling2D::new(2));
    m.add(BatchNormalization::new());
    m.add(AveragePooling2D::new(2).padding(Padding::Same));
    m.add(Flatten::new());
    m.add(Dropout::new(0.5));
    m.add(Dense::new(3).activation(Activation::Softmax).name("out"));
    m.build(&[6, 5, 2]).unwrap();
    m
}

fn decode(m: &Sequential) -> ModelProto {
    read_onnx(Path::new("m.onnx"), &m.to_onnx().unwrap()).unwrap()
}

fn attr<'a>(model: &'a ModelProto, node: &str, name: &str) -> &'a AttributeProto {
    let g = model.graph.as_ref().unwrap();
    let n = g.node.iter().find(|n| n.name == node).unwrap_or_else(|| panic!("no node {node}"));
    n.attribute.iter().find(|a| a.name == name).unwrap()
}

fn init<'a>(model: &'a ModelProto, name: &str) -> &'a TensorProto {
    model.graph.as_ref().unwrap().initializer.iter().find(|t| t.name == name).unwrap()
}

fn floats(t: &TensorProto) -> Vec<f32> {
    t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn every_layer_maps_to_standard_operators() {
    let m = cnn();
    let model = decode(&m);
    assert_eq!((model.ir_version, model.opset_import[0].version, model.opset_import[0].domain.as_str()), (8, 17, ""));
    assert_eq!(
        model.op_types(),
        [
            "Transpose",
            "Conv",
            "Relu",
            "MaxPool",
            "BatchNormalization",
            "AveragePool",
            "Transpose",
            "Flatten",
            "Identity",
            "MatMul",
            "Add",
            "Softmax"
        ]
    );
    assert_eq!(attr(&model, "conv2d/to_channels_first", "perm").ints, [0, 3, 1, 2]);
    assert_eq!(attr(&model, "conv2d/Conv", "pads").ints, [1, 1, 1, 1]);
    assert_eq!(attr(&model, "max_pooling2d/MaxPool", "kernel_shape").ints, [2, 2]);
    assert_eq!(attr(&model, "max_pooling2d/MaxPool", "pads").ints, [0, 0, 0, 0]);
    // 'same' over 3x2 with a 2x2 window, stride 2: one extra row at the bottom only.
    assert_eq!(attr(&model, "average_pooling2d/AveragePool", "pads").ints, [0, 0, 1, 0]);
    assert_eq!(attr(&model, "flatten/to_channels_last", "perm").ints, [0, 2, 3, 1]);
    assert_eq!(attr(&model, "out/activation", "axis").i, -1);
    assert!((attr(&model, "batch_normalization/BatchNormalization", "epsilon").f - 1e-3).abs() < 1e-9);

    let g = model.graph.as_ref().unwrap();
    let dims = |v: &ValueInfoProto| {
        let shape = v.r#type.as_ref().unwrap().tensor_type.as_ref().unwrap().shape.as_ref().unwrap();
        shape
            .dim
            .iter()
            .map(|d| d.dim_value.map_or_else(|| d.dim_param.clone().unwrap(), |v| v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        (g.input[0].name.as_str(), dims(&g.input[0])),
        ("input", vec!["batch".into(), "6".into(), "5".into(), "2".into()])
    );
    assert_eq!((g.output[0].name.as_str(), dims(&g.output[0])), ("output", vec!["batch".into(), "3".into()]));
    assert_eq!(g.node.last().unwrap().output, ["output"]);
}

#[test]
fn weights_are_initializers_with_conv_kernels_in_onnx_order() {
    let m = cnn();
    let model = decode(&m);
    let weights: std::collections::HashMap<String, &crate::Tensor> = m.weights().into_iter().collect();
    let k = init(&model, "conv2d.kernel");
    assert_eq!((k.dims.as_slice(), k.data_type), (&[4, 2, 3, 3][..], FLOAT));
    let (keras, onnx) = (weights["conv2d.kernel"].data(), floats(k));
    // Keras (kh, kw, cin, cout) = (1, 2, 1, 3) is ONNX (cout, cin, kh, kw) = (3, 1, 1, 2).
    assert_eq!(onnx[((3 * 2 + 1) * 3 + 1) * 3 + 2], keras[((3 + 2) * 2 + 1) * 4 + 3]);
    let mut sorted_k = keras.to_vec();
    let mut sorted_o = onnx.clone();
    sorted_k.sort_by(f32::total_cmp);
    sorted_o.sort_by(f32::total_cmp);
    assert_eq!(sorted_k, sorted_o);
    assert_eq!(floats(init(&model, "out.kernel")), weights["out.kernel"].data());
    assert_eq!(
        floats(init(&model, "batch_normalization.moving_variance")),
        weights["batch_normalization.moving_variance"].data()
    );
}

#[test]
fn reshape_activation_and_a_model_ending_in_a_convolution() {
    let mut m = Sequential::new();
    m.add(Reshape::new(&[-1, 4, 1]).input_shape(&[8]));
    m.add(Conv2D::new(2, (2, 1)).strides((2, 1)).use_bias(false));
    m.add(ActivationLayer::new(Activation::Softmax));
    m.build(&[8]).unwrap();
    let model = decode(&m);
    assert_eq!(model.op_types(), ["Reshape", "Transpose", "Conv", "Softmax", "Transpose"]);
    let shape: Vec<i64> = init(&model, "reshape.shape")
        .raw_data
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(shape, [-1, 2, 4, 1]);
    assert_eq!(attr(&model, "activation/activation", "axis").i, 1);
    assert_eq!(model.graph.as_ref().unwrap().node[2].input.len(), 2, "no bias input");
}

#[test]
fn unbuilt_models_and_corrupt_files_are_errors() {
    let mut m = Sequential::named("m");
    m.add(Dense::new(2));
    assert_eq!(
        m.to_onnx().unwrap_err().to_string(),
        "model 'm' is not built: give its first layer an input_shape (or build it) before exporting"
    );
    let bytes = cnn().to_onnx().unwrap();
    let err = read_onnx(Path::new("m.onnx"), &bytes[..bytes.len() / 2]).unwrap_err().to_string();
    assert!(err.starts_with("m.onnx: not a valid ONNX model (the file is truncated or corrupt): "), "{err}");
    let err = read_onnx(Path::new("m.onnx"), b"").unwrap_err().to_string();
    assert_eq!(err, "m.onnx: not an ONNX model: no graph or IR version");
}

/// Keras's Embedding → LSTM(6, return_sequences) → GRU(5) → Dense(1, sigmoid) model: ids cast
/// and gathered, each recurrent layer time-major with its gates in ONNX's order.
#[test]
fn recurrent_layers_map_to_onnx_recurrent_operators() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/keras_models/rnn.keras");
    let m = crate::io::load_model(&path).unwrap();
    let onnx = decode(&m);
    assert_eq!(
        onnx.op_types(),
        [
            "Cast",
            "Gather",
            "Transpose",
            "LSTM",
            "Squeeze",
            "Transpose",
            "Transpose",
            "GRU",
            "Squeeze",
            "MatMul",
            "Add",
            "Sigmoid"
        ]
    );
    let names = |n: &str, a: &str| -> Vec<String> {
        attr(&onnx, n, a).strings.iter().map(|s| String::from_utf8(s.clone()).unwrap()).collect()
    };
    assert_eq!(attr(&onnx, "lstm/LSTM", "hidden_size").i, 6);
    assert_eq!(names("lstm/LSTM", "activations"), ["Sigmoid", "Tanh", "Tanh"]);
    assert_eq!(attr(&onnx, "gru/GRU", "linear_before_reset").i, 1);
    let weights: std::collections::HashMap<String, &crate::Tensor> = m.weights().into_iter().collect();
    // ONNX's W[g·H + j, f] for gate o (ONNX's second, Keras's fourth) is kernel[f, 3·H + j].
    let (kernel, w) = (weights["lstm.kernel"], init(&onnx, "lstm.kernel"));
    assert_eq!(w.dims, [1, 24, 8]);
    let w = floats(w);
    for (j, f) in [(0, 0), (5, 7), (2, 3)] {
        assert_eq!(w[(6 + j) * 8 + f], kernel.data()[f * 24 + 18 + j], "j={j} f={f}");
    }
    // GRU with reset_after: Keras's two bias rows are ONNX's Wb and Rb, gates in the same order.
    assert_eq!(floats(init(&onnx, "gru.bias")), weights["gru.bias"].data());

    let mut linear = Sequential::new();
    linear.add(crate::layers::SimpleRNN::new(2).activation(Activation::Linear).input_shape(&[4, 3]));
    linear.build(&[4, 3]).unwrap();
    assert_eq!(
        linear.to_onnx().unwrap_err().to_string(),
        "layer 'simple_rnn' (SimpleRNN): activation 'linear' has no ONNX mapping in kiln"
    );
}
