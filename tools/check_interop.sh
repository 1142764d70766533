#!/usr/bin/env bash
# Checks kiln's interchange files with the real Python packages (not part of CI):
#   - Keras loads the .keras and .h5 files kiln writes and predicts within 1e-5 of kiln;
#   - ONNX Runtime runs the models kiln exports within 1e-5 of kiln (and onnx's checker passes);
#   - TensorBoard's event reader reads kiln's logs with Keras's tags.
#   - Embedding, LSTM, GRU and SimpleRNN move between Keras, kiln and ONNX Runtime (tools/check_rnn_interop.py).
# Trains three small models (lesson, mlp, cnn) for one epoch on Fashion-MNIST to get real weights.
#
#   tools/check_interop.sh            (or KILN=path/to/kiln tools/check_interop.sh)
#
# Creates a throwaway venv in tools/.venv (git-ignored) on first use (tensorflow-cpu, onnxruntime,
# onnx, tensorboard, h5py: a few GB).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=tools/.venv
py=$venv/bin/python
if [[ ! -x $py ]] || ! "$py" -c 'import tensorflow, keras, onnxruntime, onnx, tensorboard, h5py' 2>/dev/null; then
    echo "setting up $venv (tensorflow-cpu, onnxruntime, onnx, tensorboard, h5py)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet tensorflow-cpu onnxruntime onnx tensorboard h5py
fi
# KILN=path/to/kiln checks that binary instead of building one.
if [[ -z ${KILN:-} ]]; then cargo build --release --quiet; fi
kiln=${KILN:-target/release/kiln}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A layers=(
    [lesson]="dense(10, activation=softmax)"
    [mlp]="flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax, name=output)"
    [cnn]="conv2d(8, 3, activation=relu, padding=same), max_pooling2d(2), batch_normalization, conv2d(4, 3, strides=2), activation(relu), average_pooling2d(2, padding=same), flatten, dense(10, activation=softmax)"
)
index=$(seq -s ' ' 0 63)
for m in lesson mlp cnn; do
    "$kiln" train --layers "${layers[$m]}" --epochs 1 --verbose 0 --save "$work/$m.safetensors" \
        --tensorboard "$work/logs_$m"
    "$kiln" convert "$work/$m.safetensors" "$work/$m.keras" >/dev/null
    "$kiln" convert "$work/$m.safetensors" "$work/$m.h5" >/dev/null
    "$kiln" export "$work/$m.safetensors" --onnx "$work/$m.onnx" >/dev/null
    # shellcheck disable=SC2086
    "$kiln" predict "$work/$m.safetensors" --index $index --json "$work/$m.json" >/dev/null
done
"$py" tools/check_interop.py "$work" lesson mlp cnn
"$py" tools/check_rnn_interop.py "$kiln"
