"""The threshold nonlinearity g(u) between the integral-feedback output u and the weight: the one definition.

The circuit shapes are stated once, as three pieces about +-theta (``ThresholdPieces``, one entry per shape in
``THRESHOLD_PIECES``). Every form is read from those pieces: the numpy form here (``threshold_g``, used by
the single-synapse theory and the loop-gain estimates), the scalar form that the native engine compiles with
numba (``threshold_scalar``; its step integrals use the same ``shift``), and the SPICE expression written by
``spice.syntax.threshold_expression``. tests/kernels/test_threshold_shape.py holds the three together.
Each takes the offset of the comparison, g(u - offset) (the scalar form as its argument x = u - offset).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ThresholdPieces:
    """g(x) about a threshold theta >= 0 in three pieces, both comparisons closed:

        x >= theta:           x - shift * theta
        -theta < x < theta:   0
        x <= -theta:          x + shift * theta

    ``shift`` is how much of theta the outer pieces give up: 0 keeps x (a jump of theta at +-theta), 1 starts
    them from 0 (continuous). At theta = 0 both outer pieces hold at x = 0, where both are 0.
    """

    shift: float

    def g(self, u: np.ndarray | float, theta: float, offset: float = 0.0) -> np.ndarray:
        """The pieces at x = u - offset, elementwise (numpy)."""
        x = np.asarray(u, dtype=float) - offset
        shifted = self.shift * theta
        return np.where(x >= theta, x - shifted, np.where(x <= -theta, x + shifted, 0.0))


def threshold_scalar(x: float, theta: float, shift: float) -> float:
    """``ThresholdPieces(shift).g`` of one float x (the caller subtracts the offset): plain Python, so numba
    compiles it into the native engine's loops as it stands."""
    if x >= theta:
        return x - shift * theta
    if x <= -theta:
        return x + shift * theta
    return 0.0


THRESHOLD_PIECES = {
    ThresholdShape.HARD: ThresholdPieces(shift=0.0),
    ThresholdShape.DEAD_ZONE: ThresholdPieces(shift=1.0),
}
"""The shapes with a circuit form (SPICE and the native engine); CUBIC has none."""


def threshold_g(
    u: np.ndarray | float, theta: float, shape: ThresholdShape = ThresholdShape.HARD, offset: float = 0.0
) -> np.ndarray:
    """g(u - offset) elementwise for threshold ``theta`` >= 0 (units of u)."""
    if not (isinstance(theta, int | float | np.floating) and math.isfinite(theta) and theta >= 0):
        raise ConfigError(f"threshold must be a finite number >= 0, got {theta!r}")
    if not isinstance(shape, ThresholdShape):
        raise ConfigError(f"threshold shape must be a ThresholdShape, got {shape!r}")
    if shape is ThresholdShape.CUBIC:
        if theta == 0:
            raise ConfigError("threshold must be > 0 for the cubic nonlinearity u**3/threshold")
        return (np.asarray(u, dtype=float) - offset) ** 3 / theta
    return THRESHOLD_PIECES[shape].g(u, theta, offset)
