"""The instruments: EMC, model rank, recovery, adaptivity."""
import os
import tempfile

from ._binary import OverparamError, options, run_json


def _store(store):
    """store=None keeps nothing on disk (--no-store); a path or postgres:// URL is used as given."""
    return ["--no-store"] if store is None else ["--store", str(store)]


def _arrays(x, y, folder, integer_labels):
    """Writes x and y as X.npy and Y.npy in `folder` for `--data npy:X.npy,Y.npy`."""
    try:
        import numpy as np
    except ImportError as e:  # pragma: no cover - numpy is what arrays need
        raise OverparamError("arrays as inputs need NumPy (pip install numpy)") from e
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim < 1 or y.ndim != 1 or len(x) != len(y):
        raise OverparamError(f"x needs one row per sample and y one value per row; got shapes {x.shape} and {y.shape}")
    if integer_labels:
        if not np.all(np.equal(np.mod(y, 1), 0)) or np.any(y < 0):
            raise OverparamError("labels must be non-negative integers")
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float64)
    xs, ys = os.path.join(folder, "X.npy"), os.path.join(folder, "Y.npy")
    np.save(xs, x)
    np.save(ys, y)
    return f"npy:{xs},{ys}"


def _with_data(data, x, y, integer_labels, body):
    if (data is None) == (x is None):
        raise OverparamError("give either data='…' (a data spec or file) or the arrays x and y")
    if data is not None:
        return body(data)
    with tempfile.TemporaryDirectory(prefix="overparam-") as folder:
        return body(_arrays(x, y, folder, integer_labels))


def emc(arch, data=None, x=None, y=None, store=None, **kwargs):
    """Effective model complexity of `arch` on `data` (a spec such as 'digits' or
    'csv:file.csv') or on arrays x (samples × features) and y (integer labels): the result of
    `overparam emc --json`. Options as keywords, e.g. optimizer='adam', lr=0.01, batch_size=0,
    steps=1000, seeds=3, condition='random-labels'."""
    return _with_data(data, x, y, True, lambda spec: run_json("emc", "--arch", arch, "--data", spec, *_store(store), *options(**kwargs)))


def rank(arch, target, **kwargs):
    """The model rank of `arch` at `target` (`overparam rank --json`)."""
    return run_json("rank", "--arch", arch, "--target", target, *options(**kwargs))


def recover(store=None, **kwargs):
    """A recovery grid (`overparam recover --json`), e.g. preset='fig3', method='gd-adaptive'."""
    return run_json("recover", *_store(store), *options(**kwargs))


def adapt_rates(store=None, **kwargs):
    """Rates in the sequence model (`overparam adapt rates --json`), e.g. p=1, q=2, gamma=1.5,
    depths=[0, 2], n=[500, 1000, 2000], reps=8."""
    return run_json("adapt", "rates", *_store(store), *options(**kwargs))


def adapt_kernel(data=None, x=None, y=None, store=None, **kwargs):
    """The adaptive kernel (`overparam adapt kernel --json`): on a regression data set (a
    'csv:…' spec, or arrays x of samples × inputs and real targets y), or, with neither, the
    paper's sine target (Fig. 5)."""
    if data is None and x is None:
        return run_json("adapt", "kernel", *_store(store), *options(**kwargs))
    return _with_data(data, x, y, False,
                      lambda spec: run_json("adapt", "kernel", "--data", spec, *_store(store), *options(**kwargs)))
