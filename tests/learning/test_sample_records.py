"""The learners' per-sample records as samples.jsonl holds them: the keys and their order of the records written
before the records were typed, and only what was measured."""

import dataclasses
import json

import numpy as np

from tcl_circuits.kernels.window import WindowOccupancy
from tcl_circuits.learning.compare import Alignment
from tcl_circuits.learning.memristor import MemristorSample
from tcl_circuits.learning.resistor import ResistorSample
from tcl_circuits.learning.rules import RuleStep
from tcl_circuits.learning.writes import WriteOutcome

OCCUPANCY = WindowOccupancy(frac_below=0.25, frac_window=0.5, frac_above=0.25)


def test_a_tcl_sample_with_levels_a_tracked_window_and_a_check_against_ngspice():
    step = RuleStep(
        delta_g_s=np.ones(3),
        dc_dg_estimate=np.ones(3),
        energy_network_j=2e-6,
        energy_feedback_j=4e-15,
        block_energy_j={"network": 2e-6, "clamp": 2e-9, "feedback_rk": 4e-15},
        occupancy=OCCUPANCY,
        frac_updated=0.4,
        time_points=221.0,
    )
    sample = ResistorSample(
        step=step,
        update_norm_s=1e-4,
        write=WriteOutcome(clipped_edges=1, frac_writes_lost=0.6, write_pulses=12),
        threshold_v=7e-5,
        beta_max=0.5,
        verify_update_rel_error=0.006,
    )
    record = sample.as_record()
    assert list(record) == [
        "energy_network_j",
        "energy_feedback_j",
        "update_norm_s",
        "clipped_edges",
        "write_pulses",
        "frac_writes_lost",
        "block_energy_network_j",
        "block_energy_clamp_j",
        "block_energy_feedback_rk_j",
        "frac_below",
        "frac_window",
        "frac_above",
        "frac_updated",
        "time_points",
        "threshold_v",
        "beta_max",
        "verify_update_rel_error",
    ]
    assert record["block_energy_clamp_j"] == 2e-9 and record["clipped_edges"] == 1
    assert json.dumps(record["time_points"]) == "221.0"  # a float, as records always held it


def test_a_contrastive_sample_records_only_what_it_measured():
    step = RuleStep(
        delta_g_s=np.ones(3), dc_dg_estimate=np.ones(3), energy_network_j=2e-6, energy_feedback_j=0.0
    )
    sample = ResistorSample(
        step=step,
        update_norm_s=1e-4,
        write=WriteOutcome(clipped_edges=0),
        alignment=Alignment(cos_contrastive=1.0, cos_gradient=0.99),
    )
    assert sample.as_record() == {
        "energy_network_j": 2e-6,
        "energy_feedback_j": 0.0,
        "update_norm_s": 1e-4,
        "clipped_edges": 0,
        "cos_contrastive": 1.0,
        "cos_gradient": 0.99,
    }


def test_a_memristor_sample_bills_its_blocks_and_keeps_its_states_as_a_list():
    sample = MemristorSample(
        loss=5e-4,
        energy_devices_j=2e-11,
        energy_clamp_j=1e-11,
        energy_feedback_j=6e-17,
        energy_write_j=3e-10,
        update_norm_s=7e-18,
        occupancy=OCCUPANCY,
        state_min=0.1,
        state_max=0.6,
        edges_at_bounds=0,
    )
    assert "chunk_loop_gain" not in sample.as_record() and "states" not in sample.as_record()
    record = dataclasses.replace(sample, chunk_loop_gain=0.23, states=np.array([0.1, 0.6]))
    found = record.as_record()
    assert list(found) == [
        "loss",
        "energy_network_j",
        "energy_feedback_j",
        "block_energy_network_j",
        "block_energy_clamp_j",
        "block_energy_feedback_rk_j",
        "block_energy_write_j",
        "update_norm_s",
        "frac_below",
        "frac_window",
        "frac_above",
        "x_min",
        "x_max",
        "edges_at_bounds",
        "chunk_loop_gain",
        "states",
    ]
    assert found["energy_network_j"] == 3e-11 and found["block_energy_network_j"] == 2e-11
    assert found["block_energy_clamp_j"] == 1e-11 and found["block_energy_write_j"] == 3e-10
    assert found["x_min"] == 0.1 and found["states"] == [0.1, 0.6]  # a list: samples.csv leaves it out
