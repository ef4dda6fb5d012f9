#!/usr/bin/env bash
# The adaptivity reproductions of RESULTS.md (issue #5): configurations A (γ = 1.5 and 3), B, C,
# the Table 1 grid at our scale, and the trajectories. Writes JSON under bench/results/adapt/.
# Usage: bench/adapt_reproduce.sh [A|A3|B|C|table1|trajectory]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${OVERPARAM:-.build/release/overparam}
OUT=bench/results/adapt
mkdir -p "$OUT"
STORE="$OUT/store.sqlite"
run() { local name=$1; shift; echo "== $name: overparam adapt $*" >&2; $B adapt "$@" --store "$STORE" --json > "$OUT/$name.json"; }
targets=("${@:-A A3 B C table1 trajectory}")
for t in ${targets[@]}; do
  case $t in
    A)  run A  rates --p 1 --q 2 --gamma 1.5 --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    A3) run A3 rates --p 1 --q 2 --gamma 3   --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    B)  run B  rates --p 3 --q 2 --gamma 1.1 --depths 0,1,2   --n 1000,2000,4000,8000,16000 --reps 32 ;;
    C)  run C  rates --p 1 --q 1 --gamma 1.5 --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps 32 ;;
    table1)
      for p in 0.6 1 3; do for q in 1 1.5 2; do for g in 1.1 2 3; do
        run "table1-p$p-q$q-g$g" rates --p $p --q $q --gamma $g --depths 0,1,2 --n 2000,2800,4000 --reps 32
      done; done; done ;;
    trajectory)
      echo "== trajectory: overparam adapt trajectory --p 1 --q 2 --gamma 2 --n 4000 --depths 0,1,3 --j 100-200 --reps 8" >&2
      $B adapt trajectory --p 1 --q 2 --gamma 2 --n 4000 --depths 0,1,3 --j 100-200 --reps 8 --output "$OUT/trajectory" > "$OUT/trajectory.txt" ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done
