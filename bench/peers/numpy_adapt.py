#!/usr/bin/env python3
"""Oracle-time rates in the Gaussian sequence model, in NumPy: the same computation as
`overparam adapt rates` with its defaults (configuration A), for a wall-time comparison.

Measures: the wall time of the whole Monte Carlo (vanilla gradient flow and OpGD of each depth,
every n, every repetition) and the CPU time spent in each estimator; prints one JSON object with,
per method, the mean error at the oracle time for each n, the oracle times, the least-squares
slope of log(error) on log(n), and `seconds` (total wall time).

Run:  /opt/peers-venv/bin/python bench/peers/numpy_adapt.py [--reps 32] [--N 10000]
      [--depths 0,1,2,3] [--workers 2] [--rtol 1e-6]      (accuracy: add --check)
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
- OpGD D ≥ 1: the flow of the one state β left by the conserved quantities (a² − β² = λ,
  b² − Dβ² = b0²): β' = φ(β)(z − φ(β)β), φ = √(λ + β²)(b0² + Dβ²)^(D/2), b0 = ε^(1/(D+2)), from
  β(0) = 0, for |z| (the flow is odd in z). Dormand–Prince 5(4) in t with a step size per
  coordinate (relative tolerance --rtol, default 1e-6), vectorized over all coordinates of a
  block of repetitions (one array of 4×N); the grid times inside each accepted step come from the
  solver's continuous extension, so the steps need not stop at grid times (about 40 steps per
  coordinate). A coordinate is retired once |z − θ| ≤ 10·rtol·|z| (θ = z from then on) or once
  nothing is left to change before t = 1e10, as in Flows.swift.
  Accuracy (`--check`, 4 repetitions, n = 1000 and 16000): against rtol 1e-11 the oracle errors
  differ by ≤ 2e-7 relative and no point of the mean curves by more than 4e-6; run with D = 0 the
  same solver matches the closed form as closely.
Parallelism: multiprocessing over (n, block of repetitions) units, `--workers` processes with
one BLAS thread each.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import ctypes
import argparse
import json
import multiprocessing as mp
import time

import numpy as np

# glibc hands freed blocks of the solver's ~300 KB temporaries back to the kernel and faults
# them in again on the next allocation: about 12% of the run in system time. Keep them instead.
try:
    _libc = ctypes.CDLL("libc.so.6")
    for _param in (-1, -2, -3):            # M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD
        _libc.mallopt(_param, 1 << 28 if _param != -3 else 1 << 25)
except OSError:
    pass

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


# Dormand–Prince 5(4): stages, 5th-order weights B, error weights E, dense output DC (Hairer–Wanner).
A = [[],
     [1 / 5],
     [3 / 40, 9 / 40],
     [44 / 45, -56 / 15, 32 / 9],
     [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
     [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]]
B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40]
DC = [-12715105075 / 11282082432, 0, 87487479700 / 32700410799, -10690763975 / 1880347072,
      701980252875 / 199316789632, -1453857185 / 822651844, 69997945 / 29380423]


@np.errstate(over="ignore", invalid="ignore")   # rejected trial steps may overflow; caught below
def opgd_curves(Z, truth, lam, times, b0, D, rtol=1e-6, freeze=None, stats=None):
    """OpGD of depth D (any D ≥ 0) by integrating the β flow in t, each coordinate with its own
    step size, all coordinates (of all rows of Z) as one vector; grid times inside a step come
    from the solver's continuous extension. Returns (R, K) error curves."""
    R, N = Z.shape
    K = len(times)
    tend = times[-1]
    if freeze is None:
        freeze = 10 * rtol
    b0sq = b0 * b0

    def phi(y, lm):
        y2 = y * y
        a = np.sqrt(lm + y2)
        if D == 0:
            return a
        b2 = b0sq + D * y2
        bd = np.sqrt(b2) if D % 2 else None
        for _ in range(D // 2):
            bd = b2 if bd is None else bd * b2
        return a * bd

    def rate(y, lm, zz):            # dβ/dt
        f = phi(y, lm)
        return f * (zz - f * y)

    # All coordinates of all repetitions, integrated for |z| (the flow is odd in z).
    zflat = Z.ravel()
    zz = np.abs(zflat)
    sign = np.sign(zflat)
    lm = np.tile(lam, R)
    th = np.tile(truth, R)
    rb = np.repeat(np.arange(R) * K, N)                 # row offset into the flat (R·K) curve
    curve = np.zeros(R * K)
    tail = np.zeros(R * K + 1)                           # difference array for "θ = const from k on"

    t = np.zeros(R * N)
    y = np.zeros(R * N)
    nxt = np.zeros(R * N, dtype=np.int64)               # next grid time to fill
    f0 = phi(y, lm)
    k1 = f0 * zz
    h = np.clip(1e-3 / np.maximum(np.maximum(f0, f0 * f0), 1e-300), 1e-12, tend)
    steps = 0
    while t.size:
        steps += 1
        if stats is not None:
            stats["element_steps"] = stats.get("element_steps", 0) + t.size
        h = np.minimum(h, tend - t)
        ks = [k1]
        for i in range(1, 6):
            yi = y + h * sum(A[i][j] * ks[j] for j in range(i) if A[i][j] != 0)
            ks.append(rate(yi, lm, zz))
        y1 = y + h * (B[0] * ks[0] + B[2] * ks[2] + B[3] * ks[3] + B[4] * ks[4] + B[5] * ks[5])
        f1 = phi(y1, lm)
        k7 = f1 * (zz - f1 * y1)
        ks.append(k7)
        err = h * (E[0] * ks[0] + E[2] * ks[2] + E[3] * ks[3] + E[4] * ks[4] + E[5] * ks[5] + E[6] * k7)
        ratio = np.abs(err) / (rtol * np.maximum(np.abs(y), np.abs(y1)) + 1e-300)
        ok = np.isfinite(ratio) & np.isfinite(y1)
        acc = ok & ((ratio <= 1) | (h <= 1e-14 * np.maximum(t, 1)))
        with np.errstate(divide="ignore", invalid="ignore"):
            fac = np.where(ok, np.clip(0.9 * ratio ** -0.2, 0.2, 5.0), 0.2)
        t1 = t + h
        theta1 = f1 * y1
        # Grid times in (t, t1] of accepted steps, from the continuous extension.
        w = np.nonzero(acc & (times[np.minimum(nxt, K - 1)] <= t1) & (nxt < K))[0]
        if w.size:
            kend = np.searchsorted(times, t1[w], side="right")
            hw, yw = h[w], y[w]
            r2 = y1[w] - yw
            r3 = hw * k1[w] - r2
            r4 = r2 - hw * k7[w] - r3
            r5 = hw * sum(DC[i] * ks[i][w] for i in range(7) if DC[i] != 0)
            # One entry per (coordinate, grid time inside its step).
            c = kend - nxt[w]
            rep = np.repeat(np.arange(w.size), c)
            kk = nxt[w][rep] + (np.arange(rep.size) - np.repeat(np.cumsum(c) - c, c))
            u = (times[kk] - t[w][rep]) / hw[rep]
            v = 1 - u
            yu = yw[rep] + u * (r2[rep] + v * (r3[rep] + u * (r4[rep] + v * r5[rep])))
            wr = w[rep]
            d = sign[wr] * phi(yu, lm[wr]) * yu - th[wr]
            curve += np.bincount(rb[wr] + kk, weights=d * d, minlength=R * K)
            nxt[w] = kend
        t = np.where(acc, t1, t)
        y = np.where(acc, y1, y)
        k1 = np.where(acc, k7, k1)
        h = h * fac
        # Retired: at the fixed point to `freeze` (the error control holds the residual near rtol,
        # so the threshold sits above it: θ = z from here), or nothing left to change by the end of
        # the grid (θ = θ(t) from here), or at the end.
        fixed = np.abs(zz - theta1) <= freeze * zz
        idle = np.abs(k7) * (tend - t1) <= 1e-3 * rtol * np.abs(y1)
        conv = acc & (fixed | idle)
        done = conv | (nxt >= K)
        if done.any():
            cv = np.nonzero(conv & (nxt < K))[0]
            d = sign[cv] * np.where(fixed[cv], zz[cv], theta1[cv]) - th[cv]
            np.add.at(tail, rb[cv] + nxt[cv], d * d)
            np.add.at(tail, rb[cv] + K, -d * d)
            keep = ~done
            t, y, h, k1, nxt = t[keep], y[keep], h[keep], k1[keep], nxt[keep]
            zz, lm, sign, th, rb = zz[keep], lm[keep], sign[keep], th[keep], rb[keep]
        if steps > 1_000_000:
            raise RuntimeError("OpGD solver: no progress")
    curve += np.cumsum(tail[:-1])
    if stats is not None:
        stats["steps"] = steps
    return curve.reshape(R, K)


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
            if D == 0:
                res[method] = opgd0_curves(Z, truth, lam, times)
            else:
                res[method] = opgd_curves(Z, truth, lam, times, b0, D, rtol=_G["rtol"])
        secs[method] = time.process_time() - t0
    return n, list(reps), res, secs


def slope(x, y):
    lx, ly = np.log(x), np.log(y)
    return float(np.polyfit(lx, ly, 1)[0])


def check(a):
    """Mean curves at --rtol against rtol 1e-11 (D >= 1), and the integrated D = 0 against its
    closed form; relative differences at the oracle and the largest over the whole curve."""
    lam, truth = make_problem(a.N)
    times = time_grid()
    sizes = [int(v) for v in a.n.split(",")]
    rows = []
    for n in (sizes[0], sizes[-1]):
        eps = 1 / np.sqrt(n)
        Z = np.stack([truth + eps * noise(a.seed, r, a.N) for r in range(min(a.block, a.reps))])
        for d in (int(v) for v in a.depths.split(",")):
            b0 = eps ** (1 / (d + 2))
            got = opgd_curves(Z, truth, lam, times, b0, d, rtol=a.rtol).mean(axis=0)
            ref = (opgd0_curves(Z, truth, lam, times) if d == 0
                   else opgd_curves(Z, truth, lam, times, b0, d, rtol=1e-11)).mean(axis=0)
            rows.append({"n": n, "depth": d, "reference": "closed form" if d == 0 else "rtol 1e-11",
                         "oracle_rel_diff": float(abs(got.min() / ref.min() - 1)),
                         "curve_max_rel_diff": float(np.max(np.abs(got / ref - 1)))})
    print(json.dumps({"rtol": a.rtol, "reps": int(Z.shape[0]), "check": rows}))


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n")[:2]))
    ap.add_argument("--reps", type=int, default=32)
    ap.add_argument("--N", type=int, default=10000)
    ap.add_argument("--depths", default="0,1,2,3")
    ap.add_argument("--n", default="1000,2000,4000,8000,16000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of the D >= 1 flow solver")
    ap.add_argument("--block", type=int, default=4, help="repetitions per work unit")
    ap.add_argument("--check", action="store_true",
                    help="instead: the solver's accuracy on the first block of repetitions, for the smallest and largest n")
    a = ap.parse_args()
    if a.check:
        return check(a)

    started = time.perf_counter()
    sizes = [int(v) for v in a.n.split(",")]
    methods = ["vanilla"] + [f"OpGD D={int(d)}" for d in a.depths.split(",")]
    lam, truth = make_problem(a.N)
    times = time_grid()
    G = -np.expm1(-np.outer(times, lam))
    state = dict(lam=lam, truth=truth, times=times, G=G, G2=G * G, seed=a.seed, methods=methods,
                 rtol=a.rtol)
    units = [(n, tuple(range(r0, min(r0 + a.block, a.reps)))) for n in sizes for r0 in range(0, a.reps, a.block)]
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
                    # CPU seconds in this estimator, summed over workers, and that share of the wall time.
                    "cpu_seconds": round(cpu[m], 3),
                    "wall_share_seconds": round(seconds * cpu[m] / sum(cpu.values()), 3)})
    print(json.dumps({"N": a.N, "n": sizes, "reps": a.reps, "seed": a.seed, "workers": a.workers, "rtol": a.rtol,
                      "methods": out, "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
