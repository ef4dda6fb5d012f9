#!/usr/bin/env python3
"""Tables 1–2 under the other reading of "the error at the oracle stopping time": each
repetition stopped at its own best time, then averaged (the sweep's tables stop every repetition
at the one time minimizing the mean). Reads the per-repetition error curves the sweep stored.
Usage: bench/adapt_tables_oracle.py STORE.sqlite"""
import json, math, sqlite3, struct, sys

store = sys.argv[1] if len(sys.argv) > 1 else "overparam-results.sqlite"
db = sqlite3.connect(store)

def curves(blob):
    w = struct.unpack(f"<{len(blob) // 8}Q", blob)
    count, lengths, at, out = w[0], w[1:1 + w[0]], 1 + w[0], []
    for l in lengths:
        out.append(struct.unpack(f"<{l}d", struct.pack(f"<{l}Q", *w[at:at + l])))
        at += l
    return out

def slope(ns, es):
    x = [math.log(n) for n in ns]; y = [math.log(e) for e in es]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)

grid = [1e-2 * 10 ** (k / 24) for k in range(289)]
def theory_index(depth, n):
    eps = 1 / math.sqrt(n)
    t = 1 / eps if depth == 0 else eps ** (-(2 * depth + 2) / (depth + 2))
    i = next((k for k, g in enumerate(grid) if g >= t), len(grid))
    return None if i < len(grid) and grid[i] == t else i

print("| problem | method | rate, oracle of the mean | rate, each repetition at its own oracle |")
print("| --- | --- | ---: | ---: |")
for key, config in db.execute("SELECT key, config FROM experiments WHERE instrument = 'adaptivity'"):
    c = json.loads(config)
    if c.get("grid") != "0.01…10000000000.0 (289)" or c.get("N") != "10000": continue
    rows = db.execute("SELECT n, repetition, curves FROM rate_units WHERE experiment = ?", (key,)).fetchall()
    sizes = sorted({n for n, _, _ in rows})
    if len(sizes) != 11 or len(rows) != 11 * 256: continue
    methods = c["estimators"].split(",")
    for m, name in enumerate(methods):
        depth = None if name == "vanilla" else int(name[-1])
        mean_of, own = [], []
        for n in sizes:
            cs = [curves(b)[m] for nn, _, b in rows if nn == n]
            drop = None if depth is None else theory_index(depth, n)
            cs = [[v for k, v in enumerate(cv) if k != drop] for cv in cs]
            mean = [sum(cv[k] for cv in cs) / len(cs) for k in range(len(cs[0]))]
            mean_of.append(min(mean))
            own.append(sum(min(cv) for cv in cs) / len(cs))
        print(f"| {c['problem']} | {name} | {-slope(sizes, mean_of):.3f} | {-slope(sizes, own):.3f} |")
