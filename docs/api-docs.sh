#!/usr/bin/env bash
# API documentation of the public targets with DocC: symbol graphs extracted from the release
# build's modules (build first: swift build -c release), each target's catalogue
# (Sources/<Target>/<Target>.docc) converted into out/api-docs/<Target>.doccarchive, ready for
# static hosting (serve out/api-docs and open /<target>/documentation/<target>).
# Usage: docs/api-docs.sh [Target ...]    (default: Linalg NeuralNets Datasets Capacity Recovery Adaptivity)
set -euo pipefail
cd "$(dirname "$0")/.."
modules=.build/release/Modules
[ -d "$modules" ] || { echo "no release build: run swift build -c release first" >&2; exit 1; }
# The C modules the Swift ones import (system libraries, CKernels, swift-numerics' shims, …).
args=()
while IFS= read -r m; do args+=(-Xcc "-fmodule-map-file=$m"); done < <(
    find .build/release/ -maxdepth 2 -name module.modulemap; find Sources .build/checkouts -name module.modulemap -not -path "*/Tests/*")
mkdir -p out/api-docs
for target in "${@:-Linalg NeuralNets Datasets Capacity Recovery Adaptivity}"; do
    for t in $target; do
        graphs=$(mktemp -d)
        swift-symbolgraph-extract -module-name "$t" -I "$modules" -target "$(uname -m)-unknown-linux-gnu" -output-dir "$graphs" \
            -minimum-access-level public "${args[@]}"
        docc convert "Sources/$t/$t.docc" --additional-symbol-graph-dir "$graphs" --output-path "out/api-docs/$t.doccarchive" \
            --fallback-display-name "$t" --fallback-bundle-identifier "org.overparam.$t" --transform-for-static-hosting \
            --hosting-base-path "$t" --warnings-as-errors
        rm -rf "$graphs"
        echo "wrote out/api-docs/$t.doccarchive"
    done
done
