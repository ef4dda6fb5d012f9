"""The Python entry point against the real binary: the same numbers as the CLI run by hand, on
data specs, on NumPy arrays (compared with the CLI on files NumPy wrote), and a store read back."""
import json
import os
import subprocess

import numpy as np
import pytest

import overparam as op


def cli(*args):
    """The binary run by hand, as a user would from a shell."""
    out = subprocess.run([op.find_binary(), *args, "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def without_time(r):
    """A result without its wall-clock fields, which differ between two runs."""
    if isinstance(r, dict):
        return {k: without_time(v) for k, v in r.items() if k != "seconds"}
    if isinstance(r, list):
        return [without_time(v) for v in r]
    return r


EMC = dict(optimizer="adam", lr=0.05, batch_size=0, steps=300, start=16, seeds=2)


def test_emc_on_a_spec_is_the_clis():
    r = op.emc("mlp:4-6-2:tanh", data="gaussian:80,4,2", **EMC)
    by_hand = cli("emc", "--arch", "mlp:4-6-2:tanh", "--data", "gaussian:80,4,2", "--optimizer", "adam", "--lr", "0.05",
                  "--batch-size", "0", "--steps", "300", "--start", "16", "--seeds", "2", "--no-store")
    assert without_time(r) == without_time(by_hand)
    assert r["parameters"] == 44 and len(r["emc_per_seed"]) == 2 and r["status"] in ("measured", "budget-bounded", "censored")


def test_emc_on_arrays_is_the_clis_on_numpys_files(tmp_path):
    g = np.random.default_rng(0)
    x = g.normal(size=(60, 3))
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(int)
    r = op.emc("mlp:3-5-2:relu", x=x, y=y, **EMC)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    by_hand = cli("emc", "--arch", "mlp:3-5-2:relu", "--data", f"npy:{tmp_path / 'x.npy'},{tmp_path / 'y.npy'}", "--optimizer", "adam",
                  "--lr", "0.05", "--batch-size", "0", "--steps", "300", "--start", "16", "--seeds", "2", "--no-store")
    strip = lambda d: {k: v for k, v in without_time(d).items() if k != "data"}   # the temporary files' names differ
    assert strip(r) == strip(by_hand)
    assert r["data_size"] == 60


def test_rank_matches_the_closed_form():
    r = op.rank("mlp:5-20-1:tanh:nobias", "teacher:3")
    assert r["model_rank"] == 18 and r["parameters"] == 120


def test_adapt_kernel_on_arrays(tmp_path):
    g = np.random.default_rng(1)
    x = g.uniform(0, 10, size=(300, 2))
    y = np.sin(1.5 * x[:, 0]) + 0.3 * g.normal(size=300)
    r = op.adapt_kernel(x=x, y=y, cutoff=4, splits=2, t_max=100)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    by_hand = cli("adapt", "kernel", "--data", f"npy:{tmp_path / 'x.npy'},{tmp_path / 'y.npy'}", "--cutoff", "4", "--splits", "2",
                  "--t-max", "100", "--no-store")
    assert without_time(r) == without_time(by_hand)
    methods = {m["method"]: m for m in r["methods"]}
    assert set(methods) == {"fixed", "adaptive D=0", "adaptive D=1", "adaptive D=2"}
    assert all(len(m["test_error"]["per_split"]) == 2 for m in methods.values())


def test_a_store_reads_back_as_tables(tmp_path):
    store = tmp_path / "s.sqlite"
    r = op.emc("mlp:4-6-2:tanh", data="gaussian:80,4,2", store=store, **EMC)
    op.adapt_rates(store=store, p=1, q=2, gamma=1.5, depths=[0], n=[200, 400], reps=2)
    tables = op.read_store(store)
    assert set(tables) == {"emc", "generalization", "recovery", "adapt"}
    emc = tables["emc"]
    assert len(emc) == r["runs"] and set(emc["setting:arch"]) == {"mlp:4-6-2:tanh"} and len(tables["recovery"]) == 0
    assert len(tables["adapt"]) == 4   # 2 sizes × 2 repetitions
    plain = op.read_store(store, frames=False)
    assert plain["emc"][0]["setting:optimizer"] == "adam"


@pytest.mark.skipif(not os.environ.get("OVERPARAM_TEST_POSTGRES"), reason="no PostgreSQL server (./dev.sh test starts one)")
def test_a_postgres_store_reads_back_without_a_python_driver():
    url = os.environ["OVERPARAM_TEST_POSTGRES"]
    arch = "mlp:4-7-2:tanh"   # an experiment of its own in the shared test database
    r = op.emc(arch, data="gaussian:80,4,2", store=url, **EMC)
    emc = op.read_store(url, kinds=["emc"])["emc"]
    mine = emc[emc["setting:arch"] == arch]
    assert len(mine) == r["runs"] and set(mine["seed"]) == {0, 1}


def test_errors_are_the_clis_message():
    with pytest.raises(op.OverparamError, match="bogus"):
        op.emc("mlp:4-6-2:bogus", data="gaussian:80,4,2")
    with pytest.raises(op.OverparamError, match="either data"):
        op.emc("mlp:4-6-2:tanh")
    with pytest.raises(op.OverparamError, match="non-negative integers"):
        op.emc("mlp:1-2-2:relu", x=np.zeros((3, 1)), y=np.array([0.5, 1, 0]))
