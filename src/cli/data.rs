//! `kiln data`: where Fashion-MNIST was found, its shapes and per-class counts.

use kiln::datasets::fashion_mnist::{self, CLASS_NAMES};

use super::DataArgs;

pub fn run(args: DataArgs) -> kiln::Result<()> {
    let data = fashion_mnist::load(&args.load_options())?;
    println!("Fashion-MNIST: {}", data.source);
    println!("train: images {} labels {}", data.train_images.shape_str(), data.train_labels.shape_str());
    println!("test:  images {} labels {}", data.test_images.shape_str(), data.test_labels.shape_str());
    let (train, test) = data.class_counts();
    println!("\n{:>5}  {:<12} {:>6} {:>6}", "label", "class", "train", "test");
    for (i, name) in CLASS_NAMES.iter().enumerate() {
        println!("{i:>5}  {name:<12} {:>6} {:>6}", train[i], test[i]);
    }
    Ok(())
}
