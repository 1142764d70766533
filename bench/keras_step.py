"""Keras 3 (TensorFlow CPU backend) training step time on Fashion-MNIST, batch 32.

Prints one line per model: `keras <model> <us> us/step`, the total model.fit time over N steps
divided by N, after a short warm-up fit that traces the train function.

    python bench/keras_step.py [lesson] [mlp] [cnn]
"""
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

from fashion_mnist import load_train  # noqa: E402

BATCH = 32
# lesson and mlp: one epoch over 48000 samples (the 80% of a validation_split=0.2 run).
STEPS = {"lesson": 1500, "mlp": 1500, "cnn": int(os.environ.get("CNN_STEPS", "300"))}
WARMUP_STEPS = 50


def build(name):
    if name == "lesson":
        model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
        optimizer = "rmsprop"
    elif name == "mlp":
        model = keras.Sequential([
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = "rmsprop"
    elif name == "cnn":
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = "adam"
    else:
        raise SystemExit(f"unknown model {name!r}: expected lesson, mlp or cnn")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(names):
    x, y = load_train()
    for name in names:
        xs = {"lesson": x.reshape(-1, 784), "mlp": x, "cnn": x[..., None]}[name]
        model = build(name)
        warm = WARMUP_STEPS * BATCH
        model.fit(xs[:warm], y[:warm], batch_size=BATCH, epochs=1, verbose=0)
        n = STEPS[name] * BATCH
        start = time.perf_counter()
        model.fit(xs[:n], y[:n], batch_size=BATCH, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        print(f"keras {name} {elapsed / STEPS[name] * 1e6:.1f} us/step", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["lesson", "mlp", "cnn"])
