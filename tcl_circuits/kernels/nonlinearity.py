"""The threshold nonlinearity g(u) between the integral-feedback output u and the weight: the one definition.

Every numeric use (single-synapse theory, loop-gain estimates, native cells through its step integral) calls
``threshold_g``; the SPICE form is written once by ``spice.writer.threshold_expression``.
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np

from tcl_circuits.errors import ConfigError


class ThresholdShape(Enum):
    """Shape of g(u) for a threshold theta.

    HARD is the paper's linear threshold g(u) = u if |u| >= theta else 0; DEAD_ZONE the continuous
    g(u) = sign(u) max(|u| - theta, 0), which loses theta * tau_fast from every update; CUBIC the paper code's
    alternative g(u) = u^3 / theta (no dead zone: it needs theta > 0 and is single-synapse theory only).
    """

    HARD = "hard"
    DEAD_ZONE = "dead_zone"
    CUBIC = "cubic"


def threshold_g(
    u: np.ndarray | float, theta: float, shape: ThresholdShape = ThresholdShape.HARD
) -> np.ndarray:
    """g(u) elementwise for threshold ``theta`` >= 0 (units of u)."""
    if not (isinstance(theta, int | float | np.floating) and math.isfinite(theta) and theta >= 0):
        raise ConfigError(f"threshold must be a finite number >= 0, got {theta!r}")
    u = np.asarray(u, dtype=float)
    if shape is ThresholdShape.HARD:
        return np.where(np.abs(u) >= theta, u, 0.0)
    if shape is ThresholdShape.DEAD_ZONE:
        return np.sign(u) * np.maximum(np.abs(u) - theta, 0.0)
    if shape is ThresholdShape.CUBIC:
        if theta == 0:
            raise ConfigError("threshold must be > 0 for the cubic nonlinearity u**3/threshold")
        return u**3 / theta
    raise ConfigError(f"threshold shape must be a ThresholdShape, got {shape!r}")
