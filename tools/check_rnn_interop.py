"""Checks kiln's recurrent layers against the real Keras and ONNX Runtime (not part of CI).

For seven small models (Embedding → LSTM / GRU / SimpleRNN / GlobalAveragePooling1D, GRU with and without reset_after,
go_backwards with whole sequences, no bias, a relu cell), with random weights, in a temporary
folder:
  - Keras → kiln: kiln predicts on Keras's .keras and .h5 files what Keras predicted;
  - kiln → Keras: Keras loads the .keras and .h5 files kiln writes and predicts the same;
  - kiln → ONNX: ONNX Runtime runs kiln's export and returns the same; onnx's checker passes.
Every difference must be below 1e-5.

    python tools/check_rnn_interop.py path/to/kiln      (run by tools/check_interop.sh)
"""
import json
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
import onnx
import onnxruntime as ort

L = keras.layers
KILN = sys.argv[1] if len(sys.argv) > 1 else "target/release/kiln"
CASES = {
    "lstm": lambda: [L.Embedding(50, 4), L.LSTM(3), L.Dense(1, activation="sigmoid")],
    "gru": lambda: [L.Embedding(50, 4), L.GRU(3), L.Dense(1, activation="sigmoid")],
    "simple_rnn": lambda: [L.Embedding(50, 4), L.SimpleRNN(3), L.Dense(1, activation="sigmoid")],
    "backwards": lambda: [L.Embedding(50, 4), L.LSTM(5, go_backwards=True, return_sequences=True),
                          L.GRU(3, go_backwards=True), L.Dense(2, activation="softmax")],
    "reset_before": lambda: [L.Embedding(50, 4), L.GRU(4, reset_after=False, return_sequences=True),
                             L.SimpleRNN(3, activation="relu"), L.Dense(1)],
    "average": lambda: [L.Embedding(50, 4), L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")],
    "no_bias": lambda: [L.Embedding(50, 4), L.LSTM(4, use_bias=False, recurrent_activation="tanh"), L.Dense(1)],
}


def kiln(*args):
    subprocess.run([KILN, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kiln_outputs(model, npz, work):
    out = os.path.join(work, "out.json")
    kiln("predict", model, "--data", npz, "--json", out)
    return np.array(json.load(open(out))["outputs"], dtype=np.float32)


def main():
    rng = np.random.default_rng(1)
    worst = 0.0
    with tempfile.TemporaryDirectory() as work:
        for name, layers in CASES.items():
            model = keras.Sequential([keras.Input((7,), dtype="int32"), *layers()])
            model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in model.get_weights()])
            x = rng.integers(0, 50, (5, 7))
            want = model.predict(x, verbose=0)
            npz = os.path.join(work, f"{name}.npz")
            np.savez(npz, x=x.astype(np.int64))
            diffs = {}
            for ext in ["keras", "h5"]:
                theirs = os.path.join(work, f"{name}.{ext}")
                model.save(theirs)
                diffs[f"keras->kiln {ext}"] = kiln_outputs(theirs, npz, work)
                ours = os.path.join(work, f"{name}_kiln.{ext}")
                kiln("convert", theirs, ours)
                diffs[f"kiln->keras {ext}"] = keras.models.load_model(ours).predict(x, verbose=0)
            exported = os.path.join(work, f"{name}.onnx")
            kiln("export", os.path.join(work, f"{name}.keras"), "--onnx", exported)
            onnx.checker.check_model(onnx.load(exported))
            session = ort.InferenceSession(exported)
            diffs["kiln->onnxruntime"] = session.run(None, {"input": x.astype(np.float32)})[0]
            for what, got in diffs.items():
                d = float(np.abs(got - want).max())
                worst = max(worst, d)
                print(f"{name:13} {what:18} max |diff| {d:.2e}")
    print(f"worst {worst:.2e}")
    sys.exit(0 if worst < 1e-5 else 1)


if __name__ == "__main__":
    main()
