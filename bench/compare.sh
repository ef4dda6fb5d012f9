#!/usr/bin/env bash
# One side-by-side run on one machine: Overparam, PyTorch (eager) and JAX (jit), each pinned to
# the same core, then a Markdown table of steps/s with ratios (the table in BENCHMARKS.md).
# Frameworks alternate shape by shape, so a slow spell of a shared machine hits all three
# rather than whichever happened to run then. Last, `overparam bench --vs-sgemm` reads each
# shape's GFLOP/s against the sgemm of the same minute (alternating windows).
#   bench/peers/setup.sh      # once: installs the peers into a venv outside the repo
#   bench/compare.sh [--seconds 3] [--shapes a,b,c,d,e]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=3
shapes=a,b,c,d,e
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --shapes) shapes="$2"; shift 2 ;;
    *) echo "usage: bench/compare.sh [--seconds S] [--shapes a,b,...]" >&2; exit 2 ;;
    esac
done
swift build -c release >/dev/null
PY="${PEERS_VENV:-/opt/peers-venv}/bin/python"
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
{
    for s in ${shapes//,/ }; do
        # --sgemm measures the sgemm ceiling right before this shape, against the same drift.
        taskset -c 0 .build/release/overparam bench --json --sgemm --shapes "$s" --seconds "$seconds"
        (cd bench/peers && taskset -c 0 "$PY" torch_bench.py --json --shapes "$s" --seconds "$seconds")
        (cd bench/peers && taskset -c 0 "$PY" jax_bench.py --json --shapes "$s" --seconds "$seconds")
    done
    # The sgemm ratio against the same minute: the shapes' steps alternating with the sgemm.
    taskset -c 0 .build/release/overparam bench --json --vs-sgemm --shapes "$shapes" --seconds 0.5 --rounds 10
} | tee "$out" >&2
python3 bench/table.py "$out"
