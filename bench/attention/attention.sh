#!/usr/bin/env bash
# The attention core alone (bench/attention/attention.c), AVX2 and best (AVX-512 where the CPU
# has it) variants, one thread, core 0, built with SwiftPM's release flags for C.
#   bench/attention/attention.sh                 # the ViT benchmark's shape: 128 images, 49 tokens, width 64, 4 heads
#   bench/attention/attention.sh B N D H
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang -O2 -fno-omit-frame-pointer -ISources/CKernels/include -ISources/CKernels \
    Sources/CKernels/*.c \
    bench/attention/attention.c -o "$out/attention" -lm -lpthread
taskset -c 0 "$out/attention" "$@"
