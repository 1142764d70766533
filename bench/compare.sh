#!/usr/bin/env bash
# Side-by-side training step time: kiln vs Keras 3 (TensorFlow CPU) vs PyTorch (CPU), batch 32,
# Fashion-MNIST, models lesson / mlp / cnn. Prints a table with the ratios keras/kiln, torch/kiln.
#
#   bench/compare.sh [lesson mlp cnn]
#
# Creates a throwaway venv in bench/.venv (git-ignored) on first use. PyPI's `torch` wheel pulls
# the CUDA libraries (~3 GB); set TORCH_INDEX=https://download.pytorch.org/whl/cpu to get the
# CPU-only wheel where that index is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 0 ]]; then models=("$@"); else models=(lesson mlp cnn); fi
venv=bench/.venv
py=$venv/bin/python

if [[ ! -x $py ]] || ! "$py" -c 'import tensorflow, keras, torch' 2>/dev/null; then
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

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo build --release --quiet --example step_time
for m in "${models[@]}"; do
    cargo run --release --quiet --example step_time -- "$m" | grep -E '^kiln ' >>"$out" \
        || echo "kiln $m n/a us/step" >>"$out"
done
(cd bench && "../$py" keras_step.py "${models[@]}" 2>/dev/null) | grep -E '^keras ' >>"$out"
(cd bench && "../$py" torch_step.py "${models[@]}" 2>/dev/null) | grep -E '^torch ' >>"$out"

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
