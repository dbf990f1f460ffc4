"""One update's energy bill by block: each priced block against a hand computation from the preset numbers,
pulses counted exactly, and the blocks a bill without a technology leaves unpriced."""

import numpy as np
import pytest

from tcl_circuits.config import CellKind, FeedbackCellConfig, SawtoothConfig
from tcl_circuits.learning.rules import calibrate_cell
from tcl_circuits.network import from_graph
from tcl_circuits.network.builders import build
from tcl_circuits.physics.energy_bill import update_bill, write_pulses
from tcl_circuits.technology.model import technology

DRIVE = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
MEASURED = {"network": 2e-9, "clamps": 3e-11, "feedback_rk": 1e-15}


def _designs(kind=CellKind.BEHAVIOURAL):
    """A 2x2 lattice's cells calibrated on one sample, as built with ``kind`` and as analog cells."""
    spec = from_graph(build("lattice:2x2", seed=1))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, len(spec.input_nodes)), rng.uniform(-0.3, 0.3, len(spec.output_nodes))
    base = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=20.0)
    return (
        spec,
        calibrate_cell(base, spec, x, y, DRIVE),
        calibrate_cell(base.replace(kind=CellKind.ANALOG), spec, x, y, DRIVE),
    )


def test_pulses_are_each_edges_change_over_its_step_rounded_up():
    span = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    step = 1.0 / 100  # 100 levels over a span of 1 S
    delta = np.array([2.5 * step, -2.5 * step, 2 * 3 * step, 0.0, 7 * step])
    # 2.5 steps -> 3 (either direction); 3 steps of a device twice as wide -> 3; none -> 0; 7 steps exactly -> 7
    assert write_pulses(delta, span, 100) == 3 + 3 + 3 + 0 + 7
    quantised = np.array(
        [k * (1.0 / 100) for k in (1, 2, 3)]
    )  # float steps: 0.01 * 3 / 0.01 = 3.0000000000000004
    assert write_pulses(quantised, np.ones(3), 100) == 6
    assert write_pulses(np.array([1e-9, 0.0, -0.3]), np.ones(3), 0) == 2  # analog: one pulse per changed edge


def test_every_block_is_priced_from_the_preset_numbers():
    spec, design, analog = _designs()
    tech = technology("cmos65+reram")
    edges, period = spec.n_edges, DRIVE.period_s
    bill = update_bill(
        MEASURED,
        edges=edges,
        period_s=period,
        design=design,
        tech=tech,
        comparator="auto_zeroed",
        pulses_per_update=12.5,
    )
    blocks = bill.by_block_j
    assert bill.unpriced == [] and bill.technology == "cmos65+reram"
    assert {k: blocks[k] for k in MEASURED} == MEASURED
    assert blocks["dynamic"] == pytest.approx(1e-12 * edges)  # one auto-zeroed decision per edge
    assert blocks["readout"] == pytest.approx(10e-15 * 2**10 * edges)  # a 10-bit read at 10 fJ a step
    assert blocks["writes"] == pytest.approx(12.5 * 3.2e-12)
    # the design's bias currents (the analog cell's defaults: 50, 20 and 20 uA) on both rails of +-0.6 V
    per_edge_w = 2 * 0.6 * (50e-6 + 20e-6 + 20e-6)
    assert blocks["quiescent"] == pytest.approx(per_edge_w * edges * period, rel=1e-12)
    assert bill.total_j == pytest.approx(sum(blocks.values()), rel=1e-15)
    assert bill.per_edge_j == pytest.approx(bill.total_j / edges)
    assert bill.time_per_update_s == period
    latch = update_bill(
        MEASURED,
        edges=edges,
        period_s=period,
        design=design,
        tech=tech,
        comparator="latch",
        pulses_per_update=0,
    )
    assert latch.by_block_j["dynamic"] == pytest.approx(50e-15 * edges) and latch.by_block_j["writes"] == 0


def test_without_a_technology_the_priced_blocks_are_named_and_the_total_is_the_measured_part():
    spec, design, _ = _designs()
    bill = update_bill(
        MEASURED,
        edges=spec.n_edges,
        period_s=DRIVE.period_s,
        design=design,
        tech=None,
        comparator="auto_zeroed",
        pulses_per_update=None,
    )
    assert bill.unpriced == ["quiescent", "dynamic", "readout", "writes"]
    assert bill.total_j == pytest.approx(sum(MEASURED.values()))
    summary = bill.summary()
    assert summary["by_block"]["writes"] is None and summary["technology"] is None
    assert set(summary) == {"total", "per_edge", "by_block", "unpriced", "pulses_per_update", "technology"}
    # a rule without cells bills no cell blocks; the writes still need pricing
    gradient = update_bill({"network": 1e-9}, edges=4, period_s=1e-3, design=None, tech=None,
                           comparator="auto_zeroed", pulses_per_update=None)  # fmt: skip
    assert gradient.unpriced == ["writes"] and gradient.total_j == 1e-9


def test_a_simulated_analog_cell_holds_its_quiescent_energy_and_a_memristors_writes_are_measured():
    spec, _, analog = _designs()
    stages = {**MEASURED, "multiplier": 1e-9, "threshold": 2e-9, "integrator": 3e-9}
    bill = update_bill(
        stages,
        edges=spec.n_edges,
        period_s=DRIVE.period_s,
        design=analog,
        tech=technology("cmos65+ideal"),
        comparator="auto_zeroed",
        pulses_per_update=4.0,
    )
    assert "quiescent" not in bill.by_block_j and bill.unpriced == []
    assert bill.by_block_j["writes"] == 0.0  # the ideal device's pulses are free
    memristor = update_bill({**MEASURED, "writes": 5e-10}, edges=4, period_s=1e-3, design=analog, tech=None,
                            comparator="auto_zeroed", pulses_per_update=None)  # fmt: skip
    assert memristor.by_block_j["writes"] == 5e-10 and memristor.unpriced == [
        "quiescent",
        "dynamic",
        "readout",
    ]
