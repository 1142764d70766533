//! The lesson's second half, line by line in Rust:
//!
//! ```python
//! model = keras.Sequential(name='fashion')
//! model.add(keras.layers.Flatten(input_shape=(28, 28), name='flatten'))
//! model.add(keras.layers.Dense(100, activation='relu', name='hidden'))
//! model.add(keras.layers.Dropout(0.3))
//! model.add(keras.layers.Dense(10, activation='softmax', name='output'))
//! model.summary()
//! model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='accuracy')
//! checkpoint_cb = keras.callbacks.ModelCheckpoint('best-model.h5', save_best_only=True)
//! history = model.fit(train_scaled, train_target, epochs=20, batch_size=32, verbose=1,
//!                     validation_data=(val_scaled, val_target), callbacks=[checkpoint_cb])
//! model = keras.models.load_model('best-model.h5')
//! model.evaluate(val_scaled, val_target)
//! model.evaluate(test_scaled, test_target)
//! ```
//!
//! `cargo run --release --example fashion_mnist_deep [EPOCHS]` (20 by default).

use kiln::data::train_test_split;
use kiln::datasets::fashion_mnist;
use kiln::io::load_model;
use kiln::layers::{Activation, Dense, Dropout, Flatten};
use kiln::model::{Compile, FitOptions, ModelCheckpoint, Sequential};

fn main() -> kiln::Result<()> {
    // The files this example writes go under target/, which git ignores.
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples");
    std::fs::create_dir_all(out).map_err(|e| kiln::Error::io(out, e))?;
    let epochs = std::env::args().nth(1).and_then(|e| e.parse().ok()).unwrap_or(20);
    let ((train_input, train_target), (test_input, test_target)) = fashion_mnist::load_data()?;
    let train_scaled = train_input.div(255.0);
    let test_scaled = test_input.div(255.0);
    let (train_scaled, val_scaled, train_target, val_target) =
        train_test_split(&train_scaled, &train_target.to_f32(), 0.2, 42)?;

    let mut model = Sequential::named("fashion").seed(42);
    model.add(Flatten::new().input_shape(&[28, 28]).name("flatten"));
    model.add(Dense::new(100).activation(Activation::Relu).name("hidden"));
    model.add(Dropout::new(0.3));
    model.add(Dense::new(10).activation(Activation::Softmax).name("output"));
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam"))?;
    print!("{}", model.summary()?);

    let mut checkpoint_cb =
        ModelCheckpoint::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/best-model.safetensors"))
            .save_best_only(true);
    let history = model.fit(
        &train_scaled,
        &train_target,
        FitOptions {
            epochs,
            batch_size: 32,
            verbose: 1,
            validation_data: Some((&val_scaled, &val_target)),
            callbacks: vec![&mut checkpoint_cb],
            ..Default::default()
        },
    )?;
    history.plot(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/history.png"))?;

    let mut model = load_model(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/best-model.safetensors"))?;
    println!("{}", model.evaluate(&val_scaled, &val_target)?);
    println!("{}", model.evaluate(&test_scaled, &test_target.to_f32())?);
    Ok(())
}
