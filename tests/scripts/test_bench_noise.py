"""scripts/bench_noise.py runs its short check and reports consistent rows (no timing asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_noise.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_noise_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_quick_check_times_a_noisy_and_a_noiseless_cycle_side_by_side(bench, capsys):
    rows = bench.main(["--quick"])
    assert [row["network"] for row in rows] == ["lattice:8x8"]
    row = rows[0]
    assert row["edges"] == 112
    # the noisy grid holds every noise knot (tau_K / 10 apart): far more points than the noiseless one
    assert row["points_noisy"] > 10 * row["points_quiet"] > 0
    assert min(row["quiet_s"], row["noisy_s"], row["draw_s"]) > 0
    assert row["ratio"] == pytest.approx(row["noisy_s"] / row["quiet_s"])
    assert row["floor"] == pytest.approx(1 + row["draw_s"] / row["quiet_s"])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:2] == ["network", "edges"] and printed[1].startswith("lattice:8x8")


def test_bad_arguments_are_refused_in_one_line(bench, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--cycles", "0"])
    assert exit_info.value.code == 2
    assert "--cycles must be >= 1" in capsys.readouterr().err
