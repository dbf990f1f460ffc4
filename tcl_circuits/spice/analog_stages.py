"""The analog cell's stage subcircuits (``circuit.analog_cell``): multiplier, threshold stage, op-amp.

Every stage output is one macro-model: a behavioural source held within the rails less ``rail_headroom_v``
(read from the stage's own supply pins), one pole (an RC), a buffer whose current a 0 V source senses, and
rail currents: the quiescent current on each rail plus the output current on the rail that delivers it.

- ``tclmult a b out vdd vss``: K (v(a) - v(b)) squared, a four-quadrant multiplier wired as a squarer (K
  the multiplier's scale times the cells' signal gain A).
- ``tclthr in out vdd vss`` (params theta, vos, gain): gain * g(v(in) - vos), g the cell's threshold shape
  (hard: a window comparator gating a gain stage; dead_zone: a dead-zone amplifier).
- ``tclint in out vdd vss``: an op-amp, -A0 v(in) with one pole at GBW / A0 and a slew-rate limit, its
  output held within the rails (its feedback C_int and input R_int sit outside, per edge).

A user can swap any of them for a transistor-level or Verilog-A model with the same name, ports and params.
"""

from __future__ import annotations

import math

import numpy as np

from tcl_circuits.circuit.analog_cell import INTEGRATOR, MULTIPLIER, THRESHOLD
from tcl_circuits.circuit.ir import (
    AnalogCellArray,
    Behavioural,
    Capacitor,
    Resistor,
    SubcircuitDef,
    VoltageSource,
)
from tcl_circuits.config import AnalogCellConfig
from tcl_circuits.errors import NetlistError
from tcl_circuits.spice.names import spice_name
from tcl_circuits.spice.syntax import Dialect, number, threshold_expression

__all__ = ["stage_subcircuits"]

_POLE_R_OHM = 1e3
_OPAMP_R_OHM = 1e6


def _output(expression: str, bandwidth_hz: float, quiescent_a: float, headroom_v: float) -> tuple:
    held = f"max(min({expression},v(vdd)-{number(headroom_v)}),v(vss)+{number(headroom_v)})"
    return (
        Behavioural("o", "o1", "0", "V", held),
        Resistor("p", "o1", "o2", _POLE_R_OHM),
        Capacitor("p", "o2", "0", 1.0 / (2 * math.pi * bandwidth_hz * _POLE_R_OHM)),
        Behavioural("b", "o3", "0", "V", "v(o2)"),
        *_sensed_rails(quiescent_a),
    )


def _sensed_rails(quiescent_a: float) -> tuple:
    """The output buffer's 0 V current sense (o3 -> out) and the rail currents it sets: the quiescent current
    on each rail plus the output current on the rail that delivers it."""
    sense = VoltageSource("s", "o3", "out", dc_v=0.0)
    current, iq = f"i({spice_name(sense)})", number(quiescent_a)
    return (
        sense,
        Behavioural("qp", "vdd", "0", "I", f"{iq}+max({current},0)"),
        Behavioural("qn", "0", "vss", "I", f"{iq}+max(-{current},0)"),
    )


def _opamp(a: AnalogCellConfig) -> tuple:
    """-A0 v(in) with one pole at GBW / A0 and a slew-rate limit: a transconductance gm, at most
    slew * C_p, into R_p || C_p (A0 = gm R_p, gm / C_p = 2 pi GBW); the internal node is held within the rails
    by a stiff conductance beyond them, then buffered to the output."""
    gm = a.integrator_gain / _OPAMP_R_OHM
    c_p = gm / (2 * math.pi * a.integrator_gbw_hz)
    i_max = number(a.integrator_slew_v_per_s * c_p)
    hi, lo = f"v(vdd)-{number(a.rail_headroom_v)}", f"v(vss)+{number(a.rail_headroom_v)}"
    clamp_s = number(1e4 / _OPAMP_R_OHM)
    return (
        Behavioural("g", "p", "0", "I", f"max(min({number(gm)}*v(in),{i_max}),-{i_max})"),
        Resistor("p", "p", "0", _OPAMP_R_OHM),
        Capacitor("p", "p", "0", c_p),
        Behavioural("l", "p", "0", "I", f"{clamp_s}*(max(v(p)-({hi}),0)+min(v(p)-({lo}),0))"),
        Behavioural("b", "o3", "0", "V", "v(p)"),
        *_sensed_rails(a.integrator_quiescent_a),
    )


def stage_subcircuits(
    array: AnalogCellArray, dialect: Dialect = Dialect.NGSPICE
) -> tuple[SubcircuitDef, ...]:
    """The three stage definitions for the cells of ``array``: the multiplier's scale is K times the cells'
    squarer gain A (one for all cells: the definition is shared)."""
    a = array.analog
    gains = np.unique(array.cells.signal_gain)  # type: ignore[arg-type]
    if gains.size > 1:
        raise NetlistError(
            f"analog cells need one squarer gain for all edges, got {gains.size} different ones"
        )
    k = number(a.multiplier_scale_per_v * (float(gains[0]) if gains.size else 1.0))
    gated = threshold_expression("v(in)", "{theta}", array.shape, "{vos}", dialect)
    return (
        SubcircuitDef(
            MULTIPLIER,
            ("a", "b", "out", "vdd", "vss"),
            _output(
                f"{k}*(v(a)-v(b))*(v(a)-v(b))",
                a.multiplier_bandwidth_hz,
                a.multiplier_quiescent_a,
                a.rail_headroom_v,
            ),
            comment=f"squarer: K (a - b) squared, K = {k} per V, bandwidth {a.multiplier_bandwidth_hz:.3g} Hz",
        ),
        SubcircuitDef(
            THRESHOLD,
            ("in", "out", "vdd", "vss"),
            _output("{gain}*" + gated, a.threshold_bandwidth_hz, a.threshold_quiescent_a, a.rail_headroom_v),
            comment=f"threshold stage: gain times g(in - vos), g {array.shape.value} of half-width theta",
            params=(("theta", 0.0), ("vos", 0.0), ("gain", 1.0)),
        ),
        SubcircuitDef(
            INTEGRATOR,
            ("in", "out", "vdd", "vss"),
            _opamp(a),
            comment=f"op-amp: gain {a.integrator_gain:.3g}, GBW {a.integrator_gbw_hz:.3g} Hz, "
            f"slew {a.integrator_slew_v_per_s:.3g} V/s",
        ),
    )
