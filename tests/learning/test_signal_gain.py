"""A gain A ahead of the high-pass, s = A (V_a - V_b)^2: u and the calibrated threshold scale by A, R_K's noise
on u does not, and the accumulator's per-edge gain is divided by A, so the noiseless learning is the same at
any A and the noisy one improves with it."""

import numpy as np
import pytest

from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.circuit.cell_design import fixed_design
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import BackendKind, FeedbackCellConfig, LearningConfig, RuleKind, SawtoothConfig
from tcl_circuits.learning.loop import make_learner
from tcl_circuits.learning.rules import Cycle, TclRule, calibrate_cell
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig, teacher_task
from tcl_circuits.spice.syntax import Dialect
from tcl_circuits.spice.writer import write_netlist


def _accumulators(result, circuit):
    return result.at(circuit.cells.accumulator, [-1])[:, 0]


def _relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_window_in_contrast_scales_as_one_over_the_gain_and_the_calibration_undoes_it():
    drive = SawtoothConfig()
    fixed = FeedbackCellConfig(threshold_v=1e-5)
    edges = ("",) * 3
    unit = fixed_design(fixed, drive, edges, 1)
    for gain in (10.0, 1e3):
        lifted = fixed_design(fixed.replace(signal_gain=gain), drive, edges, 1)
        np.testing.assert_allclose(lifted.window().lower_v2, unit.window().lower_v2 / gain, rtol=1e-12)
        np.testing.assert_allclose(lifted.window().upper_v2, unit.window().upper_v2 / gain, rtol=1e-12)
        np.testing.assert_allclose(lifted.gain_a_per_v, unit.gain_a_per_v / gain, rtol=1e-12)
        assert lifted.summary()["signal_gain"] == gain
    task = teacher_task("lattice:4x4", train_samples=5, test_samples=1, seed=2)
    auto = FeedbackCellConfig(threshold_v=None, threshold_headroom=1.0)
    placed = {
        gain: calibrate_cell(auto.replace(signal_gain=gain), task.student, task.x_train, task.y_train, drive)
        for gain in (1.0, 100.0)
    }
    assert placed[100.0].theta_v == pytest.approx(100 * placed[1.0].theta_v, rel=1e-12)
    np.testing.assert_allclose(placed[100.0].window().upper_v2, placed[1.0].window().upper_v2, rtol=1e-12)


def test_the_deck_writes_the_gain_only_where_it_is_not_one():
    task = teacher_task("lattice:3x3", train_samples=1, test_samples=1, seed=0)
    spec, x, y = task.student, task.x_train[0], task.y_train[0]
    drive = SawtoothConfig()
    decks = {
        (gain, dialect): write_netlist(
            compile_tcl(
                spec, drive=drive, cell=FeedbackCellConfig(signal_gain=gain), inputs_v=x, targets_v=y
            ),
            dialect=dialect,
        )
        for gain in (1.0, 100.0)
        for dialect in (Dialect.NGSPICE, Dialect.LTSPICE)
    }
    assert "bs0 s0 0 V = (v(" in decks[1.0, Dialect.NGSPICE]
    assert "bs0 s0 0 V = 100*(v(" in decks[100.0, Dialect.NGSPICE]
    assert "squarer gain 100" in decks[100.0, Dialect.NGSPICE]
    assert "bs0 s0 0 V=100*(v(" in decks[100.0, Dialect.LTSPICE]
    assert "squarer gain" not in decks[1.0, Dialect.LTSPICE]


def _learning_curve(gain: float) -> list[float]:
    """Test loss after every 5 of 40 TCL samples on a 4x4 teacher task, native engine, automatic threshold."""
    task = teacher_task("lattice:4x4", train_samples=40, test_samples=20, seed=3)
    config = RunConfig(
        task=TaskConfig(network="lattice:4x4", train_samples=40, test_samples=20),
        backend=BackendKind.NATIVE,
        cell=RunConfig().cell.replace(signal_gain=gain, threshold_headroom=20.0),
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=None, epochs=1),
    )
    learner = make_learner(task, config)
    curve = []
    try:
        for start in range(0, 40, 5):
            learner.step(task.x_train[start : start + 5], task.y_train[start : start + 5])
            curve.append(task.metrics(learner.predict(task.x_test), task.y_test)["loss"])
    finally:
        learner.close()
    return curve


