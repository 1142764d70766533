//! Text models as a user builds them: the `--layers` grammar and `kiln summary` with Keras's
//! parameter counts, a saved recurrent model that loads back to the same predictions, and ids
//! outside an Embedding's table refused with an error naming them.

use std::process::Command;

use kiln::layers::parse_layers;
use kiln::model::{Compile, FitOptions, Sequential};
use kiln::Tensor;

fn summary(rnn: &str) -> String {
    let layers = format!("embedding(500, 16), {rnn}, dense(1, activation=sigmoid)");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["summary", "--input-shape", "100", "--layers", &layers])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn summary_gives_keras_counts_for_the_books_models() {
    let lstm = summary("lstm(8)");
    assert!(lstm.contains(" embedding (Embedding)       (None, 100, 16)           8000\n"), "{lstm}");
    assert!(lstm.contains(" lstm (LSTM)                 (None, 8)                 800\n"), "{lstm}");
    assert!(lstm.contains("Total params: 8,809"), "{lstm}");
    let gru = summary("gru(8)");
    assert!(gru.contains(" gru (GRU)                   (None, 8)                 624\n"), "{gru}");
    assert!(gru.contains("Total params: 8,633"), "{gru}");
    assert!(summary("simple_rnn(8)").contains("Total params: 8,209"));
    let stacked = summary("lstm(8, dropout=0.3, return_sequences=true), lstm(8, dropout=0.3)");
    assert!(stacked.contains(" lstm (LSTM)                 (None, 100, 8)            800\n"), "{stacked}");
    assert!(stacked.contains(" lstm_1 (LSTM)               (None, 8)                 544\n"), "{stacked}");
    assert!(stacked.contains("Total params: 9,353"), "{stacked}");
}

fn model(spec: &str) -> Sequential {
    let mut m = Sequential::new().seed(3);
    parse_layers(spec).unwrap().into_iter().for_each(|l| m.add_boxed(l));
    m.build(&[6]).unwrap();
    m.compile(Compile::new("binary_crossentropy").optimizer("rmsprop").metrics(&["accuracy"])).unwrap();
    m
}

#[test]
fn a_saved_recurrent_model_loads_back_to_the_same_predictions() {
    let spec = "embedding(20, 4), lstm(5, return_sequences=true, go_backwards=true), \
                gru(3, reset_after=false, recurrent_dropout=0.2), dense(1, activation=sigmoid)";
    let mut m = model(spec);
    let x = Tensor::from_vec(&[8, 6], (0..48).map(|i| ((i * 7) % 20) as f32).collect()).unwrap();
    let y = Tensor::from_vec(&[8, 1], (0..8).map(|i| (i % 2) as f32).collect()).unwrap();
    m.fit(&x, &y, FitOptions { epochs: 2, batch_size: 4, verbose: 0, ..Default::default() }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text.safetensors");
    m.save(&path).unwrap();
    let mut back = kiln::io::load_model(&path).unwrap();
    assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap());
    let classes: Vec<&str> = back.layers().iter().map(|l| l.class_name()).collect();
    assert_eq!(classes, ["Embedding", "LSTM", "GRU", "Dense"]);
}

#[test]
fn ids_outside_the_table_are_refused_naming_the_id_and_input_dim() {
    let mut m = model("embedding(20, 4), simple_rnn(3), dense(1, activation=sigmoid)");
    let mut ids: Vec<f32> = (0..12).map(|i| (i % 20) as f32).collect();
    ids[9] = 20.0;
    let x = Tensor::from_vec(&[2, 6], ids).unwrap();
    let err = m.predict(&x).unwrap_err().to_string();
    assert_eq!(
        err,
        "layer 'embedding' (Embedding): id 20 (sample 1, position 3) is not an integer in [0, 20) (input_dim=20)"
    );
    let y = Tensor::from_vec(&[2, 1], vec![0.0, 1.0]).unwrap();
    let err = m.fit(&x, &y, FitOptions { verbose: 0, ..Default::default() }).unwrap_err().to_string();
    assert!(err.contains("id 20 (sample 1, position 3)"), "{err}");
    let err = kiln::layers::parse_layers("embedding(20, 4, mask_zero=true)").err().map(|e| e.to_string());
    let built = err.is_some() || {
        let mut m = Sequential::new();
        parse_layers("embedding(20, 4, mask_zero=true)").unwrap().into_iter().for_each(|l| m.add_boxed(l));
        m.build(&[6]).unwrap_err().to_string().contains("mask_zero=true is not supported")
    };
    assert!(built, "mask_zero=true is refused");
}

#[test]
fn an_embedding_folded_into_the_recurrent_layer_trains_as_the_unfolded_pair() {
    // The same weights (same seed, and a linear activation adds none) and the same batches:
    // with the Activation between them the plan cannot fold the Embedding into the LSTM.
    let mut folded = model("embedding(20, 4), lstm(5, go_backwards=true), dense(1, activation=sigmoid)");
    let mut plain =
        model("embedding(20, 4), activation(linear), lstm(5, go_backwards=true), dense(1, activation=sigmoid)");
    let x = Tensor::from_vec(&[8, 6], (0..48).map(|i| ((i * 7 + i / 5) % 20) as f32).collect()).unwrap();
    let y = Tensor::from_vec(&[8, 1], (0..8).map(|i| (i % 3 % 2) as f32).collect()).unwrap();
    assert_eq!(folded.get_weights(), plain.get_weights());
    for step in 0..3 {
        let (a, b) = (folded.train_on_batch(&x, &y).unwrap(), plain.train_on_batch(&x, &y).unwrap());
        assert!((a - b).abs() <= 1e-6, "step {step}: loss {a} folded, {b} not");
    }
    for (i, (a, b)) in folded.get_weights().iter().zip(plain.get_weights()).enumerate() {
        for (&a, &b) in a.data().iter().zip(b.data()) {
            assert!((a - b).abs() <= 1e-6, "weight {i}: {a} folded, {b} not");
        }
    }
    // A training step does not compute the folded Embedding's output; inference does.
    let outputs = folded.layer_outputs(&x).unwrap();
    let table = &folded.get_weights()[0];
    let want: Vec<f32> = x.data().iter().flat_map(|&id| table.data()[id as usize * 4..][..4].to_vec()).collect();
    assert_eq!(outputs[0].data(), &want[..]);
}
