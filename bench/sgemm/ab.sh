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
cc() { clang -O2 -fno-omit-frame-pointer -I"$inc" -c "$1" -o "$2"; }
if [ "$isa" = avx512 ]; then
    sgemm=sgemm loss=loss512 header=avx512.h flag=-DWIDE feature=avx512f
    new=(sgemm sgemm256 loss512 kernelcap)  # sgemm.c calls sgemm256.c's and kernelcap.c's functions
else
    sgemm=sgemm256 loss=loss256 header=avx2.h flag= feature=avx2
    new=(sgemm256 loss256)
fi
grep -q "$feature" /proc/cpuinfo || { echo "ab.sh: the $isa kernels need a CPU with $isa" >&2; exit 1; }
for f in $sgemm.c $loss.c sgemm.h $header; do
    git show "$rev:Sources/CKernels/$f" > "$out/old/$f" 2>/dev/null || true
done
for f in $sgemm $loss; do cc "$out/old/$f.c" "$out/old-$f.o"; done
for f in "${new[@]}"; do cc "Sources/CKernels/$f.c" "$out/new-$f.o"; done
# Every function the old files define, renamed old_…; what they call comes from the new objects.
for o in "$out/old-$sgemm.o" "$out/old-$loss.o"; do
    for s in $(nm --defined-only -g "$o" | awk '{print $3}'); do objcopy --redefine-sym "$s=old_${s#ck_}" "$o"; done
done
clang -O2 $flag -I"$inc" bench/sgemm/ab.c "$out"/old-*.o "$out"/new-*.o -o "$out/ab" -lm -lpthread
taskset -c 0 "$out/ab" "$rounds"
