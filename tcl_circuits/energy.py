"""Energy dissipated during a simulated cycle, integrated from the simulated node voltages.

Counted: the network's resistors, the clamp conductances (I*V of a resistor-like element), and the resistors
R_K of the feedback cells. Not counted: the ideal behavioural sources (squarer, threshold, accumulator
drive), which stand for circuits whose own consumption depends on how they are built.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid

from .backends.base import SimResult
from .circuit import Circuit, Clamp, Resistor


def network_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the edge resistors and the clamp conductances over the simulated interval, joules."""
    t = result.axis
    power = np.zeros_like(t)
    for element in circuit.elements:
        if isinstance(element, Resistor):
            dv = result.v(element.a) - result.v(element.b)
            power += dv * dv / element.resistance_ohm
        elif isinstance(element, Clamp):
            dv = result.v(element.node) - result.v(element.target)
            power += element.conductance_s * result.v(element.beta) * dv * dv
    return float(trapezoid(power, t))


def feedback_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the feedback resistors R_K over the simulated interval, joules."""
    t = result.axis
    power = np.zeros_like(t)
    for cell in circuit.cells:
        u = result.v(cell.feedback)
        power += u * u / cell.r_k_ohm
    return float(trapezoid(power, t))
