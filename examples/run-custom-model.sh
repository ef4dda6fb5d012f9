#!/usr/bin/env bash
# Builds and runs examples/CustomModel against Overparam as an outside package would: by version,
# from a git repository (a clone of this checkout's HEAD, tagged 0.1.0), so SwiftPM applies its
# rules for dependencies — among them, no unsafe build flags. ./dev.sh test runs it. What it builds
# is the last commit: uncommitted changes are not in the clone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/overparam"
git -C "$work/overparam" tag 0.1.0
cp -R "$root/examples/CustomModel" "$work/CustomModel"
cd "$work/CustomModel"
# A debug build: this checks that the package builds and runs as a dependency, not its speed.
OVERPARAM_URL="file://$work/overparam" swift build -q
out=$(.build/debug/CustomModel quick)
echo "$out"
grep -Eq "^EMC of res-mlp 8-16-4 \(516 parameters\): \[.*\] over seeds 0 \((measured|budget-bounded|censored|mixed)\)" <<<"$out"
grep -q "^model rank of res-mlp 8-16-1 at a random point: " <<<"$out"
