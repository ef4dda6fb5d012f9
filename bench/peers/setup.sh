#!/usr/bin/env bash
# Installs the peer frameworks (PyTorch, JAX; CPU use only) into a venv outside the repo.
# Idempotent: does nothing if both already import. Override the location with PEERS_VENV.
set -euo pipefail
VENV="${PEERS_VENV:-/opt/peers-venv}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import torch, jax' 2>/dev/null; then
  echo "peers already installed in $VENV"
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install torch jax
