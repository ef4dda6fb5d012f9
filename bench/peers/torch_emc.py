#!/usr/bin/env python3
"""EMC of MLP 64-32-10 (ReLU) on the 8x8 digits with random labels, in PyTorch (eager, one thread),
by the same procedure as `overparam emc` with its defaults. See bench/peers/README.md ("EMC peer").

Procedure, mirrored from Sources/Capacity and Sources/NeuralNets/Trainer.swift:
- data: the 1,797 digits from the package's own resource, pixels / 16; labels replaced by uniform
  random classes (a different random draw than Overparam's: EMCs agree within seed noise, not exactly);
- per seed: one permutation of the samples; the subset of size n is its first n (nested);
- a fit attempt: fresh PyTorch-default initialization from the seed, SGD lr 0.01 momentum 0.9
  (v = 0.9 v + g; p -= lr v), cosine schedule to 0 over the 5,000-step budget, batch 640 (full
  batch when n <= 640), reshuffled every epoch; train accuracy on all n is checked once per epoch
  (every step in full batch) and 100% stops the attempt;
- verdict: fit; else no-fit if the loss fell < 1% over the last quarter of the records and the
  full-batch gradient norm is <= 0.01; else undecided (which bounds the search like a failure);
- search: n = 64, doubled while attempts fit (capped at all 1,797), then bisection between the
  largest fit and the smallest failure until the gap is <= 2% of the fit.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "Sources", "Datasets", "Resources", "digits.csv.gz")


def load_digits(label_seed):
    with gzip.open(DIGITS, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = torch.from_numpy(rows[:, :64] / 16)
    rng = np.random.default_rng(label_seed)
    y = torch.from_numpy(rng.integers(0, 10, size=len(rows)).astype(np.int64))
    return x, y


def attempt(x, y, seed, a):
    n = len(x)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)

    def set_lr(t):
        for g in opt.param_groups:
            g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * t / a.steps)) if t < a.steps else 0.0

    history, acc, loss_value, steps = [], 0.0, float("inf"), 0
    batch = min(a.batch, n)
    if batch == n:
        # Full batch: the forward pass of each step is also the evaluation of its parameters.
        for step in range(a.steps + 1):
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss_value = loss.item()
            acc = (out.argmax(1) == y).float().mean().item()
            history.append((step, loss_value))
            steps = step
            if acc >= a.threshold or step == a.steps:
                break
            opt.zero_grad(set_to_none=False)
            loss.backward()
            set_lr(step)
            opt.step()
    else:
        per_epoch = (n + batch - 1) // batch
        g = torch.Generator().manual_seed(seed)

        def evaluate(step):
            with torch.no_grad():
                out = model(x)
                l, c = F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()
            history.append((step, l))
            return l, c

        loss_value, acc = evaluate(0)
        step = 0
        while acc < a.threshold and step < a.steps:
            pos = step % per_epoch
            if pos == 0:
                order = torch.randperm(n, generator=g)
            idx = order[pos * batch:(pos + 1) * batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=False)
            loss.backward()
            set_lr(step)
            opt.step()
            step += 1
            if step % per_epoch == 0 or step == a.steps:
                loss_value, acc = evaluate(step)
        steps = step

    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    grad_norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    if acc >= a.threshold:
        verdict = "fit"
    elif plateaued(history) and grad_norm <= 0.01:
        verdict = "no-fit"
    else:
        verdict = "undecided"
    return {"n": n, "verdict": verdict, "loss": loss_value, "accuracy": acc, "grad_norm": grad_norm, "steps": steps}


def plateaued(history, tolerance=0.01):
    if len(history) < 4 or history[-1][0] <= 0:
        return False
    last_step, last_loss = history[-1]
    cut = last_step - max(1, last_step // 4)
    earlier = [l for s, l in history if s <= cut]
    return bool(earlier) and earlier[-1] - last_loss <= tolerance * max(abs(earlier[-1]), 1e-12)


def search(x, y, seed, a):
    perm = torch.from_numpy(np.random.default_rng(10_000 + seed).permutation(len(x)))
    lo, hi, attempts = 0, None, []

    def run(n):
        nonlocal lo, hi
        idx = perm[:n]
        r = attempt(x[idx], y[idx], seed, a)
        attempts.append(r)
        if r["verdict"] == "fit":
            lo = max(lo, n)
        else:
            hi = n if hi is None else min(hi, n)
        return r["verdict"] == "fit"

    maximum = len(x)
    n = min(a.start, maximum)
    while hi is None:
        if run(n):
            if n == maximum:
                break
            n = min(maximum, max(n + 1, round(n * 2)))
        elif n > 1 and lo == 0:
            m = n
            while m > 1:
                m = max(1, m // 2)
                if run(m):
                    break
    while hi is not None and hi - lo > 1 and hi - lo > a.precision * max(lo, 1):
        run((lo + hi) // 2)
    return lo, attempts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch", type=int, default=640)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--threshold", type=float, default=1.0)
    p.add_argument("--start", type=int, default=64)
    p.add_argument("--precision", type=float, default=0.02)
    p.add_argument("--label-seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    x, y = load_digits(a.label_seed)
    started = time.perf_counter()
    emcs, undecided, count = [], 0, 0
    for seed in range(a.seeds):
        emc, attempts = search(x, y, seed, a)
        emcs.append(emc)
        undecided += sum(r["verdict"] == "undecided" for r in attempts)
        count += len(attempts)
        if not a.json:
            print(f"seed {seed}: EMC {emc}; " + ", ".join(f"{r['n']}:{r['verdict']}" for r in attempts), flush=True)
    seconds = time.perf_counter() - started
    mean = sum(emcs) / len(emcs)
    std = math.sqrt(sum((e - mean) ** 2 for e in emcs) / (len(emcs) - 1)) if len(emcs) > 1 else 0.0
    out = {"framework": "pytorch", "arch": "mlp:64-32-10:relu", "condition": "random-labels", "emc_mean": mean,
           "emc_std": std, "emc_per_seed": emcs, "undecided": undecided, "attempts": count, "seconds": seconds}
    print(json.dumps(out) if a.json else f"EMC {mean:.1f} ± {std:.1f} ({emcs}); {undecided} undecided of {count}; {seconds:.1f} s")


if __name__ == "__main__":
    main()
