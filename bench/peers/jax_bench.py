#!/usr/bin/env python3
"""Single-threaded CPU training speed of six model shapes in JAX (jit). See README.md."""
import os

# Single-threaded XLA CPU; must be set before jax is imported. Also run under `taskset -c 0`.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

# FLOPs per training step (batch 128). Convention: every matmul-like op (dense, conv, attention
# QK^T and AV) counts 2*MACs forward + 2*MACs weight gradient + 2*MACs input gradient, except the
# first layer, which has no input gradient. Element-wise ops (activations, bias, norms, softmax,
# pooling, loss, optimizer update) are not counted.
FLOPS_PER_STEP = {
    "mlp64": 1294336,  # (a) MLP 64-32-10
    "mlp784s": 26181632,  # (b) MLP 784-64-10
    "mlp784l": 410779648,  # (c) MLP 784-512-512-10
    "cnn": 763478016,  # (d) conv16-pool-conv32-pool-dense
    "vit": 2964488192,  # (e) 4x4-patch ViT, width 64, 2 blocks, 4 heads
    "resnet8": 9488007168,  # (f) ResNet-8 with batch norm on 32x32x3 (stem 16, stages 16/32/64)
}
LETTERS = dict(zip("abcdef", FLOPS_PER_STEP))
BATCH, CLASSES = 128, 10


def uniform(key, shape, fan_in):  # PyTorch-style default init range
    b = 1 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -b, b)


def dense_init(key, m, n):
    kw, kb = jax.random.split(key)
    return {"w": uniform(kw, (m, n), m), "b": uniform(kb, (n,), m)}


def dense(p, x):
    return x @ p["w"] + p["b"]


def mlp_init(key, *dims):
    return [dense_init(k, m, n) for k, m, n in zip(jax.random.split(key, len(dims) - 1), dims, dims[1:])]


def mlp_apply(params, x):
    for p in params[:-1]:
        x = jax.nn.relu(dense(p, x))
    return dense(params[-1], x)


def conv_init(key, cin, cout):
    kw, kb = jax.random.split(key)
    return {"w": uniform(kw, (3, 3, cin, cout), 9 * cin), "b": uniform(kb, (cout,), 9 * cin)}


def conv(p, x):  # NHWC, 3x3, padding 1
    y = jax.lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + p["b"]


