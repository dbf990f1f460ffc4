"""The clamp drive beta(t): sawtooth cycles as piecewise-linear breakpoints, and its value at any time.

The shape itself is defined once, by ``kernels.synapse.sawtooth_breakpoints``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcl_circuits.config import SawtoothConfig
from tcl_circuits.kernels.synapse import sawtooth_breakpoints


def sawtooth_points(
    drive: SawtoothConfig, starts_s: Sequence[float] = (0.0,)
) -> tuple[tuple[float, float], ...]:
    """Breakpoints (t_s, beta) of cycles starting at ``starts_s``: 0 at each start, beta_max after tau_rise, 0
    again after the period (0 from t = 0 to the first start and between cycles)."""
    return sawtooth_breakpoints(0.0, drive.beta_max, drive.tau_rise_s, drive.tau_fall_s, starts_s)


def beta_at(drive: SawtoothConfig, time_s: np.ndarray) -> np.ndarray:
    """beta(t) for times within one cycle (linear interpolation of the breakpoints)."""
    t, b = zip(*sawtooth_points(drive), strict=True)
    return np.interp(np.asarray(time_s, dtype=float), t, b)
