//! Helpers shared by unit tests: the Keras reference values and tolerant comparison.

use crate::tensor::Tensor;

/// `tests/reference/keras_reference.json`, values computed by Keras itself.
pub fn reference() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/keras_reference.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("reference JSON")
}

/// A nested JSON array of numbers as a tensor of the same shape.
pub fn tensor_from_json(v: &serde_json::Value) -> Tensor {
    fn walk(v: &serde_json::Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f32>) {
        match v {
            serde_json::Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                items.iter().for_each(|it| walk(it, depth + 1, shape, out));
            }
            other => out.push(other.as_f64().expect("number") as f32),
        }
    }
    let (mut shape, mut data) = (Vec::new(), Vec::new());
    walk(v, 0, &mut shape, &mut data);
    Tensor::from_vec(&shape, data).expect("rectangular array")
}

/// |a - b| <= 1e-5 · max(1, |b|), the tolerance the issues ask for against Keras.
#[track_caller]
pub fn assert_close(a: f32, b: f32, what: &str) {
    assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{what}: {a} vs Keras {b} (difference {})", (a - b).abs());
}
