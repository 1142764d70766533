#!/bin/bash
# Instructions per training step, old code against new: a count that, unlike wall time on a
# shared VM, does not move from run to run. For a change that must not slow the step down.
#
#   bench/instructions.sh OLD NEW      # each a commit or a checkout's directory
#
# Both trees get this tree's examples/step_time.rs (it must build against both: it does from
# e8a6463 on), built for x86-64-v3 (valgrind decodes AVX2, not AVX-512, so the AVX-512 paths are
# not what is counted), and each model (lesson, MLP, CNN) runs on one thread under callgrind,
# counting only the training loop (`fit_loop`): 50 warm-up steps and then 1,500 (lesson), 300
# (MLP) or 20 (CNN) steps. One thread: a waiting helper's polling would count too.
# Needs valgrind and the Fashion-MNIST data (dataset-fashion-mnist). TARGET_OLD / TARGET_NEW
# choose the build directories (default: target-v3 in each tree).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${INSTR_DIR:-/tmp/kiln-instr}
mkdir -p "$work"
tree() { # commit or directory -> directory
  if [[ -d $1 ]]; then (cd "$1" && pwd); return; fi
  local dir="$work/$(git -C "$here" rev-parse --short "$1")"
  [[ -d $dir ]] || git -C "$here" worktree add -q --detach "$dir" "$1"
  echo "$dir"
}
old=$(tree "$1"); new=$(tree "$2")
build() { # tree target -> binary
  [[ $1 -ef $here ]] || cp "$here/examples/step_time.rs" "$1/examples/step_time.rs"
  (cd "$1" && RUSTFLAGS="-C target-cpu=x86-64-v3" CARGO_TARGET_DIR="$2" cargo build -q --release --example step_time)
  cp "$2/release/examples/step_time" "$work/step_time_$3"
}
build "$old" "${TARGET_OLD:-$old/target-v3}" old
build "$new" "${TARGET_NEW:-$new/target-v3}" new
printf "%-7s %16s %16s %8s\n" model "old Ir/step" "new Ir/step" change
for run in "lesson 1500" "mlp 300" "cnn 20"; do
  set -- $run
  for b in old new; do
    RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$work/$b-$1.out" \
      --collect-atstart=no --toggle-collect='*fit_loop*' "$work/step_time_$b" "$1" "$2" 1 > "$work/$b-$1.log" 2>&1 &
  done
  wait
  ir() { awk '/^summary:/ {print $2}' "$work/$1-$2.out"; }
  o=$(ir old "$1"); n=$(ir new "$1"); steps=$((50 + $2))
  awk -v m="$1" -v o="$o" -v n="$n" -v s="$steps" \
    'BEGIN { printf "%-7s %16.0f %16.0f %+7.2f%%\n", m, o / s, n / s, 100 * (n - o) / o }'
done
