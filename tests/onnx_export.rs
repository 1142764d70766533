//! `kiln export --onnx` of a model that starts with Rescaling, as a model on raw pixels does.

use std::process::Command;

use kiln::layers::{Activation, Dense, Flatten, Rescaling};
use kiln::model::Sequential;

#[test]
fn a_model_starting_with_rescaling_exports_to_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let (model, onnx) = (dir.path().join("m.safetensors"), dir.path().join("m.onnx"));
    let mut m = Sequential::new().seed(1);
    m.add(Rescaling::new(1.0 / 255.0).offset(-0.5).input_shape(&[28, 28]));
    m.add(Flatten::new());
    m.add(Dense::new(10).activation(Activation::Softmax));
    m.build(&[28, 28]).unwrap();
    m.save(&model).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["export", model.to_str().unwrap(), "--onnx", onnx.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let proto = kiln::io::onnx::read_onnx(&onnx, &std::fs::read(&onnx).unwrap()).unwrap();
    assert_eq!(proto.op_types(), ["Mul", "Add", "Flatten", "MatMul", "Add", "Softmax"]);
    let graph = proto.graph.as_ref().unwrap();
    let scalar = |name: &str| {
        let t = graph.initializer.iter().find(|t| t.name == name).unwrap();
        (t.dims.len(), f32::from_le_bytes(t.raw_data[..].try_into().unwrap()))
    };
    assert_eq!(scalar("rescaling.scale"), (0, 1.0 / 255.0));
    assert_eq!(scalar("rescaling.offset"), (0, -0.5));
}
