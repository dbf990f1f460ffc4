"""Energy dissipated during a simulated cycle, integrated from the simulated node voltages.

Power waveforms by block: the network's resistors, the clamp conductances (I*V of a resistor-like element),
and the resistors R_K of the feedback cells (resistor and memristor cells alike). Not counted: the ideal
behavioural sources (squarer, threshold, accumulator drive), which stand for circuits whose own
consumption depends on how they are built. Memristor devices dissipate through their own I-V; the
memristor learner adds that from the device models.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import trapezoid

if TYPE_CHECKING:  # types only: physics sits below the backends
    from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.ir import Circuit
from tcl_circuits.physics.drops import squared_drops


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


def resistor_power_w(circuit: Circuit, result: SimResult) -> np.ndarray:
    """Joule power in the fixed resistors over the simulated axis, watts."""
    resistors = circuit.resistor_table
    power = np.zeros_like(result.axis)
    cells = circuit.cells
    if len(resistors) and len(cells) == len(resistors) and cells.a == resistors.a and cells.b == resistors.b:
        # a cell on every resistor, in order: its squarer already holds the squared drop, s = (v(a) - v(b))^2
        return result.weighted_sum(cells.signal, 1.0 / resistors.resistance_ohm)
    if len(resistors):
        nodes, a, b = _incidence(resistors.a, resistors.b)
        power += (1.0 / resistors.resistance_ohm) @ squared_drops(result.rows(nodes), a, b)
    return power


def clamp_power_w(circuit: Circuit, result: SimResult) -> np.ndarray:
    """Power in the clamp conductances G * beta(t) over the simulated axis, watts."""
    power = np.zeros_like(result.axis)
    for clamp in circuit.clamps:
        dv = result.v(clamp.node) - result.v(clamp.target)
        power += clamp.conductance_s * result.v(clamp.beta) * dv * dv
    return power


def feedback_power_w(circuit: Circuit, result: SimResult) -> np.ndarray:
    """Joule power in the feedback resistors R_K of every cell (u^2 / R_K) over the simulated axis, watts."""
    power = np.zeros_like(result.axis)
    cells = circuit.cells
    if len(cells):
        power += result.weighted_sum(cells.feedback, 1.0 / cells.r_k_ohm, square=True)
    for cell in circuit.memristor_cells:
        u = result.v(cell.feedback)
        power += u * u / cell.r_k_ohm
    return power


def energy_j(power_w: np.ndarray, time_s: np.ndarray, mask: np.ndarray | None = None) -> float:
    """The integral of a power waveform over time (over ``mask`` only when given), joules."""
    if mask is not None:
        power_w, time_s = power_w[mask], time_s[mask]
    return float(trapezoid(power_w, time_s))


def network_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the edge resistors and the clamp conductances over the simulated interval, joules."""
    return energy_j(resistor_power_w(circuit, result) + clamp_power_w(circuit, result), result.axis)


def feedback_energy_j(circuit: Circuit, result: SimResult) -> float:
    """Joule heat in the feedback resistors R_K over the simulated interval, joules."""
    return energy_j(feedback_power_w(circuit, result), result.axis)
