"""The one place that turns a compiled Circuit into SPICE text, in ngspice's dialect or LTspice's
(``syntax.Dialect``: the same elements, values and analysis; only conditionals and the amplifier's current
sense are written differently).

Identifiers and node names come from the compiler; every instance name is formed here from the element's
kind and identifier (``names.spice_name``: type letter plus identifier). User text reaches the deck only in ``*`` comments after sanitising (``syntax``).
Every emitted deck passes ``syntax.check_deck``, so a deck can never run a command.
"""

from __future__ import annotations

import re

from tcl_circuits.circuit.ir import (
    Amplifier,
    AnalogCellArray,
    Behavioural,
    Capacitor,
    Circuit,
    Clamp,
    DcSweep,
    Diode,
    Element,
    FeedbackCell,
    FeedbackCellArray,
    Inductor,
    Instance,
    MemristorCell,
    Resistor,
    ResistorArray,
    SubcircuitDef,
    ThresholdCurrent,
    Transient,
    VoltageSource,
)
from tcl_circuits.circuit.noise import CellNoise, NetworkNoise, SampledThermalNoise
from tcl_circuits.errors import NetlistError
from tcl_circuits.spice.analog_stages import stage_subcircuits
from tcl_circuits.spice.memristor_cells import memristor_cell_lines
from tcl_circuits.spice.names import prefixed, source_name, spice_name
from tcl_circuits.spice.syntax import (
    Dialect,
    check_deck,
    comment,
    name,
    note,
    number,
    threshold_expression,
    time_point,
    voltage,
)

__all__ = ["Dialect", "check_deck", "spice_name", "write_netlist"]

_B_SOURCE = re.compile(r"^(b\w* \w+ \w+ [IV]) = ")
"""A behavioural source's ``I = `` / ``V = ``, which LTspice documents as ``I=`` / ``V=``."""


def _two_terminal(element: Resistor | Capacitor | Inductor, value: float) -> str:
    return f"{spice_name(element)} {name(element.a)} {name(element.b)} {number(value)}"


def feedback_cell_parts(index: int) -> dict[str, str]:
    """The SPICE instance names of feedback cell ``index``'s parts: the writer's choice, not the IR's."""
    e = index
    return {"squarer": f"bs{e}", "c_k": f"ck{e}", "r_k": f"rk{e}", "threshold": f"bw{e}", "c_acc": f"cw{e}"}


