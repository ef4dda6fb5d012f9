#!/usr/bin/env bash
# The AVX2 sgemm and loss (Sources/CKernels/sgemm256.c, loss256.c) — or with avx512 the AVX-512
# ones (sgemm.c, loss512.c) — of git revision REV against the working tree's: the same bits over a
# grid of products and losses, then the speed of the EMC search's products and loss, alternating
# in one process on core 0 (bench/sgemm/ab.c). Built with SwiftPM's release flags for C.
#   bench/sgemm/ab.sh [REV] [ROUNDS] [avx2|avx512]     (REV: HEAD by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:-HEAD} rounds=${2:-15} isa=${3:-avx2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/old"
inc=Sources/CKernels/include
if [ "$isa" = avx512 ]; then
    grep -q avx512f /proc/cpuinfo || { echo "ab.sh: the AVX-512 kernels need a CPU with AVX-512" >&2; exit 1; }
    for f in sgemm.c loss512.c sgemm.h avx512.h; do
        git show "$rev:Sources/CKernels/$f" > "$out/old/$f" 2>/dev/null || true
    done
    for f in sgemm loss512; do
        clang -O2 -fno-omit-frame-pointer -I"$inc" -c "$out/old/$f.c" -o "$out/old-$f.o"
    done
    for f in sgemm sgemm256 loss512 kernelcap; do
        clang -O2 -fno-omit-frame-pointer -I"$inc" -c "Sources/CKernels/$f.c" -o "$out/new-$f.o"
    done
    # Every function the old sgemm.c defines, renamed old_…; what it calls comes from the new objects.
    for s in $(nm --defined-only -g "$out/old-sgemm.o" | awk '{print $3}'); do
        objcopy --redefine-sym "$s=old_${s#ck_}" "$out/old-sgemm.o"
    done
    objcopy --redefine-sym ck_softmax_xent512=old_softmax_xent512 "$out/old-loss512.o"
    clang -O2 -DWIDE -I"$inc" bench/sgemm/ab.c "$out"/old-*.o "$out"/new-*.o -o "$out/ab" -lm -lpthread
    taskset -c 0 "$out/ab" "$rounds"
    exit
fi
grep -q avx2 /proc/cpuinfo || { echo "ab.sh: the AVX2 kernels need a CPU with AVX2" >&2; exit 1; }
for f in sgemm256.c loss256.c sgemm.h avx2.h; do
    git show "$rev:Sources/CKernels/$f" > "$out/old/$f" 2>/dev/null || true
done
for f in sgemm256 loss256; do
    clang -O2 -fno-omit-frame-pointer -I"$inc" -c "$out/old/$f.c" -o "$out/old-$f.o"
    clang -O2 -fno-omit-frame-pointer -I"$inc" -c "Sources/CKernels/$f.c" -o "$out/new-$f.o"
done
objcopy --redefine-sym ck_sgemm256=old_sgemm256 "$out/old-sgemm256.o"
objcopy --redefine-sym ck_softmax_xent256=old_softmax_xent256 "$out/old-loss256.o"
clang -O2 -I"$inc" bench/sgemm/ab.c "$out"/old-*.o "$out"/new-*.o -o "$out/ab" -lm
taskset -c 0 "$out/ab" "$rounds"