def maxpool2(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def cnn_init(key):
    k1, k2, k3 = jax.random.split(key, 3)
    return {"c1": conv_init(k1, 1, 16), "c2": conv_init(k2, 16, 32), "fc": dense_init(k3, 1568, CLASSES)}


def cnn_apply(p, x):  # x: [b, 28, 28, 1]
    x = maxpool2(jax.nn.relu(conv(p["c1"], x)))
    x = maxpool2(jax.nn.relu(conv(p["c2"], x)))
    return dense(p["fc"], x.reshape(x.shape[0], -1))


def ln_init(d):
    return {"g": jnp.ones(d), "b": jnp.zeros(d)}


def layernorm(p, x, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = jnp.square(x - m).mean(-1, keepdims=True)
    return (x - m) * jax.lax.rsqrt(v + eps) * p["g"] + p["b"]


def vit_init(key, d=64, hidden=128):
    ks = iter(jax.random.split(key, 11))
    block = lambda: {"ln1": ln_init(d), "qkv": dense_init(next(ks), d, 3 * d),  # noqa: E731
                     "proj": dense_init(next(ks), d, d), "ln2": ln_init(d),
                     "fc1": dense_init(next(ks), d, hidden), "fc2": dense_init(next(ks), hidden, d)}
    return {"embed": dense_init(next(ks), 16, d), "pos": 0.02 * jax.random.normal(next(ks), (49, d)),
            "blocks": [block(), block()], "ln": ln_init(d), "head": dense_init(next(ks), d, CLASSES)}


def vit_block(p, x, heads=4):
    b, t, d = x.shape
    hd = d // heads
    q, k, v = jnp.moveaxis(dense(p["qkv"], layernorm(p["ln1"], x)).reshape(b, t, 3, heads, hd), 2, 0)
    s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(hd)
    a = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(s, axis=-1), v).reshape(b, t, d)
    x = x + dense(p["proj"], a)
    h = jax.nn.gelu(dense(p["fc1"], layernorm(p["ln2"], x)), approximate=False)
    return x + dense(p["fc2"], h)


def vit_apply(p, x):  # x: [b, 28, 28, 1] -> 49 patches of 4x4
    x = x.reshape(-1, 7, 4, 7, 4).transpose(0, 1, 3, 2, 4).reshape(-1, 49, 16)
    x = dense(p["embed"], x) + p["pos"]
    for bp in p["blocks"]:
        x = vit_block(bp, x)
    return dense(p["head"], layernorm(p["ln"], x).mean(1))


def conv_nobias_init(key, k, cin, cout):
    return {"w": uniform(key, (k, k, cin, cout), k * k * cin)}


def conv_strided(p, x, stride):  # NHWC, no bias, PyTorch's padding (k // 2 on every side)
    k = p["w"].shape[0]
    pad = ((k // 2, k // 2), (k // 2, k // 2))
    return jax.lax.conv_general_dilated(x, p["w"], (stride, stride), pad, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def batchnorm(p, x, eps=1e-5):
    # Training mode: the batch's statistics over batch and positions. The running estimates
    # PyTorch and Overparam also move are per-channel updates, left out here.
    m = x.mean((0, 1, 2))
    v = jnp.square(x - m).mean((0, 1, 2))
    return (x - m) * jax.lax.rsqrt(v + eps) * p["g"] + p["b"]


def resnet8_init(key):
    ks = iter(jax.random.split(key, 12))
    params = {"stem": conv_nobias_init(next(ks), 3, 3, 16), "bn": ln_init(16), "blocks": []}
    for cin, cout, stride in [(16, 16, 1), (16, 32, 2), (32, 64, 2)]:
        block = {"c1": conv_nobias_init(next(ks), 3, cin, cout), "b1": ln_init(cout),
                 "c2": conv_nobias_init(next(ks), 3, cout, cout), "b2": ln_init(cout)}
        if stride != 1 or cin != cout:
            block["sc"], block["sb"] = conv_nobias_init(next(ks), 1, cin, cout), ln_init(cout)
        params["blocks"].append(block)
    params["fc"] = dense_init(next(ks), 64, CLASSES)
    return params


def resnet8_apply(p, x):  # x: [b, 32, 32, 3]
    x = jax.nn.relu(batchnorm(p["bn"], conv_strided(p["stem"], x, 1)))
    for bp, stride in zip(p["blocks"], [1, 2, 2]):
        h = jax.nn.relu(batchnorm(bp["b1"], conv_strided(bp["c1"], x, stride)))
        h = batchnorm(bp["b2"], conv_strided(bp["c2"], h, 1))
        short = batchnorm(bp["sb"], conv_strided(bp["sc"], x, stride)) if "sc" in bp else x
        x = jax.nn.relu(h + short)
    return dense(p["fc"], x.mean((1, 2)))


MODELS = {  # name -> (init(key), apply(params, x), input shape without batch)
    "mlp64": (lambda k: mlp_init(k, 64, 32, 10), mlp_apply, (64,)),
    "mlp784s": (lambda k: mlp_init(k, 784, 64, 10), mlp_apply, (784,)),
    "mlp784l": (lambda k: mlp_init(k, 784, 512, 512, 10), mlp_apply, (784,)),
    "cnn": (cnn_init, cnn_apply, (28, 28, 1)),
    "vit": (vit_init, vit_apply, (28, 28, 1)),
    "resnet8": (resnet8_init, resnet8_apply, (32, 32, 3)),
}


def make_train_step(apply, lr=0.01, momentum=0.9):
    def loss_fn(params, x, y):
        logp = jax.nn.log_softmax(apply(params, x))
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def train_step(params, mom, x, y):  # SGD with momentum, PyTorch formulation
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        mom = jax.tree.map(lambda m, g: momentum * m + g, mom, grads)
        params = jax.tree.map(lambda p, m: p - lr * m, params, mom)
        return params, mom, loss

    return train_step


def calibrate(step, sync, seconds, warmup=20):
    """Warm up (the first call compiles), then the step count of a window of about `seconds`."""
    for _ in range(warmup):
        step()
    sync()
    t = time.perf_counter()
    for _ in range(3):
        step()
    sync()
    return max(5, round(seconds * 3 / (time.perf_counter() - t)))


def window(step, sync, n):
    """Steps per second over one window of n steps, waiting for the last."""
    t = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return n / (time.perf_counter() - t)


def steps_per_second(step, sync, seconds, reps=3):
    n = calibrate(step, sync, seconds)
    return max(window(step, sync, n) for _ in range(reps))


def setup(name):
    """The shape's step and sync functions (jit step, fixed batch, SGD with momentum) and parameter count."""
    init, apply, shape = MODELS[name]
    kp, kx, ky = jax.random.split(jax.random.PRNGKey(0), 3)
    params = init(kp)
    n_params = sum(a.size for a in jax.tree.leaves(params))
    x = jax.random.normal(kx, (BATCH, *shape), jnp.float32)
    y = jax.random.randint(ky, (BATCH,), 0, CLASSES)
    train_step = make_train_step(apply)
    state = [params, jax.tree.map(jnp.zeros_like, params), None]

    def step():
        state[:] = train_step(state[0], state[1], x, y)

    return step, lambda: jax.block_until_ready(state), int(n_params)


def record(name, sps, params):
    return {"name": name, "framework": "jax", "steps_per_second": sps,
            "gflops": FLOPS_PER_STEP[name] * sps / 1e9, "parameters": params}


def bench(name, seconds):
    step, sync, params = setup(name)
    return record(name, steps_per_second(step, sync, seconds), params)


def serve(name, seconds):
    """--serve: a ready line, then one window per line read from stdin (bench/paired.py)."""
    step, sync, params = setup(name)
    n = calibrate(step, sync, seconds)
    print(json.dumps({"ready": name, "framework": "jax"}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        print(json.dumps(record(name, window(step, sync, n), params)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shapes", default="a,b,c,d,e", help="comma list of a-f or names")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed seconds per repetition")
    ap.add_argument("--json", action="store_true", help="one JSON object per line per shape")
    ap.add_argument("--serve", action="store_true",
                    help="one shape: a ready line, then one timed window per line read from stdin, as JSON")
    args = ap.parse_args()
    names = [LETTERS.get(s.strip(), s.strip()) for s in args.shapes.split(",") if s.strip()]
    for n in names:
        if n not in FLOPS_PER_STEP:
            ap.error(f"unknown shape {n!r}; use a-f or {', '.join(FLOPS_PER_STEP)}")
    if args.serve:
        if len(names) != 1:
            ap.error("--serve takes one shape")
        return serve(names[0], args.seconds)
    if not args.json:
        print(f"{'shape':8} {'framework':9} {'steps/s':>10} {'GFLOP/s':>8} {'params':>8}")
    for n in names:
        r = bench(n, args.seconds)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"{n:8} {r['framework']:9} {r['steps_per_second']:10.1f} "
                  f"{r['gflops']:8.2f} {r['parameters']:8d}", flush=True)


if __name__ == "__main__":
    main()
