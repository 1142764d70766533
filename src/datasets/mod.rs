//! Datasets kiln can load: Fashion-MNIST.
