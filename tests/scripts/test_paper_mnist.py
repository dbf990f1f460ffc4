"""scripts/paper_mnist.py, the numpy reproduction of the paper's MNIST experiment: the TCL pipeline
(sawtooth + kernel + per-group cutoff) follows EqProp inside its window, and both methods learn on a small
real subset.

Uses the shared MNIST files (/work/shared/data/mnist) when present, else scikit-learn's 8x8 digits upscaled to
28x28, so it never skips.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tcl_circuits.learning.datasets import Dataset, mnist

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "paper_mnist.py"
MNIST_DIR = Path("/work/shared/data/mnist")
N_TRAIN, N_TEST = 300, 100


@pytest.fixture(scope="module")
def pm():
    """The script as a module (registered in sys.modules while in use: its dataclasses need that)."""
    spec = importlib.util.spec_from_file_location("paper_mnist_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with threadpool_limits(limits=1, user_api="blas"):
        yield module
    del sys.modules[spec.name]


def _digits_stand_in() -> Dataset:
    """scikit-learn digits, 8x8 upscaled x3 and padded to 28x28, as a 784-feature stand-in for MNIST."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((3, 3)))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).reshape(len(images), -1)
    x, y = images[: N_TRAIN + N_TEST], digits.target[: N_TRAIN + N_TEST].astype(int)
    return Dataset("digits28", x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:], tuple("0123456789"))


@pytest.fixture(scope="module")
def data() -> Dataset:
    if MNIST_DIR.is_dir():
        return mnist(MNIST_DIR, train=N_TRAIN, test=N_TEST)
    return _digits_stand_in()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_fast_pipeline_equals_the_literal_one(pm):
    saw = pm.sawtooth()
    rng = np.random.default_rng(0)
    signals = np.cumsum(rng.normal(size=(pm.PAUSE_NUM, 3000)) * rng.lognormal(0, 1.5, 3000), axis=0) + 5.0
    for cutoff in (0.01, 0.3, 3.0):
        literal = pm.tcl_reference(signals, saw, cutoff, -0.5)
        fast = pm.tcl_changes(signals[1:] - signals[0], saw, cutoff, -0.5)
        assert np.count_nonzero(literal) > 0
        np.testing.assert_allclose(fast, literal, rtol=1e-9, atol=1e-12 * np.abs(literal).max())


def test_sawtooth_window(pm):
    saw = pm.sawtooth()
    assert pm.transfer_gain(150, saw) == 0.0  # regime (i): below the window
    for contrast in (300, 600, 1000, 1700):  # regime (ii): ~2.2 x (s_clamped - s_free) / beta
        assert 2.0 <= pm.transfer_gain(contrast, saw) <= 2.3
    assert -0.15 < pm.transfer_gain(3000, saw) < 0.0  # regime (iii): the slow ramp cancels the fast one


@pytest.mark.parametrize("beta", [0.5, -0.5])
def test_tcl_update_follows_eqprop_inside_the_window(pm, data, beta):
    params = pm.init_params(np.random.default_rng(0))
    x, target = data.x_train[:20], pm.onehot(data.y_train[:20])
    h, y = pm.free_phase(params, x, np.zeros((20, pm.HIDDEN)), np.zeros((20, pm.CLASSES)))
    eqprop = pm.eqprop_estimate(params, x, h, y, target, beta)
    tcl = pm.tcl_estimate(params, x, h, y, target, beta, pm.sawtooth())
    for group, cutoff in pm.CUTOFFS.items():
        contrast = np.abs(eqprop[group] * beta)  # |dE/dtheta(nudged) - dE/dtheta(free)|
        inside = (contrast >= 300 * cutoff) & (contrast <= 1700 * cutoff)
        if group == "b_out" and not inside.any():  # only 10 parameters: the window may hold none of them
            continue
        assert inside.mean() > 0.02, group
        assert _cosine(eqprop[group][inside], tcl[group][inside]) > 0.9, group
        ratio = np.median(tcl[group][inside] / eqprop[group][inside])
        assert 1.7 < ratio < 2.4, (group, ratio)
        if group != "b_out":  # all parameters of the group, with the paper's cutoffs
            assert _cosine(eqprop[group], tcl[group]) > 0.5, group


def test_short_run_learns_with_both_methods(pm, data, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pm, "mnist", lambda *args, **kwargs: data)
    out = tmp_path / "out"
    code = pm.main(["--epochs", "2", "--train", str(N_TRAIN), "--test", str(N_TEST), "--out", str(out)])
    assert code == 0
    with (out / "errors.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["epoch"], r["method"]) for r in rows] == [
        (str(e), m) for e in range(3) for m in ("eqprop", "tcl")
    ]
    first = {r["method"]: r for r in rows if r["epoch"] == "0"}
    assert first["eqprop"]["validation_error"] == first["tcl"]["validation_error"]  # same start
    last = {r["method"]: r for r in rows if r["epoch"] == "2"}
    for method, row in last.items():
        assert float(row["validation_error"]) < 0.7, method
        assert float(row["train_error"]) < 0.8, method
    assert (out / "errors.png").stat().st_size > 10_000
    assert "final tcl: train error" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_code_2(pm, data, tmp_path, monkeypatch, capsys):
    assert pm.main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing" in err
    assert not (tmp_path / "out").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep")
    monkeypatch.setattr(pm, "mnist", lambda *args, **kwargs: data)
    assert pm.main(["--epochs", "1", "--out", str(busy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.txt" in err
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    with pytest.raises(SystemExit) as exit_info:
        pm.main(["--epochs", "0"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
