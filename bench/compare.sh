#!/usr/bin/env bash
# One side-by-side run on one machine: Overparam, PyTorch (eager) and JAX (jit), each pinned to
# the same core, then a Markdown table of steps/s with ratios (the table in BENCHMARKS.md).
# bench/paired.py keeps one warmed process per framework and shape and alternates their timing
# windows round by round, so that each of Overparam's ratios compares windows seconds apart on
# a machine whose speed swings by up to 2× within minutes; the table gives medians over the
# rounds and each ratio's range. Last, `overparam bench --vs-sgemm` reads each shape's GFLOP/s
# against the sgemm of the same minute (alternating windows within one process).
#   bench/peers/setup.sh      # once: installs the peers into a venv outside the repo
#   bench/compare.sh [--seconds 1] [--rounds 10] [--shapes a,b,c,d,e]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=1
rounds=10
shapes=a,b,c,d,e
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --shapes) shapes="$2"; shift 2 ;;
    *) echo "usage: bench/compare.sh [--seconds S] [--rounds R] [--shapes a,b,...]" >&2; exit 2 ;;
    esac
done
swift build -c release >/dev/null
PY="${PEERS_VENV:-/opt/peers-venv}/bin/python"
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
{
    python3 bench/paired.py --python "$PY" --shapes "$shapes" --seconds "$seconds" --rounds "$rounds"
    # The sgemm ratio against the same minute: the shapes' steps alternating with the sgemm.
    taskset -c 0 .build/release/overparam bench --json --vs-sgemm --shapes "$shapes" --seconds 0.5 --rounds 10
} | tee "$out" >&2
python3 bench/table.py "$out"
