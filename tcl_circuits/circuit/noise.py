"""Thermal noise elements of the circuit IR: Johnson (and 1/f) noise of resistors as sampled currents.

``SampledThermalNoise`` draws the seeded samples every engine uses, so ngspice (as trnoise-like PWL currents)
and the native engine simulate the same noise; ``CellNoise`` is that of the cells' R_K, ``NetworkNoise`` that
of the network's resistors. Both are elements of ``circuit.ir.Circuit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.kernels.energy import BOLTZMANN_J_PER_K

NOISE_SAMPLES_PER_TAU_K = 10
"""Noise samples per tau_K: the sampled white noise then covers R_K C_K's band well (u's variance within a
few % of kT/C_K, tested)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class SampledThermalNoise:
    """Johnson noise of resistors as currents in parallel with them: white samples of rms
    sqrt(2 k T G / step_s) every ``step_s`` (one-sided 4kTG over the band 1/(2 step_s)), linear between them as
    ngspice's trnoise, from the seeded stream ``seed``. ``samples`` gives the same values to every engine, so
    ngspice and the native engine simulate the same noise. With ``flicker_corner_hz`` the samples are shaped to
    a density 4kTG (1 + corner / f): 1/f (flicker) noise below the corner, white above it."""

    temperature_k: float
    step_s: float
    stop_s: float
    seed: tuple[int, ...]
    flicker_corner_hz: float = 0.0

    @property
    def conductance_s(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def knots(self) -> int:
        return int(np.floor(self.stop_s / self.step_s * (1 + 1e-12))) + 1

    @property
    def rms_a(self) -> np.ndarray:
        return np.sqrt(2 * BOLTZMANN_J_PER_K * self.temperature_k * self.conductance_s / self.step_s)

    def samples(self) -> np.ndarray:
        """(resistors, knots) noise currents, amperes, at times k * step_s."""
        rms = self.rms_a
        z = np.random.default_rng(list(self.seed)).standard_normal((rms.size, self.knots))
        if self.flicker_corner_hz > 0:
            z = flicker_shaped(z, self.step_s, self.flicker_corner_hz)
        return z * rms[:, None]


def flicker_shaped(white: np.ndarray, step_s: float, corner_hz: float) -> np.ndarray:
    """Unit white samples along the last axis (spacing ``step_s``) shaped to the density (1 + corner / f).

    Each frequency bin of the record is scaled by sqrt(1 + corner / f); the mean (f = 0) gets the lowest
    bin's factor, so the record's slowest fluctuation is 1/f noise at 1/record rather than none. Slower
    fluctuations than one record (one sawtooth cycle) are not represented: each cycle draws its own."""
    n = white.shape[-1]
    if n < 2:
        return white
    spectrum = np.fft.rfft(white, axis=-1)
    f = np.fft.rfftfreq(n, step_s)
    f[0] = f[1]
    spectrum *= np.sqrt(1.0 + corner_hz / f)
    return np.fft.irfft(spectrum, n=n, axis=-1)


@dataclass(frozen=True, eq=False, kw_only=True)
class CellNoise(SampledThermalNoise):
    """Thermal noise of each cell's R_K: a current into its feedback node (``SampledThermalNoise``)."""

    nodes: tuple[str, ...]
    r_k_ohm: np.ndarray

    @property
    def conductance_s(self) -> np.ndarray:
        return 1.0 / np.asarray(self.r_k_ohm, dtype=float)

    @property
    def rms_a(self) -> np.ndarray:  # the same rounding as decks written before NetworkNoise existed
        return np.sqrt(2 * BOLTZMANN_J_PER_K * self.temperature_k / (self.r_k_ohm * self.step_s))


@dataclass(frozen=True, eq=False, kw_only=True)
class NetworkNoise(SampledThermalNoise):
    """Thermal noise of the network's resistors: a current from ``ends_a[e]`` to ``ends_b[e]`` across edge e
    (``SampledThermalNoise``; in SPICE ``inn<e> a b``, which takes the current out of a and into b)."""

    ends_a: tuple[str, ...]
    ends_b: tuple[str, ...]
    edge_conductance_s: np.ndarray

    @property
    def conductance_s(self) -> np.ndarray:
        return np.asarray(self.edge_conductance_s, dtype=float)