def test_noiseless_learning_is_the_same_at_any_gain():
    """A = 100 with the automatic threshold: theta 100x, per-edge gain /100, the same loss curve to round-off."""
    unit, lifted = _learning_curve(1.0), _learning_curve(100.0)
    assert unit[-1] < 0.5 * unit[0]  # it learns
    np.testing.assert_allclose(lifted, unit, rtol=1e-9)


@pytest.mark.ngspice
def test_the_engines_agree_on_each_edges_update_at_a_gain_of_100(ngspice):
    """Native vs ngspice at A = 100 within the 2 % of the unit-gain parity tests; both give the unit gain's
    update (the threshold placed 100x higher) and the same network energy."""
    task = teacher_task("lattice:4x4", train_samples=1, test_samples=1, seed=12)
    spec, x, y = task.student, task.x_train[0], task.y_train[0]
    drive = SawtoothConfig()
    auto = FeedbackCellConfig(threshold_v=None, threshold_headroom=1.0)
    updates = {}
    designs = {
        gain: calibrate_cell(auto.replace(signal_gain=gain), spec, x[None], y[None], drive)
        for gain in (1.0, 100.0)
    }
    for gain, design in designs.items():
        circuit = compile_tcl(spec, drive=drive, cell=design, inputs_v=x, targets_v=y)
        reference = _accumulators(ngspice.run(circuit), circuit)
        native = _accumulators(NativeBackend().run(circuit), circuit)
        assert np.count_nonzero(reference) >= 0.2 * reference.size
        assert _relative(native, reference) <= 0.02
        updates[gain] = native
    np.testing.assert_allclose(
        updates[100.0], updates[1.0], rtol=1e-9, atol=1e-12 * np.abs(updates[1.0]).max()
    )
    steps = {
        gain: TclRule(NativeBackend(), drive, designs[gain], RunConfig().sim, 1e-6).update(
            spec, x, y, Cycle()
        )
        for gain in (1.0, 100.0)
    }
    assert steps[100.0].energy_network_j == pytest.approx(steps[1.0].energy_network_j, rel=1e-9)
    np.testing.assert_allclose(steps[100.0].contrast_v2, steps[1.0].contrast_v2, rtol=1e-9)


def test_a_gain_of_1000_lifts_the_update_out_of_r_ks_noise():
    """R_K's kT/C_K noise at 300 K and C_K = 2 pF (45.5 uV on u) against a threshold calibrated at A = 1
    (3.3 uV, 0.07 sigma: noise decides every crossing) and at A = 1000 (3.3 mV, 73 sigma, beyond the 10 sigma
    a design needs): the noisy update's cosine with the noiseless one over 8 teacher samples, measured 0.14 in
    the mean (down to -0.11) at A = 1 and above 0.99998 for every sample at A = 1000."""
    from tcl_circuits.physics.cell_budget import NOISE_MARGIN, noise_at_u_v

    task = teacher_task("lattice:4x4", train_samples=8, test_samples=1, seed=5)
    spec = task.student
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
    base = FeedbackCellConfig(tau_k_s=5e-7, r_k_ohm=2.5e5, threshold_v=None, threshold_headroom=1.0)
    assert base.c_k_f == pytest.approx(2e-12)
    sigma_v = float(noise_at_u_v(np.array([base.c_k_f]), np.array([base.r_k_ohm]), 300.0, 0.0, 1.0)[0])
    backend = NativeBackend()
    cosines = {}
    for gain in (1.0, 1000.0):
        design = calibrate_cell(base.replace(signal_gain=gain), spec, task.x_train, task.y_train, drive)
        margin = design.theta_v / sigma_v
        assert margin < 0.1 if gain == 1 else margin > 5 * NOISE_MARGIN
        found = []
        for k, (x, y) in enumerate(zip(task.x_train, task.y_train, strict=True)):
            quiet = compile_tcl(spec, drive=drive, cell=design, inputs_v=x, targets_v=y)
            noisy = compile_tcl(
                spec, drive=drive, cell=design.with_noise(300.0), inputs_v=x, targets_v=y, noise_seed=(k,)
            )
            ideal = _accumulators(backend.run(quiet), quiet)
            found.append(_cosine(_accumulators(backend.run(noisy), noisy), ideal))
        cosines[gain] = np.array(found)
    assert np.mean(cosines[1.0]) < 0.5  # the noise, not the contrast, decides the update
    assert np.min(cosines[1000.0]) > 0.999  # every sample's update is the noiseless one


