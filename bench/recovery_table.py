#!/usr/bin/env python3
"""Per-row summary of a recovery grid's runs (the recovery.csv that `overparam recover --output`
writes), as RESULTS.md's Fig. 3 table: for each student, from which n the median test MSE stays
at or below each threshold for every larger n of the grid, the first n at which any seed's test
MSE is at or below 1e-4 (recovery is possible there), the median test MSE at chosen n, how the
runs stopped, and the summed run time.

    python3 bench/recovery_table.py out/recovery-fig3/recovery.csv [--at 7,12,15,21,30]
"""
import argparse
import csv
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--at", default="7,12,15,21,30")
    ap.add_argument("--thresholds", default="1e-3,1e-4,1e-6")
    a = ap.parse_args()
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
           ["median test MSE at n = " + " / ".join(map(str, at)), "stops", "run time (s)"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---"] * len(head)) + " |")
    for row, cells in runs.items():
        medians = sorted((n, statistics.median(v)) for n, v in cells.items())
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
