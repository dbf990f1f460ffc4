"""The TCL learning window: which contrasts D = |s_clamped - s_free| (V^2) an edge learns from, the one derivation.

The squarer's gain G (``signal_gain``) writes s = G (V_a - V_b)^2, so through the high-pass the fast ramp
(tau_rise) gives u ~ tau_k G D / tau_rise and the slow one tau_k G D / tau_fall. A threshold theta on u passes
the first and blocks the second when

    theta * tau_rise / (G tau_k)  <  D  <  theta * tau_fall / (G tau_k),

so the window spans tau_fall / tau_rise; below it nothing is learned, above it the slow ramp leaks through and
cancels the update. Every place that needs the window (cell sizing, calibration, occupancy records, device
programming, deck notes) asks this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError

TAU_K_PER_RAMP = 0.5
"""Largest tau_k as a fraction of either ramp: the cell must differentiate the ramp, not follow it. At
tau_rise / tau_k = 2 the single synapse learns nothing; at 20 it gives 0.92 of the contrast (docs/kernels.md).
The defaults use 20."""


def check_timescales(tau_k_s: float, tau_rise_s: float, tau_fall_s: float) -> None:
    """Raise ConfigError (field tau_k_s) unless tau_k is at most ``TAU_K_PER_RAMP`` of both ramps."""
    if tau_k_s > TAU_K_PER_RAMP * min(tau_rise_s, tau_fall_s):
        raise ConfigError(
            f"tau_k_s ({tau_k_s:g} s) must be at most {TAU_K_PER_RAMP:g} x the shorter ramp "
            f"(tau_rise_s {tau_rise_s:g} s, tau_fall_s {tau_fall_s:g} s): the feedback cell differentiates the ramps",
            field="tau_k_s",
        )


@dataclass(frozen=True)
class WindowOccupancy:
    """Where a sample's contrasts fell against the learning window: the fractions of edges below it (nothing
    learned), inside it, and above it (the slow ramp leaks through)."""

    frac_below: float
    frac_window: float
    frac_above: float

    def as_dict(self) -> dict[str, float]:
        """The fractions under their record keys, in record order."""
        return {"frac_below": self.frac_below, "frac_window": self.frac_window, "frac_above": self.frac_above}


@dataclass(frozen=True, eq=False)
class LearningWindow:
    """The window of one threshold or of each edge's (``theta_v`` a number or an array), volts on u, behind a
    squarer of gain ``signal_gain`` (volts of s per V^2 of drop)."""

    theta_v: np.ndarray | float
    tau_rise_s: float
    tau_fall_s: float
    tau_k_s: float
    signal_gain: float = 1.0

    @classmethod
    def with_top(
        cls,
        top_v2: np.ndarray | float,
        tau_rise_s: float,
        tau_fall_s: float,
        tau_k_s: float,
        signal_gain: float = 1.0,
    ) -> LearningWindow:
        """The window whose top is ``top_v2`` (V^2): theta = G * top * tau_k / tau_fall (the inverse)."""
        return cls(signal_gain * top_v2 * tau_k_s / tau_fall_s, tau_rise_s, tau_fall_s, tau_k_s, signal_gain)

    @property
    def lower_v2(self) -> np.ndarray | float:
        """Smallest contrast learned, V^2."""
        return self.theta_v * self.tau_rise_s / (self.signal_gain * self.tau_k_s)

    @property
    def upper_v2(self) -> np.ndarray | float:
        """Largest contrast learned before the slow ramp leaks through, V^2."""
        return self.theta_v * self.tau_fall_s / (self.signal_gain * self.tau_k_s)

    @property
    def top_u_v(self) -> np.ndarray | float:
        """u on the fast ramp at the top of the window (theta * tau_fall / tau_rise), volts: what the stages
        after the high-pass must pass without clipping."""
        return self.theta_v * self.tau_fall_s / self.tau_rise_s

    @property
    def span(self) -> float:
        """upper / lower = tau_fall / tau_rise."""
        return self.tau_fall_s / self.tau_rise_s

    def occupancy(self, contrast_v2: np.ndarray) -> WindowOccupancy:
        """Fractions of contrasts (V^2, sign ignored) below, inside and above the window; with per-edge
        thresholds each contrast is held against its own edge's window."""
        a = np.abs(np.asarray(contrast_v2, dtype=float))
        lo, hi = self.lower_v2, self.upper_v2
        return WindowOccupancy(
            frac_below=float(np.mean(a < lo)),
            frac_window=float(np.mean((a >= lo) & (a <= hi))),
            frac_above=float(np.mean(a > hi)),
        )
