"""Energy cost per weight update of the memory-kernel element, and error-vs-energy sweeps.

Owns two measures, one per kernel family:

* RC realisation (series C, R, optional leak R_L across C): the Joule heat per sawtooth cycle
  ∫ (i²R + v_C²/R_L) dt in joules, from the circuit values and the exact periodic current i = K ⊛ s.
  For u ≈ C·ds/dt it is ≈ C²A²R(1/τ_f + 1/τ_s) (:func:`rc_heat_estimate_j`).
* Markov (ESA) kernels: the steady-state entropy production σ times the cycle time, in kT and in joules
  at T = 300 K. σ is per Markov time unit and the kernel time is Markov time / ``time_rescale``, so one
  cycle of duration T (kernel units) costs σ·time_rescale·T kT.

These are the directly computable dissipations of the ladder (docs/kernels.md), not a thermodynamic bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import RCKernel, periodic_convolve
from tcl_circuits.kernels.markov import entropy_production
from tcl_circuits.kernels.synapse import Sawtooth, default_dt, delta_w_periodic

__all__ = [
    "BOLTZMANN_J_PER_K",
    "ROOM_TEMPERATURE_K",
    "kt_to_joules",
    "rc_heat_per_cycle_j",
    "rc_heat_estimate_j",
    "MarkovEnergy",
    "markov_energy_per_cycle",
    "RCErrorEnergy",
    "rc_error_energy_sweep",
]

BOLTZMANN_J_PER_K = 1.380649e-23
ROOM_TEMPERATURE_K = 300.0


def kt_to_joules(energy_kt: float, temperature_k: float = ROOM_TEMPERATURE_K) -> float:
    """Energy in units of k_B·T to joules."""
    if not (math.isfinite(temperature_k) and temperature_k > 0):
        raise ConfigError(f"temperature_k must be a finite number > 0, got {temperature_k!r}")
    return float(energy_kt) * BOLTZMANN_J_PER_K * temperature_k


def rc_heat_per_cycle_j(kernel: RCKernel, sawtooth: Sawtooth, dt_s: float | None = None) -> float:
    """Joule heat per cycle in R (and R_L) of the RC element driven by the periodic sawtooth voltage.

    ``sawtooth`` is in volts and seconds. The branch current is exact at the grid points; the heat uses
    the periodic trapezoid rule, second-order accurate in ``dt_s`` (default τ/100 or finer).
    """
    if not isinstance(kernel, RCKernel):
        raise ConfigError(f"kernel must be an RCKernel, got {type(kernel).__name__}")
    step_req = default_dt(kernel, sawtooth.tau_fast, sawtooth.tau_slow) if dt_s is None else dt_s
    _, s, step = sawtooth.sample(step_req)
    i = periodic_convolve(kernel, s, step)
    heat = np.sum(i * i) * kernel.resistance_ohm * step
    if kernel.leaky:
        v_c = s - i * kernel.resistance_ohm
        heat += np.sum(v_c * v_c) / kernel.leak_resistance_ohm * step
    return float(heat)


def rc_heat_estimate_j(kernel: RCKernel, sawtooth: Sawtooth) -> float:
    """Quasi-static estimate: C²A²R(1/τ_f + 1/τ_s) in R, plus ⟨s²⟩·T/R_L = (s̄² + A²/12)·T/R_L in the leak."""
    if not isinstance(kernel, RCKernel):
        raise ConfigError(f"kernel must be an RCKernel, got {type(kernel).__name__}")
    c, r, a = kernel.capacitance_f, kernel.resistance_ohm, sawtooth.amplitude
    heat = c * c * a * a * r * (1 / sawtooth.tau_fast + 1 / sawtooth.tau_slow)
    if kernel.leaky:
        heat += (sawtooth.mean**2 + a * a / 12) * sawtooth.period / kernel.leak_resistance_ohm
    return float(heat)


@dataclass(frozen=True)
class MarkovEnergy:
    """Dissipation of one Markov-kernel synapse over one cycle."""

    sigma_kt_per_markov_time: float
    cycle_markov_time: float
    energy_kt: float
    energy_j: float


def markov_energy_per_cycle(
    gamma: float,
    cycle_time: float,
    time_rescale: float = 5.0,
    rate_factor: float = 25.0,
    temperature_k: float = ROOM_TEMPERATURE_K,
) -> MarkovEnergy:
    """σ(γ) × cycle duration: ``cycle_time`` is in kernel time units (Markov time / ``time_rescale``)."""
    if not (math.isfinite(cycle_time) and cycle_time > 0):
        raise ConfigError(f"cycle_time must be a finite number > 0, got {cycle_time!r}")
    if not (math.isfinite(time_rescale) and time_rescale > 0):
        raise ConfigError(f"time_rescale must be a finite number > 0, got {time_rescale!r}")
    sigma = entropy_production(gamma, rate_factor)
    markov_time = cycle_time * time_rescale
    e_kt = sigma * markov_time
    return MarkovEnergy(sigma, markov_time, e_kt, kt_to_joules(e_kt, temperature_k))


@dataclass(frozen=True)
class RCErrorEnergy:
    """One RC design point: element values, heat per update and relative update error."""

    resistance_ohm: np.ndarray
    leak_resistance_ohm: np.ndarray
    heat_j: np.ndarray
    delta_w_c: np.ndarray
    ideal_c: float
    relative_error: np.ndarray

    @property
    def heat_kt(self) -> np.ndarray:
        """Heat in units of k_B·300 K."""
        return self.heat_j / (BOLTZMANN_J_PER_K * ROOM_TEMPERATURE_K)


def rc_error_energy_sweep(
    resistances_ohm: Sequence[float],
    leak_resistances_ohm: Sequence[float],
    capacitance_f: float,
    sawtooth: Sawtooth,
    threshold_a: float | None = None,
) -> RCErrorEnergy:
    """Update error vs Joule heat for RC elements (R_i, R_L,i) pairwise, on one sawtooth (volts, seconds).

    The ideal update is C·A (charge); the error is |Δw − C·A|/(C·|A|). The threshold defaults to the
    midpoint of the ideal fast and slow currents, C·|A|(1/τ_f + 1/τ_s)/2.
    """
    r = np.asarray(resistances_ohm, dtype=float)
    rl = np.asarray(leak_resistances_ohm, dtype=float)
    if r.shape != rl.shape or r.ndim != 1 or r.size == 0:
        raise ConfigError(
            "resistances_ohm and leak_resistances_ohm must be non-empty 1-D and of equal length"
        )
    ideal = capacitance_f * sawtooth.amplitude
    theta = (
        abs(ideal) * (1 / sawtooth.tau_fast + 1 / sawtooth.tau_slow) / 2
        if threshold_a is None
        else threshold_a
    )
    heat, dws = [], []
    for ri, rli in zip(r, rl, strict=True):
        k = RCKernel(float(ri), capacitance_f, float(rli))
        step_req = default_dt(k, sawtooth.tau_fast, sawtooth.tau_slow)
        _, s, step = sawtooth.sample(step_req)
        dws.append(delta_w_periodic(s, step, k, theta))
        heat.append(rc_heat_per_cycle_j(k, sawtooth, step_req))
    dw = np.array(dws)
    return RCErrorEnergy(r, rl, np.array(heat), dw, float(ideal), np.abs(dw - ideal) / abs(ideal))
