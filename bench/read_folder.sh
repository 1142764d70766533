#!/usr/bin/env bash
# Reading a folder of 60,000 PNG files (Fashion-MNIST's training set in class folders) into
# memory: kiln's image_dataset_from_directory vs Keras's, on the same folder, same machine.
#
#   bench/read_folder.sh [DIR]        (default DIR: a temporary folder, removed afterwards)
#
# Needs a Python with Keras and TensorFlow: $PYTHON, else bench/.venv (compare.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
[[ $# -gt 0 ]] || trap 'rm -rf "$dir"' EXIT
py=${PYTHON:-bench/.venv/bin/python}
cargo build --release --quiet --example png_folder
# First run writes the files; the timed runs read them with a warm page cache, as Keras does.
target/release/examples/png_folder "$dir" train --keep
for i in 1 2 3; do target/release/examples/png_folder "$dir" train --keep | grep image_dataset; done
for i in 1 2 3; do "$py" bench/read_folder.py "$dir" 2>/dev/null | grep image_dataset; done
