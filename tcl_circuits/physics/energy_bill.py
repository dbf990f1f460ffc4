"""One update's whole energy bill by block, joules, and the time an update takes.

Measured blocks are what the engine integrated over the update's cycle (``physics.energy.energy_bill_j``):
``network`` (edge resistors), ``clamps``, and the cells: the behavioural cells' R_K heat (``feedback_rk``) or
the analog cell's stages' whole supply energy (``multiplier``, ``threshold``, ``integrator``), or, in a
memristor network, the programming drives' (``writes``). Priced blocks need a technology
(``technology.model``), and are priced from its numbers:

- ``quiescent``: the analog cell's stages at the design's bias currents (``cell.analog``'s quiescent
  currents) on the process's supply (``cell_budget.on_process_supply``) over one period
  (``cell_budget.quiescent_energy_j``); whether those currents buy the bandwidth the kernel needs is a
  requirement of its own (``cell_budget.bandwidth_requirements``). Left out when the engine simulated the
  analog cell: its measured stage energies hold their bias currents.
- ``dynamic``: one decision of the chosen comparator kind per edge per update (its offset storage or
  auto-zero phase and the decision that gates the accumulator), at the process's energy per decision.
  Charging C_K and C_int is left out: C_K's swing is u, millivolts (C_K u^2 is attojoules at a picofarad),
  and C_int's is the accumulator's read value, whose charge the integrator's supply delivers inside its
  measured or quiescent energy.
- ``readout``: every accumulator read once per update by the process's ADC, adc_energy_per_step_j x
  2^adc_bits per edge.
- ``writes``: the device pulses the stored conductance changes took, pulse by pulse (``write_pulses``), at
  the device's energy per pulse.

The cells' blocks (quiescent, dynamic, read-out) belong to TCL's in-circuit rule; the contrastive and gradient
rules have no cells, and their bills none of these blocks. Without a technology each priced block is None
and named in ``unpriced``; the total is over the priced blocks only. The time per update is the sawtooth's
period: the presets give no read or write time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.physics.cell_budget import on_process_supply, quiescent_energy_j
from tcl_circuits.technology.model import Technology

ANALOG_STAGES = ("multiplier", "threshold", "integrator")
"""The analog cell's measured stage kinds (``physics.energy``)."""
MEASURED_BLOCKS = {"clamp": "clamps", "write": "writes"}
"""The engine's block names (``block_energy_<name>_j`` in a run's records) as the bill names them, where they
differ."""
CELL_BLOCKS = ("quiescent", "dynamic", "readout")
"""The priced blocks of TCL's cells."""
STEP_TOLERANCE = 1e-9
"""A change within this fraction of a step above a whole number of steps is that number of pulses
(floating-point rounding of a change quantised to the device's levels)."""


def write_pulses(delta_g_s: np.ndarray, span_s: np.ndarray, levels: int) -> int:
    """The device pulses that write the conductance changes ``delta_g_s`` (per edge, siemens): each edge's
    |dG| over its device's step, span / levels, rounded up (2.5 steps take 3 pulses, no change none). An
    analog device (``levels`` 0) takes one pulse per changed edge."""
    change = np.abs(np.asarray(delta_g_s, dtype=float))
    if levels == 0:
        return int(np.count_nonzero(change))
    steps = change / (np.asarray(span_s, dtype=float) / levels)
    return int(np.sum(np.ceil(np.maximum(steps - STEP_TOLERANCE, 0.0))))


@dataclass(frozen=True)
class EnergyBill:
    """One update's energy by block (J; None where unpriced), its edges, the mean device pulses of an update
    (None where not counted) and the update's time (s)."""

    by_block_j: dict[str, float | None]
    edges: int
    pulses_per_update: float | None
    time_per_update_s: float
    technology: str | None

    @property
    def unpriced(self) -> list[str]:
        """The blocks left without a price (they need a technology)."""
        return [block for block, value in self.by_block_j.items() if value is None]

    @property
    def total_j(self) -> float:
        """The sum over the priced blocks (the whole bill when nothing is unpriced)."""
        return float(sum(value for value in self.by_block_j.values() if value is not None))

    @property
    def per_edge_j(self) -> float:
        return self.total_j / self.edges

    def summary(self) -> dict:
        """summary.json's ``energy_per_update_j``: total, per_edge, by_block, unpriced, pulses_per_update,
        technology (docs/feasibility.md)."""
        return {
            "total": self.total_j,
            "per_edge": self.per_edge_j,
            "by_block": dict(self.by_block_j),
            "unpriced": self.unpriced,
            "pulses_per_update": self.pulses_per_update,
            "technology": self.technology,
        }


def update_bill(
    measured_j: dict[str, float],
    *,
    edges: int,
    period_s: float,
    design: CellDesign | None,
    tech: Technology | None,
    comparator: str,
    pulses_per_update: float | None,
    technology_name: str | None = None,
) -> EnergyBill:
    """The bill of one update (module docstring): ``measured_j`` the engine's blocks (means over the run),
    ``design`` the TCL cells as built (None for rules without cells), ``pulses_per_update`` the mean count
    of device pulses (None where not counted: no technology, or a memristor network's measured writes)."""
    bill: dict[str, float | None] = dict(measured_j)
    if design is not None:
        simulated_stages = any(stage in measured_j for stage in ANALOG_STAGES)
        for block in CELL_BLOCKS:
            if not (block == "quiescent" and simulated_stages):
                bill[block] = None
        if tech is not None:
            cmos = tech.cmos
            if not simulated_stages:
                analog = on_process_supply(cmos, design.config.analog)
                bill["quiescent"] = sum(quiescent_energy_j(analog, edges, period_s).values())
            bill["dynamic"] = cmos.comparators[comparator].energy_per_decision_j.value * edges
            bill["readout"] = cmos.adc_energy_per_step_j.value * 2 ** int(cmos.adc_bits.value) * edges
    if "writes" not in measured_j:
        bill["writes"] = None
        if tech is not None and pulses_per_update is not None:
            bill["writes"] = pulses_per_update * tech.device.write_energy_per_pulse_j.value
    return EnergyBill(
        by_block_j=bill,
        edges=edges,
        pulses_per_update=pulses_per_update,
        time_per_update_s=period_s,
        technology=technology_name if technology_name is not None else (tech.name if tech else None),
    )