def _lines_for(element: Element, dialect: Dialect = Dialect.NGSPICE) -> list[str]:
    if isinstance(element, ResistorArray | FeedbackCellArray):
        return [line for single in element for line in _lines_for(single, dialect)]
    if isinstance(element, CellNoise):
        return _noise_lines(element)
    if isinstance(element, NetworkNoise):
        return _network_noise_lines(element)
    if isinstance(element, AnalogCellArray):
        comments = element.cells.comments
        return [
            line
            for e in range(len(element.cells))
            for line in [
                *([comment("analog " + comments[e])] if comments else []),
                *(line for part in element.parts[e] for line in _lines_for(part, dialect)),
            ]
        ]
    lines = [comment(element.comment)] if element.comment else []
    if isinstance(element, Resistor):
        lines.append(_two_terminal(element, element.resistance_ohm))
    elif isinstance(element, Capacitor):
        lines.append(_two_terminal(element, element.capacitance_f))
    elif isinstance(element, Inductor):
        lines.append(_two_terminal(element, element.inductance_h))
    elif isinstance(element, VoltageSource):
        head = f"{spice_name(element)} {name(element.pos)} {name(element.neg)}"
        if element.pwl is None:
            lines.append(f"{head} DC {number(element.dc_v)}")
        else:
            points = " ".join(f"{time_point(t)} {number(v)}" for t, v in element.pwl)
            lines.append(f"{head} PWL({points})")
    elif isinstance(element, Clamp):
        dv = f"({voltage(element.node)}-{voltage(element.target)})"
        lines.append(
            f"{spice_name(element)} {name(element.node)} {name(element.target)} "
            f"I = {number(element.conductance_s)}*{voltage(element.beta)}*{dv}"
        )
    elif isinstance(element, ThresholdCurrent):
        g = threshold_expression(voltage(element.control), element.threshold_v, element.shape, 0.0, dialect)
        lines.append(
            f"{spice_name(element)} {name(element.pos)} {name(element.neg)} I = {number(element.gain_a_per_v)}*{g}"
        )
    elif isinstance(element, FeedbackCell):
        n = feedback_cell_parts(element.index)
        dv = f"({voltage(element.a)}-{voltage(element.b)})"
        s, u, w = name(element.signal), name(element.feedback), name(element.accumulator)
        g = threshold_expression(voltage(u), element.threshold_v, element.shape, element.offset_v, dialect)
        # the squarer's gain is written only where it is not 1 (the decks of unit gain stay as reviewed)
        scale = "" if element.signal_gain == 1 else f"{number(element.signal_gain)}*"
        lines += [
            f"{n['squarer']} {s} 0 V = {scale}{dv}*{dv}",
            f"{n['c_k']} {s} {u} {number(element.c_k_f)}",
            f"{n['r_k']} {u} 0 {number(element.r_k_ohm)}",
            f"{n['threshold']} {w} 0 I = {number(element.gain_a_per_v)}*{g}",
            f"{n['c_acc']} {w} 0 1",
        ]
    elif isinstance(element, MemristorCell):
        lines += memristor_cell_lines(element, dialect)
    elif isinstance(element, Diode):
        lines.append(
            f"{spice_name(element)} {name(element.anode)} {name(element.cathode)} {name(element.model)}"
        )
    elif isinstance(element, Amplifier):
        out, src, tag = name(element.output), name(element.source), element.name
        gain = number(element.gain)
        e, f = spice_name(element), prefixed("f", tag)
        if dialect is Dialect.LTSPICE:  # an LTspice F source senses the current of a voltage source only
            sense = prefixed("v", tag)
            lines.append(f"{e} {name(tag + '_o')} 0 {src} 0 {gain}")
            lines.append(f"{sense} {out} {tag}_o 0")
            lines.append(f"{f} 0 {src} {sense} {gain}")
        else:
            lines.append(f"{e} {out} 0 {src} 0 {gain}")
            lines.append(f"{f} 0 {src} {e} {gain}")
    elif isinstance(element, Instance):
        nodes = " ".join(name(node) for node in element.nodes)
        values = "".join(f" {name(key)}={number(value)}" for key, value in element.params)
        lines.append(f"{spice_name(element)} {nodes} {name(element.subcircuit)}{values}")
    elif isinstance(element, Behavioural):
        if element.quantity not in ("V", "I"):
            raise NetlistError(f"behavioural source {element.name!r}: quantity V or I")
        lines.append(
            f"{spice_name(element)} {name(element.pos)} {name(element.neg)} {element.quantity} = {element.expression}"
        )
    else:
        raise NetlistError(f"no SPICE form for element {element!r}")
    return lines


def _pwl_current_lines(
    noise: SampledThermalNoise, prefix: str, ends: list[tuple[str, str]], what: str
) -> list[str]:
    """One PWL current source per noisy resistor (``prefix<e> a b``: out of a, into b), 8 knots a line."""
    times = [time_point(k * noise.step_s) for k in range(noise.knots)]
    lines = [
        comment(
            f"thermal noise of {what} at {noise.temperature_k:g} K, a sample every {noise.step_s:g} s"
            + (f", 1/f below {noise.flicker_corner_hz:g} Hz" if noise.flicker_corner_hz else "")
        )
    ]
    for e, ((a, b), currents) in enumerate(zip(ends, noise.samples(), strict=True)):
        points = [f"{t} {number(i)}" for t, i in zip(times, currents, strict=True)]
        lines.append(f"{prefix}{e} {name(a)} {name(b)} PWL({' '.join(points[:8])}")
        lines += [f"+ {' '.join(points[k : k + 8])}" for k in range(8, len(points), 8)]
        lines[-1] += ")"
    return lines


