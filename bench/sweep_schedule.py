#!/usr/bin/env python3
"""What a sweep's wall time would be on W cores, one configuration at a time or with the
configurations sharing one pool, replayed from the attempt times its store holds; with several
sweep files, also each file on its own pool one after another against all of them on one pool
(`overparam sweep run A.yaml B.yaml`, as `overparam reproduce` runs its sweeps).

Each seed's search is a chain of attempts (each the sum of its runs under every budget it
needed); a free core takes the next attempt of the earliest configuration with an idle search,
the search with the fewest attempts first (what `measureEMCs` does). One configuration at a
time, cores wait at each configuration's last search; pooled, they go on to the next one.
The attempt times are those measured in the sweep (with both cores busy), so the result is a
prediction of the schedule's effect, not a measurement of it.

    overparam export --store STORE --json > attempts.json
    python3 bench/sweep_schedule.py attempts.json SWEEP.yaml [--overparam BIN] [--workers 2]
    python3 bench/sweep_schedule.py A.json A.yaml B.json B.yaml ...   # each file with its own export
"""
import argparse, collections, heapq, json, subprocess

ap = argparse.ArgumentParser()
ap.add_argument("pairs", nargs="+", help="attempts.json SWEEP.yaml, for each sweep file")
ap.add_argument("--overparam", default=".build/release/overparam"); ap.add_argument("--workers", type=int, default=2)
a = ap.parse_args()
if len(a.pairs) % 2: ap.error("give an export and a sweep file for each sweep")

jobs, files = [], []   # each configuration's seeds' chains of attempt times, and its file's index
for f in range(len(a.pairs) // 2):
    attempts, sweep = a.pairs[2 * f], a.pairs[2 * f + 1]
    # The sweep's configurations in order, as `sweep run --dry-run` lists them ("k: axis=value …").
    listed = subprocess.run([a.overparam, "sweep", "run", sweep, "--dry-run"], capture_output=True, text=True, check=True).stdout
    configs = [dict(kv.split("=", 1) for kv in line.split(": ", 1)[1].split()) for line in listed.splitlines() if ": " in line]
    seconds = collections.defaultdict(float)   # (configuration, seed, n) → seconds over its budgets
    for r in json.load(open(attempts)):
        for k, c in enumerate(configs):
            if all(r["config"].get(axis) == value for axis, value in c.items()):
                seconds[(k, r["seed"], r["n"])] += r["seconds"]
    for k in range(len(configs)):
        seeds = sorted({s for (j, s, _) in seconds if j == k})
        # Within a search the growth sizes (powers of two from the start) come first; the order of
        # the bisection's steps barely matters to the schedule.
        chains = []
        for s in seeds:
            ns = sorted(n for (j, t, n) in seconds if j == k and t == s)
            grow = [n for n in ns if n & (n - 1) == 0]
            chains.append([seconds[(k, s, n)] for n in grow + [n for n in ns if n not in grow]])
        if chains: jobs.append(chains); files.append(f)

def wall(scope):
    """scope: "configuration" (one at a time), "file" (each file's configurations on one pool,
    the files one after another) or "all" (every file's on one pool)."""
    done = [[0] * len(c) for c in jobs]; busy = [[False] * len(c) for c in jobs]
    t, free, events, current = 0.0, a.workers, [], 0   # current: the configuration, or the file
    last = len(jobs) - 1 if scope == "configuration" else files[-1]
    def unit(j): return j if scope == "configuration" else files[j]   # what runs one at a time
    def allowed(j): return scope == "all" or unit(j) == current
    def over(j): return all(d == len(c) for d, c in zip(done[j], jobs[j]))
    def pick():
        for j in range(len(jobs)):
            if not allowed(j): continue
            ready = [s for s in range(len(jobs[j])) if not busy[j][s] and done[j][s] < len(jobs[j][s])]
            if ready: return j, min(ready, key=lambda s: done[j][s])
    while True:
        while free and (p := pick()):
            j, s = p; busy[j][s] = True; free -= 1
            heapq.heappush(events, (t + jobs[j][s][done[j][s]], j, s))
        if not events:
            if scope != "all" and current < last: current += 1; continue
            return t
        t, j, s = heapq.heappop(events)
        busy[j][s] = False; done[j][s] += 1; free += 1
        if scope != "all":
            mine = [i for i in range(len(jobs)) if unit(i) == current]
            if all(over(i) for i in mine) and current < last: current += 1

total = sum(sum(map(sum, c)) for c in jobs)
one, pooled = wall("configuration"), wall("file")
print(f"{len(jobs)} configurations, {total / 60:.1f} core-minutes of attempts; on {a.workers} cores: "
      f"one configuration at a time {one / 60:.1f} min, pooled {pooled / 60:.1f} min ({one / pooled:.2f}×); "
      f"no schedule beats {total / a.workers / 60:.1f} min")
if files[-1] > 0:
    together = wall("all")
    print(f"{files[-1] + 1} files: each on its own pool, one after another {pooled / 60:.1f} min; "
          f"all on one pool {together / 60:.1f} min ({pooled / together:.2f}×)")
