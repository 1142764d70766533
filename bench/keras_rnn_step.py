"""Keras 3 (TensorFlow CPU backend) training step time of the book's recurrent models (chapter
9-3's shape): batch 64, sequences of 100 ids, Embedding(500, 16) -> SimpleRNN(8) | LSTM(8) |
GRU(8) -> Dense(1, sigmoid), binary crossentropy, RMSprop, synthetic ids (the same scramble as
kiln's examples/rnn_step_time.rs).

Prints one line per model: `keras <model> <us> us/step`, the median over RUNS fits of STEPS
steps each of the mean time per step, timed from the end of a fit's first step to the end of
its last (a callback's clock, so fit's start-up, several hundred ms on a busy machine, is left
out), after a warm-up fit that traces the train function. TensorFlow runs on 2 threads (this
machine's cores; KERAS_THREADS overrides).

    python bench/keras_rnn_step.py [rnn] [lstm] [gru]
"""
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

BATCH, STEPS_PER_SEQ, VOCAB = 64, 100, 500
STEPS = int(os.environ.get("RNN_STEPS", "60"))
RUNS = int(os.environ.get("RNN_RUNS", "3"))
WARMUP_STEPS = 10
THREADS = int(os.environ.get("KERAS_THREADS", "2"))
tf.config.threading.set_intra_op_parallelism_threads(THREADS)
tf.config.threading.set_inter_op_parallelism_threads(THREADS)


def data(n):
    i = np.arange(n * STEPS_PER_SEQ, dtype=np.int64)
    x = (1 + (i * 7919 + i // 13) % 499).reshape(n, STEPS_PER_SEQ).astype("int32")
    y = (np.arange(n) % 2).astype("float32").reshape(n, 1)
    return x, y


def build(name):
    cell = {"rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}.get(name)
    if cell is None:
        raise SystemExit(f"unknown model {name!r}: expected rnn, lstm or gru")
    model = keras.Sequential([
        keras.Input((STEPS_PER_SEQ,), dtype="int32"),
        layers.Embedding(VOCAB, 16),
        cell(8),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


class StepClock(keras.callbacks.Callback):
    """The time of each step's end."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def main(names):
    x, y = data(BATCH * max(STEPS, WARMUP_STEPS))
    for name in names:
        model = build(name)
        warm = WARMUP_STEPS * BATCH
        model.fit(x[:warm], y[:warm], batch_size=BATCH, epochs=1, verbose=0)
        n = STEPS * BATCH
        runs, clock = [], StepClock()
        for _ in range(RUNS):
            model.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, verbose=0, callbacks=[clock])
            runs.append((clock.ends[-1] - clock.ends[0]) / (len(clock.ends) - 1) * 1e6)
        print(f"keras {name} {statistics.median(runs):.1f} us/step", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
