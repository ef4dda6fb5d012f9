#!/usr/bin/env bash
# The Python entry point's tests against the real binary (./dev.sh test runs this): a private
# virtual environment in .build/, the package installed from this checkout as a user would.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "./python[test]"
OVERPARAM_BIN="$PWD/.build/release/overparam" "$venv/bin/python" -m pytest -q python/tests
