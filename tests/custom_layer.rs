//! A layer defined by the program using kiln: registered once, it is built from the grammar,
//! trained, saved and loaded back by `load_model` like a built-in layer.

use kiln::layers::{register_layer, ArgKind, Backward, Ctx, Layer, LayerConfig, LayerKind, Param, Rng};
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::{Result, Tensor};
use serde_json::json;

/// `out = x · factor + bias`, one trainable bias per feature: a layer with a config value and
/// a weight, which is what a model file must carry.
struct Shift {
    factor: f32,
    name: String,
    input_shape: Option<Vec<usize>>,
    bias: Param,
    out: Tensor,
    dinput: Tensor,
}

const SHIFT: LayerKind = LayerKind {
    class: "Shift",
    positional: &["factor"],
    required: 1,
    args: &[("factor", ArgKind::Number)],
    from_config: |c: &LayerConfig| Ok(Box::new(Shift::new(c.required(LayerConfig::float, "factor")? as f32))),
};

impl Shift {
    fn new(factor: f32) -> Shift {
        let bias = Param::new("bias", Tensor::default());
        let (out, dinput) = (Tensor::default(), Tensor::default());
        Shift { factor, name: String::new(), input_shape: None, bias, out, dinput }
    }
}

impl Layer for Shift {
    fn class_name(&self) -> &'static str {
        SHIFT.class
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn declared_input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }
    fn set_declared_input_shape(&mut self, shape: Vec<usize>) {
        self.input_shape = Some(shape);
    }
    fn build(&mut self, input_shape: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let n = input_shape.iter().product();
        self.bias = Param::new("bias", Tensor::from_vec(&[n], (0..n).map(|i| i as f32 * 0.1).collect())?);
        Ok(input_shape.to_vec())
    }
    fn forward(&mut self, x: &Tensor, _ctx: &mut Ctx) {
        self.out.ensure_shape(x.rows(), &x.shape()[1..]);
        let n = x.row_len();
        for (i, (o, v)) in self.out.data_mut().iter_mut().zip(x.data()).enumerate() {
            *o = v * self.factor + self.bias.value.data()[i % n];
        }
    }
    fn output(&self) -> &Tensor {
        &self.out
    }
    fn backward(&mut self, x: &Tensor, dout: &Tensor, how: Backward) {
        let n = x.row_len();
        let (dbias, beta) = self.bias.grad_accumulator();
        for (j, d) in dbias.iter_mut().enumerate() {
            let sum: f32 = dout.data().iter().skip(j).step_by(n).sum();
            *d = if beta == 0.0 { sum } else { *d + sum };
        }
        if how.need_dinput {
            self.dinput.ensure_shape(x.rows(), &x.shape()[1..]);
            for (d, g) in self.dinput.data_mut().iter_mut().zip(dout.data()) {
                *d = g * self.factor;
            }
        }
    }
    fn dinput(&self) -> &Tensor {
        &self.dinput
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        f(&mut self.bias);
    }
    fn params(&self) -> Vec<&Param> {
        vec![&self.bias]
    }
    fn config(&self) -> serde_json::Value {
        json!({"name": self.name, "factor": self.factor, "input_shape": self.input_shape})
    }
}

#[test]
fn a_registered_layer_is_parsed_trained_saved_and_loaded() {
    let before = kiln::layers::layer_from_config("Shift", &json!({"factor": 2.0})).err().unwrap().to_string();
    assert!(before.starts_with("unknown layer class 'Shift'; valid classes: Dense,"), "{before}");
    register_layer(SHIFT).unwrap();
    assert_eq!(register_layer(SHIFT).unwrap_err().to_string(), "a layer class named 'Shift' is already registered");

    let mut model = Sequential::new().seed(5);
    for layer in kiln::layers::parse_layers("shift(0.5), dense(2), shift(factor=2, name=out)").unwrap() {
        model.add_boxed(layer);
    }
    let names: Vec<&str> = model.layers().iter().map(|l| l.name()).collect();
    assert_eq!(names, ["shift", "dense", "out"]);
    model.build(&[3]).unwrap();
    model.compile(Compile::new("mse").optimizer("adam")).unwrap();
    let x = Tensor::from_vec(&[4, 3], (0..12).map(|i| i as f32 / 12.0).collect()).unwrap();
    let y = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]).unwrap();
    model.fit(&x, &y, FitOptions { epochs: 2, batch_size: 2, verbose: 0, ..Default::default() }).unwrap();
    let weights: Vec<String> = model.weights().into_iter().map(|(n, _)| n).collect();
    assert_eq!(weights, ["shift.bias", "dense.kernel", "dense.bias", "out.bias"]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shift.safetensors");
    model.save(&path).unwrap();
    let mut back = kiln::io::load_model(&path).unwrap();
    assert_eq!(back.weights_sha256(), model.weights_sha256());
    assert_eq!(back.layers()[2].config(), json!({"name": "out", "factor": 2.0, "input_shape": null}));
    assert_eq!(back.predict(&x).unwrap().data(), model.predict(&x).unwrap().data());
    // Training goes on from the saved optimizer state, as for built-in layers.
    assert!(back.optimizer_state().is_some_and(|s| s.iterations == 4));
}
