#!/usr/bin/env python3
"""The diagonal adaptive kernel on samples (the paper's Fig. 5) in NumPy: the same computation as
`overparam adapt kernel --cutoff 15 --reps 16`, for a wall-time comparison.

Run:  /opt/peers-venv/bin/python bench/peers/numpy_kernel.py [--reps 16] [--cutoff 15] [--workers 2]
(compare with `overparam adapt kernel --cutoff 15 --reps 16 --json`; do not run both at once.)

Mirrored from Sources/Adaptivity (Torus.swift, AdaptiveKernel.swift, KernelRates.swift):
- real Fourier basis on [−1, 1)^2, |m_k| ≤ cutoff: 1, √2 cos(π⟨m, x⟩), √2 sin(π⟨m, x⟩) over a
  half-space of m; λ_m = (1 + ‖m‖²)^(−r), r = 1;
- f*(x) = sin(7.5πx₁); its coefficients in closed form, errors ‖f − f*‖² exact;
- n = 160, 190, …, 400; y = f*(x) + 0.5ξ, x uniform (another generator than Swift's, so results
  agree within Monte Carlo noise, not bit for bit);
- f = Σ a_j b_j^D β_j e_j, a(0) = λ^(1/2), b(0) = (σ/√n)^(1/(D+2)), β(0) = 0; gradient descent on
  ½·mean (f − y)²; the fixed kernel trains β alone; methods fixed, D = 0, 1, 2;
- step 0.5 · 2/(1.05 λ_max), λ_max of (1/n) A EᵀE A by 60 power iterations; a method whose loss
  rises is run again at half the step; errors on t = 10^(k/8), k = 0…26 (t = step × steps);
  oracle = min over the grid of the mean over repetitions.
Parallelism: multiprocessing over (n, repetition) units, `--workers` processes, one BLAS thread.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import multiprocessing as mp
import time

import numpy as np

SIZES = list(range(160, 401, 30))
TIMES = [10 ** (k / 8) for k in range(27)]  # 1 … 2,000 (the last grid point ≤ 2,000 is 10^(26/8) ≈ 1778)
TIMES = [t for t in TIMES if t <= 2000 * (1 + 1e-12)]


def basis(K):
    freqs, sine = [], []
    for m1 in range(-K, K + 1):
        for m2 in range(-K, K + 1):
            first = m1 if m1 != 0 else m2
            if first > 0:
                freqs += [(m1, m2), (m1, m2)]
                sine += [False, True]
            elif m1 == 0 and m2 == 0:
                freqs.append((0, 0))
                sine.append(False)
    return np.array(freqs, dtype=float), np.array(sine)


def features(x, freqs, sine):
    phase = np.pi * x @ freqs.T  # n × J
    e = np.where(sine, np.sqrt(2) * np.sin(phase), np.sqrt(2) * np.cos(phase))
    e[:, (freqs[:, 0] == 0) & (freqs[:, 1] == 0)] = 1
    return e


def sine_coefficients(freqs, sine, omega=7.5):
    a = omega * np.pi
    c = np.zeros(len(freqs))
    for j, (m, s) in enumerate(zip(freqs, sine)):
        if s and m[0] > 0 and m[1] == 0:
            b = m[0] * np.pi
            c[j] = np.sqrt(2) / 2 * (np.sin(a - b) / (a - b) - np.sin(a + b) / (a + b))
    return c, 0.5 - np.sin(2 * a) / (4 * a)


def step_bound(e, lam):
    n = e.shape[0]
    s = np.sqrt(lam)
    v = 1 / np.sqrt(len(lam)) + 1e-3 * (np.arange(len(lam)) % 7)
    lmax = 0.0
    for _ in range(60):
        u = s * (e.T @ (e @ (s * v))) / n
        lmax = u @ v
        v = u / np.linalg.norm(u)
    return 2 / (1.05 * lmax)


def curve(method, e, y, lam, c, norm2, b0, step):
    depth = 0 if method == "fixed" else int(method[1:])
    n = len(y)
    a, b, beta = np.sqrt(lam), np.full(len(lam), b0), np.zeros(len(lam))
    out, steps, previous, first = [], 0, np.inf, None
    for t in TIMES:
        until = int(np.floor(t / step))
        while steps < until:
            bd = b ** depth
            r = y - e @ (a * bd * beta)
            loss = r @ r / (2 * n)
            first = loss if first is None else first
            if not np.isfinite(loss) or loss > previous + 1e-9 * previous + 1e-13 * first:
                raise FloatingPointError
            previous = loss
            g = e.T @ r / n
            bd1 = b ** (depth - 1) if depth > 0 else np.zeros_like(b)
            dbeta, da, db = -a * bd * g, -bd * beta * g, -depth * a * bd1 * beta * g
            beta = beta - step * dbeta
            if method != "fixed":
                a = a - step * da
                if depth > 0:
                    b = b - step * db
            steps += 1
        w = a * b ** depth * beta
        out.append(max(0.0, norm2 - 2 * w @ c + w @ w))
    return out


def unit(args):
    n, rep, K, reps_seed = args
    freqs, sine = basis(K)
    lam = (1 + (freqs ** 2).sum(1)) ** -1.0
    c, norm2 = sine_coefficients(freqs, sine)
    g = np.random.default_rng([reps_seed, n, rep])
    x = g.uniform(-1, 1, size=(n, 2))
    y = np.sin(7.5 * np.pi * x[:, 0]) + 0.5 * g.standard_normal(n)
    e = features(x, freqs, sine)
    bound = step_bound(e, lam)
    curves = []
    for method in ["fixed", "D0", "D1", "D2"]:
        depth = 0 if method == "fixed" else int(method[1:])
        b0 = (0.5 / np.sqrt(n)) ** (1 / (depth + 2))
        step = 0.5 * bound
        for _ in range(9):
            try:
                curves.append(curve(method, e, y, lam, c, norm2, b0, step))
                break
            except FloatingPointError:
                step /= 2
    return n, curves


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=16)
    p.add_argument("--cutoff", type=int, default=15)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    start = time.time()
    units = [(n, rep, args.cutoff, 0) for n in SIZES for rep in range(args.reps)]
    with mp.Pool(args.workers) as pool:
        results = pool.map(unit, units, chunksize=1)
    methods = ["fixed", "D0", "D1", "D2"]
    out = {"seconds": time.time() - start, "methods": {}}
    for k, m in enumerate(methods):
        means = []
        for n in SIZES:
            cs = np.array([r[1][k] for r in results if r[0] == n])
            means.append(float(cs.mean(0).min()))
        slope = float(np.polyfit(np.log(SIZES), np.log(means), 1)[0])
        out["methods"][m] = {"mean_errors": means, "slope_total": slope}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
