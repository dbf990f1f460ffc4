"""Energy dissipated during a simulated cycle, integrated from the simulated node voltages.

Counted: the network's resistors, the clamp conductances (I*V of a resistor-like element), and the resistors
R_K of the feedback cells. Not counted: the ideal behavioural sources (squarer, threshold, accumulator
drive), which stand for circuits whose own consumption depends on how they are built.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import trapezoid

from tcl_circuits.backends.base import SimResult
from tcl_circuits.backends.native.cell_dynamics import squared_drops
from tcl_circuits.circuit.ir import Circuit


@lru_cache(maxsize=8)
def _incidence(
    ends_a: tuple[str, ...], ends_b: tuple[str, ...]
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Distinct non-ground nodes and, per resistor, the rows of its two ends (-1 for ground). The same for
    every sample of a run."""
    nodes = tuple(sorted((set(ends_a) | set(ends_b)) - {"0"}))
    row = {node: k for k, node in enumerate(nodes)}
    row["0"] = -1
    return nodes, np.array([row[n] for n in ends_a]), np.array([row[n] for n in ends_b])


def network_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the edge resistors and the clamp conductances over the simulated interval, joules."""
    resistors = circuit.resistor_table
    power = np.zeros_like(result.axis)
    if len(resistors):
        nodes, a, b = _incidence(resistors.a, resistors.b)
        power += (1.0 / resistors.resistance_ohm) @ squared_drops(result.rows(nodes), a, b)
    for clamp in circuit.clamps:
        dv = result.v(clamp.node) - result.v(clamp.target)
        power += clamp.conductance_s * result.v(clamp.beta) * dv * dv
    return float(trapezoid(power, result.axis))


def feedback_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the feedback resistors R_K over the simulated interval, joules."""
    cells = circuit.cells
    if not cells:
        return 0.0
    u = result.rows(cells.feedback)
    power = (1.0 / cells.r_k_ohm) @ (u * u)
    return float(trapezoid(power, result.axis))
