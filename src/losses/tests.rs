//! Losses against values Keras computed (tests/reference/keras_reference.json), and the
//! fused forms against the unfused ones.

use super::*;
use crate::layers::Activation;
use crate::test_support::{assert_close, reference, tensor_from_json};

#[test]
fn values_and_gradients_equal_keras() {
    let refs = reference();
    for case in refs["losses"].as_array().unwrap() {
        let loss = Loss::parse(case["loss"].as_str().unwrap()).unwrap();
        let p = tensor_from_json(&case["y_pred"]);
        let mut y = tensor_from_json(&case["y_true"]);
        if loss == Loss::SparseCategoricalCrossentropy {
            let n = y.len();
            y.set_shape(&[n, 1]);
        }
        let mut grad = Tensor::zeros(p.shape());
        let sum = loss.compute(&p, None, &y, Some(&mut grad));
        let mean = sum / p.rows() as f64;
        let what = loss.name();
        assert_close(mean as f32, case["value"].as_f64().unwrap() as f32, what);
        let want = tensor_from_json(&case["grad_wrt_y_pred"]);
        for (g, w) in grad.data().iter().zip(want.data()) {
            assert_close(*g, *w, what);
        }
    }
}

#[test]
fn fused_softmax_crossentropy_equals_the_unfused_chain() {
    let z = Tensor::from_vec(&[2, 3], vec![0.5, -1.0, 2.0, 0.1, 0.2, -0.3]).unwrap();
    let mut p = Tensor::zeros(&[2, 3]);
    Activation::Softmax.forward(z.data(), p.data_mut(), 3);
    let y = Tensor::from_vec(&[2, 1], vec![2.0, 0.0]).unwrap();
    let onehot = Tensor::from_vec(&[2, 3], vec![0., 0., 1., 1., 0., 0.]).unwrap();
    for (loss, y) in [(Loss::SparseCategoricalCrossentropy, &y), (Loss::CategoricalCrossentropy, &onehot)] {
        let (mut gp, mut gz) = (Tensor::zeros(&[2, 3]), Tensor::zeros(&[2, 3]));
        let unfused = loss.compute(&p, None, y, Some(&mut gp));
        let fused = loss.compute(&p, Some(&z), y, Some(&mut gz));
        assert!((unfused - fused).abs() < 1e-5, "{unfused} vs {fused}");
        let mut chain = Tensor::zeros(&[2, 3]);
        Activation::Softmax.backward(p.data(), gp.data(), chain.data_mut(), 3);
        for (a, b) in chain.data().iter().zip(gz.data()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}

#[test]
fn fused_sigmoid_binary_crossentropy_equals_the_unfused_chain() {
    let z = Tensor::from_vec(&[3, 1], vec![0.5, -1.0, 2.0]).unwrap();
    let mut p = Tensor::zeros(&[3, 1]);
    Activation::Sigmoid.forward(z.data(), p.data_mut(), 1);
    let y = Tensor::from_vec(&[3, 1], vec![1.0, 0.0, 0.0]).unwrap();
    let (mut gp, mut gz) = (Tensor::zeros(&[3, 1]), Tensor::zeros(&[3, 1]));
    let unfused = Loss::BinaryCrossentropy.compute(&p, None, &y, Some(&mut gp));
    let fused = Loss::BinaryCrossentropy.compute(&p, Some(&z), &y, Some(&mut gz));
    assert!((unfused - fused).abs() < 1e-5);
    let mut chain = Tensor::zeros(&[3, 1]);
    Activation::Sigmoid.backward(p.data(), gp.data(), chain.data_mut(), 1);
    for (a, b) in chain.data().iter().zip(gz.data()) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn fused_loss_stays_finite_where_probabilities_underflow() {
    // p = softmax(z) underflows to 0 for the true class; from logits the loss is exact (200).
    let z = Tensor::from_vec(&[1, 2], vec![100.0, -100.0]).unwrap();
    let p = Tensor::from_vec(&[1, 2], vec![1.0, 0.0]).unwrap();
    let y = Tensor::from_vec(&[1, 1], vec![1.0]).unwrap();
    let l = Loss::SparseCategoricalCrossentropy.compute(&p, Some(&z), &y, None);
    assert!((l - 200.0).abs() < 1e-9, "{l}");
}

#[test]
fn target_errors_name_both_sides() {
    let y = Tensor::from_vec(&[2, 1], vec![3.0, 10.0]).unwrap();
    let err = Loss::SparseCategoricalCrossentropy.check_targets(&y, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "label 10 at index 1 is not a class index of the model's 10 outputs (expected an integer in 0..10)"
    );
    let err = Loss::CategoricalCrossentropy.check_targets(&y, 10).unwrap_err();
    assert!(err.to_string().contains("needs targets of 10 values per sample"), "{err}");
    let err = Loss::parse("crossentropy").unwrap_err();
    assert!(err.to_string().starts_with("unknown loss 'crossentropy'; valid losses: sparse_categorical_crossentropy"));
}

#[test]
fn gradients_match_finite_differences() {
    // d(mean loss)/d(y_pred) — and d/d(logits) for the fused forms — by central differences in
    // f64 of the loss computed in f64 from perturbed f32 inputs.
    let p = Tensor::from_vec(&[2, 3], vec![0.2, 0.5, 0.3, 0.6, 0.1, 0.3]).unwrap();
    let z = Tensor::from_vec(&[2, 3], vec![0.4, -1.1, 0.9, 1.5, 0.2, -0.7]).unwrap();
    let sparse = Tensor::from_vec(&[2, 1], vec![1.0, 0.0]).unwrap();
    let onehot = Tensor::from_vec(&[2, 3], vec![0., 1., 0., 1., 0., 0.]).unwrap();
    let binary = Tensor::from_vec(&[2, 3], vec![1., 0., 1., 0., 0., 1.]).unwrap();
    let reg = Tensor::from_vec(&[2, 3], vec![0.3, -0.2, 1.0, 0.5, 0.5, 0.0]).unwrap();
    let softmax = |z: &Tensor| {
        let mut p = Tensor::zeros(z.shape());
        Activation::Softmax.forward(z.data(), p.data_mut(), 3);
        p
    };
    let sigmoid = |z: &Tensor| {
        let mut p = Tensor::zeros(z.shape());
        Activation::Sigmoid.forward(z.data(), p.data_mut(), 3);
        p
    };
    type Case<'a> = (Loss, &'a Tensor, Option<&'a dyn Fn(&Tensor) -> Tensor>);
    let cases: [Case; 7] = [
        (Loss::SparseCategoricalCrossentropy, &sparse, None),
        (Loss::CategoricalCrossentropy, &onehot, None),
        (Loss::BinaryCrossentropy, &binary, None),
        (Loss::MeanSquaredError, &reg, None),
        (Loss::SparseCategoricalCrossentropy, &sparse, Some(&softmax)),
        (Loss::CategoricalCrossentropy, &onehot, Some(&softmax)),
        (Loss::BinaryCrossentropy, &binary, Some(&sigmoid)),
    ];
    for (loss, y, activation) in cases {
        // The variable is y_pred itself, or the logits z when fused with `activation`.
        let at = |v: &Tensor| -> f64 {
            match activation {
                Some(f) => loss.compute(&f(v), Some(v), y, None) / 2.0,
                None => loss.compute(v, None, y, None) / 2.0,
            }
        };
        let var = if activation.is_some() { &z } else { &p };
        let mut grad = Tensor::zeros(var.shape());
        match activation {
            Some(f) => loss.compute(&f(var), Some(var), y, Some(&mut grad)),
            None => loss.compute(var, None, y, Some(&mut grad)),
        };
        for i in 0..var.len() {
            let h = 1e-3;
            let (mut plus, mut minus) = (var.clone(), var.clone());
            plus.data_mut()[i] += h;
            minus.data_mut()[i] -= h;
            let fd = (at(&plus) - at(&minus)) / (2.0 * h as f64);
            let an = grad.data()[i] as f64;
            assert!(
                (fd - an).abs() < 2e-3 * fd.abs().max(1.0),
                "{loss:?} fused={} [{i}]: {fd} vs {an}",
                activation.is_some()
            );
        }
    }
}
