"""Writing updates into a resistor network's devices, and what resolution those updates need.

A bench applies each sample's update G_e += Delta G_e by programming its devices: clipped to each edge's
bounds, with the programming's variability (``write_noise``), the devices' up/down mismatch
(``write_asymmetry``) and their resolution (``conductance_bits`` levels over the bounds, a write landing on
the nearest level or, with ``rounding`` stochastic, on one of the two around it with the expected value of
the request). Every requested
change is also recorded as the resolution it would need, log2((g_max - g_min) / |Delta G_e|) bits: the
histogram over a run tells how many bits a device must resolve for the updates to land (``update_bits.csv``, ``update_bits.png``, and its median and 90th percentile in the
summary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.config import Rounding, WriteConfig
from tcl_circuits.errors import DataError
from tcl_circuits.network.spec import NetworkSpec
from tcl_circuits.physics.energy_bill import write_pulses

BITS_BINS = 48
"""Histogram bins of the update resolution: [0, 1), [1, 2), ... bits; the last one takes everything finer."""


def quantise(
    config: WriteConfig,
    conductance_s: np.ndarray,
    g_min_s: np.ndarray,
    g_max_s: np.ndarray,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Conductances on 2^bits levels over [g_min, g_max] (unchanged when analog): the nearest level, or with
    ``rng`` the level below or above, the upper one with the probability of the fraction (stochastic rounding)."""
    if config.conductance_bits is None:
        return conductance_s
    lsb = (g_max_s - g_min_s) / (2**config.conductance_bits - 1)
    steps = (conductance_s - g_min_s) / lsb
    if rng is None:
        return g_min_s + np.round(steps) * lsb
    below = np.floor(steps)
    return g_min_s + (below + (rng.random(steps.shape) < steps - below)) * lsb


@dataclass(frozen=True)
class WriteOutcome:
    """What one sample's write did beyond the request: edges stopped at a bound, and with conductance levels the
    fraction of requested changes lost to rounding (None without levels)."""

    clipped_edges: int
    frac_writes_lost: float | None = None
    write_pulses: int | None = None
    """The device pulses the stored changes took (with a device's levels: ``pulse_levels``)."""


class ConductanceWrites:
    """The write stage of one run: applies updates as the config says and keeps the resolution histogram;
    with a device's ``pulse_levels`` (0: analog), each sample's record counts the device pulses its stored
    changes took (``write_pulses``)."""

    def __init__(self, config: WriteConfig, seed: int, pulse_levels: int | None = None) -> None:
        self.config = config
        self.seed = seed
        self.pulse_levels = pulse_levels
        self.bits_counts = np.zeros(BITS_BINS, dtype=np.int64)
        self._dead: np.ndarray | None = None

    def dead(self, edges: int) -> np.ndarray:
        """Which devices never take a write: each dead with probability ``dead_fraction``, one draw per run
        on a stream of its own (none drawn when no device is dead, so other runs' numbers are untouched)."""
        if self._dead is None or self._dead.size != edges:
            fraction = self.config.dead_fraction
            draw = np.random.default_rng([self.seed, 2]).random(edges) if fraction else np.ones(edges)
            self._dead = draw < fraction
        return self._dead

    def range_factors(self, edges: int) -> np.ndarray:
        """Each device's factor on its range (``range_spread``): exp(sigma z), one draw per run on a stream of
        its own (ones without a spread, so other runs' numbers are untouched)."""
        sigma = self.config.range_spread
        if not sigma:
            return np.ones(edges)
        return np.exp(sigma * np.random.default_rng([self.seed, 3]).standard_normal(edges))

    def initial(self, spec: NetworkSpec) -> NetworkSpec:
        """The network as its devices hold it: each device's own range (``range_spread``), initial conductances
        clipped into it and on its levels."""
        if self.config.range_spread:
            factor = self.range_factors(spec.n_edges)
            spec = spec.with_bounds(spec.g_min_s * factor, spec.g_max_s * factor)
        return spec.with_conductances(quantise(self.config, spec.conductance_s, spec.g_min_s, spec.g_max_s))

    def apply(
        self, spec: NetworkSpec, delta_g_s: np.ndarray, sample: int
    ) -> tuple[NetworkSpec, WriteOutcome]:
        """The network after writing ``delta_g_s`` (sample ``sample`` seeds the write noise) and what the
        write did: edges clipped at a bound, with levels the requested changes lost to rounding, and with a
        device's levels the pulses written."""
        span = spec.g_max_s - spec.g_min_s
        requested = delta_g_s != 0
        bits = np.log2(span[requested] / np.abs(delta_g_s[requested]))
        self.bits_counts += np.bincount(np.clip(bits, 0, BITS_BINS - 1).astype(int), minlength=BITS_BINS)
        written = delta_g_s
        if self.config.write_noise:
            z = np.random.default_rng([self.seed, 1, sample]).standard_normal(delta_g_s.size)
            sigma = self.config.write_noise
            written = delta_g_s * np.exp(sigma * z - sigma**2 / 2)  # mean one: noise, not a larger step
        if self.config.write_asymmetry != 1:
            skew = np.sqrt(self.config.write_asymmetry)
            written = np.where(written > 0, written * skew, written / skew)
        if self.config.dead_fraction:
            written = np.where(self.dead(written.size), 0.0, written)
        proposed = spec.conductance_s + written
        clipped = spec.clip(proposed)
        rng = (
            np.random.default_rng([self.seed, 4, sample])
            if self.config.rounding is Rounding.STOCHASTIC and self.config.conductance_bits is not None
            else None
        )
        stored = quantise(self.config, clipped, spec.g_min_s, spec.g_max_s, rng)
        pulses = (
            None
            if self.pulse_levels is None
            else write_pulses(stored - spec.conductance_s, span, self.pulse_levels)
        )
        lost_fraction = None
        if self.config.conductance_bits is not None:
            lost = requested & (stored == spec.conductance_s)
            lost_fraction = float(np.sum(lost) / max(1, np.sum(requested)))
        outcome = WriteOutcome(
            clipped_edges=int(np.sum(clipped != proposed)),
            frac_writes_lost=lost_fraction,
            write_pulses=pulses,
        )
        return spec.with_conductances(stored), outcome

    def bits_quantile(self, q: float) -> float | None:
        """The resolution (bits, bin upper edge) that ``q`` of all requested changes need at most."""
        total = int(self.bits_counts.sum())
        if not total:
            return None
        return float(np.searchsorted(np.cumsum(self.bits_counts), q * total) + 1)

    def summary(self) -> dict:
        out: dict = {
            "update_bits_median": self.bits_quantile(0.5),
            "update_bits_p90": self.bits_quantile(0.9),
        }
        if self.config.dead_fraction and self._dead is not None:
            out["dead_devices"] = int(self._dead.sum())
        return out

    def state(self) -> dict:
        return {"bits_counts": self.bits_counts.tolist()}

    def restore(self, state: dict) -> None:
        try:
            counts = np.array(state["bits_counts"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the checkpoint's write state is damaged ({error})") from None
        if counts.shape != (BITS_BINS,) or np.any(counts < 0):
            raise DataError("the checkpoint's write state is damaged (update-bits histogram)")
        self.bits_counts = counts

    def rows(self) -> list[dict]:
        """The histogram as rows: bins of [bits, bits + 1) and their counts."""
        return [{"bits": k, "updates": int(c)} for k, c in enumerate(self.bits_counts)]
