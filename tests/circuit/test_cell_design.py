"""CellDesign: what the compiler builds, resolved once from the configuration and the calibration."""

import json

import numpy as np
import pytest

from tcl_circuits.checked import from_dict, to_dict
from tcl_circuits.circuit.cell_design import Calibration, CellDesign, as_design, fixed_design, resolve
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import CellKind, FeedbackCellConfig, SawtoothConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.network import build, from_graph

DRIVE = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
GROUPS = ("w1", "w1", "w2", "w2", "w2")


def test_the_design_draws_each_mismatch_on_its_own_seeded_stream():
    asked = FeedbackCellConfig(
        tau_k_s=5e-7, spread_r_k=0.1, spread_gain=0.2, spread_offset_v=1e-6, spread_seed=4
    )
    design = resolve(asked, Calibration(1e-5), DRIVE, GROUPS, outputs=2)
    z = [np.random.default_rng([4, stream]).standard_normal(5) for stream in range(5)]
    np.testing.assert_allclose(design.r_k_ohm, 1e3 * np.exp(0.1 * z[0]))
    np.testing.assert_allclose(design.c_k_f, np.full(5, 5e-10))  # no C_K spread asked: its stream unused
    np.testing.assert_allclose(design.gain_a_per_v, 100 / 5e-7 * np.exp(0.2 * z[3]))
    np.testing.assert_allclose(design.offset_v, 1e-6 * z[4])
    np.testing.assert_array_equal(design.clamp_factors, np.ones(2))
    # the controller's nominal values stay as asked
    assert design.accumulator_gain == 100 and design.tau_k_s == 5e-7
    np.testing.assert_array_equal(design.nominal_threshold_v, np.full(5, 1e-5))


def test_group_thresholds_reach_their_edges_and_scaling_keeps_the_mismatch():
    asked = FeedbackCellConfig(tau_k_s=5e-7, spread_threshold=0.3, spread_seed=1)
    design = resolve(asked, Calibration(2e-5, (("w1", 1e-5), ("w2", 3e-5))), DRIVE, GROUPS, outputs=1)
    np.testing.assert_allclose(design.nominal_threshold_v, [1e-5, 1e-5, 3e-5, 3e-5, 3e-5])
    half = design.with_threshold_scaled(0.5)
    np.testing.assert_allclose(half.threshold_v, design.threshold_v / 2)
    np.testing.assert_allclose(half.window().upper_v2, design.window().upper_v2 / 2)
    assert design.reference_window().theta_v == 2e-5


def test_the_analog_design_puts_the_widest_window_top_at_its_fraction_of_the_swing():
    asked = FeedbackCellConfig(tau_k_s=5e-7, kind=CellKind.ANALOG)
    design = resolve(asked, Calibration(2e-5, (("w1", 1e-5), ("w2", 4e-5))), DRIVE, GROUPS, outputs=1)
    widest = 4e-5 * DRIVE.tau_fall_s / 5e-7
    assert design.accumulator_gain * widest == pytest.approx(0.5 * 2.3)
    assert design.stage_gain is not None and design.integrator_c_f is not None
    # each edge's stage gain puts u at the top of its own window at half the swing, and C_int follows
    top_u = design.nominal_threshold_v * DRIVE.tau_fall_s / DRIVE.tau_rise_s
    np.testing.assert_allclose(design.stage_gain * top_u, 0.5 * 2.3)
    np.testing.assert_allclose(
        design.integrator_c_f * 1e4, design.stage_gain * 5e-7 / design.accumulator_gain, rtol=1e-12
    )
    behavioural = design.redesigned(kind=CellKind.BEHAVIOURAL)
    assert behavioural.accumulator_gain == design.accumulator_gain and behavioural.stage_gain is None


def test_the_compiler_builds_what_the_design_says():
    spec = from_graph(build("lattice:3x3", seed=1))
    asked = FeedbackCellConfig(tau_k_s=5e-7, spread_c_k=0.2, threshold_offset_v=2e-7)
    design = fixed_design(asked.replace(threshold_v=1e-5), DRIVE, spec.edge_groups, len(spec.output_nodes))
    circuit = compile_tcl(
        spec,
        drive=DRIVE,
        cell=design,
        inputs_v=np.zeros(len(spec.input_nodes)),
        targets_v=np.zeros(len(spec.output_nodes)),
    )
    cells = circuit.cells
    for column in ("c_k_f", "r_k_ohm", "threshold_v", "gain_a_per_v", "offset_v"):
        np.testing.assert_array_equal(getattr(cells, column), getattr(design, column))
    assert as_design(design, DRIVE, spec) is design
    # a configuration with a fixed threshold compiles to the same circuit
    again = compile_tcl(
        spec,
        drive=DRIVE,
        cell=asked.replace(threshold_v=1e-5),
        inputs_v=np.zeros(len(spec.input_nodes)),
        targets_v=np.zeros(len(spec.output_nodes)),
    )
    np.testing.assert_array_equal(again.cells.c_k_f, cells.c_k_f)


def test_a_design_is_refused_on_another_network_and_an_auto_threshold_needs_a_calibration():
    small = from_graph(build("lattice:3x3", seed=1))
    large = from_graph(build("lattice:4x4", seed=1))
    design = fixed_design(FeedbackCellConfig(threshold_v=1e-5), SawtoothConfig(), small.edge_groups, 2)
    with pytest.raises(ConfigError, match="cell design has 12 edges"):
        compile_tcl(
            large,
            drive=SawtoothConfig(),
            cell=design,
            inputs_v=np.zeros(len(large.input_nodes)),
            targets_v=np.zeros(len(large.output_nodes)),
        )
    with pytest.raises(ConfigError, match="auto"):
        fixed_design(FeedbackCellConfig(threshold_v=None), SawtoothConfig(), small.edge_groups, 2)
    with pytest.raises(ConfigError, match="group 'w1'"):
        Calibration(1e-5, (("w1", float("nan")),))


def test_the_summary_is_json_and_names_the_calibration():
    design = resolve(
        FeedbackCellConfig(), Calibration(1e-5, (("w1", 2e-5),)), SawtoothConfig(), GROUPS, outputs=1
    )
    summary = json.loads(json.dumps(design.summary()))
    assert summary["calibration"] == {"threshold_v": 1e-5, "group_thresholds_v": [["w1", 2e-5]]}
    assert summary["per_edge"]["threshold_v"] == {"min": 1e-5, "max": 2e-5}
    assert isinstance(design, CellDesign) and summary["edges"] == 5


def test_configs_written_with_the_retired_calibration_field_still_load():
    data = to_dict(RunConfig())
    data["cell"]["group_thresholds_v"] = []
    assert from_dict(RunConfig, data) == RunConfig()
    data["cell"]["group_thresholds_v"] = [["w1", 1e-5]]
    with pytest.raises(ConfigError, match="cell.group_thresholds_v is no longer a setting") as caught:
        from_dict(RunConfig, data)
    assert caught.value.field == "cell.group_thresholds_v"
