"""A design trial's objectives: the energy per edge by block, the relative loss."""

from __future__ import annotations

import pytest

from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.physics.cell_budget import on_process_supply, quiescent_energy_j
from tcl_circuits.studies.design_trial import energy_per_edge_j, relative_loss, violation
from tcl_circuits.technology.model import technology


def test_the_energy_per_edge_adds_the_bias_the_readout_a_decision_and_the_network():
    tech = technology("cmos65+reram")
    config = RunConfig()
    summary = {"edges": 24, "energy_per_sample_j": 2.4e-9}
    blocks = energy_per_edge_j(config, tech, summary, "latch")
    analog = on_process_supply(tech.cmos, config.cell.analog)
    assert analog.supply_v == pytest.approx(0.6)
    bias = quiescent_energy_j(analog, 24, config.drive.period_s)
    # 2 rails x 0.6 V x 50 uA x 0.91 ms for the multiplier of one edge
    assert blocks["multiplier_bias"] == pytest.approx(2 * 0.6 * 50e-6 * 9.1e-4)
    assert blocks["threshold_bias"] == pytest.approx(bias["threshold"] / 24)
    assert blocks["readout"] == pytest.approx(10e-15 * 2**10)  # 10 fJ a step, 10 bits
    assert blocks["comparator"] == pytest.approx(50e-15)  # one latch decision
    assert blocks["network_and_clamps"] == pytest.approx(1e-10)
    parts = [value for block, value in blocks.items() if block != "total"]
    assert blocks["total"] == pytest.approx(sum(parts))


def test_the_relative_loss_is_the_loss_ratio_or_one_plus_the_accuracy_lost():
    assert relative_loss({"final_test_loss": 3e-3}, {"final_test_loss": 2e-3}) == pytest.approx(1.5)
    noisy = {"final_test_loss": 1.0, "final_test_accuracy": 0.7}
    ideal = {"final_test_loss": 1.0, "final_test_accuracy": 0.9}
    assert relative_loss(noisy, ideal) == pytest.approx(1.2)


def test_a_violation_is_minus_log_margin():
    assert violation(1.0) == 0.0 and violation(10.0) == -1.0 and violation(0.01) == pytest.approx(2.0)
    assert violation(0.0) > violation(1e-20)
