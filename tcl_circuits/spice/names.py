"""SPICE instance names, formed by the writer from the IR: an element's type letter plus its identifier.

The IR names an element by its identity within its kind (resistor ``e7``, voltage source ``in3``, clamp
``cl0``), without SPICE's type letter; this module is the one place that adds it (``r``, ``c``, ``l``, ``v``,
``b``, ``d``, ``x``; an amplifier is written as ``e``/``f`` controlled sources). Whatever reads an instance
back from a simulation (a branch current ``<name>#branch``, the swept source) asks here, never assumes the
IR identifier is the SPICE name. The result passes ``syntax.name``, so only generated text reaches a deck.
"""

from __future__ import annotations

import re

from tcl_circuits.circuit.ir import (
    Amplifier,
    Behavioural,
    Capacitor,
    Clamp,
    Diode,
    Inductor,
    Instance,
    Resistor,
    ThresholdCurrent,
    VoltageSource,
)
from tcl_circuits.errors import NetlistError
from tcl_circuits.spice.syntax import name

__all__ = ["LETTERS", "branch_vector", "prefixed", "source_name", "spice_name"]

LETTERS: dict[type, str] = {
    Resistor: "r",
    Capacitor: "c",
    Inductor: "l",
    VoltageSource: "v",
    Clamp: "b",
    ThresholdCurrent: "b",
    Behavioural: "b",
    Diode: "d",
    Instance: "x",
    Amplifier: "e",
}
"""The SPICE type letter of every named IR element kind (an amplifier's is its voltage-controlled output
``e``; the writer adds its current sense ``f``, and in LTspice a 0 V source ``v``, on the same identifier)."""

_IDENTIFIER = re.compile(r"^[a-z0-9_]{1,30}$")


def prefixed(letter: str, identifier: str) -> str:
    """``letter + identifier`` as a checked SPICE name: the identifier a generated lower-case ASCII word (it
    may start with a digit, as in ``d0``), the whole a ``syntax.name``."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        raise NetlistError(f"unsafe or invalid element identifier {identifier!r}")
    return name(letter + identifier)


def spice_name(element) -> str:
    """The SPICE instance name of an IR element: its kind's type letter plus its identifier."""
    letter = LETTERS.get(type(element))
    if letter is None:
        raise NetlistError(f"{type(element).__name__} has no SPICE instance name")
    return prefixed(letter, element.name)


def source_name(identifier: str) -> str:
    """The SPICE name of the voltage source with IR identifier ``identifier`` (a DC sweep's source)."""
    return prefixed(LETTERS[VoltageSource], identifier)


def branch_vector(source: VoltageSource) -> str:
    """The simulator's vector of a voltage source's branch current: ``<SPICE name>#branch``."""
    return f"{spice_name(source)}#branch"
