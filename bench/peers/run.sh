#!/usr/bin/env bash
# Runs both peer benchmarks pinned to CPU 0, one JSON object per line per shape.
# Extra arguments (e.g. --shapes a,b --seconds 1) are passed to both scripts.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PEERS_VENV:-/opt/peers-venv}/bin/python"
taskset -c 0 "$PY" torch_bench.py --json "$@"
taskset -c 0 "$PY" jax_bench.py --json "$@"
