//! The model against Keras: optimizer trajectories on the reference MLP, step by step.

use super::*;
use crate::layers::{Activation, Dense};
use crate::optimizers::{self, Adagrad, Adam, RMSprop, Sgd};
use crate::test_support::{assert_close, reference, tensor_from_json};
use crate::Tensor;

fn reference_mlp(initial: &serde_json::Value) -> Sequential {
    let mut m = Sequential::new();
    m.add(Dense::new(4).activation(Activation::Relu).name("hidden").input_shape(&[5]));
    m.add(Dense::new(3).activation(Activation::Softmax).name("output"));
    m.build(&[5]).unwrap();
    let names = ["hidden.kernel", "hidden.bias", "output.kernel", "output.bias"];
    let w: Vec<Tensor> = names.iter().map(|n| tensor_from_json(&initial[n])).collect();
    m.set_weights(&w).unwrap();
    m
}

fn optimizer_for(key: &str, config: &serde_json::Value) -> Box<dyn optimizers::Optimizer> {
    let f = |k: &str| config[k].as_f64().unwrap() as f32;
    match key.split('_').next().unwrap() {
        "sgd" => Box::new(Sgd {
            learning_rate: f("learning_rate"),
            momentum: f("momentum"),
            nesterov: config["nesterov"].as_bool().unwrap(),
        }),
        "rmsprop" => Box::new(RMSprop {
            learning_rate: f("learning_rate"),
            rho: f("rho"),
            momentum: f("momentum"),
            epsilon: f("epsilon"),
        }),
        "adam" => Box::new(Adam {
            learning_rate: f("learning_rate"),
            beta_1: f("beta_1"),
            beta_2: f("beta_2"),
            epsilon: f("epsilon"),
        }),
        "adagrad" => Box::new(Adagrad {
            learning_rate: f("learning_rate"),
            initial_accumulator_value: f("initial_accumulator_value"),
            epsilon: f("epsilon"),
        }),
        other => panic!("no optimizer for {other}"),
    }
}

#[test]
fn optimizer_trajectories_equal_keras() {
    let refs = reference();
    let traj = &refs["optimizer_trajectories"];
    let x = tensor_from_json(&traj["x"]);
    let labels: Vec<f32> = traj["y"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    let y = Tensor::from_vec(&[labels.len()], labels).unwrap();
    let names = ["hidden.kernel", "hidden.bias", "output.kernel", "output.bias"];
    for case in traj["cases"].as_array().unwrap() {
        let key = case["optimizer"].as_str().unwrap();
        let mut m = reference_mlp(&traj["initial_weights"]);
        let opt = optimizer_for(key, &case["config"]);
        // The configs in the reference are Keras's defaults where the key says "default".
        if key.ends_with("default") {
            let by_name = optimizers::from_name(key.split('_').next().unwrap()).unwrap();
            assert_eq!(by_name.config(), opt.config(), "{key}: kiln's defaults differ from Keras's");
        }
        m.compile(Compile::new("sparse_categorical_crossentropy").optimizer_boxed(opt)).unwrap();
        for (s, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let loss = m.train_on_batch(&x, &y).unwrap();
            assert_close(
                loss as f32,
                step["loss_before_update"].as_f64().unwrap() as f32,
                &format!("{key} step {s} loss"),
            );
            for (name, (_, w)) in names.iter().zip(m.weights()) {
                let want = tensor_from_json(&step["weights_after"][name]);
                for (i, (a, b)) in w.data().iter().zip(want.data()).enumerate() {
                    assert_close(*a, *b, &format!("{key} step {s} {name}[{i}]"));
                }
            }
        }
    }
}

/// fit refuses NaN and infinity, naming the value and the sample, whether the tensor came from
/// numbers of unknown origin or from bytes (known finite) changed afterwards.
#[test]
fn fit_names_a_non_finite_input_value() {
    let mut model = Sequential::new().seed(1);
    model.add(Dense::new(2).activation(Activation::Softmax).input_shape(&[3]));
    model.compile(Compile::new("sparse_categorical_crossentropy")).unwrap();
    let y = Tensor::from_vec(&[2], vec![0.0, 1.0]).unwrap();
    let opts = || FitOptions { epochs: 1, verbose: 0, ..Default::default() };

    let x = Tensor::from_vec(&[2, 3], vec![0.1, 0.2, 0.3, 0.4, f32::NAN, 0.6]).unwrap();
    let err = model.fit(&x, &y, opts()).unwrap_err().to_string();
    assert_eq!(err, "the input holds a non-finite value (NaN) at sample 1");

    let bytes = crate::tensor::U8Tensor::from_vec(&[2, 3], vec![0, 10, 20, 30, 40, 255]).unwrap();
    let mut x = bytes.div(255.0);
    assert!(x.known_finite());
    model.fit(&x, &y, opts()).unwrap();
    x.data_mut()[2] = f32::INFINITY;
    let err = model.fit(&x, &y, opts()).unwrap_err().to_string();
    assert_eq!(err, "the input holds a non-finite value (inf) at sample 0");
}

#[test]
fn predict_and_evaluate_flush_denormals_to_zero_as_tensorflow_does() {
    // 1e-10 · 1e-30 is a denormal (1e-40) in IEEE arithmetic; TensorFlow's kernels give 0.
    let mut model = Sequential::new();
    model.add(Dense::new(1).use_bias(false).input_shape(&[1]));
    model.compile(Compile::new("mse").optimizer("sgd")).unwrap();
    model.set_weights(&[Tensor::from_vec(&[1, 1], vec![1e-30]).unwrap()]).unwrap();
    let x = Tensor::from_vec(&[1, 1], vec![1e-10]).unwrap();
    assert!(std::hint::black_box(1e-10f32) * std::hint::black_box(1e-30f32) > 0.0);
    assert_eq!(model.predict(&x).unwrap().data(), &[0.0]);
    let y = Tensor::from_vec(&[1, 1], vec![0.0]).unwrap();
    assert_eq!(model.evaluate_with(&x, &y, 1, 0).unwrap().loss, 0.0);
}

#[test]
fn models_fitted_and_predicted_inside_a_parallel_loop_finish() {
    // Each `fit` and `predict` runs on a pool thread that other fits need (the flush of
    // denormals is set on the pool once, without making a second caller wait for the first).
    use rayon::prelude::*;
    let x = Tensor::from_vec(&[64, 4], (0..256).map(|i| (i % 7) as f32 / 7.0).collect()).unwrap();
    let y = Tensor::from_vec(&[64, 1], (0..64).map(|i| (i % 2) as f32).collect()).unwrap();
    let outputs: Vec<f32> = (0..4u64)
        .into_par_iter()
        .map(|seed| {
            let mut model = Sequential::new().seed(seed);
            model.add(Dense::new(1).activation(Activation::Sigmoid).input_shape(&[4]));
            model.compile(Compile::new("binary_crossentropy").optimizer("sgd")).unwrap();
            model.fit(&x, &y, FitOptions { epochs: 2, batch_size: 16, verbose: 0, ..Default::default() }).unwrap();
            model.predict(&x).unwrap().data()[0]
        })
        .collect();
    assert_eq!(outputs.len(), 4);
    assert!(outputs.iter().all(|v| (0.0..=1.0).contains(v)), "{outputs:?}");
}
