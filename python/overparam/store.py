"""Reading a result store (SQLite file or postgres:// URL) through `overparam export`, which
opens it read-only and knows every schema version."""
import json

from ._binary import run

KINDS = ("emc", "generalization", "recovery", "adapt")


def _flatten(row):
    """A row with its experiment's settings as columns: config {'arch': …} → 'setting:arch'."""
    out = {}
    for key, value in row.items():
        if key == "config" and isinstance(value, dict):
            out.update({f"setting:{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def read_store(store="overparam-results.sqlite", kinds=KINDS, frames=True):
    """Every kind of result in `store`, one table each: {'emc': …, 'generalization': …,
    'recovery': …, 'adapt': …}. A table is a pandas DataFrame when pandas is installed and
    `frames` is true, else a list of dicts; each row carries its experiment's settings as
    'setting:NAME' columns."""
    tables = {}
    for kind in kinds:
        rows = [_flatten(r) for r in json.loads(run("export", "--store", str(store), "--results", kind, "--json"))]
        tables[kind] = rows
    if frames:
        try:
            import pandas as pd
        except ImportError:
            return tables
        return {k: pd.DataFrame(v) for k, v in tables.items()}
    return tables
