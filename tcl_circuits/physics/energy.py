"""Energy during a simulated cycle, integrated from the simulated node voltages, and the bill by block.

Power waveforms by block: the network's resistors, the clamp conductances (I*V of a resistor-like element),
the resistors R_K of the behavioural feedback cells (resistor and memristor cells alike), and the supply
power of each stage kind of the analog cell. The behavioural cell's ideal sources (squarer, threshold,
accumulator drive) stand for circuits whose consumption depends on how they are built, so they are not
counted; the analog cell's stages are, from their rails. Memristor devices dissipate through their own I-V;
the memristor learner adds that from the device models.

Every block is computed from node voltages, which any engine can do. ``source_energy_j`` is the other side
of the books: what each independent source delivered, from its own branch current (ngspice returns those),
so the bill can be checked against it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import trapezoid

if TYPE_CHECKING:  # types only: physics sits below the backends
    from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.analog_cell import SUPPLY_SOURCES
from tcl_circuits.circuit.ir import AnalogCellArray, Circuit, VoltageSource
from tcl_circuits.errors import SimulationError
from tcl_circuits.kernels.nonlinearity import threshold_g
from tcl_circuits.physics.drops import squared_drops
from tcl_circuits.spice.names import branch_vector, spice_name


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
    exact = not circuit.of_type(AnalogCellArray)  # an analog squarer has a scale and a pole
    if (
        exact
        and len(resistors)
        and len(cells) == len(resistors)
        and cells.a == resistors.a
        and cells.b == resistors.b
    ):
        # a cell on every resistor, in order: its squarer already holds the squared drop, s = A (v(a) - v(b))^2
        gains = cells.signal_gain
        if np.all(gains == 1.0):
            return result.weighted_sum(cells.signal, 1.0 / resistors.resistance_ohm)
        return result.weighted_sum(cells.signal, 1.0 / (resistors.resistance_ohm * gains))
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


def _stage_power_w(
    array: AnalogCellArray, u: np.ndarray, into_summing_node_v: np.ndarray
) -> dict[str, np.ndarray]:
    """P = V_supply (2 I_q + |I_out|) summed over the cells, per stage kind, from u and g - m (cells x points)."""
    a, c = array.analog, array.cells
    count = len(c)
    into_integrator = np.abs(into_summing_node_v).sum(axis=0) / a.integrator_r_ohm
    outputs = {
        "multiplier": (np.abs(u) / c.r_k_ohm[:, None]).sum(axis=0),
        "threshold": into_integrator,
        "integrator": into_integrator,
    }
    quiescent = {
        "multiplier": a.multiplier_quiescent_a,
        "threshold": a.threshold_quiescent_a,
        "integrator": a.integrator_quiescent_a,
    }
    return {stage: a.supply_v * (2 * count * quiescent[stage] + outputs[stage]) for stage in SUPPLY_SOURCES}


def analog_stage_power_w(circuit: Circuit, result: SimResult) -> dict[str, np.ndarray]:
    """Supply power of each analog stage kind over the axis, watts, from the cells' node voltages.

    A stage draws its quiescent current on both rails and its output current on the rail that delivers it:
    P = V_supply (2 I_q + |I_out|) per cell. The outputs: the multiplier's is the C_K-R_K branch current
    u / R_K; the threshold stage's (g - m) / R_int into the integrator's summing node m; the op-amp's the
    same current taken back through C_int.
    """
    analogs = circuit.of_type(AnalogCellArray)
    if not analogs:
        return {}
    (array,) = analogs
    nodes = [array.stage_nodes(e) for e in range(len(array.cells))]
    g = result.rows([n[0] for n in nodes])
    m = result.rows([n[1] for n in nodes])
    return _stage_power_w(array, result.rows(array.cells.feedback), g - m)


def analog_stage_power_estimate_w(array: AnalogCellArray, result: SimResult) -> dict[str, np.ndarray]:
    """The same accounting on a run of the behavioural cell (any engine, the native one included): the
    analog cells of ``array`` fed the behavioural cells' u, with the threshold stage's output
    gain * g(K u - K offset) and the summing node at virtual ground (m = 0). Checked against ngspice's analog
    cell in the tests."""
    c, k = array.cells, array.analog.multiplier_scale_per_v
    u = result.rows(c.feedback)
    x = k * (u - c.offset_v[:, None])  # type: ignore[index]
    theta = k * c.threshold_v[:, None]
    gated = theta * threshold_g(
        x / theta, 1.0, array.shape
    )  # g(x; theta) = theta g(x / theta; 1), per-edge theta
    return _stage_power_w(array, u, array.stage_gain[:, None] * gated)


def energy_bill_j(circuit: Circuit, result: SimResult) -> dict[str, float]:
    """Energy per block over the simulated interval, joules: ``network`` (edge resistors), ``clamp``, and the
    cells: ``feedback_rk`` (behavioural cells' R_K) or each analog stage kind (``multiplier``, ``threshold``,
    ``integrator``, their whole supply energy, R_K's heat included)."""
    axis = result.axis
    bill = {
        "network": energy_j(resistor_power_w(circuit, result), axis),
        "clamp": energy_j(clamp_power_w(circuit, result), axis),
    }
    stages = analog_stage_power_w(circuit, result)
    if stages:
        bill.update({stage: energy_j(power, axis) for stage, power in stages.items()})
    else:
        bill["feedback_rk"] = feedback_energy_j(circuit, result)
    return bill


def source_energy_j(circuit: Circuit, result: SimResult) -> dict[str, float]:
    """Energy each independent voltage source delivered over the interval, joules, by the source's SPICE name
    (``spice.names.spice_name``), from its branch current (``<SPICE name>#branch``; the simulator must return
    it: ngspice does, the native engine does not)."""
    out = {}
    for source in circuit.of_type(VoltageSource):
        spice = spice_name(source)
        current = result.vectors.get(branch_vector(source))
        if current is None:
            raise SimulationError(
                f"the simulation returned no branch current for source {spice!r} (ngspice does; the native "
                "engine does not)"
            )
        drop = result.v(source.pos) - result.v(source.neg)
        out[spice] = energy_j(-drop * current, result.axis)
    return out
