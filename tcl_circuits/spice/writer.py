"""The one place that writes SPICE (ngspice dialect) text, and the safety scan of everything it emits.

Numbers are written with repr() after a finiteness check (never SPICE suffixes: ``1M`` is milli). Names come
from the compiler; user text reaches the deck only in ``*`` comments after sanitising to a small alphabet.
Every emitted deck is scanned: control blocks, includes, libraries, code-model loading, shell escapes,
backquotes and ``;`` are refused, so a deck can never run a command.
"""

from __future__ import annotations

import math
import re

from tcl_circuits.circuit.ir import (
    Capacitor,
    Circuit,
    Clamp,
    DcSweep,
    FeedbackCell,
    FeedbackCellArray,
    MemristorCell,
    Resistor,
    ResistorArray,
    Transient,
    VoltageSource,
)
from tcl_circuits.config import ThresholdShape
from tcl_circuits.errors import NetlistError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$|^0$")
_COMMENT_UNSAFE = re.compile(r"[^A-Za-z0-9 _,:()+\-=<>'\"\[\]#@/]")
_FORBIDDEN_START = (
    ".control",
    ".endc",
    ".include",
    ".inc",
    ".lib",
    ".exec",
    "codemodel",
    "osdi",
    "shell",
    "source",
)
_FORBIDDEN_ANYWHERE = (".control", ".include", ".lib ", ".endc", "`", ";")


def number(value: float) -> str:
    """A float as plain SPICE text (repr), refusing NaN and infinities."""
    value = float(value)
    if not math.isfinite(value):
        raise NetlistError(f"cannot write non-finite number {value!r} into a netlist")
    return repr(value)


def name(identifier: str) -> str:
    """A generated identifier, checked against the safe pattern."""
    if not isinstance(identifier, str) or not _NAME.match(identifier):
        raise NetlistError(f"unsafe or invalid SPICE identifier {identifier!r}")
    return identifier


def comment(text: str) -> str:
    """A ``*`` comment line carrying user text, reduced to a harmless alphabet on one line."""
    return "* " + _COMMENT_UNSAFE.sub("_", str(text))[:200]


def note(text: str) -> str:
    """A ``*`` comment line of generated text, which must be a single line."""
    if "\n" in text or "\r" in text:
        raise NetlistError(f"a note must be one line: {text[:60]!r}")
    return "* " + text


def _v(node: str) -> str:
    return "0" if node == "0" else f"v({name(node)})"


def _threshold(cell: FeedbackCell) -> str:
    u, theta = _v(cell.feedback), number(cell.threshold_v)
    if cell.shape is ThresholdShape.HARD:
        return f"(abs({u}) >= {theta} ? {u} : 0)"
    return f"(max({u}-{theta},0)-max(-{u}-{theta},0))"


def _lines_for(element) -> list[str]:
    if isinstance(element, ResistorArray | FeedbackCellArray):
        return [line for resistor in element for line in _lines_for(resistor)]
    lines = [comment(element.comment)] if element.comment else []
    if isinstance(element, Resistor):
        lines.append(
            f"{name(element.name)} {name(element.a)} {name(element.b)} {number(element.resistance_ohm)}"
        )
    elif isinstance(element, Capacitor):
        lines.append(
            f"{name(element.name)} {name(element.a)} {name(element.b)} {number(element.capacitance_f)}"
        )
    elif isinstance(element, VoltageSource):
        head = f"{name(element.name)} {name(element.pos)} {name(element.neg)}"
        if element.pwl is None:
            lines.append(f"{head} DC {number(element.dc_v)}")
        else:
            points = " ".join(f"{number(t)} {number(v)}" for t, v in element.pwl)
            lines.append(f"{head} PWL({points})")
    elif isinstance(element, Clamp):
        dv = f"({_v(element.node)}-{_v(element.target)})"
        lines.append(
            f"{name(element.name)} {name(element.node)} {name(element.target)} "
            f"I = {number(element.conductance_s)}*{_v(element.beta)}*{dv}"
        )
    elif isinstance(element, FeedbackCell):
        n = element.names
        dv = f"({_v(element.a)}-{_v(element.b)})"
        s, u, w = name(element.signal), name(element.feedback), name(element.accumulator)
        lines += [
            f"{n['squarer']} {s} 0 V = {dv}*{dv}",
            f"{n['c_k']} {s} {u} {number(element.c_k_f)}",
            f"{n['r_k']} {u} 0 {number(element.r_k_ohm)}",
            f"{n['threshold']} {w} 0 I = {number(element.gain_a_per_v)}*{_threshold(element)}",
            f"{n['c_acc']} {w} 0 1",
        ]
    elif isinstance(element, MemristorCell):
        from tcl_circuits.spice.memristor_cells import memristor_cell_lines

        lines += memristor_cell_lines(element)
    else:
        raise NetlistError(f"no SPICE form for element {element!r}")
    return lines


def write_netlist(circuit: Circuit, *, measure_accumulators: bool = False) -> str:
    """The ngspice deck of a compiled circuit (title line first, ``.end`` last), after the safety scan.

    With ``measure_accumulators`` a transient deck also prints every accumulator's final value when run
    standalone (``ngspice -b deck.cir``), through ``.meas`` statements.
    """
    lines = [comment(circuit.title)[2:] or "tcl_circuits"]
    lines += [note(text) for text in circuit.notes]
    lines += [comment(text) for text in circuit.header_comments]
    for element in circuit.elements:
        lines += _lines_for(element)
    accumulators = circuit.cells.accumulator
    for start in range(0, len(accumulators), 8):
        lines.append(".ic " + " ".join(f"v({name(w)})=0" for w in accumulators[start : start + 8]))
    states = [(cell.state, cell.state_initial) for cell in circuit.memristor_cells]
    for start in range(0, len(states), 8):
        lines.append(".ic " + " ".join(f"v({name(x)})={number(x0)}" for x, x0 in states[start : start + 8]))
    lines.append(f".options reltol={number(circuit.reltol)}")
    analysis = circuit.analysis
    if isinstance(analysis, Transient):
        lines.append(
            f".tran {number(analysis.step_s)} {number(analysis.stop_s)} 0 {number(analysis.max_step_s)}"
        )
    elif isinstance(analysis, DcSweep):
        lines.append(
            f".dc {name(analysis.source)} {number(analysis.start)} {number(analysis.stop)} {number(analysis.step)}"
        )
    else:
        raise NetlistError(f"no SPICE form for analysis {analysis!r}")
    if measure_accumulators and isinstance(analysis, Transient):
        for cell in circuit.cells:
            lines.append(
                f".meas tran acc{cell.index} FIND v({name(cell.accumulator)}) AT={number(analysis.stop_s)}"
            )
    lines.append(".end")
    text = "\n".join(lines) + "\n"
    check_deck(text)
    return text


def check_deck(text: str) -> None:
    """Refuse any deck that could run commands or read files; raises NetlistError naming the line."""
    for number_, line in enumerate(text.splitlines(), start=1):
        low = line.strip().lower()
        if any(low.startswith(word) for word in _FORBIDDEN_START):
            raise NetlistError(f"line {number_} starts with a forbidden directive: {line[:60]!r}")
        for token in _FORBIDDEN_ANYWHERE:
            if token in low:
                raise NetlistError(f"line {number_} contains forbidden {token.strip()!r}: {line[:60]!r}")
