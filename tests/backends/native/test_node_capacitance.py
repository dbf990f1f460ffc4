"""Node capacitance (finite relaxation time): the compiler's capacitors, the native TR-BDF2 integration
against the exact RC response and against ngspice, and the quasi-static limit."""

import numpy as np
import pytest

from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.backends.ngspice import NgspiceBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.circuit.ir import Capacitor, Circuit, Resistor, Transient, VoltageSource
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig, SimulatorConfig, ThresholdShape
from tcl_circuits.errors import ConfigError, SimulationError
from tcl_circuits.learning.rules import calibrate_threshold_v
from tcl_circuits.learning.tasks import teacher_task
from tcl_circuits.spice.writer import write_netlist

R_OHM, C_F, RAMP_S = 1e3, 1e-9, 5e-6


def _rc(*extra):
    """An RC low-pass driven by a ramp to 1 V over RAMP_S, then held."""
    source = VoltageSource("in", "in", "0", pwl=((0.0, 0.0), (RAMP_S, 1.0), (2e-5, 1.0)))
    elements = (source, Resistor("1", "in", "a", R_OHM), Capacitor("1", "a", "0", C_F), *extra)
    return Circuit("rc", elements, Transient(1e-7, 2e-5, 1e-7), ("a",), ("1",))


def _rc_exact(t):
    tau, slope = R_OHM * C_F, 1.0 / RAMP_S
    on_ramp = slope * (t - tau * (1 - np.exp(-t / tau)))
    at_corner = slope * (RAMP_S - tau * (1 - np.exp(-RAMP_S / tau)))
    after = 1 + (at_corner - 1) * np.exp(-(t - RAMP_S) / tau)
    return np.where(t <= RAMP_S, on_ramp, after)


def test_rc_response_is_exact_to_second_order_in_the_step():
    errors = []
    for refine in (1, 2, 4):
        result = NativeBackend(refine=refine).run(_rc())
        errors.append(np.max(np.abs(result.v("a") - _rc_exact(result.axis))))
    assert errors[0] < 1e-4  # of a 1 V swing, with h = tau / 10
    assert 3.5 < errors[0] / errors[1] < 4.5 and 3.5 < errors[1] / errors[2] < 4.5


def test_a_stiff_node_is_damped_not_ringing():
    """tau = 1 ps against a 0.1 us step: an L-stable integrator follows the quasi-static value."""
    result = NativeBackend().run(_rc(Capacitor("2", "in", "0", 1e-9)))  # on a driven node: no effect
    stiff = NativeBackend().run(
        Circuit(
            "stiff",
            (*_rc().elements[:2], Capacitor("1", "a", "0", 1e-15)),
            Transient(1e-7, 2e-5, 1e-7),
            ("a",),
            ("1",),
        )
    )
    np.testing.assert_allclose(stiff.v("a"), stiff.v("in"), atol=1e-6)
    np.testing.assert_allclose(result.v("a"), _rc_exact(result.axis), atol=1e-4)


@pytest.fixture(scope="module")
def sample():
    task = teacher_task("lattice:4x4", train_samples=4, test_samples=1, seed=0)
    spec, x, y = task.student, task.x_train, task.y_train
    drive = SawtoothConfig()
    theta = calibrate_threshold_v(spec, x, y, drive, 5e-6, headroom=1.0)
    return (
        spec,
        x[0],
        y[0],
        drive,
        FeedbackCellConfig(threshold_v=theta, threshold_shape=ThresholdShape.DEAD_ZONE),
    )


def _compiled(sample, capacitance_f, reltol=1e-4):
    spec, x, y, drive, cell = sample
    sim = SimulatorConfig(node_capacitance_f=capacitance_f, reltol=reltol)
    return compile_tcl(spec, drive=drive, cell=cell, sim=sim, inputs_v=x, targets_v=y)


