"""One threshold shape: the numpy form, the native engine's compiled scalar and the SPICE expression of
``THRESHOLD_PIECES`` agree on the same samples, at and around +-theta and +-theta + offset."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tcl_circuits.backends.native.cell_dynamics import _g
from tcl_circuits.errors import NetlistError
from tcl_circuits.kernels.nonlinearity import THRESHOLD_PIECES, ThresholdPieces, ThresholdShape, threshold_g
from tcl_circuits.spice.syntax import check_deck, number, pieces_expression, threshold_expression

# the two circuit shapes, and a half shift for the comparator's general outer piece
PIECES = [
    THRESHOLD_PIECES[ThresholdShape.HARD],
    THRESHOLD_PIECES[ThresholdShape.DEAD_ZONE],
    ThresholdPieces(0.5),
]
# dyadic values with short decimals: ngspice reads them back exactly, so every comparison at +-theta is exact
THETAS = [0.0, 2.0]
OFFSETS = [0.0, 0.75, -0.5]


def _samples(theta: float, offset: float) -> np.ndarray:
    """u at 0, large, +-theta and +-theta + offset (x exactly at +-theta), +-theta - offset, and either side."""
    u = {0.0, offset, 1e6, -1e6, 1000.5, -1000.5}
    for edge in (theta, -theta):
        u |= {edge + d for d in (0.0, offset, -offset, offset + 0.25, offset - 0.25, 0.25, -0.25)}
    return np.array(sorted(u))


CASES = [(p, t, o) for p in PIECES for t in THETAS for o in OFFSETS]
IDS = [f"shift{p.shift}-theta{t}-offset{o}" for p, t, o in CASES]


@pytest.mark.parametrize(("pieces", "theta", "offset"), CASES, ids=IDS)
def test_numpy_and_numba_forms_agree(pieces, theta, offset):
    u = _samples(theta, offset)
    compiled = np.array([_g(v - offset, theta, pieces.shift) for v in u])
    np.testing.assert_array_equal(compiled, pieces.g(u, theta, offset))


def _python(expression: str):
    """The generated SPICE expression as a Python function of x: ``(c ? a : b)`` becomes ``a if c else b``;
    abs, max and the numbers read the same; sgn is np.sign."""
    ternary = re.fullmatch(r"\((.+) \? (.+) : (.+)\)", expression)
    text = f"(({ternary[2]}) if ({ternary[1]}) else ({ternary[3]}))" if ternary else expression
    code = compile(text, "<spice>", "eval")
    return lambda x: eval(code, {"__builtins__": {}}, {"x": x, "abs": abs, "max": max, "sgn": np.sign})


@pytest.mark.parametrize(("pieces", "theta", "offset"), CASES, ids=IDS)
def test_spice_text_read_as_python_agrees(pieces, theta, offset):
    u = _samples(theta, offset)
    g = _python(pieces_expression("x", theta, pieces, offset))
    np.testing.assert_array_equal([g(v) for v in u], pieces.g(u, theta, offset))


@pytest.mark.ngspice
def test_ngspice_evaluates_the_spice_text_as_numpy(ngspice):
    """One operating point: a DC source per sample, a B-source of the generated expression on each."""
    lines = ["threshold shape parity"]
    expected = {}
    for c, (pieces, theta, offset) in enumerate(CASES):
        u = _samples(theta, offset)
        for k, (value, g) in enumerate(zip(u, pieces.g(u, theta, offset), strict=True)):
            node = f"{c}_{k}"
            lines.append(f"vu{node} u{node} 0 DC {number(value)}")
            lines.append(f"bg{node} g{node} 0 V = {pieces_expression(f'v(u{node})', theta, pieces, offset)}")
            expected[node] = (value, g)
    deck = "\n".join([*lines, ".op", ".end", ""])
    check_deck(deck)
    v = ngspice.run_netlist(deck).vectors
    for node, (value, g) in expected.items():
        assert v[f"u{node}"][0] == value, node  # the sample reached the expression unrounded
        assert v[f"g{node}"][0] == pytest.approx(g, rel=1e-12, abs=1e-12), (node, value)


@pytest.mark.parametrize("shape", [ThresholdShape.HARD, ThresholdShape.DEAD_ZONE])
@pytest.mark.parametrize("offset", OFFSETS)
def test_shapes_are_their_pieces(shape, offset):
    u = _samples(2.0, offset)
    pieces = THRESHOLD_PIECES[shape]
    np.testing.assert_array_equal(threshold_g(u, 2.0, shape, offset), pieces.g(u, 2.0, offset))
    assert threshold_expression("v(u)", 2.0, shape, offset) == pieces_expression("v(u)", 2.0, pieces, offset)


def test_cubic_has_no_circuit_form():
    with pytest.raises(NetlistError, match="no circuit form"):
        threshold_expression("v(u)", 2.0, ThresholdShape.CUBIC)
