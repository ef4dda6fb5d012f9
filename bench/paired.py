"""Overparam, PyTorch and JAX side by side in alternating windows, for one shape at a time.

This machine's speed swings by up to 2× in spells of seconds to minutes (the same kernel in one
process: 6.9–12.9 µs per call across 0.5-second windows), so frameworks run one after another
read different machines. Here each framework is one long-lived process per shape (`overparam
bench --serve`, `torch_bench.py --serve`, `jax_bench.py --serve`, all pinned to core 0), set up
and warmed once; then, round after round, each times one window of --seconds in turn, the order
rotating by round so that none always follows another. Overparam's ratio to a peer in a round
compares windows a few seconds apart. Prints JSON lines: `{"round": r}`, then the round's three
windows (`bench/table.py` reads them: medians, and the median of the rounds' ratios).

    python3 bench/paired.py --python /opt/peers-venv/bin/python --shapes a,e --seconds 1 --rounds 10
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers")


def commands(python, shape, seconds):
    pin = ["taskset", "-c", "0"]
    args = ["--serve", "--shapes", shape, "--seconds", str(seconds)]
    return {
        "overparam": (pin + [os.path.join(ROOT, ".build", "release", "overparam"), "bench"] + args, ROOT),
        "pytorch": (pin + [python, "torch_bench.py"] + args, PEERS),
        "jax": (pin + [python, "jax_bench.py"] + args, PEERS),
    }


def read_line(name, proc):
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"error: the {name} server stopped (exit status {proc.wait()})")
    return json.loads(line)


def start(name, cmd, cwd=None):
    """A `--serve` process, once it has set up and printed its ready line."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = read_line(name, proc)
    if "ready" not in ready:
        sys.exit(f"error: the {name} server answered {ready} instead of a ready line")
    return proc


def window(name, proc):
    """One timed window of a `--serve` process: its JSON line."""
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return read_line(name, proc)


def stop(procs):
    for proc in procs:
        try:
            proc.stdin.write("quit\n")
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        proc.wait()


def options(description, rounds):
    """The options both drivers (this and ab_builds.py) take; each adds its own."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="a,b,c,d,e", help="comma list of a-e or names")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds per window")
    ap.add_argument("--rounds", type=int, default=rounds, help="windows per process and shape")
    return ap


def parse(ap):
    args = ap.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        ap.error("--rounds must be at least 1 and --seconds positive")
    return args, [s.strip() for s in args.shapes.split(",") if s.strip()]


def main():
    ap = options(__doc__, rounds=10)
    ap.add_argument("--python", default=sys.executable, help="the peers' interpreter (their virtualenv)")
    args, shapes = parse(ap)
    for shape in shapes:
        servers = {}
        try:
            # One at a time, so that no set-up (JAX's compile) overlaps another's calibration.
            for name, (cmd, cwd) in commands(args.python, shape, args.seconds).items():
                servers[name] = start(name, cmd, cwd)
            names = list(servers)
            # Round −1, not printed: each server's first window after the others' set-up.
            for r in range(-1, args.rounds):
                if r >= 0:
                    print(json.dumps({"round": r}), flush=True)
                for i in range(len(names)):
                    name = names[(r + i) % len(names)]
                    line = window(name, servers[name])
                    if r >= 0:
                        print(json.dumps(line), flush=True)
        finally:
            stop(servers.values())


if __name__ == "__main__":
    main()