def test_compiler_puts_a_capacitor_on_every_free_node_only_when_asked(sample):
    spec = sample[0]
    assert not _compiled(sample, 0.0).of_type(Capacitor)
    capacitors = _compiled(sample, 2e-9).of_type(Capacitor)
    assert [c.a for c in capacitors] == [f"n{i}" for i in spec.free_nodes]
    assert {c.b for c in capacitors} == {"0"} and {c.capacitance_f for c in capacitors} == {2e-9}
    deck = write_netlist(_compiled(sample, 2e-9))
    assert f"cn{spec.free_nodes[0]} n{spec.free_nodes[0]} 0 2e-09" in deck
    with pytest.raises(ConfigError, match="node_capacitance_f"):
        SimulatorConfig(node_capacitance_f=-1e-9)


def test_a_tiny_capacitance_gives_the_quasi_static_cycle(sample):
    fast, instant = _compiled(sample, 1e-15), _compiled(sample, 0.0)
    a, b = NativeBackend().run(fast), NativeBackend().run(instant)
    np.testing.assert_allclose(a.rows(fast.network_nodes[1:]), b.rows(instant.network_nodes[1:]), atol=1e-8)
    wa, wb = (r.rows(c.cells.accumulator)[:, -1] for r, c in ((a, fast), (b, instant)))
    assert np.linalg.norm(wa - wb) < 1e-4 * np.linalg.norm(wb)


def test_capacitors_must_go_to_ground_in_the_native_engine():
    circuit = _rc(Capacitor("9", "a", "in", 1e-12))
    with pytest.raises(SimulationError, match="capacitor 9: .*only capacitors from a node to ground"):
        NativeBackend().run(circuit)


@pytest.mark.ngspice
def test_relaxing_network_matches_ngspice(sample):
    """Node voltages and the cycle's update with node time constants around 0.2-1 us (tau_K = 5 us)."""
    updates = {}
    with NgspiceBackend() as ngspice:
        for capacitance in (1e-9, 5e-9):
            circuit = _compiled(sample, capacitance, reltol=1e-5)
            native, reference = NativeBackend().run(circuit), ngspice.run(circuit)
            for node in ("n5", "n10", "n14"):
                np.testing.assert_allclose(
                    native.v(node), np.interp(native.axis, reference.axis, reference.v(node)), atol=5e-5
                )
            w_native = native.rows(circuit.cells.accumulator)[:, -1]
            w_ngspice = reference.rows(circuit.cells.accumulator)[:, -1]
            assert np.linalg.norm(w_native - w_ngspice) < 0.02 * np.linalg.norm(w_ngspice)
            updates[capacitance] = w_ngspice
    instant = NativeBackend().run(_compiled(sample, 0.0))
    w_instant = instant.rows(_compiled(sample, 0.0).cells.accumulator)[:, -1]
    # slower nodes blur the fast ramp: the update shrinks, in both engines
    assert np.linalg.norm(updates[5e-9]) < 0.95 * np.linalg.norm(w_instant)


def test_cli_compiles_and_trains_with_node_capacitance(tmp_path, capsys):
    from tcl_circuits.cli.main import main

    deck = tmp_path / "deck.cir"
    assert main(["compile", "lattice:3x3", "--node-capacitance", "1e-9", "--output", str(deck)]) == 0
    assert "cn" in deck.read_text() and "node capacitance 1e-09 F" in deck.read_text()
    out = tmp_path / "run"
    args = [
        "train",
        "--network",
        "lattice:3x3",
        "--train-samples",
        "10",
        "--test-samples",
        "5",
        "--epochs",
        "1",
    ]
    assert main([*args, "--node-capacitance", "1e-9", "--out", str(out), "--no-progress"]) == 0
    assert (out / "summary.json").exists() and "node capacitance" in (out / "first_sample.cir").read_text()
    assert (
        main([*args, "--device", "memristor:hp", "--node-capacitance", "1e-9", "--out", str(tmp_path / "m")])
        == 2
    )
    assert "memristor streams have none" in capsys.readouterr().err
