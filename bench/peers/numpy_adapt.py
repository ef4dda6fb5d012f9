#!/usr/bin/env python3
"""Oracle-time rates in the Gaussian sequence model, in NumPy: the same computation as
`overparam adapt rates` with its defaults (configuration A), for a wall-time comparison.

Measures: the wall time of the whole Monte Carlo (vanilla gradient flow and OpGD of each depth,
every n, every repetition) and the CPU time spent in each estimator; prints one JSON object with,
per method, the mean error at the oracle time for each n, the oracle times, the least-squares
slope of log(error) on log(n), and `seconds` (total wall time).

Run:  /opt/peers-venv/bin/python bench/peers/numpy_adapt.py [--reps 32] [--N 10000]
      [--depths 0,1,2,3] [--workers 2] [--rtol 1e-7]
(compare with `overparam adapt rates --json`; do not run both at once.)

Problem, mirrored from Sources/Adaptivity (Sequence.swift, Rates.swift, Flows.swift):
- λ_j = j^(−γ), γ = 1.5; θ*_{⌈k^q⌉} = k^(−(p+1)/2) (p = 1, q = 2), other θ*_j = 0; j = 1…N;
- z = θ* + ε ξ, ε = 1/√n, n ∈ {1000, …, 16000}; ξ is one standard normal vector per repetition,
  shared by every n and estimator (common random numbers, as in Swift; a different generator, so
  the results agree within Monte Carlo noise, not bit for bit);
- time grid t_k = 1e-2·10^(k/24), k = 0…288; error(t) = Σ_j (θ̂_j(t) − θ*_j)²; oracle = min over the
  grid of the mean error over repetitions.
Estimators:
- vanilla θ̂ = (1 − e^(−λt)) z: error(t) = G²·z² − 2G·(zθ*) + |θ*|² with G[k, j] = −expm1(−λ_j t_k),
  two matrix products for all repetitions at once;
- OpGD D = 0: the closed form (see Flows.swift), elementwise over (time, coordinate);
- OpGD D ≥ 1: the flow of the one conserved-quantity state β, β' = φ(β)(z − φ(β)β) with
  φ = √(λ + β²)(b0² + Dβ²)^(D/2), b0 = ε^(1/(D+2)), integrated for |z| (it is odd in z) in
  s = ln t: classical RK4 in t on [0, 1e-2] (8 steps), then Dormand–Prince 5(4) with a step size
  per coordinate, vectorized over all coordinates of a block of repetitions, landing exactly on
  every grid time; a coordinate is retired once |z − θ| ≤ 1e-9 |z| (θ = z from then on).
Parallelism: multiprocessing over (n, block of repetitions) units, `--workers` processes with
one BLAS thread each.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import multiprocessing as mp
import time

import numpy as np

# ---------------------------------------------------------------- problem


def make_problem(N, p=1.0, q=2.0, gamma=1.5):
    j = np.arange(1, N + 1, dtype=np.float64)
    lam = j ** (-gamma)
    truth = np.zeros(N)
    k = 1
    while True:
        idx = int(np.ceil(float(k) ** q))
        if idx > N:
            break
        truth[idx - 1] = float(k) ** (-(p + 1) / 2)
        k += 1
    return lam, truth


def time_grid(lo=1e-2, hi=1e10, per_decade=24):
    count = int(round(np.log10(hi / lo) * per_decade)) + 1
    return lo * 10.0 ** (np.arange(count) / per_decade)


def noise(seed, rep, N):
    return np.random.default_rng([seed, rep]).standard_normal(N)


# ---------------------------------------------------------------- estimators


def vanilla_curves(Z, truth, G, G2):
    """Z: (R, N) observations; G, G2: (K, N). Returns (R, K) error curves."""
    return (Z * Z) @ G2.T - 2.0 * (Z * truth) @ G.T + truth @ truth


def opgd0_curves(Z, truth, lam, times, chunk=8):
    """OpGD D = 0 in closed form. Returns (R, K)."""
    R, N = Z.shape
    zz = np.abs(Z)
    c = np.broadcast_to(lam / 2, Z.shape)
    Rr = np.sqrt(zz * zz + c * c)
    # After the settle time θ = z to rounding (E·max(1, 2z²/(c(R+c))) < e^(−40)).
    with np.errstate(divide="ignore"):
        settle = (40 + np.maximum(0, np.log(2 * zz * zz / (c * (Rr + c))))) / (2 * Rr)
    settled_err = (Z - truth) ** 2                       # error of a settled coordinate
    out = np.empty((R, len(times)))
    for k0 in range(0, len(times), chunk):
        ts = times[k0:k0 + chunk]
        live = settle > ts[0]                            # (R, N): still moving at this chunk's start
        rows, cols = np.nonzero(live)
        base = np.where(live, 0.0, settled_err).sum(axis=1)   # settled coordinates, per rep
        z = Z[rows, cols]; a = zz[rows, cols]; cc = c[rows, cols]; rr = Rr[rows, cols]; th = truth[cols]
        x = (2 * rr)[None, :] * ts[:, None]
        e = np.exp(-x)
        ome = -np.expm1(-x)
        theta = a * ome * ((rr + cc) + (rr - cc) * e) / ((rr + cc) - (rr - cc) * e * e + (2 * a * a / cc) * e)
        d = np.copysign(theta, z) - th
        d *= d
        for i in range(len(ts)):
            out[:, k0 + i] = base + np.bincount(rows, weights=d[i], minlength=R)
    return out


# Dormand–Prince 5(4)
A = [[],
     [1 / 5],
     [3 / 40, 9 / 40],
     [44 / 45, -56 / 15, 32 / 9],
     [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
     [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]]
C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1]
B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40]


def opgd_curves(Z, truth, lam, times, b0, D, rtol=1e-7, freeze=None, verbose=False):
    """OpGD of depth D (any D ≥ 0) by integrating the β flow. Returns (R, K)."""
    R, N = Z.shape
    K = len(times)
    S = np.log(times)
    if freeze is None:
        freeze = 10 * rtol
    b0sq = b0 * b0

    def phi(y, lm):
        y2 = y * y
        a = np.sqrt(lm + y2)
        if D == 0:
            return a
        b2 = b0sq + D * y2
        bd = np.sqrt(b2) if D % 2 else np.ones_like(b2)
        for _ in range(D // 2):
            bd = bd * b2
        return a * bd

    def rate(y, lm, zz):            # dβ/dt
        f = phi(y, lm)
        return f * (zz - f * y)

    # Flattened coordinates of all repetitions.
    zflat = Z.ravel()
    zz = np.abs(zflat)
    sign = np.sign(zflat)
    lm = np.tile(lam, R)
    th = np.tile(truth, R)
    rowbase = np.repeat(np.arange(R) * K, N)           # row offset into the flat (R·K) curve
    curve = np.zeros(R * K)
    tail = np.zeros(R * K + 1)                           # difference array: θ = z from index k on

    # [0, t0]: RK4 in t from β = 0.
    y = np.zeros_like(zz)
    m = 8
    ht = times[0] / m
    for _ in range(m):
        q1 = rate(y, lm, zz)
        q2 = rate(y + ht / 2 * q1, lm, zz)
        q3 = rate(y + ht / 2 * q2, lm, zz)
        q4 = rate(y + ht * q3, lm, zz)
        y = y + ht / 6 * (q1 + 2 * q2 + 2 * q3 + q4)
    theta = sign * phi(y, lm) * y
    curve += np.bincount(rowbase, weights=(theta - th) ** 2, minlength=R * K)

    # Active set, in s = ln t: dβ/ds = t·rate.
    idx = np.arange(R * N)
    s = np.full(R * N, S[0])
    nxt = np.ones(R * N, dtype=np.int64)
    h = np.full(R * N, S[1] - S[0])
    k1 = np.exp(s) * rate(y, lm, zz)
    zz_a, lm_a, sign_a, th_a, rb_a = zz, lm, sign, th, rowbase
    steps = 0
    while idx.size:
        steps += 1
        gap = S[nxt] - s
        land = h >= gap
        hh = np.where(land, gap, h)
        ks = [k1]
        for i in range(1, 6):
            yi = y + hh * sum(A[i][j] * ks[j] for j in range(i) if A[i][j] != 0)
            ks.append(np.exp(s + C[i] * hh) * rate(yi, lm_a, zz_a))
        y1 = y + hh * (B[0] * ks[0] + B[2] * ks[2] + B[3] * ks[3] + B[4] * ks[4] + B[5] * ks[5])
        s1 = np.where(land, S[nxt], s + hh)
        f1 = phi(y1, lm_a)
        k7 = np.exp(s1) * f1 * (zz_a - f1 * y1)
        err = hh * (E[0] * ks[0] + E[2] * ks[2] + E[3] * ks[3] + E[4] * ks[4] + E[5] * ks[5] + E[6] * k7)
        ratio = np.abs(err) / (rtol * np.maximum(np.abs(y), np.abs(y1)) + 1e-300)
        ok = np.isfinite(ratio) & np.isfinite(y1)
        acc = ok & (ratio <= 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            fac = np.clip(0.9 * ratio ** -0.2, 0.2, 5.0)
        fac = np.where(ok, fac, 0.2)
        hnew = hh * fac
        h = np.where(acc & land, np.maximum(hnew, h), hnew)
        # Accepted steps.
        s = np.where(acc, s1, s)
        y = np.where(acc, y1, y)
        k1 = np.where(acc, k7, k1)
        theta1 = f1 * y1
        landed = acc & land
        if landed.any():
            d = sign_a[landed] * theta1[landed] - th_a[landed]
            curve += np.bincount(rb_a[landed] + nxt[landed], weights=d * d, minlength=R * K)
            nxt = nxt + landed
        # At the fixed point to `freeze` (the error control holds the residual near rtol, so the
        # threshold must sit above it), or with nothing left to change by the end of the grid.
        fixed = np.abs(zz_a - theta1) <= freeze * zz_a
        conv = acc & (fixed | (np.abs(k7) * (S[-1] - s1) <= 1e-3 * rtol * np.abs(y1)))
        if verbose and steps % 200 == 0:
            print(steps, idx.size, np.bincount(nxt, minlength=K)[::24], flush=True)
        done = conv | (nxt >= K)
        if done.any():
            cv = conv & (nxt < K)
            d = sign_a[cv] * np.where(fixed[cv], zz_a[cv], theta1[cv]) - th_a[cv]
            # θ = z at grid indices nxt…K−1 of its row.
            np.add.at(tail, rb_a[cv] + nxt[cv], d * d)
            np.add.at(tail, rb_a[cv] + K, -d * d)
            keep = ~done
            idx, s, y, h, k1, nxt = idx[keep], s[keep], y[keep], h[keep], k1[keep], nxt[keep]
            zz_a, lm_a, sign_a, th_a, rb_a = zz_a[keep], lm_a[keep], sign_a[keep], th_a[keep], rb_a[keep]
        if steps > 200000:
            raise RuntimeError("OpGD solver: no progress")
    curve += np.cumsum(tail[:-1])
    return curve.reshape(R, K), steps


# ---------------------------------------------------------------- Monte Carlo

_G = {}


def _init(state):
    _G.update(state)


def run_unit(unit):
    n, reps = unit
    lam, truth, times, G, G2 = _G["lam"], _G["truth"], _G["times"], _G["G"], _G["G2"]
    eps = 1 / np.sqrt(n)
    Z = np.stack([truth + eps * noise(_G["seed"], r, len(lam)) for r in reps])
    res, secs = {}, {}
    for method in _G["methods"]:
        t0 = time.process_time()
        if method == "vanilla":
            res[method] = vanilla_curves(Z, truth, G, G2)
        else:
            D = int(method.split("=")[1])
            b0 = eps ** (1 / (D + 2))
            if D == 0 and not _G["integrate0"]:
                res[method] = opgd0_curves(Z, truth, lam, times)
            else:
                res[method] = opgd_curves(Z, truth, lam, times, b0, D, rtol=_G["rtol"])[0]
        secs[method] = time.process_time() - t0
    return n, list(reps), res, secs


def slope(x, y):
    lx, ly = np.log(x), np.log(y)
    return float(np.polyfit(lx, ly, 1)[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=32)
    ap.add_argument("--N", type=int, default=10000)
    ap.add_argument("--depths", default="0,1,2,3")
    ap.add_argument("--n", default="1000,2000,4000,8000,16000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rtol", type=float, default=1e-7, help="relative tolerance of the D >= 1 flow solver")
    ap.add_argument("--block", type=int, default=4, help="repetitions per work unit")
    ap.add_argument("--integrate0", action="store_true", help="integrate D = 0 too instead of the closed form (a check)")
    ap.add_argument("--curves", help="write the mean curves to this .npz (for accuracy checks)")
    a = ap.parse_args()

    started = time.perf_counter()
    sizes = [int(v) for v in a.n.split(",")]
    methods = ["vanilla"] + [f"OpGD D={int(d)}" for d in a.depths.split(",")]
    lam, truth = make_problem(a.N)
    times = time_grid()
    G = -np.expm1(-np.outer(times, lam))
    state = dict(lam=lam, truth=truth, times=times, G=G, G2=G * G, seed=a.seed, methods=methods,
                 rtol=a.rtol, integrate0=a.integrate0)
    units = [(n, tuple(range(r0, min(r0 + a.block, a.reps)))) for n in sizes for r0 in range(0, a.reps, a.block)]
    # Larger n first is not slower; interleave so both workers stay busy to the end.
    curves = {m: {n: np.zeros((a.reps, len(times))) for n in sizes} for m in methods}
    cpu = {m: 0.0 for m in methods}
    if a.workers > 1:
        ctx = mp.get_context("fork")
        with ctx.Pool(a.workers, initializer=_init, initargs=(state,)) as pool:
            results = list(pool.imap_unordered(run_unit, units))
    else:
        _init(state)
        results = [run_unit(u) for u in units]
    for n, reps, res, secs in results:
        for m in methods:
            curves[m][n][reps] = res[m]
            cpu[m] += secs[m]
    seconds = time.perf_counter() - started

    out = []
    for m in methods:
        errs, stds, otimes = [], [], []
        for n in sizes:
            mean = curves[m][n].mean(axis=0)
            b = int(np.argmin(mean))
            errs.append(float(mean[b]))
            stds.append(float(curves[m][n][:, b].std(ddof=1)) if a.reps > 1 else 0.0)
            otimes.append(float(times[b]))
        out.append({"method": m, "errors": errs, "error_std": stds, "oracle_times": otimes,
                    "slope": slope(sizes, errs) if len(sizes) > 1 else None,
                    "cpu_seconds": round(cpu[m], 3)})
    if a.curves:
        np.savez(a.curves, times=times, sizes=sizes,
                 **{f"{m}|{n}": curves[m][n].mean(axis=0) for m in methods for n in sizes})
    print(json.dumps({"N": a.N, "n": sizes, "reps": a.reps, "seed": a.seed, "workers": a.workers, "rtol": a.rtol,
                      "methods": out, "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
