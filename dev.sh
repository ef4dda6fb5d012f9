#!/usr/bin/env bash
# Overparam's one entry point for people and CI:
#   ./dev.sh run    install what is missing, build in release mode, run the main job
#   ./dev.sh test   install what is missing, build, run the whole test suite (with a private
#                   PostgreSQL server on loopback for the work queue's tests)
set -euo pipefail
cd "$(dirname "$0")"

packages=(libopenblas-dev liblapacke-dev zlib1g-dev libsqlite3-dev dataset-fashion-mnist)
# The tests also need a real PostgreSQL server (the work queue's tests start a private one), and
# Python with venv for the Python entry point's tests.
[ "${1:-run}" = test ] && packages+=(postgresql python3 python3-venv)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

case "${1:-run}" in
run)
    swift build -c release
    .build/release/overparam reproduce --quick --output out/reproduce --store out/results.sqlite
    ;;
test)
    swift build -c release --build-tests
    source Tests/Distributed/postgres.sh
    start_test_postgres
    # The tests' scratch folders go to a folder of this run's own, removed when they pass
    # (kept after a failure, to look into).
    scratch=$(mktemp -d /tmp/overparam-tests.XXXXXX)
    TMPDIR="$scratch" swift test -c release --skip-build
    rm -rf "$scratch"
    Tests/Distributed/run.sh .build/release/overparam "$OVERPARAM_TEST_POSTGRES"
    python/test.sh
    examples/run-custom-model.sh
    docs/api-docs.sh
    ;;
*)
    echo "usage: ./dev.sh [run|test]" >&2
    exit 2
    ;;
esac
