"""Two builds of Overparam against each other in alternating windows (ABBA), one shape at a time.

On this machine a build measured a minute after another reads a different machine (its speed
swings by up to 2× for seconds to minutes), so each build runs as one long-lived `overparam bench
--serve` process, both pinned to core 0, and they time windows in turn (bench/paired.py's
protocol); each window pair's ratio compares runs seconds apart, and the median of the pairs
counts. For a change inside one binary, `overparam bench --ab-*` does the same in one process.

    python3 bench/ab_builds.py NEW/.build/release/overparam OLD/.build/release/overparam --shapes e --rounds 16
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired import options, parse, start, stop, window  # noqa: E402


def main():
    ap = options(__doc__, rounds=16)
    ap.add_argument("a", help="the first build's overparam binary")
    ap.add_argument("b", help="the second build's overparam binary")
    args, shapes = parse(ap)
    print(f"shape     A steps/s  B steps/s  A/B   (medians of {args.rounds} window pairs of {args.seconds} s; range of the pairs)")
    for shape in shapes:
        procs = []
        try:
            for binary in (args.a, args.b):
                cmd = ["taskset", "-c", "0", binary, "bench", "--serve", "--shapes", shape, "--seconds", str(args.seconds)]
                procs.append(start(binary, cmd))
            sps = lambda i: window((args.a, args.b)[i], procs[i])["steps_per_second"]
            sps(0), sps(1)  # unrecorded: each one's first window after the other's set-up
            ra, rb = [], []
            for r in range(args.rounds):
                if r % 2 == 0:
                    ra.append(sps(0)); rb.append(sps(1))
                else:
                    rb.append(sps(1)); ra.append(sps(0))
            ratios = [x / y for x, y in zip(ra, rb)]
            print(f"{shape:9} {statistics.median(ra):9.1f}  {statistics.median(rb):9.1f}  {statistics.median(ratios):.3f} "
                  f"({min(ratios):.2f}–{max(ratios):.2f})", flush=True)
        finally:
            stop(procs)


if __name__ == "__main__":
    main()
