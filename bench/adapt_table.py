#!/usr/bin/env python3
"""Markdown tables from bench/adapt_reproduce.sh's JSON (bench/results/adapt/*.json)."""
import json, os, sys

d = sys.argv[1] if len(sys.argv) > 1 else "bench/results/adapt"

def rates(name):
    r = json.load(open(os.path.join(d, name + ".json")))
    print(f"\n{name}: {r['problem']}, n = {r['n']}, {r['reps']} reps, {r['seconds']:.0f} s")
    print("| method | " + " | ".join(f"n = {n}" for n in r["n"]) + " | slope [95% CI] | theory | oracle-time slope (theory) |")
    print("| --- | " + " | ".join("---:" for _ in r["n"]) + " | --- | ---: | --- |")
    for m in r["methods"]:
        ci = m["slope_ci"]
        th = m["theory_slope"]
        print(f"| {m['method']} | " + " | ".join(f"{e:.4g}" for e in m["errors"])
              + f" | {m['slope']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] | {th:.3f} | {m['oracle_time_slope']:.2f} ({m['theory_time_slope']:.2f}) |"
              + (" edge!" if any(m["oracle_at_grid_edge"]) else ""))

for name in sys.argv[2:] or ["A", "A3", "B", "C"]:
    if os.path.exists(os.path.join(d, name + ".json")): rates(name)
