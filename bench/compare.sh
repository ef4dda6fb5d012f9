#!/usr/bin/env bash
# One side-by-side run on one machine: Overparam, PyTorch (eager) and JAX (jit), each pinned to
# the same core, then a Markdown table of steps/s with ratios (the table in BENCHMARKS.md).
#   bench/peers/setup.sh      # once: installs the peers into a venv outside the repo
#   bench/compare.sh [--seconds 3] [--shapes a,b,c,d,e]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
{
    taskset -c 0 .build/release/overparam bench --json --sgemm "$@"
    bench/peers/run.sh "$@"
} | tee "$out" >&2
python3 bench/table.py "$out"
