"""The analog cell: its netlist, its agreement with the behavioural cell in ngspice, its energy bill."""

from __future__ import annotations

import numpy as np
import pytest

from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import BackendKind, CellKind, FeedbackCellConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.rules import calibrate_cell, linear_contrasts
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.network import from_graph
from tcl_circuits.network.builders import build
from tcl_circuits.physics.energy import energy_bill_j, source_energy_j
from tcl_circuits.spice.writer import write_netlist

DRIVE = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)


def _sample(network: str, **analog):
    spec = from_graph(build(network, seed=1))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, len(spec.input_nodes))
    y = rng.uniform(-0.3, 0.3, len(spec.output_nodes))
    base = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=20.0, kind=CellKind.ANALOG)
    if analog:
        base = base.replace(analog=base.analog.replace(**analog))
    return spec, x, y, calibrate_cell(base, spec, x, y, DRIVE)


def _circuit(spec, x, y, cell):
    return compile_tcl(spec, drive=DRIVE, cell=cell, sim=SimulatorConfig(), inputs_v=x, targets_v=y)


def test_the_netlist_has_one_subcircuit_per_stage_on_rails_of_its_own():
    spec, x, y, cell = _sample("lattice:3x3")
    circuit = _circuit(spec, x, y, cell)
    text = write_netlist(circuit)
    for line in (
        ".subckt tclmult a b out vdd vss",
        ".subckt tclthr in out vdd vss params: theta=0 vos=0 gain=1",
        ".subckt tclint in out vdd vss",
        "vddm vdd_m 0 DC 2.5",
        "vssi vss_i 0 DC -2.5",
        "xm0 ",
        "ri0 g0 m0 10000",
    ):
        assert line in text, line
    analog = circuit.cells  # the behavioural cell's names, read the same way
    assert analog.accumulator[0] == "w0" and analog.feedback[0] == "u0"
    # C_int makes the accumulator read what the behavioural one does: R_int C_int = gain K tau_k / A
    stage = next(line for line in text.splitlines() if line.startswith("xt0 "))
    gain = float(stage.split("gain=")[1])
    c_int = float(next(line for line in text.splitlines() if line.startswith("ci0 ")).split()[-1])
    assert 1e4 * c_int == pytest.approx(gain * 1.0 * 5e-7 / cell.accumulator_gain, rel=1e-6)
    # and the top of the widest window reads half the swing at the accumulator
    theta = max(cell.nominal_threshold_v)
    assert cell.accumulator_gain * theta * DRIVE.tau_fall_s / 5e-7 == pytest.approx(0.5 * 2.3)


@pytest.mark.ngspice
@pytest.mark.parametrize("network", ["lattice:3x3", "lattice:8x8"])
def test_the_analog_update_matches_the_behavioural_one_inside_the_window(ngspice, network):
    spec, x, y, cell = _sample(network)
    final = {}
    for kind in CellKind:
        circuit = _circuit(spec, x, y, cell.redesigned(kind=kind))
        final[kind] = ngspice.run(circuit).at(circuit.cells.accumulator, [-1])[:, 0]
    contrast = np.abs(linear_contrasts(spec, x[None], y[None], DRIVE)[0])
    theta = cell.nominal_threshold_v
    inside = (contrast > theta * DRIVE.tau_rise_s / 5e-7) & (contrast < theta * DRIVE.tau_fall_s / 5e-7)
    assert inside.sum() >= 3
    ideal, analog = final[CellKind.BEHAVIOURAL][inside], final[CellKind.ANALOG][inside]
    assert np.linalg.norm(analog - ideal) < 0.05 * np.linalg.norm(ideal)


@pytest.mark.ngspice
def test_an_offset_beyond_the_threshold_makes_every_accumulator_drift(ngspice):
    spec, x, y, cell = _sample("lattice:3x3")
    theta_stage = float(cell.nominal_threshold_v.max())  # K = 1/V
    drifting = cell.redesigned(threshold_offset_v=3 * theta_stage)
    circuit = _circuit(spec, x, y, drifting)
    w = ngspice.run(circuit).at(circuit.cells.accumulator, [-1])[:, 0]
    # g(u - vos) = -vos while u is quiet: the inverting integrator climbs on every edge
    assert np.all(w > 0)


