#!/usr/bin/env python3
"""Per-row summary of a recovery grid's runs (the recovery.csv that `overparam recover --output`
writes), as RESULTS.md's Fig. 3 table: for each student, from which n the median test MSE stays
at or below each threshold for every larger n of the grid, the first n at which any seed's test
MSE is at or below 1e-4 (recovery is possible there), the median test MSE at chosen n, how the
runs stopped, and the summed run time.

    python3 bench/recovery_table.py out/recovery-fig3/recovery.csv [--at 7,12,15,21,30] [--aggregate mean]

With --shares 20-29,30-39,…, instead: per row and range of n, the share of runs with test MSE at
or below --recovered (1e-4), with a 95% interval. Runs of one seed are not independent (a seed
that fails at one n tends to fail at the next), so the share is the mean over seeds of each
seed's share in the range and the interval is Student-t over those per-seed shares, clipped to
[0, 1]; a binomial interval over runs would claim far more precision than the seeds hold.
"""
import argparse
import csv
import math
import statistics
from collections import defaultdict


def recovered_from(medians, threshold):
    """Smallest n from which every median (n ascending) is ≤ threshold; None if the last is not."""
    start = None
    for n, m in medians:
        if m <= threshold:
            start = n if start is None else start
        else:
            start = None
    return start


# Two-sided 95% Student-t quantiles by degrees of freedom (1–30); beyond, the normal's 1.96.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def seed_share(per_seed):
    """Mean of the seeds' shares and its 95% Student-t interval clipped to [0, 1] (None with one seed)."""
    k = len(per_seed)
    mean = sum(per_seed) / k
    if k < 2:
        return mean, None
    half = (T975[k - 2] if k - 1 <= len(T975) else 1.96) * statistics.stdev(per_seed) / k ** 0.5
    return mean, (max(0.0, mean - half), min(1.0, mean + half))


def shares(path, ranges, recovered):
    runs = defaultdict(lambda: defaultdict(dict))  # row -> seed -> n -> test MSE
    with open(path) as f:
        for r in csv.DictReader(f):
            runs[r["row"]][int(r["seed"])][int(r["n"])] = float(r["test_mse"]) if r["test_mse"] else float("inf")
    head = ["student"] + [f"n = {lo}–{hi}" for lo, hi in ranges] + [f"first n ≤ {recovered:g}, per seed"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---"] + ["---:"] * len(ranges) + ["---"]) + " |")
    for row, seeds in runs.items():
        cols = [row]
        for lo, hi in ranges:
            per_seed = []
            for cells in seeds.values():
                inside = [v for n, v in cells.items() if lo <= n <= hi]
                if inside:
                    per_seed.append(sum(v <= recovered for v in inside) / len(inside))
            if not per_seed:
                cols.append("–")
                continue
            mean, ci = seed_share(per_seed)
            cols.append(f"{mean:.0%}" + (f" [{ci[0]:.0%}, {ci[1]:.0%}]" if ci else ""))
        firsts = [next((n for n in sorted(c) if c[n] <= recovered), None) for _, c in sorted(seeds.items())]
        cols.append(", ".join("–" if x is None else str(x) for x in firsts))
        print("| " + " | ".join(cols) + " |")


# How the seeds' test MSEs at one n combine: the median (robust to one failing seed), the mean
# (what a heatmap of mean test error shows: one failing seed dominates it) or the geometric mean
# (a mean of log10 test error, as a log-scale heatmap of per-run errors averages them).
AGGREGATES = {
    "median": statistics.median,
    "mean": statistics.fmean,
    "geomean": lambda v: math.exp(statistics.fmean(math.log(max(x, 1e-300)) for x in v)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--at", default="7,12,15,21,30")
    ap.add_argument("--thresholds", default="1e-3,1e-4,1e-6")
    ap.add_argument("--shares", help="ranges of n, e.g. 20-29,30-39: the share of runs recovered in each, with intervals over seeds")
    ap.add_argument("--recovered", type=float, default=1e-4, help="test MSE at or below which a run counts as recovered")
    ap.add_argument("--aggregate", choices=sorted(AGGREGATES), default="median",
                    help="how the seeds' test MSEs at one n combine before the thresholds (the paper's heatmap shows a mean)")
    a = ap.parse_args()
    if a.shares:
        ranges = [tuple(int(x) for x in r.split("-")) for r in a.shares.split(",")]
        return shares(a.csv, ranges, a.recovered)
    at = [int(x) for x in a.at.split(",")]
    thresholds = [float(x) for x in a.thresholds.split(",")]
    runs = defaultdict(lambda: defaultdict(list))
    params, stops, seconds = {}, defaultdict(lambda: defaultdict(int)), defaultdict(float)
    with open(a.csv) as f:
        for r in csv.DictReader(f):
            row = r["row"]
            runs[row][int(r["n"])].append(float(r["test_mse"]))
            params[row] = int(r["parameters"])
            stops[row][r["stop"]] += 1
            seconds[row] += float(r["seconds"])
    head = ["student", "M", "n"] + [f"from n (≤ {t:g})" for t in thresholds] + ["first seed ≤ 1e-4"] + \
           [f"{a.aggregate} test MSE at n = " + " / ".join(map(str, at)), "stops", "run time (s)"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---"] * len(head)) + " |")
    for row, cells in runs.items():
        medians = sorted((n, AGGREGATES[a.aggregate](v)) for n, v in cells.items())
        by_n = dict(medians)
        froms = [recovered_from(medians, t) for t in thresholds]
        cols = [row, f"{params[row]:,}", f"{medians[0][0]}–{medians[-1][0]}"]
        cols += ["–" if x is None else str(x) for x in froms]
        first = next((n for n, v in sorted(cells.items()) if min(v) <= 1e-4), None)
        cols.append("–" if first is None else str(first))
        cols.append(" / ".join(f"{by_n[n]:.0e}" if n in by_n else "–" for n in at))
        cols.append(", ".join(f"{k} {v}" for k, v in sorted(stops[row].items())))
        cols.append(f"{seconds[row]:,.0f}")
        print("| " + " | ".join(cols) + " |")


if __name__ == "__main__":
    main()
