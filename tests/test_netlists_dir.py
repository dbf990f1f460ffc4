"""Every reviewed example in netlists/ runs standalone in ngspice batch mode and prints what it claims."""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.config import SawtoothConfig
from tcl_circuits.learning.rules import linear_contrasts
from tcl_circuits.spice.writer import check_deck

pytestmark = pytest.mark.ngspice
NETLISTS = Path(__file__).parent.parent / "netlists"


def _measures(name: str) -> dict[str, float]:
    deck = NETLISTS / name
    check_deck(deck.read_text())
    run = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True, timeout=120)
    assert "Error" not in run.stdout + run.stderr
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+)\s+=\s+(\S+)", run.stdout, re.M)}


def test_every_example_is_listed_in_the_readme():
    readme = (NETLISTS / "README.md").read_text()
    for deck in NETLISTS.glob("*.cir"):
        assert f"`{deck.name}`" in readme


def test_single_cell_regimes():
    m = _measures("single_cell_regimes.cir")
    assert m["acc_below"] == 0.0
    assert -0.1 < m["acc_window"] < -0.095
    assert abs(m["acc_above"]) < 0.01
    assert m["u_peak_window"] == pytest.approx(5e-6 * 1e-3 / 1e-4, rel=0.01)  # tau_k * A / tau_rise


def test_triangle_accumulators_are_the_contrasts(triangle):
    m = _measures("triangle_tcl.cir")
    spec = network.from_graph(triangle)
    contrast = linear_contrasts(spec, spec.input_voltage_v[None], spec.target_v[None], SawtoothConfig())[0]
    acc = np.array([m[f"acc{e}"] for e in range(spec.n_edges)])
    # well inside the window (2e-4, 1.8e-3); at 2.16e-4 (edge 1) the concave ramp drops below theta part-way
    inside = (np.abs(contrast) > 3e-4) & (np.abs(contrast) < 1.8e-3)
    assert inside.sum() == 3
    assert 0 < acc[1] / (-100.0 * contrast[1]) < 0.8
    ratio = acc[inside] / (-100.0 * contrast[inside])
    assert np.all((ratio > 0.8) & (ratio < 1.0)), ratio


def test_lattice_example_has_learning_and_silent_edges():
    m = _measures("lattice3x3_tcl.cir")
    acc = np.array([m[f"acc{e}"] for e in range(12)])
    assert np.sum(acc != 0) >= 3 and np.sum(acc == 0) >= 1
