#!/usr/bin/env python3
"""Markdown tables from bench/adapt_reproduce.sh's JSON (bench/results/adapt/*.json)."""
import glob, json, os, sys

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

def table1():
    rows = []
    for f in sorted(glob.glob(os.path.join(d, "table1-*.json"))):
        r = json.load(open(f))
        p, q, g = os.path.basename(f)[len("table1-"):-len(".json")].split("-")
        rows.append((float(p[1:]), float(q[1:]), float(g[1:]), r))
    if not rows: return
    print("\n| p | q | γ | vanilla slope (theory) | D = 0 | D = 1 | D = 2 | OpGD theory D = 0/1/2 | error at n = 4000: vanilla / D0 / D1 / D2 |")
    print("| ---: | ---: | ---: | --- | --- | --- | --- | --- | --- |")
    for p, q, g, r in sorted(rows, key=lambda x: x[:3]):
        ms = r["methods"]
        van = ms[0]
        cells = [f"{m['slope']:.2f}" for m in ms[1:]]
        theory = "/".join(f"{m['theory_slope']:.2f}" for m in ms[1:])
        errs = " / ".join(f"{m['errors'][-1]:.3g}" for m in ms)
        edge = " (edge)" if any(any(m["oracle_at_grid_edge"]) for m in ms) else ""
        print(f"| {p:g} | {q:g} | {g:g} | {van['slope']:.2f} ({van['theory_slope']:.2f}) | " + " | ".join(cells) + f" | {theory} | {errs}{edge} |")

for name in sys.argv[2:] or ["A", "A3", "B", "C"]:
    if os.path.exists(os.path.join(d, name + ".json")): rates(name)
table1()
