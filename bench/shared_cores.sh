#!/usr/bin/env bash
# µs per training step with the cores idle and with one core busy, for two builds of the
# step_time example side by side, each at the default thread count and on one thread
# (RAYON_NUM_THREADS=1: step_time has no flag, and the older builds read only that).
#
#   cargo build --release --example step_time     # one build; copy it aside, then the other
#   bench/shared_cores.sh OLD_STEP_TIME NEW_STEP_TIME [ROUNDS [MODELS...]]
#
# "busy" is `yes > /dev/null` pinned to the last core. Each round runs every (condition, model,
# threads, build) once, the two builds in alternating order, so that the machine's drift hits
# both alike. Prints the median µs per step of each cell and the range over the rounds.
#
# On a machine shared with other work (builds), KILN_BENCH_ISOLATE=1 (root, Linux, cgroup v1
# cpu controller) shields the runs from it: the idle runs use SCHED_FIFO (kiln has the cores as
# on an idle machine, but for the kernel's real-time throttle of 50 ms a second), and the busy
# runs sit with the busy loop in a cpu cgroup of the largest weight, where the two share a core
# as two ordinary programs do.
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,17p' "$0"; exit 2; }
old=$1 new=$2 rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
if [[ $# -gt 0 ]]; then models=("$@"); else models=(lesson mlp cnn); fi
isolate=${KILN_BENCH_ISOLATE:-0}
last=$(($(nproc) - 1))
cgroup=/sys/fs/cgroup/cpu/kiln-bench
if [[ $isolate == 1 ]]; then
    mkdir -p "$cgroup"
    echo 262144 >"$cgroup/cpu.shares"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run CONDITION MODEL THREADS BUILD BINARY: appends "condition model threads build us".
run() {
    local env=() prefix=()
    [[ $3 == 1 ]] && env=(RAYON_NUM_THREADS=1)
    [[ $isolate == 1 && $1 == idle ]] && prefix=(chrt -f 1)
    local us
    us=$(env "${env[@]}" "${prefix[@]}" "$5" "$2" | awk '{print $3}')
    echo "$1 $2 $3 $4 $us" >>"$out"
}

for ((r = 0; r < rounds; r++)); do
    if ((r % 2 == 0)); then order=(old new); else order=(new old); fi
    for condition in idle busy; do
        (
            busy=
            if [[ $condition == busy ]]; then
                [[ $isolate == 1 ]] && echo $BASHPID >"$cgroup/cgroup.procs"
                taskset -c "$last" yes >/dev/null &
                busy=$!
                sleep 0.2
            fi
            for model in "${models[@]}"; do
                for threads in default 1; do
                    for build in "${order[@]}"; do
                        if [[ $build == old ]]; then bin=$old; else bin=$new; fi
                        run "$condition" "$model" "$threads" "$build" "$bin"
                    done
                done
            done
            [[ -n $busy ]] && kill "$busy"
            true
        )
    done
    echo "round $((r + 1))/$rounds done" >&2
done

python3 - "$out" "${models[@]}" <<'PY'
import statistics, sys
cells = {}
for line in open(sys.argv[1]):
    cond, model, threads, build, us = line.split()
    cells.setdefault((cond, model, threads, build), []).append(float(us))
def cell(key):
    v = cells.get(key)
    if not v:
        return "n/a"
    return f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
print(f"{'model':<8}{'condition':<10}{'threads':<9}{'old us/step':>26}{'new us/step':>26}{'new/old':>9}")
for model in sys.argv[2:]:
    for cond in ("idle", "busy"):
        for threads in ("default", "1"):
            o, n = cells.get((cond, model, threads, "old")), cells.get((cond, model, threads, "new"))
            ratio = f"{statistics.median(n) / statistics.median(o):.3f}" if o and n else "n/a"
            print(f"{model:<8}{cond:<10}{threads:<9}{cell((cond, model, threads, 'old')):>26}"
                  f"{cell((cond, model, threads, 'new')):>26}{ratio:>9}")
    for build in ("old", "new"):
        d, one = cells.get(("busy", model, "default", build)), cells.get(("busy", model, "1", build))
        if d and one:
            print(f"{model:<8}busy: {build} default / one thread = {statistics.median(d) / statistics.median(one):.3f}")
PY
