#!/usr/bin/env python3
"""Single-threaded CPU training speed of six model shapes in PyTorch (eager). See README.md."""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

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


def mlp(*dims):
    layers = [nn.Linear(dims[0], dims[1])]
    for m, n in zip(dims[1:], dims[2:]):
        layers += [nn.ReLU(), nn.Linear(m, n)]
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, CLASSES))


class Block(nn.Module):
    def __init__(self, d=64, heads=4, hidden=128):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        # PyTorch's fused attention (softmax(q kᵀ / √hd) v), which ran ~8% faster here than the
        # same written out, so the faster form is the one compared.
        a = F.scaled_dot_product_attention(q, k, v)  # [b, h, t, hd]
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    def __init__(self, d=64):
        super().__init__()
        self.embed = nn.Linear(16, d)
        self.pos = nn.Parameter(0.02 * torch.randn(49, d))
        self.blocks = nn.Sequential(Block(d), Block(d))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, CLASSES)

    def forward(self, x):  # x: [b, 1, 28, 28] -> 49 patches of 4x4
        p = x.reshape(-1, 7, 4, 7, 4).transpose(2, 3).reshape(-1, 49, 16)
        x = self.blocks(self.embed(p) + self.pos)
        return self.head(self.ln(x).mean(1))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm; a 1x1 strided convolution + batch norm on the
    shortcut where the shape changes (as Overparam's resnet: specs)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.short = (nn.Sequential() if stride == 1 and cin == cout else
                      nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + self.short(x))


def resnet8():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, CLASSES))


MODELS = {  # name -> (model constructor, input shape without batch)
    "mlp64": (lambda: mlp(64, 32, 10), (64,)),
    "mlp784s": (lambda: mlp(784, 64, 10), (784,)),
    "mlp784l": (lambda: mlp(784, 512, 512, 10), (784,)),
    "cnn": (cnn, (1, 28, 28)),
    "vit": (ViT, (1, 28, 28)),
    "resnet8": (resnet8, (3, 32, 32)),
}


def calibrate(step, seconds, warmup=20):
    """Warm up, then the step count of a window of about `seconds` (at least 5)."""
    for _ in range(warmup):
        step()
    t = time.perf_counter()
    for _ in range(3):
        step()
    return max(5, round(seconds * 3 / (time.perf_counter() - t)))


def window(step, n):
    """Steps per second over one window of n steps."""
    t = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - t)


def steps_per_second(step, seconds, reps=3):
    n = calibrate(step, seconds)
    return max(window(step, n) for _ in range(reps))


def setup(name):
    """The shape's step function (model, fixed batch, SGD with momentum) and parameter count."""
    torch.manual_seed(0)
    make, shape = MODELS[name]
    model = make()
    x = torch.randn(BATCH, *shape)
    y = torch.randint(0, CLASSES, (BATCH,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step, sum(p.numel() for p in model.parameters())


def record(name, sps, params):
    return {"name": name, "framework": "pytorch", "steps_per_second": sps,
            "gflops": FLOPS_PER_STEP[name] * sps / 1e9, "parameters": params}


def bench(name, seconds):
    step, params = setup(name)
    return record(name, steps_per_second(step, seconds), params)


def serve(name, seconds):
    """--serve: a ready line, then one window per line read from stdin (bench/paired.py)."""
    step, params = setup(name)
    n = calibrate(step, seconds)
    print(json.dumps({"ready": name, "framework": "pytorch"}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        print(json.dumps(record(name, window(step, n), params)), flush=True)


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
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
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
