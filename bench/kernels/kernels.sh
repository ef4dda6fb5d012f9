#!/usr/bin/env bash
# GELU and softmax cross-entropy alone (bench/kernels/kernels.c), every variant the CPU runs,
# one thread, core 0, built with SwiftPM's release flags for C. Also checks the loss against a
# float64 reference and its NaN/+∞ propagation.
#   bench/kernels/kernels.sh            # GELU on 94,080 floats (one 15-image chunk of the ViT's MLP), loss 128 × 10
#   bench/kernels/kernels.sh N B K
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang -O2 -fno-omit-frame-pointer -ISources/CKernels/include -ISources/CKernels \
    Sources/CKernels/*.c bench/kernels/kernels.c -o "$out/kernels" -lm -lpthread
taskset -c 0 "$out/kernels" "$@"
