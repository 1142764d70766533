//! The classic first Keras lesson, line by line in Rust:
//!
//! ```python
//! (train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()
//! train_scaled = train_input / 255.0
//! train_scaled = train_scaled.reshape(-1, 28*28)
//! train_scaled, val_scaled, train_target, val_target = train_test_split(
//!     train_scaled, train_target, test_size=0.2, random_state=42)
//! model = keras.Sequential([keras.layers.Dense(10, activation='softmax', input_shape=(784,))])
//! model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')
//! model.fit(train_scaled, train_target, epochs=5)
//! model.evaluate(val_scaled, val_target)
//! ```
//!
//! Run it with `cargo run --release --example fashion_mnist`.

use kiln::data::train_test_split;
use kiln::datasets::fashion_mnist;
use kiln::layers::{Activation, Dense};
use kiln::model::{Compile, FitOptions, Sequential};

fn main() -> kiln::Result<()> {
    let ((train_input, train_target), (test_input, test_target)) = fashion_mnist::load_data()?;
    println!("{} {}", train_input.shape_str(), train_target.shape_str());
    println!("{} {}", test_input.shape_str(), test_target.shape_str());

    let train_scaled = train_input.div(255.0);
    let train_scaled = train_scaled.reshape(&[-1, 28 * 28])?;
    let (train_scaled, val_scaled, train_target, val_target) =
        train_test_split(&train_scaled, &train_target.to_f32(), 0.2, 42)?;

    let mut model = Sequential::new().seed(42);
    model.add(Dense::new(10).activation(Activation::Softmax).input_shape(&[784]));
    model.compile(Compile::new("sparse_categorical_crossentropy").metrics(&["accuracy"]))?;
    model.fit(&train_scaled, &train_target, FitOptions { epochs: 5, ..Default::default() })?;
    let result = model.evaluate(&val_scaled, &val_target)?;
    println!("{result}");
    Ok(())
}
