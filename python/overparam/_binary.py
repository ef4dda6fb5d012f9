"""Finding and running the `overparam` binary."""
import json
import os
import shutil
import subprocess
from pathlib import Path


class OverparamError(RuntimeError):
    """The binary exited with an error; the message is what it printed on stderr."""


def find_binary():
    """The `overparam` executable: $OVERPARAM_BIN, else `overparam` on PATH, else the release
    build of the checkout this package was installed from (…/.build/release/overparam)."""
    candidates = []
    if os.environ.get("OVERPARAM_BIN"):
        candidates.append(Path(os.environ["OVERPARAM_BIN"]))
    on_path = shutil.which("overparam")
    if on_path:
        candidates.append(Path(on_path))
    here = Path(__file__).resolve()
    candidates += [p / ".build" / "release" / "overparam" for p in here.parents]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    raise OverparamError("no overparam binary: set OVERPARAM_BIN, put it on PATH, or build the checkout "
                         "(swift build -c release)")


def options(**kwargs):
    """Keyword arguments as command-line options: batch_size=0 → ['--batch-size', '0'];
    True → the flag alone; False and None → nothing; lists and tuples → comma-separated."""
    out = []
    for key, value in kwargs.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out += [flag, ",".join(str(v) for v in value)]
        else:
            out += [flag, str(value)]
    return out


def run(*args, cwd=None):
    """Runs `overparam ARGS…`; returns its standard output, or raises OverparamError with its
    error message."""
    p = subprocess.run([find_binary(), *[str(a) for a in args]], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        message = p.stderr.strip().splitlines()
        raise OverparamError(message[-1] if message else f"overparam exited with status {p.returncode}")
    return p.stdout


def run_json(*args, cwd=None):
    """Runs `overparam ARGS… --json` and returns the parsed result."""
    return json.loads(run(*args, "--json", cwd=cwd))
