"""The IR names elements by identifier; the writer alone forms SPICE instance names (``spice.names``).

The rule tested: for every named element the compilers build (a lattice with node capacitance, the analog
cell, a DRN with diodes and amplifiers, its free/clamped DC sweep, the kernel cells), its SPICE name is its kind's type letter followed by its identifier (``spice_name(el) == letter +
el.name``), that name starts a line of the deck, and the identifier itself does not start with that type
letter: the letter belongs to the writer, not to the IR.
"""

from __future__ import annotations

import numpy as np
import pytest

from tcl_circuits.circuit.compile import compile_phases, compile_tcl
from tcl_circuits.circuit.ir import (
    Amplifier,
    AnalogCellArray,
    Behavioural,
    Circuit,
    Diode,
    Instance,
    Resistor,
    ResistorArray,
    VoltageSource,
)
from tcl_circuits.circuit.kernel_cells import kernel_cell, sawtooth_circuit
from tcl_circuits.config import CellKind, FeedbackCellConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.errors import NetlistError
from tcl_circuits.kernels.kernel import RCKernel, SecondOrderKernel
from tcl_circuits.kernels.synapse import Sawtooth
from tcl_circuits.learning.rules import calibrate_cell
from tcl_circuits.network import from_graph
from tcl_circuits.network.builders import build
from tcl_circuits.spice.analog_stages import stage_subcircuits
from tcl_circuits.spice.names import LETTERS, branch_vector, prefixed, source_name, spice_name
from tcl_circuits.spice.writer import Dialect, write_netlist

DRIVE = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)


def _sample(network: str):
    spec = from_graph(build(network, seed=1))
    rng = np.random.default_rng(0)
    return spec, rng.uniform(-1, 1, len(spec.input_nodes)), rng.uniform(-0.3, 0.3, len(spec.output_nodes))


def _lattice() -> Circuit:
    spec, x, y = _sample("lattice:3x3")
    sim = SimulatorConfig(node_capacitance_f=1e-13)
    cell = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=1e-4)
    return compile_tcl(spec, drive=DRIVE, cell=cell, sim=sim, inputs_v=x, targets_v=y)


def _analog() -> Circuit:
    spec, x, y = _sample("lattice:3x3")
    base = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=20.0, kind=CellKind.ANALOG)
    cell = calibrate_cell(base, spec, x, y, DRIVE)
    return compile_tcl(spec, drive=DRIVE, cell=cell, sim=SimulatorConfig(), inputs_v=x, targets_v=y)


def _drn() -> Circuit:
    spec, x, y = _sample("drn:4-6-3")
    cell = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=1e-4)
    return compile_tcl(spec, drive=DRIVE, cell=cell, sim=SimulatorConfig(), inputs_v=x, targets_v=y)


def _drn_phases() -> Circuit:
    spec, x, y = _sample("drn:4-6-3")
    return compile_phases(spec, drive=DRIVE, inputs_v=x, targets_v=y)


def _kernels() -> Circuit:
    cells = [
        kernel_cell(RCKernel(1000.0, 1e-6, 20_000.0), 0.1),
        kernel_cell(SecondOrderKernel(4e-4, 1e-3, 0.02), 0.1, index=1),
    ]
    return sawtooth_circuit(cells, Sawtooth(1.0, 1.0, 0.02, 0.18))


def _named(elements) -> list:
    """Every element that has an instance name, arrays and the analog cells' parts unpacked."""
    out = []
    for element in elements:
        if isinstance(element, ResistorArray):
            out += list(element)
        elif isinstance(element, AnalogCellArray):
            out += [part for parts in element.parts for part in parts]
        elif type(element) in LETTERS:
            out.append(element)
    return out


CIRCUITS = {
    "lattice": _lattice,
    "analog": _analog,
    "drn": _drn,
    "drn_phases": _drn_phases,
    "kernels": _kernels,
}


@pytest.mark.parametrize("which", sorted(CIRCUITS))
def test_compiled_identifiers_carry_no_spice_type_letter(which):
    circuit = CIRCUITS[which]()
    elements = _named(circuit.elements)
    elements += [e for definition in circuit.subcircuits for e in _named(definition.elements)]
    assert elements
    starts = {
        line.split()[0] for line in write_netlist(circuit).splitlines() if line and line[0] not in "*.+"
    }
    for element in elements:
        letter = LETTERS[type(element)]
        assert spice_name(element) == letter + element.name
        assert spice_name(element) in starts, spice_name(element)
        assert not element.name.startswith(letter), f"{type(element).__name__} {element.name!r}"
    kinds = {type(e) for e in elements}
    if which == "drn":
        assert {Diode, Amplifier, VoltageSource, Resistor} <= kinds
    if which in ("analog", "kernels"):
        assert Instance in kinds


def test_the_writer_forms_the_names_that_were_in_the_ir_before():
    """The deck is what it was when the IR held SPICE names: ``re0``, ``vin0``, ``vbeta``, ``bcl0``, ``cn1``."""
    circuit = _lattice()
    text = write_netlist(circuit)
    for start in ("re0 n0 ", "vin0 n", "vbeta beta 0 PWL(", "vt0 t0 0 ", "bcl0 n", "cn1 n1 0 "):
        assert f"\n{start}" in text, start
    assert circuit.edge_resistors[0] == "e0"
    assert source_name("beta") == "vbeta"
    beta = next(e for e in circuit.elements if isinstance(e, VoltageSource) and e.name == "beta")
    assert branch_vector(beta) == "vbeta#branch"
    drn = write_netlist(_drn(), Dialect.LTSPICE)
    assert "\nd0 n" in drn and "\nea0 a0_o 0 n" in drn and "\nva0 n" in drn and "\nfa0 0 n" in drn
    assert ".dc vbeta 0 " in write_netlist(_drn_phases())
    kernels = write_netlist(_kernels())
    assert "\nx0 s acc0 tclkrcl0" in kernels and "\nvs s 0 PWL(" in kernels and "\nrleak s x " in kernels


def test_the_stage_subcircuits_sense_their_output_by_the_writer_s_name():
    (multiplier, *_) = stage_subcircuits(_analog().of_type(AnalogCellArray)[0])
    sense = next(e for e in multiplier.elements if isinstance(e, VoltageSource))
    rails = [e for e in multiplier.elements if isinstance(e, Behavioural) and e.quantity == "I"]
    assert spice_name(sense) == "vs" and all(f"i({spice_name(sense)})" in e.expression for e in rails)


@pytest.mark.parametrize("identifier", ["", "R1", "a b", "x;y", "a" * 31, 7, "é"])
def test_identifiers_are_checked_before_they_reach_a_deck(identifier):
    with pytest.raises(NetlistError, match="identifier"):
        prefixed("r", identifier)  # type: ignore[arg-type]
    with pytest.raises(NetlistError):
        write_netlist(
            Circuit("t", (Resistor(identifier, "a", "0", 1.0),), _lattice().analysis, ("a",), ())  # type: ignore[arg-type]
        )


def test_an_element_without_an_instance_name_is_refused():
    with pytest.raises(NetlistError, match="no SPICE instance name"):
        spice_name(DRIVE)
