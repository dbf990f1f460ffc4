"""What a cell design asks of a technology, computed: the noise at u, the threshold's margins against that noise
and against a comparator's residual offset, C_K against the largest capacitor a cell can hold, and the analog
cell's stages sized from the technology (bandwidth -> bias current -> energy per update by block, area).

The noise at u is R_K's: its thermal current through the C_K-R_K high-pass puts kT/C_K on u (the bandwidth
cancels), and its 1/f part (density 4kT/R_K (1 + f_c/f)) adds 2kT R_K f_c ln(1 + (f_p/f_min)^2), f_p the
high-pass's corner 1/(2 pi tau_K) and f_min one cycle's frequency (docs/feasibility.md). Each stage after the
squarer must pass the kernel's fastest change: its pole at least ``POLE_PER_KERNEL`` times 1/(2 pi tau_K), so
the kernel time moves by at most about a tenth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.circuit.ir import BOLTZMANN_J_PER_K
from tcl_circuits.config import AnalogCellConfig
from tcl_circuits.technology.model import Cmos

NOISE_MARGIN = 10.0
"""A threshold must stand at least this many standard deviations of the noise at u."""
OFFSET_MARGIN = 10.0
"""... and at least this many times the comparator's residual offset."""
POLE_PER_KERNEL = 10.0
"""Each stage's pole at least this many times the kernel's corner 1/(2 pi tau_K)."""
STAGE_LOAD_F = 100e-15
"""The load a threshold stage drives (the comparator's input and wiring), farads."""


def noise_at_u_v(
    c_k_f: np.ndarray, r_k_ohm: np.ndarray, temperature_k: float, flicker_corner_hz: float, period_s: float
) -> np.ndarray:
    """RMS noise of R_K on u, volts, per edge: kT/C_K plus the 1/f part (module docstring)."""
    c_k, r_k = np.asarray(c_k_f, dtype=float), np.asarray(r_k_ohm, dtype=float)
    kt = BOLTZMANN_J_PER_K * temperature_k
    variance = kt / c_k
    if flicker_corner_hz > 0:
        corner_hz = 1.0 / (2 * math.pi * r_k * c_k)
        variance = variance + 2 * kt * r_k * flicker_corner_hz * np.log1p((corner_hz * period_s) ** 2)
    return np.sqrt(variance)


@dataclass(frozen=True)
class Requirement:
    """One line of a go/no-go table: what the design needs, what the technology offers, and the margin
    (at least 1 passes)."""

    name: str
    needed: float
    offered: float
    unit: str
    margin: float

    @property
    def passes(self) -> bool:
        return bool(self.margin >= 1.0)


def needed_bandwidth_hz(design: CellDesign) -> float:
    """The bandwidth each stage after the squarer needs (``POLE_PER_KERNEL``)."""
    return POLE_PER_KERNEL / (2 * math.pi * design.tau_k_s)


def requirements(design: CellDesign, cmos: Cmos, *, comparator: str, resistor: str) -> list[Requirement]:
    """The design against the process: the threshold over the noise at u and over the comparator's offset
    (the worst edge of each), C_K against the largest capacitor of a cell."""
    temperature = cmos.temperature_k.value
    corner = cmos.resistor_flicker_corner_hz[resistor].value
    noise = noise_at_u_v(design.c_k_f, design.r_k_ohm, temperature, corner, design.drive.period_s)
    theta = design.nominal_threshold_v
    worst_noise = float(np.min(theta / noise))
    offset = cmos.comparators[comparator].offset_sigma_v.value
    largest = float(np.max(design.c_k_f))
    limit = cmos.max_capacitance_per_cell_f.value
    return [
        Requirement(
            f"threshold over R_K's noise at u ({resistor} R_K, {temperature:g} K)",
            NOISE_MARGIN,
            worst_noise,
            "sigma",
            worst_noise / NOISE_MARGIN,
        ),
        Requirement(
            f"threshold over the {comparator.replace('_', '-')} comparator's offset",
            OFFSET_MARGIN * offset,
            float(np.min(theta)),
            "V",
            float(np.min(theta)) / (OFFSET_MARGIN * offset) if offset > 0 else math.inf,
        ),
        Requirement("C_K within a cell's largest capacitor", largest, limit, "F", limit / largest),
    ]