def _noise_lines(noise: CellNoise) -> list[str]:
    """R_K's noise: a current from ground into each cell's feedback node."""
    return _pwl_current_lines(noise, "in", [("0", node) for node in noise.nodes], "R_K")


def _network_noise_lines(noise: NetworkNoise) -> list[str]:
    """The network resistors' noise: a current across each edge, out of its a end and into its b end."""
    ends = list(zip(noise.ends_a, noise.ends_b, strict=True))
    return _pwl_current_lines(noise, "inn", ends, "the network resistors")


def _subcircuit_lines(definition: SubcircuitDef, dialect: Dialect) -> list[str]:
    lines = [comment(definition.comment)] if definition.comment else []
    ports = " ".join(name(port) for port in definition.ports)
    values = "".join(f" {name(key)}={number(value)}" for key, value in definition.params)
    lines.append(f".subckt {name(definition.name)} {ports}" + (f" params:{values}" if values else ""))
    for element in definition.elements:
        lines += _lines_for(element, dialect)
    lines.append(f".ends {name(definition.name)}")
    return lines


def write_netlist(circuit: Circuit, dialect: Dialect = Dialect.NGSPICE) -> str:
    """The deck of a compiled circuit for ``dialect`` (title line first, ``.end`` last), after the safety
    scan."""
    lines = [comment(circuit.title)[2:] or "tcl_circuits"]
    lines += [note(text) for text in circuit.notes]
    lines += [comment(text) for text in circuit.header_comments]
    for analog in circuit.of_type(AnalogCellArray):
        for definition in stage_subcircuits(analog, dialect):
            lines += _subcircuit_lines(definition, dialect)
    for definition in circuit.subcircuits:
        lines += _subcircuit_lines(definition, dialect)
    for model in circuit.models:
        lines.append(
            f".model {name(model.name)} D(IS={number(model.is_a)} N={number(model.n)} RS={number(model.rs_ohm)})"
        )
    for element in circuit.elements:
        lines += _lines_for(element, dialect)
    initial = [(w, 0.0) for w in circuit.cells.accumulator]
    initial += [(cell.state, cell.state_initial) for cell in circuit.memristor_cells]
    initial += list(circuit.initial_conditions)
    for start in range(0, len(initial), 8):
        lines.append(
            ".ic " + " ".join(f"v({name(node)})={number(v)}" for node, v in initial[start : start + 8])
        )
    lines.append(f".options reltol={number(circuit.reltol)} abstol={number(circuit.abstol_a)}")
    analysis = circuit.analysis
    if isinstance(analysis, Transient):
        lines.append(
            f".tran {time_point(analysis.step_s)} {time_point(analysis.stop_s)} 0 {time_point(analysis.max_step_s)}"
        )
    elif isinstance(analysis, DcSweep):
        lines.append(
            f".dc {source_name(analysis.source)} {number(analysis.start)} {number(analysis.stop)} {number(analysis.step)}"
        )
    else:
        raise NetlistError(f"no SPICE form for analysis {analysis!r}")
    for measure in circuit.measures:
        if not isinstance(analysis, Transient):
            raise NetlistError("measures need a transient analysis")
        lines.append(
            f".meas tran {name(measure.name)} FIND v({name(measure.node)}) AT={time_point(measure.at_s)}"
        )
    lines.append(".end")
    if dialect is Dialect.LTSPICE:
        lines = [_B_SOURCE.sub(r"\1=", line) for line in lines]
    text = "\n".join(lines) + "\n"
    try:
        check_deck(text)
    except NetlistError as error:
        raise NetlistError(f"the deck {lines[0]!r}: {error}") from None
    return text
