//! Recurrent layers, Embedding and pad_sequences against values Keras computed
//! (tests/reference/keras_rnn_reference.json, made by make_keras_rnn_reference.py beside it):
//! each layer's output and gradients, and three training steps of Embedding → LSTM/GRU → Dense;
//! and those steps once more with a table of fewer rows than the batch has ids
//! (keras_rnn_fold_reference.json), which kiln folds into the recurrent layer's input product.

use kiln::layers::{Activation, Backward, Ctx, Dense, Embedding, Layer, Rng, SimpleRNN, GRU, LSTM};
use kiln::model::{Compile, Sequential};
use kiln::optimizers::{Adam, RMSprop};
use kiln::tensor::Tensor;
use rand::SeedableRng;
use serde_json::Value;

fn reference() -> Value {
    read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/keras_rnn_reference.json"))
}

fn read(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A nested JSON array flattened, and its shape.
fn flat(v: &Value) -> (Vec<usize>, Vec<f32>) {
    match v {
        Value::Array(items) => {
            let parts: Vec<_> = items.iter().map(flat).collect();
            let mut shape = vec![items.len()];
            shape.extend(parts.first().map(|p| p.0.clone()).unwrap_or_default());
            (shape, parts.into_iter().flat_map(|p| p.1).collect())
        }
        v => (vec![], vec![v.as_f64().unwrap() as f32]),
    }
}

fn tensor(v: &Value) -> Tensor {
    let (shape, data) = flat(v);
    Tensor::from_vec(&shape, data).unwrap()
}

#[track_caller]
fn assert_close(got: &[f32], want: &Value, what: &str) {
    let (_, want) = flat(want);
    assert_eq!(got.len(), want.len(), "{what}: size");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}[{i}]: kiln {g}, Keras {w}");
    }
}

fn make_layer(case: &Value) -> Box<dyn Layer> {
    let c = &case["config"];
    let flag = |k: &str| c[k].as_bool().unwrap_or(false);
    let units = c["units"].as_u64().unwrap_or(0) as usize;
    let act = |k: &str| Activation::parse(c[k].as_str().unwrap_or("tanh")).unwrap();
    match case["class_name"].as_str().unwrap() {
        "SimpleRNN" => Box::new(
            SimpleRNN::new(units)
                .activation(act("activation"))
                .return_sequences(flag("return_sequences"))
                .go_backwards(flag("go_backwards")),
        ),
        "LSTM" => Box::new(
            LSTM::new(units)
                .activation(act("activation"))
                .recurrent_activation(act("recurrent_activation"))
                .return_sequences(flag("return_sequences"))
                .go_backwards(flag("go_backwards")),
        ),
        "GRU" => Box::new(
            GRU::new(units)
                .activation(act("activation"))
                .recurrent_activation(act("recurrent_activation"))
                .return_sequences(flag("return_sequences"))
                .go_backwards(flag("go_backwards"))
                .reset_after(c["reset_after"].as_bool().unwrap()),
        ),
        "Embedding" => Box::new(Embedding::new(
            c["input_dim"].as_u64().unwrap() as usize,
            c["output_dim"].as_u64().unwrap() as usize,
        )),
        other => panic!("no case for {other}"),
    }
}

#[test]
fn every_layer_case_matches_keras() {
    let reference = reference();
    let cases = reference["layers"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut layer = make_layer(case);
        let x = tensor(&case["input"]);
        let mut rng = Rng::seed_from_u64(0);
        layer.build(&x.shape()[1..], &mut rng).unwrap();
        let weights: Vec<Tensor> = case["weights"].as_array().unwrap().iter().map(tensor).collect();
        let mut i = 0;
        layer.visit_params(&mut |p| {
            assert_eq!(p.value.shape(), weights[i].shape(), "{name}: weight {i}'s shape");
            p.value = weights[i].clone();
            p.zero_grad();
            i += 1;
        });
        assert_eq!(i, weights.len(), "{name}: number of weights");
        layer.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        assert_close(layer.output().data(), &case["output"], &format!("{name} output"));
        let probe = tensor(&case["probe"]);
        assert_eq!(probe.shape(), layer.output().shape(), "{name}: output shape");
        layer.backward(&x, &probe, Backward::new(true));
        if let Some(dx) = case.get("grad_input") {
            assert_close(layer.dinput().data(), dx, &format!("{name} input gradient"));
        }
        for (p, want) in layer.params().iter().zip(case["grad_weights"].as_array().unwrap()) {
            assert_close(&p.grad_to_vec(), want, &format!("{name} gradient of {}", p.name));
        }
    }
}

