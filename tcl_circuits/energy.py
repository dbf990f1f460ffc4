"""Energy dissipated during a simulated cycle, integrated from the simulated node voltages.

Counted: the network's resistors, the clamp conductances (I*V of a resistor-like element), and the resistors
R_K of the feedback cells. Not counted: the ideal behavioural sources (squarer, threshold, accumulator
drive), which stand for circuits whose own consumption depends on how they are built.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import trapezoid

from .backends.base import SimResult
from .circuit import Circuit, Resistor


def _voltages(result: SimResult, nodes: list[str]) -> np.ndarray:
    """Node voltages stacked as (len(nodes), time points); ground reads as zeros."""
    return np.stack([result.v(node) for node in nodes]) if nodes else np.zeros((0, result.axis.size))


@lru_cache(maxsize=8)
def _incidence(ends_a: tuple[str, ...], ends_b: tuple[str, ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct nodes and, per resistor, the rows of its two ends (the same for every sample of a run)."""
    nodes = sorted(set(ends_a) | set(ends_b))
    row = {node: k for k, node in enumerate(nodes)}
    return nodes, np.array([row[n] for n in ends_a]), np.array([row[n] for n in ends_b])


def network_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the edge resistors and the clamp conductances over the simulated interval, joules."""
    resistors = circuit.of_type(Resistor)
    power = np.zeros_like(result.axis)
    if resistors:
        nodes, a, b = _incidence(tuple(r.a for r in resistors), tuple(r.b for r in resistors))
        voltages = _voltages(result, nodes)
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
