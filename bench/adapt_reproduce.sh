#!/usr/bin/env bash
# The adaptivity reproductions of RESULTS.md (issue #5): configurations A (γ = 1.5 and 3), B, C
# and the trajectories. Writes JSON under bench/results/adapt/. (Tables 1–2: sweeps/adapt-tables.yaml.)
# Usage: bench/adapt_reproduce.sh [A|A3|B|C|trajectory]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${OVERPARAM:-.build/release/overparam}
OUT=bench/results/adapt
mkdir -p "$OUT"
STORE="$OUT/store.sqlite"
run() { local name=$1; shift; echo "== $name: overparam adapt $*" >&2; $B adapt "$@" --store "$STORE" --json > "$OUT/$name.json"; }
targets=("${@:-A A3 B C trajectory}")
for t in ${targets[@]}; do
  case $t in
    A)  run A  rates --p 1 --q 2 --gamma 1.5 --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    A3) run A3 rates --p 1 --q 2 --gamma 3   --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    B)  run B  rates --p 3 --q 2 --gamma 1.1 --depths 0,1,2   --n 1000,2000,4000,8000,16000 --reps 32 ;;
    C)  run C  rates --p 1 --q 1 --gamma 1.5 --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    trajectory)
      echo "== trajectory: overparam adapt trajectory --p 1 --q 2 --gamma 2 --n 4000 --depths 0,1,3 --j 100-200 --reps 8" >&2
      $B adapt trajectory --p 1 --q 2 --gamma 2 --n 4000 --depths 0,1,3 --j 100-200 --reps 8 --output "$OUT/trajectory" > "$OUT/trajectory.txt" ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done
