"""The Python half of tools/check_interop.sh: reads what kiln wrote in DIR with Keras, ONNX
Runtime and TensorBoard, and prints one line per check with the largest difference found."""
import gzip
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

work, models = sys.argv[1], sys.argv[2:]
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()
images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
failures = 0


def report(what, diff, limit=1e-5):
    global failures
    ok = diff <= limit
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {what}: max |difference| {diff:.3g} (limit {limit:g})")


import keras  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

print(f"Keras {keras.__version__}, ONNX Runtime {ort.__version__}, onnx {onnx.__version__}")
for name in models:
    pred = json.load(open(f"{work}/{name}.json"))
    kiln_out = np.array(pred["probabilities"], np.float32)
    x = images[pred["index"]].astype(np.float32) / np.float32(255)
    for ext in ["keras", "h5"]:
        model = keras.models.load_model(f"{work}/{name}.{ext}")
        y = model.predict(x.reshape(-1, *model.input_shape[1:]), verbose=0)
        report(f"{name}.{ext} in Keras ({model.count_params()} params, {len(x)} images)", float(np.abs(y - kiln_out).max()))
    proto = onnx.load(f"{work}/{name}.onnx")
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(f"{work}/{name}.onnx")
    inp = session.get_inputs()[0]
    y = session.run(None, {inp.name: x.reshape(-1, *inp.shape[1:])})[0]
    ops = sorted({n.op_type for n in proto.graph.node})
    report(f"{name}.onnx in ONNX Runtime (opset {proto.opset_import[0].version}, input {inp.name} {inp.shape}, ops {','.join(ops)})",
           float(np.abs(y - kiln_out).max()))
    for split, tags in [("train", ["epoch_loss", "epoch_accuracy", "epoch_learning_rate"]), ("validation", ["epoch_loss", "epoch_accuracy"])]:
        acc = EventAccumulator(f"{work}/logs_{name}/{split}")
        acc.Reload()
        found = sorted(acc.Tags()["tensors"])
        values = {t: [(e.step, float(np.asarray(__import__("tensorflow").make_ndarray(e.tensor_proto)))) for e in acc.Tensors(t)] for t in found}
        ok = sorted(tags) == found and all(len(v) == 1 and v[0][0] == 0 for v in values.values())
        failures += not ok
        shown = ", ".join(f"{t}@{v[0][0]}={v[0][1]:.4f}" for t, v in values.items())
        print(f"{'ok  ' if ok else 'FAIL'} TensorBoard {name}/{split}: {shown}")
print("all checks passed" if failures == 0 else f"{failures} checks FAILED")
sys.exit(1 if failures else 0)
