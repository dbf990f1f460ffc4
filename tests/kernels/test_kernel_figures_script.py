"""scripts/kernel_figures.py refuses its bad options in one line before computing anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kernel_figures.py"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n-kernels", "2"], "--n-kernels must be at least 200, got 2"),
        (["--n-kernels", "0"], "--n-kernels must be at least 200"),
        (["--n-kernels", "1_0"], "--n-kernels: expected a whole number"),
        (["--seed", "-1"], "--seed must be >= 0"),
    ],
)
def test_kernel_figures_refuses_too_few_kernels_in_one_line(argv, message, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("kernel_figures_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as stop:
        module.main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
