"""Overparam from Python: the instruments of the `overparam` command-line tool on NumPy arrays
or data files, with results as dicts (and stores as pandas DataFrames where pandas is installed).

Every function runs the real binary (found by `find_binary`) with `--json` and returns what it
printed, parsed; keyword arguments become options (`batch_size=0` → `--batch-size 0`, `True` →
a flag, lists → comma-separated). Nothing is computed in Python, so the numbers are the CLI's.
"""
from ._binary import OverparamError, find_binary, run, run_json
from .instruments import adapt_kernel, adapt_rates, emc, rank, recover
from .store import read_store

__all__ = ["OverparamError", "find_binary", "run", "run_json", "emc", "rank", "recover", "adapt_rates", "adapt_kernel",
           "read_store"]
