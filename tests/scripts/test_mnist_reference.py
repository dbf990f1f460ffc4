"""scripts/mnist_reference.py: the digital yardstick for the circuit's MNIST accuracy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mnist_reference.py"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("mnist_reference_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_small_mlp_learns_the_shared_split_and_prints_one_row_per_seed(ref, capsys):
    argv = "--train 600 --test 200 --hidden 20 --epochs 40 --seeds 0 1 --activations relu".split()
    assert ref.main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "784-20-10 MLP, 600 / 200 images, 40 epochs"
    rows = [line.split() for line in out[2:]]
    assert [row[:2] for row in rows] == [["relu", "0"], ["relu", "1"]]
    for row in rows:
        test, train = (float(value.rstrip("%")) for value in row[2:])
        # far above chance (10 %; 70 % measured), and it fits its training images better
        assert 50 < test <= train


def test_bad_input_is_one_line_and_exit_2(ref, capsys):
    with pytest.raises(SystemExit) as stop:
        ref.main(["--hidden", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == "error: --hidden must be at least 1, got 0\n"
    assert ref.main(["--data", "/no/such/folder"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --data /no/such/folder: no such folder")
