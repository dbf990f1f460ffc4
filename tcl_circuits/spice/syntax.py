"""SPICE syntax primitives shared by the writer and the cell writers: numbers, names, comments, the threshold
expression (written from the kernel's ``THRESHOLD_PIECES``), and the safety scan that every emitted deck
passes.

Numbers are written at a fixed 15 significant digits after a finiteness check, never with SPICE suffixes
(``1M`` is milli); times are written exactly (``time_point``). Computed values (thresholds from quantiles,
solves by sparse LU) may differ in their last digits between numpy/scipy releases, so decks compare token
by token with a relative tolerance (``spice.decks``).
"""

from __future__ import annotations

import math
import re
from enum import Enum

import numpy as np

from tcl_circuits.errors import NetlistError
from tcl_circuits.kernels.nonlinearity import THRESHOLD_PIECES, ThresholdPieces, ThresholdShape


class Dialect(Enum):
    """Which simulator a deck is written for. LTSPICE uses only constructs LTspice documents: ``if(c, a, b)``
    where ngspice's form has the ternary ``(c ? a : b)``, and an amplifier's current sense through a 0 V
    source (an LTspice F source is controlled by a voltage source only)."""

    NGSPICE = "ngspice"
    LTSPICE = "ltspice"


SIGNIFICANT_DIGITS = 15
"""Significant digits of every number written into a netlist."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$|^0$")
_COMMENT_UNSAFE = re.compile(r"[^A-Za-z0-9 _,:()+\-=<>'\"\[\]#@/.]|(?<![0-9])\.|\.(?![0-9])")
"""What a comment may not carry: anything outside a harmless alphabet, and a dot not between two digits (a
decimal point is kept; no directive such as ``.control`` can begin with a digit)."""
_FORBIDDEN_START = (
    ".control",
    ".endc",
    ".include",
    ".inc",
    ".lib",
    ".exec",
    ".param",
    ".func",
    ".csparam",
    ".osdi",
    ".probe",
    "codemodel",
    "osdi",
    "shell",
    "source",
    "*#",
)
_FORBIDDEN_ANYWHERE = (".control", ".include", ".lib ", ".endc", "`", ";", "\\")


def number(value: float) -> str:
    """A float as plain SPICE text at SIGNIFICANT_DIGITS digits, refusing NaN, infinities and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise NetlistError(f"number expected, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise NetlistError(f"cannot write non-finite number {value!r} into a netlist")
    return format(value, f".{SIGNIFICANT_DIGITS}g")


def time_point(value: float) -> str:
    """A time in seconds as its shortest exact form (``repr``): breakpoints, stop times and steps.

    Times are sums like k * period + offset; rounding them to SIGNIFICANT_DIGITS moves breakpoints by up to
    1e-15 relative, which was measured to tip ngspice's step control into 'timestep too small' on stiff
    memristor streams (tests/learning/test_stream.py, gate held open). Times are set by the protocol, not
    computed from data, so their text is the same on every machine anyway.
    """
    number(value)
    return repr(float(value))


def signed(value: float) -> str:
    """``number`` with negative values in parentheses, for use inside an expression (no ``/-`` or ``*-``)."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def name(identifier: str) -> str:
    """A generated identifier, checked against the safe pattern (lower-case ASCII, at most 31 characters)."""
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


def voltage(node: str) -> str:
    """The expression of a node voltage (``0`` for ground)."""
    return "0" if node == "0" else f"v({name(node)})"


def conditional(condition: str, then: str, otherwise: str, dialect: Dialect = Dialect.NGSPICE) -> str:
    """``then`` where ``condition`` holds, else ``otherwise``: ngspice's ternary, LTspice's ``if()``."""
    if dialect is Dialect.LTSPICE:
        return f"if({condition}, {then}, {otherwise})"
    return f"({condition} ? {then} : {otherwise})"


def threshold_expression(
    u: str,
    theta_v: float | str,
    shape: ThresholdShape,
    offset_v: float | str = 0.0,
    dialect: Dialect = Dialect.NGSPICE,
) -> str:
    """g(u - offset) of ``shape`` (its ``kernels.nonlinearity.THRESHOLD_PIECES``) as a B-source expression."""
    pieces = THRESHOLD_PIECES.get(shape)
    if pieces is None:
        raise NetlistError(f"threshold shape {shape!r} has no circuit form (hard and dead_zone do)")
    return pieces_expression(u, theta_v, pieces, offset_v, dialect)


def pieces_expression(
    u: str,
    theta_v: float | str,
    pieces: ThresholdPieces,
    offset_v: float | str = 0.0,
    dialect: Dialect = Dialect.NGSPICE,
) -> str:
    """``pieces`` at x = u - offset as SPICE text of the expression ``u``; theta and the offset numbers, or
    generated subcircuit parameter references such as ``{theta}``. A zero offset is left out of the text.

    Continuous pieces (shift 1) are written as two ramps, max(x - theta, 0) - max(-x - theta, 0), which give
    ngspice no comparator to step across; otherwise a comparator on |x| selects the outer piece
    x - shift * theta * sgn(x) (``conditional``: the one construct whose text depends on the dialect).
    """
    x = f"({u}-{_operand(offset_v)})" if offset_v else u
    t = _operand(theta_v)
    if pieces.shift == 1:
        return f"(max({x}-{t},0)-max(-{x}-{t},0))"
    outer = x if pieces.shift == 0 else f"({x}-{signed(pieces.shift)}*{t}*sgn({x}))"
    return conditional(f"abs({x}) >= {t}", outer, "0", dialect)


def _operand(value: float | str) -> str:
    """A number as ``signed`` text, or a generated parameter reference as it is."""
    return value if isinstance(value, str) else signed(value)


def check_deck(text: str) -> None:
    """Refuse any deck that could run commands or read files; raises NetlistError naming the line.

    Refused: control blocks and ngspice's ``*#`` control-comment lines, a first line ``*ng_script`` (which
    turns a deck into a control script), includes and libraries, parameter and function definitions
    (they evaluate expressions we did not write), code-model and OSDI loading, shell escapes, backquotes,
    backslashes and ``;``.
    """
    lines = text.splitlines()
    if lines and lines[0].strip().lower().startswith("*ng_script"):
        raise NetlistError("line 1 makes the deck an ngspice control script ('*ng_script')")
    for number_, line in enumerate(lines, start=1):
        low = line.strip().lower()
        if any(low.startswith(word) for word in _FORBIDDEN_START):
            raise NetlistError(f"line {number_} starts with a forbidden directive: {line[:60]!r}")
        for token in _FORBIDDEN_ANYWHERE:
            if token in low:
                raise NetlistError(f"line {number_} contains forbidden {token.strip()!r}: {line[:60]!r}")
