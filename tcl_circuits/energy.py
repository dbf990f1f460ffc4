"""Energy dissipated during a simulated cycle, integrated from the simulated node voltages.

Counted: the network's resistors, the clamp conductances (I*V of a resistor-like element), and the resistors
R_K of the feedback cells. Not counted: the ideal behavioural sources (squarer, threshold, accumulator
drive), which stand for circuits whose own consumption depends on how they are built.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid

from .backends.base import SimResult
from .circuit import Circuit, Resistor


def _voltages(result: SimResult, nodes: list[str]) -> np.ndarray:
    """Node voltages stacked as (len(nodes), time points); ground reads as zeros."""
    return np.stack([result.v(node) for node in nodes]) if nodes else np.zeros((0, result.axis.size))


def network_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the edge resistors and the clamp conductances over the simulated interval, joules."""
    resistors = circuit.of_type(Resistor)
    power = np.zeros_like(result.axis)
    if resistors:
        nodes = sorted({r.a for r in resistors} | {r.b for r in resistors})
        row = {node: k for k, node in enumerate(nodes)}
        voltages = _voltages(result, nodes)
        a = np.array([row[r.a] for r in resistors])
        b = np.array([row[r.b] for r in resistors])
        dv = voltages[a] - voltages[b]
        conductance = np.array([1.0 / r.resistance_ohm for r in resistors])
        power += conductance @ (dv * dv)
    for clamp in circuit.clamps:
        dv = result.v(clamp.node) - result.v(clamp.target)
        power += clamp.conductance_s * result.v(clamp.beta) * dv * dv
    return float(trapezoid(power, result.axis))


def feedback_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the feedback resistors R_K over the simulated interval, joules."""
    cells = circuit.cells
    if not cells:
        return 0.0
    u = _voltages(result, [c.feedback for c in cells])
    power = np.array([1.0 / c.r_k_ohm for c in cells]) @ (u * u)
    return float(trapezoid(power, result.axis))
