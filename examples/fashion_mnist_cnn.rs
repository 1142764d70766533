//! The lesson's convolutional network, line by line in Rust:
//!
//! ```python
//! model = keras.Sequential()
//! model.add(keras.layers.Conv2D(32, kernel_size=3, activation='relu', padding='same', input_shape=(28,28,1)))
//! model.add(keras.layers.MaxPooling2D(2))
//! model.add(keras.layers.Conv2D(64, kernel_size=(3,3), activation='relu', padding='same'))
//! model.add(keras.layers.MaxPooling2D(2))
//! model.add(keras.layers.Flatten())
//! model.add(keras.layers.Dense(100, activation='relu'))
//! model.add(keras.layers.Dropout(0.4))
//! model.add(keras.layers.Dense(10, activation='softmax'))
//! model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='accuracy')
//! checkpoint_cb = keras.callbacks.ModelCheckpoint('best-cnn-model.keras', save_best_only=True)
//! early_stopping_cb = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
//! history = model.fit(train_scaled, train_target, epochs=20, validation_data=(val_scaled, val_target),
//!                     callbacks=[checkpoint_cb, early_stopping_cb])
//! model.evaluate(val_scaled, val_target)
//! ```
//!
//! `cargo run --release --example fashion_mnist_cnn [EPOCHS]` (20 by default).

use kiln::data::train_test_split;
use kiln::datasets::fashion_mnist;
use kiln::layers::{Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Padding};
use kiln::model::{Compile, EarlyStopping, FitOptions, ModelCheckpoint, Sequential};

fn main() -> kiln::Result<()> {
    // The files this example writes go under target/, which git ignores.
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples");
    std::fs::create_dir_all(out).map_err(|e| kiln::Error::io(out, e))?;
    let epochs = std::env::args().nth(1).and_then(|e| e.parse().ok()).unwrap_or(20);
    let ((train_input, train_target), (test_input, test_target)) = fashion_mnist::load_data()?;
    let train_scaled = train_input.div(255.0).reshape(&[-1, 28, 28, 1])?;
    let test_scaled = test_input.div(255.0).reshape(&[-1, 28, 28, 1])?;
    let (train_scaled, val_scaled, train_target, val_target) =
        train_test_split(&train_scaled, &train_target.to_f32(), 0.2, 42)?;

    let mut model = Sequential::new().seed(42);
    model.add(Conv2D::new(32, 3).activation(Activation::Relu).padding(Padding::Same).input_shape(&[28, 28, 1]));
    model.add(MaxPooling2D::new(2));
    model.add(Conv2D::new(64, (3, 3)).activation(Activation::Relu).padding(Padding::Same));
    model.add(MaxPooling2D::new(2));
    model.add(Flatten::new());
    model.add(Dense::new(100).activation(Activation::Relu));
    model.add(Dropout::new(0.4));
    model.add(Dense::new(10).activation(Activation::Softmax));
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]).optimizer("adam"))?;
    print!("{}", model.summary()?);

    let mut checkpoint_cb =
        ModelCheckpoint::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/best-cnn-model.safetensors"))
            .save_best_only(true);
    let mut early_stopping_cb = EarlyStopping::new().patience(2).restore_best_weights(true);
    model.fit(
        &train_scaled,
        &train_target,
        FitOptions {
            epochs,
            validation_data: Some((&val_scaled, &val_target)),
            callbacks: vec![&mut checkpoint_cb, &mut early_stopping_cb],
            ..Default::default()
        },
    )?;
    println!("{}", model.evaluate(&val_scaled, &val_target)?);
    println!("{}", model.evaluate(&test_scaled, &test_target.to_f32())?);
    Ok(())
}
