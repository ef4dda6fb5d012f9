"""Two builds of Overparam against each other in alternating windows (ABBA), one shape at a time.

On this machine a build measured a minute after another reads a different machine (its speed
swings by up to 2× for seconds to minutes), so each build runs as one long-lived `overparam bench
--serve` process, both pinned to core 0, and they time windows in turn; each window pair's ratio
compares runs seconds apart, and the median of the pairs counts. For a change inside one binary,
`overparam bench --ab-*` does the same in one process.

    python3 bench/ab_builds.py NEW/.build/release/overparam OLD/.build/release/overparam --shapes e --rounds 16
"""
import argparse
import json
import statistics
import subprocess
import sys


def start(binary, shape, seconds):
    proc = subprocess.Popen(["taskset", "-c", "0", binary, "bench", "--serve", "--shapes", shape, "--seconds", str(seconds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line or "ready" not in json.loads(line):
        sys.exit(f"error: {binary} did not start serving {shape} (a build with `bench --serve`?)")
    return proc


def window(proc):
    proc.stdin.write("go\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"error: a server stopped (exit status {proc.wait()})")
    return json.loads(line)["steps_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="the first build's overparam binary")
    ap.add_argument("b", help="the second build's overparam binary")
    ap.add_argument("--shapes", default="a,b,c,d,e", help="comma list of a-e or names")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds per window")
    ap.add_argument("--rounds", type=int, default=16, help="windows per build and shape")
    args = ap.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        ap.error("--rounds must be at least 1 and --seconds positive")
    print(f"shape     A steps/s  B steps/s  A/B   (medians of {args.rounds} window pairs of {args.seconds} s; range of the pairs)")
    for shape in [s.strip() for s in args.shapes.split(",") if s.strip()]:
        procs = [start(args.a, shape, args.seconds), start(args.b, shape, args.seconds)]
        try:
            window(procs[0]), window(procs[1])  # unrecorded: each one's first window after the other's set-up
            ra, rb = [], []
            for r in range(args.rounds):
                if r % 2 == 0:
                    ra.append(window(procs[0])); rb.append(window(procs[1]))
                else:
                    rb.append(window(procs[1])); ra.append(window(procs[0]))
            ratios = [x / y for x, y in zip(ra, rb)]
            print(f"{shape:9} {statistics.median(ra):9.1f}  {statistics.median(rb):9.1f}  {statistics.median(ratios):.3f} "
                  f"({min(ratios):.2f}–{max(ratios):.2f})", flush=True)
        finally:
            for p in procs:
                p.stdin.close()
                p.wait()


if __name__ == "__main__":
    main()
