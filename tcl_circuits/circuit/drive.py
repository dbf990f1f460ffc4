"""The clamp drive beta(t): one sawtooth cycle as piecewise-linear breakpoints, and its value at any time."""

from __future__ import annotations

import numpy as np

from tcl_circuits.config import SawtoothConfig


def sawtooth_points(drive: SawtoothConfig) -> tuple[tuple[float, float], ...]:
    """Breakpoints (t_s, beta) of one cycle: 0 at t=0, beta_max at tau_rise, 0 again at the period."""
    return ((0.0, 0.0), (drive.tau_rise_s, drive.beta_max), (drive.period_s, 0.0))


def beta_at(drive: SawtoothConfig, time_s: np.ndarray) -> np.ndarray:
    """beta(t) for times within one cycle (linear interpolation of the breakpoints)."""
    t, b = zip(*sawtooth_points(drive), strict=True)
    return np.interp(np.asarray(time_s, dtype=float), t, b)
