#!/usr/bin/env bash
# The AVX2 sgemm and loss (Sources/CKernels/sgemm256.c, loss256.c) of git revision REV against the
# working tree's: the same bits over a grid of products and losses, then the speed of the EMC
# search's products and loss, alternating in one process on core 0 (bench/sgemm/ab.c). Built with
# SwiftPM's release flags for C.
#   bench/sgemm/ab.sh [REV] [ROUNDS]     (REV: HEAD by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -q avx2 /proc/cpuinfo || { echo "ab.sh: the AVX2 kernels need a CPU with AVX2" >&2; exit 1; }
rev=${1:-HEAD} rounds=${2:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/old"
for f in sgemm256.c loss256.c sgemm.h avx2.h; do
    git show "$rev:Sources/CKernels/$f" > "$out/old/$f" 2>/dev/null || true
done
inc=Sources/CKernels/include
for f in sgemm256 loss256; do
    clang -O2 -fno-omit-frame-pointer -I"$inc" -c "$out/old/$f.c" -o "$out/old-$f.o"
    clang -O2 -fno-omit-frame-pointer -I"$inc" -c "Sources/CKernels/$f.c" -o "$out/new-$f.o"
done
objcopy --redefine-sym ck_sgemm256=old_sgemm256 "$out/old-sgemm256.o"
objcopy --redefine-sym ck_softmax_xent256=old_softmax_xent256 "$out/old-loss256.o"
clang -O2 -I"$inc" bench/sgemm/ab.c "$out"/old-*.o "$out"/new-*.o -o "$out/ab" -lm
taskset -c 0 "$out/ab" "$rounds"