@pytest.mark.ngspice
def test_the_analog_multiplier_carries_the_gain_until_its_output_meets_the_rail(ngspice):
    """The analog cell's multiplier scales by K A: at A = 2 every s stays inside the 2.3 V swing and the update
    is the unit gain's (measured 1e-7 apart); at A = 100 the edges whose s reaches the rail lose their update
    (s held flat: nothing reaches u) while the others keep it: in the analog cell A is bounded by
    swing / largest (V_a - V_b)^2."""
    from tcl_circuits.config import CellKind

    task = teacher_task("lattice:3x3", train_samples=1, test_samples=1, seed=0)
    spec, x, y = task.student, task.x_train[0], task.y_train[0]
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
    base = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=20.0, kind=CellKind.ANALOG)
    final, peak = {}, {}
    for gain in (1.0, 2.0, 100.0):
        design = calibrate_cell(base.replace(signal_gain=gain), spec, x[None], y[None], drive)
        circuit = compile_tcl(spec, drive=drive, cell=design, inputs_v=x, targets_v=y)
        assert f"bo o1 0 V = max(min({gain:g}*(v(a)-v(b))" in write_netlist(circuit)
        result = ngspice.run(circuit)
        final[gain] = _accumulators(result, circuit)
        peak[gain] = result.rows(circuit.cells.signal).min(axis=1)  # s of each edge at its lowest
    swing = base.analog.swing_v
    assert np.count_nonzero(final[1.0]) >= 3
    assert np.all(peak[2.0] < swing) and _relative(final[2.0], final[1.0]) < 1e-4
    clipped = peak[100.0] > swing * (1 - 1e-3)  # held at the rail all cycle
    lost = clipped & (final[1.0] != 0)
    assert lost.any() and np.all(np.abs(final[100.0][lost]) < 1e-3 * np.abs(final[1.0][lost]))
    kept = ~clipped
    assert _relative(final[100.0][kept], final[1.0][kept]) < 1e-3


def test_the_technology_budget_reads_the_physical_threshold_a_gain_lifts():
    """cell_budget.requirements holds the calibrated theta (volts on u) against kT/C_K and the comparator's
    offset: on C_K = 2 pF the 10 sigma noise margin fails at A = 1 and passes at A = 1000, 1000x larger."""
    from tcl_circuits.physics.cell_budget import requirements
    from tcl_circuits.technology.model import preset

    task = teacher_task("lattice:4x4", train_samples=8, test_samples=1, seed=5)
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
    base = FeedbackCellConfig(tau_k_s=5e-7, r_k_ohm=2.5e5, threshold_v=None, threshold_headroom=1.0)
    margins = {}
    for gain in (1.0, 1000.0):
        design = calibrate_cell(
            base.replace(signal_gain=gain), task.student, task.x_train, task.y_train, drive
        )
        noise, offset, _ = requirements(design, preset("cmos65"), comparator="auto_zeroed", resistor="metal")
        margins[gain] = noise.margin
        assert noise.passes == (gain > 1) and offset.passes == (gain > 1)
    assert margins[1000.0] == pytest.approx(1000 * margins[1.0], rel=1e-9)
