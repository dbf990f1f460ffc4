"""A design trial's objectives: the energy per edge by block, the relative loss."""

from __future__ import annotations

import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.studies.design_trial import energy_per_edge_j, relative_loss, violation


def test_the_energy_per_edge_is_the_noisy_runs_whole_bill_per_edge():
    bill = {
        "total": 2.4e-9,
        "per_edge": 1e-10,
        "by_block": {"network": 2.0e-9, "quiescent": 3.9e-10, "writes": 1e-11},
        "unpriced": [],
    }
    blocks = energy_per_edge_j({"edges": 24, "energy_per_update_j": bill})
    assert blocks["total"] == pytest.approx(1e-10) and blocks["network"] == pytest.approx(2.0e-9 / 24)
    assert sum(v for k, v in blocks.items() if k != "total") == pytest.approx(blocks["total"])
    with pytest.raises(ConfigError, match="writes unpriced"):
        energy_per_edge_j({"edges": 24, "energy_per_update_j": {**bill, "unpriced": ["writes"]}})


def test_the_relative_loss_is_the_loss_ratio_or_one_plus_the_accuracy_lost():
    assert relative_loss({"final_test_loss": 3e-3}, {"final_test_loss": 2e-3}) == pytest.approx(1.5)
    noisy = {"final_test_loss": 1.0, "final_test_accuracy": 0.7}
    ideal = {"final_test_loss": 1.0, "final_test_accuracy": 0.9}
    assert relative_loss(noisy, ideal) == pytest.approx(1.2)


def test_a_violation_is_minus_log_margin():
    assert violation(1.0) == 0.0 and violation(10.0) == -1.0 and violation(0.01) == pytest.approx(2.0)
    assert violation(0.0) > violation(1e-20)


def test_a_design_must_learn_nearly_as_well_as_todays_default():
    from tcl_circuits.studies.design_trial import learns_margin

    assert learns_margin({"loss_ratio": 0.5}, None) == pytest.approx(0.8 / 0.5)
    reference = {"loss_ratio": 0.12}
    assert learns_margin({"loss_ratio": 0.15}, reference) == pytest.approx(1.5 * 0.12 / 0.15)  # passes
    assert learns_margin({"loss_ratio": 0.309}, reference) < 1  # a cheap design that barely learns fails
    classified = {"loss_ratio": 0.1, "final_test_accuracy": 0.964}
    assert learns_margin({"loss_ratio": 0.2, "final_test_accuracy": 0.954}, classified) == pytest.approx(2.0)
    assert learns_margin({"loss_ratio": 0.2, "final_test_accuracy": 0.97}, classified) == float("inf")