def on_process_supply(cmos: Cmos, analog: AnalogCellConfig) -> AnalogCellConfig:
    """The analog cell's stages on the process's supply: rails at +-supply/2, headroom at most a fifth of a rail."""
    rail = cmos.supply_v.value / 2
    return analog.replace(supply_v=rail, rail_headroom_v=min(analog.rail_headroom_v, 0.2 * rail))


def sized_analog(cmos: Cmos, design: CellDesign, integrator_c_f: float) -> AnalogCellConfig:
    """The analog cell's stages on the process's supply (rails +-supply/2), each stage's bandwidth the one the
    kernel needs, and its bias current what that bandwidth costs: the multiplier from its power per hertz,
    the threshold stage and the integrator's op-amp as OTAs of the process's gm/I_D driving their loads
    (``STAGE_LOAD_F``, C_int): I = 2 pi f C / (gm/I_D). ``stage_bandwidths_hz`` is the inverse."""
    bandwidth = needed_bandwidth_hz(design)
    base = on_process_supply(cmos, design.config.analog)
    rail = base.supply_v
    gm_per_a = cmos.ota_gm_over_id_per_v.value
    return base.replace(
        multiplier_bandwidth_hz=bandwidth,
        multiplier_quiescent_a=cmos.multiplier_power_per_hz_w.value * bandwidth / (2 * rail),
        threshold_bandwidth_hz=bandwidth,
        threshold_quiescent_a=2 * math.pi * bandwidth * STAGE_LOAD_F / gm_per_a,
        integrator_gbw_hz=bandwidth,
        integrator_quiescent_a=2 * math.pi * bandwidth * integrator_c_f / gm_per_a,
    )


def stage_bandwidths_hz(cmos: Cmos, analog: AnalogCellConfig, integrator_c_f: float) -> dict[str, float]:
    """The bandwidth each stage's bias current buys on the process (``sized_analog`` inverted): a design that
    sets the bias currents gets these poles, by stage kind."""
    gm_per_a = cmos.ota_gm_over_id_per_v.value
    power_per_hz = cmos.multiplier_power_per_hz_w.value
    return {
        "multiplier": (
            analog.multiplier_quiescent_a * 2 * analog.supply_v / power_per_hz
            if power_per_hz > 0
            else math.inf
        ),
        "threshold": analog.threshold_quiescent_a * gm_per_a / (2 * math.pi * STAGE_LOAD_F),
        "integrator": analog.integrator_quiescent_a * gm_per_a / (2 * math.pi * integrator_c_f),
    }


def bandwidth_requirements(
    design: CellDesign, cmos: Cmos, analog: AnalogCellConfig, integrator_c_f: float
) -> list[Requirement]:
    """Each stage's bandwidth, from its bias current (``stage_bandwidths_hz``), against what the kernel needs
    (``needed_bandwidth_hz``)."""
    needed = needed_bandwidth_hz(design)
    return [
        Requirement(f"{stage} stage's bandwidth for the kernel", needed, offered, "Hz", offered / needed)
        for stage, offered in stage_bandwidths_hz(cmos, analog, integrator_c_f).items()
    ]


def quiescent_energy_j(analog: AnalogCellConfig, edges: int, period_s: float) -> dict[str, float]:
    """Energy of one update drawn by the stages' bias currents, by stage kind: both rails of every edge's
    stage over one cycle (2 x supply_v x I_q x period), what the analog cell's rail sources deliver at rest."""
    per_rail = {
        "multiplier": analog.multiplier_quiescent_a,
        "threshold": analog.threshold_quiescent_a,
        "integrator": analog.integrator_quiescent_a,
    }
    return {stage: 2 * analog.supply_v * current * edges * period_s for stage, current in per_rail.items()}


def cell_area_m2(design: CellDesign, cmos: Cmos) -> float:
    """Capacitor area of the cells (C_K and, in the analog cell, C_int): the part of a cell that does not
    shrink with the process, square metres."""
    capacitance = float(np.sum(design.c_k_f))
    if design.integrator_c_f is not None:
        capacitance += float(np.sum(design.integrator_c_f))
    return capacitance / cmos.capacitor_density_f_per_m2.value
