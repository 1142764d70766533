#!/usr/bin/env bash
# Side-by-side training step time: kiln vs Keras 3 (TensorFlow CPU) vs PyTorch (CPU). Prints a
# table with the ratios keras/kiln, torch/kiln.
#   lesson mlp cnn: batch 32, Fashion-MNIST (examples/step_time.rs, keras_step.py, torch_step.py)
#   rnn lstm gru:   the book's 9-3 shape, batch 64, 100 synthetic ids, Embedding(500, 16) ->
#                   SimpleRNN/LSTM/GRU(8) -> Dense(1, sigmoid), RMSprop (examples/rnn_step_time.rs,
#                   keras_rnn_step.py, torch_rnn_step.py); medians of several runs, 2 threads
#
#   bench/compare.sh [lesson mlp cnn | rnn lstm gru]
#
# Creates a throwaway venv in bench/.venv (git-ignored) on first use. PyPI's `torch` wheel pulls
# the CUDA libraries (~3 GB); set TORCH_INDEX=https://download.pytorch.org/whl/cpu to get the
# CPU-only wheel where that index is reachable. BENCH_PYTHON=/path/to/python uses an existing
# environment instead (no setup); a framework it lacks shows as n/a.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 0 ]]; then models=("$@"); else models=(lesson mlp cnn); fi
venv=bench/.venv
py=${BENCH_PYTHON:-$venv/bin/python}

if [[ -z ${BENCH_PYTHON:-} ]] && { [[ ! -x $py ]] || ! "$py" -c 'import tensorflow, keras, torch' 2>/dev/null; }; then
    echo "setting up $venv (tensorflow-cpu, torch); this downloads a few GB the first time" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet tensorflow-cpu
    if [[ -n ${TORCH_INDEX:-} ]]; then
        "$venv/bin/pip" install --quiet torch --index-url "$TORCH_INDEX"
    else
        "$venv/bin/pip" install --quiet torch
    fi
fi

image=() recurrent=()
for m in "${models[@]}"; do
    case $m in
        rnn | lstm | gru) recurrent+=("$m") ;;
        *) image+=("$m") ;;
    esac
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One group of models: the kiln example, then the Keras and the PyTorch script.
side_by_side() {
    local example=$1 keras=$2 torch=$3
    shift 3
    cargo build --release --quiet --example "$example"
    for m in "$@"; do
        "target/release/examples/$example" "$m" | grep -E '^kiln ' >>"$out" \
            || echo "kiln $m n/a us/step" >>"$out"
    done
    (cd bench && "$py" "$keras" "$@" 2>/dev/null) | grep -E '^keras ' >>"$out" || true
    (cd bench && "$py" "$torch" "$@" 2>/dev/null) | grep -E '^torch ' >>"$out" || true
}
py="$(cd "$(dirname "$py")" && pwd)/$(basename "$py")" # absolute, the venv link kept
if [[ ${#image[@]} -gt 0 ]]; then side_by_side step_time keras_step.py torch_step.py "${image[@]}"; fi
if [[ ${#recurrent[@]} -gt 0 ]]; then
    side_by_side rnn_step_time keras_rnn_step.py torch_rnn_step.py "${recurrent[@]}"
fi

"$py" - "$out" "${models[@]}" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    lib, model, us = line.split()[:3]
    try:
        rows[(lib, model)] = float(us)
    except ValueError:
        pass
def cell(lib, m):
    v = rows.get((lib, m))
    return f"{v:10.1f}" if v is not None else f"{'n/a':>10}"
def ratio(lib, m):
    a, b = rows.get((lib, m)), rows.get(("kiln", m))
    return f"{a / b:9.2f}x" if a and b else f"{'n/a':>10}"
print(f"{'model':<8}{'kiln us':>10}{'keras us':>10}{'torch us':>10}{'keras/kiln':>11}{'torch/kiln':>11}")
for m in sys.argv[2:]:
    print(f"{m:<8}{cell('kiln', m)}{cell('keras', m)}{cell('torch', m)} {ratio('keras', m)} {ratio('torch', m)}")
PY