#[test]
fn three_training_steps_match_keras() {
    three_training_steps_match(&reference());
}

#[test]
fn three_training_steps_match_keras_with_the_embedding_folded() {
    // 12 table rows against 3 × 5 ids: the plan folds the lookup into the LSTM's (GRU's) input
    // product, and the Embedding's update still squares each use's gradient.
    let fold = read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/keras_rnn_fold_reference.json"));
    for case in fold["models"].as_array().unwrap() {
        let (table_rows, ids) = (case["weights"][0].as_array().unwrap().len(), 15);
        assert!(table_rows <= ids, "{}: {table_rows} table rows, {ids} ids", case["name"]);
    }
    three_training_steps_match(&fold);
}

fn three_training_steps_match(reference: &Value) {
    for case in reference["models"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let weights: Vec<Tensor> = case["weights"].as_array().unwrap().iter().map(tensor).collect();
        let x = tensor(&case["x"]);
        let (b, t) = (x.shape()[0], x.shape()[1]);
        let y = Tensor::from_vec(&[b, 1], flat(&case["y"]).1).unwrap();
        let (vocab, dim) = (weights[0].shape()[0], weights[0].shape()[1]);
        let units = weights[1].shape()[1] / if name.contains("lstm") { 4 } else { 3 };
        let mut model = Sequential::new();
        model.add(Embedding::new(vocab, dim));
        if name.contains("lstm") {
            model.add(LSTM::new(units));
        } else {
            model.add(GRU::new(units));
        }
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        model.build(&[t]).unwrap();
        assert_eq!(model.count_params().0, case["total_params"].as_u64().unwrap() as usize, "{name}: parameters");
        model.set_weights(&weights).unwrap();
        let lr = case["learning_rate"].as_f64().unwrap() as f32;
        let compile = Compile::new("binary_crossentropy");
        let compile = match case["optimizer"].as_str().unwrap() {
            "rm_sprop" | "rmsprop" => compile.optimizer_with(RMSprop { learning_rate: lr, ..RMSprop::default() }),
            "adam" => compile.optimizer_with(Adam { learning_rate: lr, ..Adam::default() }),
            other => panic!("{other}"),
        };
        model.compile(compile).unwrap();
        for (k, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let loss = model.train_on_batch(&x, &y).unwrap();
            let want = step["loss_before_update"].as_f64().unwrap();
            assert!((loss - want).abs() <= 1e-5, "{name} step {k}: loss {loss} vs Keras {want}");
            for (j, (w, want)) in model.get_weights().iter().zip(step["weights_after"].as_array().unwrap()).enumerate()
            {
                assert_close(w.data(), want, &format!("{name} step {k} weight {j}"));
            }
        }
    }
}

#[test]
fn pad_sequences_cases_are_exact() {
    use kiln::data::{pad_sequences, PadOptions, Side};
    let reference = reference();
    let pads = &reference["pad_sequences"];
    let seqs: Vec<Vec<i64>> = pads["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
        .collect();
    for case in pads["cases"].as_array().unwrap() {
        let kw = &case["kwargs"];
        let side = |k: &str| Side::parse(kw[k].as_str().unwrap_or("pre"), k).unwrap();
        let opts = PadOptions {
            maxlen: kw["maxlen"].as_u64().map(|m| m as usize),
            padding: side("padding"),
            truncating: side("truncating"),
            value: kw["value"].as_f64().unwrap_or(0.0) as f32,
        };
        let (shape, want) = flat(&case["output"]);
        let got = pad_sequences(&seqs, &opts);
        assert_eq!((got.shape(), got.data()), (&shape[..], &want[..]), "{kw}");
    }
}