@pytest.mark.ngspice
def test_the_energy_bill_by_block_adds_up_to_what_the_sources_delivered(ngspice):
    spec, x, y, cell = _sample("lattice:4x4")
    circuit = _circuit(spec, x, y, cell)
    result = ngspice.run(circuit)
    bill, sources = energy_bill_j(circuit, result), source_energy_j(circuit, result)
    assert set(bill) == {"network", "clamp", "multiplier", "threshold", "integrator"}
    assert sum(bill.values()) == pytest.approx(sum(sources.values()), rel=0.01)
    rails = {"multiplier": "m", "threshold": "t", "integrator": "i"}
    for stage, tag in rails.items():
        assert bill[stage] == pytest.approx(sources[f"vdd{tag}"] + sources[f"vss{tag}"], rel=0.01)
    signal = sum(v for k, v in sources.items() if not k.startswith(("vdd", "vss")))
    assert bill["network"] + bill["clamp"] == pytest.approx(signal, rel=0.01)
    # the stages' output currents are in the bill, not only their quiescent draw
    quiescent = 2 * 2.5 * 50e-6 * spec.n_edges * DRIVE.period_s
    assert bill["multiplier"] > quiescent * (1 + 1e-6)


def test_the_analog_cell_runs_in_ngspice_and_the_native_engine_refuses_it():
    cell = FeedbackCellConfig(kind=CellKind.ANALOG)
    assert RunConfig(cell=cell).resolved_backend is BackendKind.NGSPICE
    with pytest.raises(ConfigError, match="ngspice only") as caught:
        RunConfig(cell=cell, backend=BackendKind.NATIVE)
    assert caught.value.field == "backend"


def test_the_sources_side_of_the_books_needs_branch_currents():
    from tcl_circuits.backends.native.engine import NativeBackend
    from tcl_circuits.errors import SimulationError

    spec, x, y, cell = _sample("lattice:3x3")
    circuit = _circuit(spec, x, y, cell.redesigned(kind=CellKind.BEHAVIOURAL))
    result = NativeBackend().run(circuit)
    assert set(energy_bill_j(circuit, result)) == {"network", "clamp", "feedback_rk"}
    with pytest.raises(SimulationError, match="no branch current"):
        source_energy_j(circuit, result)


@pytest.mark.ngspice
def test_the_native_engine_bills_the_analog_cell_from_its_behavioural_run(ngspice):
    """The same accounting at scale: the analog stages fed the behavioural cell's u (native engine) against
    the analog cell simulated in ngspice, output currents included."""
    from tcl_circuits.backends.native.engine import NativeBackend
    from tcl_circuits.circuit.ir import AnalogCellArray
    from tcl_circuits.physics.energy import analog_stage_power_estimate_w, energy_j

    spec, x, y, cell = _sample("lattice:4x4")
    analog = _circuit(spec, x, y, cell)
    measured = energy_bill_j(analog, ngspice.run(analog))
    behavioural = _circuit(spec, x, y, cell.redesigned(kind=CellKind.BEHAVIOURAL))
    result = NativeBackend().run(behavioural)
    (array,) = analog.of_type(AnalogCellArray)
    estimate = {k: energy_j(p, result.axis) for k, p in analog_stage_power_estimate_w(array, result).items()}
    quiescent = {"multiplier": 50e-6, "threshold": 20e-6, "integrator": 20e-6}
    for stage, iq in quiescent.items():
        standby = 2 * 2.5 * iq * spec.n_edges * DRIVE.period_s
        assert estimate[stage] == pytest.approx(measured[stage], rel=1e-3)
        # the signal-dependent part alone, within 5 %
        assert estimate[stage] - standby == pytest.approx(measured[stage] - standby, rel=0.05)
