//! The book's LSTM on IMDB reviews (chapter 9-3), line by line in Rust:
//!
//! ```python
//! (train_input, train_target), (test_input, test_target) = imdb.load_data(num_words=500)
//! train_input, val_input, train_target, val_target = train_test_split(
//!     train_input, train_target, test_size=0.2, random_state=42)
//! train_seq = pad_sequences(train_input, maxlen=100)
//! val_seq = pad_sequences(val_input, maxlen=100)
//! model = keras.Sequential()
//! model.add(keras.layers.Embedding(500, 16, input_length=100))
//! model.add(keras.layers.LSTM(8))
//! model.add(keras.layers.Dense(1, activation='sigmoid'))
//! model.summary()
//! rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
//! model.compile(optimizer=rmsprop, loss='binary_crossentropy', metrics=['accuracy'])
//! checkpoint_cb = keras.callbacks.ModelCheckpoint('best-lstm-model.keras', save_best_only=True)
//! early_stopping_cb = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
//! history = model.fit(train_seq, train_target, epochs=100, batch_size=64,
//!                     validation_data=(val_seq, val_target),
//!                     callbacks=[checkpoint_cb, early_stopping_cb])
//! ```
//!
//! `cargo run --release --example imdb_lstm [lstm|dropout|stacked|gru] [EPOCHS]`: the chapter's
//! four models (LSTM(8); LSTM(8, dropout=0.3); two LSTM(8, dropout=0.3) stacked; GRU(8)),
//! 100 epochs by default. Needs `imdb.npz` (found or downloaded as Keras's).

use kiln::data::{pad_sequences, train_test_indices, PadOptions};
use kiln::datasets::imdb::{self, ImdbOptions};
use kiln::layers::{Activation, Dense, Embedding, GRU, LSTM};
use kiln::model::{Compile, EarlyStopping, FitOptions, ModelCheckpoint, Sequential};
use kiln::optimizers::RMSprop;
use kiln::Tensor;

fn main() -> kiln::Result<()> {
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples");
    std::fs::create_dir_all(out).map_err(|e| kiln::Error::io(out, e))?;
    let which = std::env::args().nth(1).unwrap_or_else(|| "lstm".into());
    let epochs = std::env::args().nth(2).and_then(|e| e.parse().ok()).unwrap_or(100);

    let ((train_input, train_target), _) =
        imdb::load_data(&ImdbOptions { num_words: Some(500), ..Default::default() })?;
    let (train_idx, val_idx) = train_test_indices(train_input.len(), 0.2, 42)?;
    let pick = |idx: &[usize]| -> (Vec<Vec<i64>>, Tensor) {
        let x = idx.iter().map(|&i| train_input[i].clone()).collect();
        let y = idx.iter().map(|&i| train_target[i] as f32).collect();
        (x, Tensor::from_vec(&[idx.len(), 1], y).expect("one label per review"))
    };
    let ((train_input, train_target), (val_input, val_target)) = (pick(&train_idx), pick(&val_idx));
    let pad = PadOptions { maxlen: Some(100), ..Default::default() };
    let train_seq = pad_sequences(&train_input, &pad);
    let val_seq = pad_sequences(&val_input, &pad);

    let mut model = Sequential::new().seed(42);
    model.add(Embedding::new(500, 16).input_shape(&[100]));
    match which.as_str() {
        "lstm" => model.add(LSTM::new(8)),
        "dropout" => model.add(LSTM::new(8).dropout(0.3)),
        "stacked" => {
            model.add(LSTM::new(8).dropout(0.3).return_sequences(true));
            model.add(LSTM::new(8).dropout(0.3));
        }
        "gru" => model.add(GRU::new(8)),
        other => return Err(kiln::Error::value(format!("unknown model '{other}'; use lstm, dropout, stacked or gru"))),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    println!("{}", model.summary()?);
    let rmsprop = RMSprop { learning_rate: 1e-4, ..RMSprop::default() };
    model.compile(Compile::new("binary_crossentropy").optimizer_with(rmsprop).metrics(&["accuracy"]))?;
    let mut checkpoint_cb = ModelCheckpoint::new(format!("{out}/best-{which}-model.keras")).save_best_only(true);
    let mut early_stopping_cb = EarlyStopping::new().patience(3).restore_best_weights(true);
    let history = model.fit(
        &train_seq,
        &train_target,
        FitOptions {
            epochs,
            batch_size: 64,
            validation_data: Some((&val_seq, &val_target)),
            callbacks: vec![&mut checkpoint_cb, &mut early_stopping_cb],
            ..Default::default()
        },
    )?;
    let best = history.get("val_loss").map(|v| v.iter().copied().fold(f64::INFINITY, f64::min));
    println!("epochs run: {}, best val_loss: {best:?}", history.loss().len());
    Ok(())
}
