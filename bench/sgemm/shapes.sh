#!/usr/bin/env bash
# Per-shape GFLOP/s of Overparam's sgemm and OpenBLAS's, one thread, core 0, hot operands:
# the layers' products of the benchmark shapes (issue #2). Builds sgemm.c with SwiftPM's own
# release flags for C (-O2 -fno-omit-frame-pointer), so it measures the code the tool runs.
#   bench/sgemm/shapes.sh            # the default list below
#   bench/sgemm/shapes.sh nt 128 512 784 ...
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inc=Sources/CKernels/include
clang -O2 -fno-omit-frame-pointer -I"$inc" -c Sources/CKernels/sgemm.c -o "$out/sgemm.o"
clang -O2 -fno-omit-frame-pointer -I"$inc" -c Sources/CKernels/sgemm256.c -o "$out/sgemm256.o"
clang -O2 -fno-omit-frame-pointer -I"$inc" -c Sources/CKernels/kernelcap.c -o "$out/kernelcap.o"
clang -O2 -I"$inc" bench/sgemm/shapes.c "$out/sgemm.o" "$out/sgemm256.o" "$out/kernelcap.o" -o "$out/shapes" -lopenblas -lm -lpthread
# OpenBLAS's own choice of kernels, unless the CPU is too new for it (see CKernels/blascore.c):
# then the AVX-512 set, as the tool selects.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo && grep -q avx512_bf16 /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Cooperlake
fi
export OPENBLAS_NUM_THREADS=1
echo "| op | M × N × K | OpenBLAS GFLOP/s | own GFLOP/s | own / OpenBLAS | max rel. difference |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
if [ $# -gt 0 ]; then
    while [ $# -ge 4 ]; do taskset -c 0 "$out/shapes" "$1" "$2" "$3" "$4"; shift 4; done
    exit 0
fi
# (b) 784-64-10 and (c) 784-512-512-10 at batch 128: forward NT, weight gradient TN, input gradient NN;
# (d) the second convolution's im2col product (4 samples × 196 pixels); (e) the ViT's dense
# layers over 128 × 49 tokens.
for s in "nt 128 64 784" "tn 64 784 128" \
         "nt 128 512 784" "nt 128 512 512" "tn 512 784 128" "tn 512 512 128" "nn 128 512 512" \
         "nt 784 32 144" \
         "nt 6272 192 64" "nt 6272 128 64" "nt 6272 64 128" "nn 6272 64 192" "nn 6272 128 64" "nn 6272 64 128" \
         "tn 192 64 6272" "tn 128 64 6272" "tn 64 128 6272" \
         "tn 32 64 128" "nn 128 64 10"; do
    taskset -c 0 "$out/shapes" $s
done
