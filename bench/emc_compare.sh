#!/usr/bin/env bash
# EMC end to end, side by side (issue #3, item 6): MLP 64-32-10 on the digits with random labels,
# 3 seeds, the `overparam emc` defaults (or another batch size), measured by Overparam on one core (--workers 1, pinned),
# on two (--workers 2) and by the PyTorch script of the same procedure (bench/peers/torch_emc.py,
# one thread, pinned). Prints JSON lines (also kept in bench/results/emc-<time>.jsonl) and ratios.
# --torch-reps N runs PyTorch after each of the first N rounds, so both sides meet the same spells
# of a shared machine; the ratio is then of the two medians.
#   bench/peers/setup.sh      # once
#   bench/emc_compare.sh [--reps 3] [--torch-reps 1] [--batch 640]     (--batch 64: the small-batch EMC regime)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3 torch_reps=1 batch=640
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --torch-reps) torch_reps="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
swift build -c release >/dev/null
PY="${PEERS_VENV:-/opt/peers-venv}/bin/python"
out="bench/results/emc-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
# --max-steps 5000: one fixed budget per attempt, as the peer runs it (no escalation of undecided attempts).
args=(emc --arch mlp:64-32-10:relu --data digits --condition random-labels --seeds 3 --max-steps 5000 --batch-size "$batch" --no-store --json)
{
    for i in $(seq "$reps"); do
        # Alternating, so a slow spell of a shared machine hits both settings.
        taskset -c 0 .build/release/overparam "${args[@]}" --workers 1 | sed "s/^{/{\"framework\":\"overparam\",\"workers\":1,\"batch\":$batch,/"
        .build/release/overparam "${args[@]}" --workers 2 | sed "s/^{/{\"framework\":\"overparam\",\"workers\":2,\"batch\":$batch,/"
        if [ "$i" -le "$torch_reps" ]; then
            taskset -c 0 "$PY" bench/peers/torch_emc.py --json --batch "$batch" | sed "s/^{/{\"batch\":$batch,/"
        fi
    done
} | tee "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
one = statistics.median(r["seconds"] for r in rows if r.get("workers") == 1)
two = statistics.median(r["seconds"] for r in rows if r.get("workers") == 2)
torch = statistics.median(r["seconds"] for r in rows if r["framework"] == "pytorch")
print(f"median seconds: overparam 1 core {one:.2f}, 2 cores {two:.2f} (x{one / two:.2f}); pytorch 1 core {torch:.1f}")
print(f"pytorch / overparam: x{torch / one:.1f} on one core each, x{torch / two:.1f} against two cores")
PY
