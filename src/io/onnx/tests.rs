use std::path::Path;

use super::proto::{AttributeProto, TensorProto, FLOAT};
use super::*;
use crate::layers::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D,
    Padding, Rescaling, Reshape,
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

/// Runs the few operators a dense model exports to (Mul and Add with a scalar or a row,
/// Flatten, MatMul, Softmax over the last axis) on `x`: the graph's numbers, not only its shape.
fn run_dense_graph(model: &ModelProto, x: &crate::Tensor) -> Vec<f32> {
    let g = model.graph.as_ref().unwrap();
    let mut values: std::collections::HashMap<String, (Vec<usize>, Vec<f32>)> = g
        .initializer
        .iter()
        .map(|t| (t.name.clone(), (t.dims.iter().map(|&d| d as usize).collect(), floats(t))))
        .collect();
    values.insert("input".into(), (x.shape().to_vec(), x.data().to_vec()));
    for node in &g.node {
        let (shape, a) = values[&node.input[0]].clone();
        let (rows, width) = (shape[0], a.len() / shape[0]);
        let out = match node.op_type.as_str() {
            "Mul" | "Add" => {
                let b = &values[&node.input[1]].1;
                let at = |i: usize| b[if b.len() == 1 { 0 } else { i % width }];
                let mul = node.op_type == "Mul";
                (shape, a.iter().enumerate().map(|(i, &v)| if mul { v * at(i) } else { v + at(i) }).collect())
            }
            "Flatten" => (vec![rows, width], a),
            "MatMul" => {
                let (ws, w) = &values[&node.input[1]];
                let n = ws[1];
                let mut out = vec![0.0f32; rows * n];
                for (r, j) in (0..rows).flat_map(|r| (0..n).map(move |j| (r, j))) {
                    out[r * n + j] = (0..width).map(|k| a[r * width + k] * w[k * n + j]).sum();
                }
                (vec![rows, n], out)
            }
            "Softmax" => {
                let mut out = a.clone();
                for row in out.chunks_exact_mut(width) {
                    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    row.iter_mut().for_each(|v| *v = (*v - max).exp());
                    let sum: f32 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= sum);
                }
                (shape, out)
            }
            other => panic!("no test evaluation of {other}"),
        };
        values.insert(node.output[0].clone(), out);
    }
    values.remove("output").expect("an output").1
}

#[test]
fn rescaling_is_a_mul_and_an_add_of_scalars() {
    let mut m = Sequential::new().seed(2);
    m.add(Rescaling::new(1.0 / 255.0).offset(-0.5).input_shape(&[2, 3]));
    m.add(Flatten::new());
    m.add(Dense::new(4).activation(Activation::Softmax));
    m.build(&[2, 3]).unwrap();
    let model = decode(&m);
    assert_eq!(model.op_types(), ["Mul", "Add", "Flatten", "MatMul", "Add", "Softmax"]);
    let g = model.graph.as_ref().unwrap();
    assert_eq!(g.node[0].input, ["input", "rescaling.scale"]);
    assert_eq!(g.node[1].input, ["rescaling/Mul:0", "rescaling.offset"]);
    let (scale, offset) = (init(&model, "rescaling.scale"), init(&model, "rescaling.offset"));
    assert_eq!((scale.dims.len(), floats(scale)), (0, vec![1.0f32 / 255.0]));
    assert_eq!((offset.dims.len(), floats(offset)), (0, vec![-0.5]));

    let x = crate::Tensor::from_vec(&[2, 2, 3], (0..12).map(|i| (i * 23) as f32).collect()).unwrap();
    let want = m.predict(&x).unwrap();
    let got = run_dense_graph(&model, &x);
    assert_eq!(got.len(), want.len());
    for (i, (&a, &b)) in got.iter().zip(want.data()).enumerate() {
        assert!((a - b).abs() < 1e-6, "output {i}: ONNX {a} vs predict {b}");
    }

    // Without an offset the Add adds 0; before a convolution the scaling stays channels-last.
    let mut m = Sequential::new();
    m.add(Rescaling::new(2.0).input_shape(&[4, 4, 1]));
    m.add(Conv2D::new(2, 3));
    m.build(&[4, 4, 1]).unwrap();
    let model = decode(&m);
    assert_eq!(model.op_types(), ["Mul", "Add", "Transpose", "Conv", "Transpose"]);
    assert_eq!(floats(init(&model, "rescaling.offset")), [0.0]);
}
