"""Memory kernels K(t) of Temporal Contrastive Learning and their exact discretisation.

A memory kernel turns the local signal s(t) into u(t) = ∫₀^∞ K(τ) s(t − τ) dτ. This module owns the
kernel families used by the package (ideal derivative, first-order integral feedback as a series C/R with
optional leak, second-order integral feedback, the E. coli-type kernel of the single-synapse analysis, the
zero-sum sine kernel of the MNIST code, and sums of exponentials such as Markov-chain kernels) and one
discretisation shared by all of them.

Discretisation. A kernel may contain a Dirac part d·δ(t) (``direct_gain``) and a dipole part c·δ'(t)
(``derivative_gain``, giving u = c·ds/dt) besides its regular part. On a uniform grid of step dt the
convolution is replaced by u[n] = Σ_k w[k] s[n − k], with the taps

    w[k] = ∫ K(τ) Λ(τ/dt − k) dτ,     Λ the unit hat function,

which is exact at the grid points whenever s is piecewise linear between them (first-order hold). The
taps reproduce the kernel's area and first moment exactly (Σ w = ∫K, Σ k·dt·w = ∫τK), which the tests
check. For δ' the rule gives the backward difference (s[n] − s[n−1])/dt. Closed forms are used for sums of
exponentials (stiff Markov modes far faster than dt stay exact); smooth kernels are integrated with
Gauss–Legendre quadrature on each grid interval.

Why one module of ~560 lines: the seven kernel families share the base class's discretisation and are
each short (a constructor, closed-form moments, the taps); split apart they would import each other's
helpers in a circle. They are read as one catalogue.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError

__all__ = [
    "Kernel",
    "ModalKernel",
    "DerivativeKernel",
    "RCKernel",
    "SecondOrderKernel",
    "EColiKernel",
    "SineKernel",
    "ExponentialSumKernel",
    "periodic_convolve",
]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(6)
_GL_X = 0.5 * (_GL_NODES + 1.0)  # nodes on [0, 1]
_GL_W = 0.5 * _GL_WEIGHTS
_MAX_TAPS = 20_000_000


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")


def _check_dt(dt: float) -> None:
    _check_positive("dt", dt)


class Kernel(ABC):
    """A causal linear memory kernel K(t), t ≥ 0.

    Subclasses give the regular part (``impulse_response``), optional singular parts, and the moments in
    closed form. ``taps`` discretises the kernel exactly for piecewise-linear signals.
    """

    @property
    @abstractmethod
    def area(self) -> float:
        """∫K dt: the DC gain. Zero means perfect adaptation."""

    @property
    @abstractmethod
    def first_moment(self) -> float:
        """∫ t K dt. Negative means u ≈ +|m₁|·ds/dt for slow signals."""

    @property
    @abstractmethod
    def timescale(self) -> float:
        """Characteristic memory time τ_K (slowest relaxation, or duration for finite kernels)."""

    @property
    @abstractmethod
    def support(self) -> float:
        """Time after which the regular part is negligible (below ~1e-16 of its scale) or exactly zero."""

    @property
    def direct_gain(self) -> float:
        """Coefficient d of a Dirac part d·δ(t) (instantaneous feed-through)."""
        return 0.0

    @property
    def derivative_gain(self) -> float:
        """Coefficient c of a dipole part c·δ'(t), which contributes u = c·ds/dt."""
        return 0.0

    @abstractmethod
    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        """Regular part of K at times t (zero for t < 0); singular parts are not included."""

    def taps(self, dt: float, n_taps: int | None = None) -> np.ndarray:
        """First-order-hold taps w[k], k = 0..n_taps−1, including singular parts (see module docstring).

        Parameters
        ----------
        dt
            Grid step, in the kernel's time unit.
        n_taps
            Number of taps; default covers ``support``. Taps past the support are zero.
        """
        _check_dt(dt)
        n_cover = int(math.ceil(self.support / dt)) + 2
        n = n_cover if n_taps is None else int(n_taps)
        if n < 2:
            raise ConfigError(f"n_taps must be >= 2, got {n_taps!r}")
        if min(n, n_cover) > _MAX_TAPS:
            raise ConfigError(
                f"dt={dt!r} is too small for this kernel: {n_cover} taps needed (limit {_MAX_TAPS})"
            )
        w = np.zeros(n)
        reg = self._regular_taps(dt, min(n, n_cover))
        w[: reg.size] += reg[:n]
        w[0] += self.direct_gain
        c = self.derivative_gain
        if c != 0.0:
            w[0] += c / dt
            w[1] -= c / dt
        return w

    def _regular_taps(self, dt: float, n: int) -> np.ndarray:
        """Hat-weighted integrals of the regular part by 6-point Gauss–Legendre on each interval."""
        n_int = n - 1
        t = (np.arange(n_int)[:, None] + _GL_X[None, :]) * dt
        k_vals = np.asarray(self.impulse_response(t), dtype=float)
        left = k_vals @ (_GL_W * (1.0 - _GL_X)) * dt  # weight of the interval's left grid point
        right = k_vals @ (_GL_W * _GL_X) * dt
        w = np.zeros(n)
        w[:n_int] += left
        w[1:] += right
        return w

    def periodic_taps(self, dt: float, n_period: int) -> np.ndarray:
        """Taps folded onto a period of ``n_period`` points (exact periodic convolution)."""
        if n_period < 2:
            raise ConfigError(f"n_period must be >= 2, got {n_period!r}")
        w = self.taps(dt)
        if w.size < n_period:
            return np.pad(w, (0, n_period - w.size))
        pad = (-w.size) % n_period
        return np.pad(w, (0, pad)).reshape(-1, n_period).sum(axis=0)

    def describe(self) -> dict[str, float | str]:
        """Name and moments, for records and the CLI."""
        return {
            "kernel": type(self).__name__,
            "area": float(self.area),
            "first_moment": float(self.first_moment),
            "timescale": float(self.timescale),
        }


def periodic_convolve(kernel: Kernel, signal: np.ndarray, dt: float) -> np.ndarray:
    """u = K ⊛ s for a signal sampled over exactly one period (periodic wrap), via FFT.

    The last axis of ``signal`` is the time axis; leading axes are broadcast.
    """
    s = np.asarray(signal, dtype=float)
    n = s.shape[-1]
    w = kernel.periodic_taps(dt, n)
    return np.fft.irfft(np.fft.rfft(s, axis=-1) * np.fft.rfft(w), n=n, axis=-1)


# --------------------------------------------------------------------------------------------------
# Sums of exponentials (closed-form taps)


def _expm1_over_z(z: np.ndarray) -> np.ndarray:
    """(e^z − 1)/z, stable near z = 0, for complex z."""
    small = np.abs(z) < 1e-5
    zs = np.where(small, 1.0, z)
    return np.where(small, 1.0 + z / 2.0 + z * z / 6.0, np.expm1(zs) / zs)


def _phi0(z: np.ndarray) -> np.ndarray:
    """(e^z − 1 − z)/z² = ∫₀¹ (1 − x) e^{zx} dx, stable near z = 0."""
    small = np.abs(z) < 1e-3
    zs = np.where(small, 1.0, z)
    series = 0.5 + z / 6.0 + z * z / 24.0 + z**3 / 120.0
    return np.where(small, series, (np.expm1(zs) - zs) / (zs * zs))


class ModalKernel(Kernel):
    """Kernel whose regular part is Re Σ_j r_j e^{p_j t} (Re p_j < 0), plus a Dirac part."""

    @property
    @abstractmethod
    def poles(self) -> np.ndarray:
        """Poles p_j (complex allowed; conjugate pairs must both be present)."""

    @property
    @abstractmethod
    def residues(self) -> np.ndarray:
        """Residues r_j matching ``poles``."""

    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        t_arr = np.asarray(t, dtype=float)
        p = self.poles.astype(complex)
        r = self.residues.astype(complex)
        vals = np.real(np.exp(t_arr[..., None] * p) @ r)
        return np.where(t_arr >= 0, vals, 0.0)

    @property
    def area(self) -> float:
        return float(self.direct_gain + np.real(np.sum(-self.residues / self.poles)))

    @property
    def first_moment(self) -> float:
        return float(np.real(np.sum(self.residues / self.poles**2)) - self.derivative_gain)

    @property
    def timescale(self) -> float:
        return float(1.0 / np.min(np.abs(np.real(self.poles))))

    @property
    def support(self) -> float:
        return 40.0 * self.timescale

    def _regular_taps(self, dt: float, n: int) -> np.ndarray:
        p = self.poles.astype(complex)
        r = self.residues.astype(complex)
        z = p * dt
        w = np.empty(n)
        w[0] = np.real(np.sum(r * _phi0(z))) * dt
        if n > 1:
            k = np.arange(n - 1)[:, None]
            # w[k+1] = dt · Σ r e^{p k dt} ((e^z − 1)/z)²
            w[1:] = np.real(np.exp(k * z[None, :]) @ (r * _expm1_over_z(z) ** 2)) * dt
        return w


@dataclass(frozen=True)
class ExponentialSumKernel(ModalKernel):
    """K(t) = d·δ(t) + Re Σ r_j e^{p_j t}: a general stable linear kernel given by its modes.

    Used for Markov-chain kernels, whose modes come from the eigendecomposition of the rate matrix.
    """

    pole_values: tuple[complex, ...]
    residue_values: tuple[complex, ...]
    direct: float = 0.0
    label: str = "exponential-sum"

    def __post_init__(self) -> None:
        if len(self.pole_values) != len(self.residue_values) or not self.pole_values:
            raise ConfigError(
                "pole_values and residue_values must be non-empty and of equal length, got "
                f"{len(self.pole_values)} and {len(self.residue_values)}"
            )
        p = np.asarray(self.pole_values, dtype=complex)
        r = np.asarray(self.residue_values, dtype=complex)
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(r)) and math.isfinite(self.direct)):
            raise ConfigError("pole_values, residue_values and direct must be finite")
        if np.any(np.real(p) >= 0):
            raise ConfigError(f"every pole must have a negative real part (a decaying mode), got {p}")

    @property
    def poles(self) -> np.ndarray:
        return np.asarray(self.pole_values, dtype=complex)

    @property
    def residues(self) -> np.ndarray:
        return np.asarray(self.residue_values, dtype=complex)

    @property
    def direct_gain(self) -> float:
        return float(self.direct)

    def scaled(self, factor: float, label: str | None = None) -> ExponentialSumKernel:
        """The same kernel multiplied by ``factor``."""
        return ExponentialSumKernel(
            tuple(complex(x) for x in self.poles),
            tuple(complex(x) * factor for x in self.residues),
            self.direct * factor,
            label if label is not None else self.label,
        )

    def time_scaled(self, factor: float) -> ExponentialSumKernel:
        """K'(t) = K(factor·t), i.e. time measured in units 1/factor of the old ones."""
        _check_positive("factor", factor)
        return ExponentialSumKernel(
            tuple(complex(x) * factor for x in self.poles),
            tuple(complex(x) for x in self.residues),
            self.direct / factor,
            self.label,
        )


# --------------------------------------------------------------------------------------------------
# Named kernel families


@dataclass(frozen=True)
class DerivativeKernel(Kernel):
    """Ideal differentiator K = g·δ'(t): u = g·ds/dt exactly; area 0, first moment −g."""

    gain: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.gain) or self.gain == 0:
            raise ConfigError(f"gain must be finite and non-zero, got {self.gain!r}")

    @property
    def area(self) -> float:
        return 0.0

    @property
    def first_moment(self) -> float:
        return -float(self.gain)

    @property
    def timescale(self) -> float:
        return 0.0

    @property
    def support(self) -> float:
        return 0.0

    @property
    def derivative_gain(self) -> float:
        return float(self.gain)

    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        return np.zeros_like(np.asarray(t, dtype=float))


@dataclass(frozen=True)
class RCKernel(ModalKernel):
    """First-order integral feedback: series capacitor C and resistor R, driven by the voltage s(t).

    u is the branch current i. An optional leak resistance R_L across the capacitor gives imperfect
    adaptation. With R_∥ = R·R_L/(R + R_L) and τ = R_∥·C,

        K(t) = δ(t)/R − e^{−t/τ}/(R²C),   area = 1/(R + R_L),   first moment = −τ²/(R²C)

    (area 0, first moment −C and τ = RC without leak). The capacitor voltage is the integral variable.
    """

    resistance_ohm: float
    capacitance_f: float
    leak_resistance_ohm: float = math.inf

    def __post_init__(self) -> None:
        _check_positive("resistance_ohm", self.resistance_ohm)
        _check_positive("capacitance_f", self.capacitance_f)
        if not (self.leak_resistance_ohm > 0):
            raise ConfigError(
                f"leak_resistance_ohm must be > 0 (math.inf for no leak), got {self.leak_resistance_ohm!r}"
            )

    @property
    def leaky(self) -> bool:
        """True when a finite leak resistance is present."""
        return math.isfinite(self.leak_resistance_ohm)

    @property
    def tau_s(self) -> float:
        """Relaxation time R_∥·C in seconds."""
        r, rl = self.resistance_ohm, self.leak_resistance_ohm
        r_par = r if not self.leaky else r * rl / (r + rl)
        return r_par * self.capacitance_f

    @property
    def poles(self) -> np.ndarray:
        return np.array([-1.0 / self.tau_s], dtype=complex)

    @property
    def residues(self) -> np.ndarray:
        return np.array([-1.0 / (self.resistance_ohm**2 * self.capacitance_f)], dtype=complex)

    @property
    def direct_gain(self) -> float:
        return 1.0 / self.resistance_ohm

    @property
    def area(self) -> float:
        # closed form, avoids the cancellation 1/R − τ/(R²C) when R_L ≫ R
        return 0.0 if not self.leaky else 1.0 / (self.resistance_ohm + self.leak_resistance_ohm)


@dataclass(frozen=True)
class SecondOrderKernel(Kernel):
    """Second-order integral feedback: the (u, z) loop

        τ_u du/dt = s − u − z,     dz/dt = u/τ_z − z/τ_L

    H(p) = τ_z(p + a)/(τ_uτ_z p² + τ_z(1 + aτ_u)p + aτ_z + 1) with a = 1/τ_L: area τ_z/(τ_z + τ_L)
    (0 without leak), first moment −τ_z(1 − a²τ_uτ_z)/(1 + aτ_z)² (−τ_z without leak).
    Realised passively by a series R-L-C driven by s, with u the voltage across R (τ_u = L/R, τ_z = RC)
    and the leak as a resistor across C (τ_L = R_L·C).
    """

    tau_u: float
    tau_z: float
    tau_leak: float = math.inf

    def __post_init__(self) -> None:
        _check_positive("tau_u", self.tau_u)
        _check_positive("tau_z", self.tau_z)
        if not (self.tau_leak > 0):
            raise ConfigError(f"tau_leak must be > 0 (math.inf for no leak), got {self.tau_leak!r}")

    @property
    def _a(self) -> float:
        return 0.0 if math.isinf(self.tau_leak) else 1.0 / self.tau_leak

    @property
    def _matrix(self) -> np.ndarray:
        return np.array([[-1.0 / self.tau_u, -1.0 / self.tau_u], [1.0 / self.tau_z, -self._a]])

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the (u, z) loop; complex for an underdamped loop (τ_z < 4τ_u)."""
        return np.linalg.eigvals(self._matrix)

    @property
    def area(self) -> float:
        a = self._a
        return a * self.tau_z / (a * self.tau_z + 1.0)

    @property
    def first_moment(self) -> float:
        a, tu, tz = self._a, self.tau_u, self.tau_z
        return -tz * (1.0 - tz * tu * a * a) / (1.0 + tz * a) ** 2

    @property
    def timescale(self) -> float:
        return float(1.0 / np.min(np.abs(np.real(self.eigenvalues))))

    @property
    def support(self) -> float:
        return 45.0 * self.timescale

    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        # e^{At} = e^{mt}[cosh(qt) I + sinh(qt)/q (A − mI)], m = tr/2, q² = m² − det; K = e₁ᵀ e^{At} b.
        # Written with e^{(m±q)t} so that neither factor overflows; a series near q·t = 0.
        t_arr = np.asarray(t, dtype=float)
        mat = self._matrix
        m = 0.5 * np.trace(mat)
        q = np.sqrt(complex(m * m - np.linalg.det(mat)))
        c = -1.0 / self.tau_u - m
        t_pos = np.maximum(t_arr, 0.0)
        plus, minus = np.exp((m + q) * t_pos), np.exp((m - q) * t_pos)
        qt = q * t_pos
        small = np.abs(qt) < 1e-4
        q_safe = q if q != 0 else 1.0
        cosh_part = np.where(small, np.exp(m * t_pos) * (1.0 + qt * qt / 2.0), 0.5 * (plus + minus))
        sinhc_part = np.where(
            small, np.exp(m * t_pos) * t_pos * (1.0 + qt * qt / 6.0), 0.5 * (plus - minus) / q_safe
        )
        vals = (cosh_part + c * sinhc_part) / self.tau_u
        return np.where(t_arr >= 0, np.real(vals), 0.0)


@dataclass(frozen=True)
class EColiKernel(Kernel):
    """E. coli-type kernel of the single-synapse analysis: K(t) = A·e^{−Bt}·(t − C t²).

    A = 3IB² + B³ and C = (B² + 2BI)/(6I + 2B) give area I and first moment −1 exactly on [0, ∞).
    Time unit: the kernel decays as e^{−B t}; B = 20 (τ_K = 0.05) in the paper's code.
    """

    area_target: float = 0.0
    decay_rate: float = 20.0

    def __post_init__(self) -> None:
        _check_positive("decay_rate", self.decay_rate)
        if not math.isfinite(self.area_target) or 6 * self.area_target + 2 * self.decay_rate <= 0:
            raise ConfigError(
                f"area_target must be finite and > -decay_rate/3 = {-self.decay_rate / 3!r}, "
                f"got {self.area_target!r}"
            )

    @property
    def amplitude(self) -> float:
        """Prefactor A = 3IB² + B³."""
        b, i = self.decay_rate, self.area_target
        return 3 * i * b * b + b**3

    @property
    def quadratic(self) -> float:
        """Coefficient C = (B² + 2BI)/(6I + 2B); the kernel changes sign at t = 1/C."""
        b, i = self.decay_rate, self.area_target
        return (b * b + 2 * b * i) / (6 * i + 2 * b)

    @property
    def area(self) -> float:
        return float(self.area_target)

    @property
    def first_moment(self) -> float:
        return -1.0

    @property
    def timescale(self) -> float:
        return 1.0 / self.decay_rate

    @property
    def support(self) -> float:
        return 50.0 / self.decay_rate

    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        t_arr = np.asarray(t, dtype=float)
        vals = self.amplitude * np.exp(-self.decay_rate * t_arr) * (t_arr - self.quadratic * t_arr**2)
        return np.where(t_arr >= 0, vals, 0.0)


@dataclass(frozen=True)
class SineKernel(Kernel):
    """Zero-sum one-cycle sine kernel of the MNIST code: K(t) = a·sin(2πt/T) for 0 ≤ t < T.

    The MNIST code uses a = 1/3 and T = 0.1 cycle on a grid of 100 points per cycle, i.e. the taps
    sin(2πk/10)/3 · (1/100), k = 0..9 (``mnist_taps``). The continuous kernel has area 0 and first moment
    −aT²/(2π); the code's discrete taps have Σ k·w = −5.13e-4 in cycle units.
    """

    amplitude: float = 1.0 / 3.0
    duration: float = 0.1

    def __post_init__(self) -> None:
        _check_positive("duration", self.duration)
        if not math.isfinite(self.amplitude) or self.amplitude == 0:
            raise ConfigError(f"amplitude must be finite and non-zero, got {self.amplitude!r}")

    @property
    def area(self) -> float:
        return 0.0

    @property
    def first_moment(self) -> float:
        return -self.amplitude * self.duration**2 / (2 * math.pi)

    @property
    def timescale(self) -> float:
        return float(self.duration)

    @property
    def support(self) -> float:
        return float(self.duration)

    def impulse_response(self, t: np.ndarray | float) -> np.ndarray:
        t_arr = np.asarray(t, dtype=float)
        inside = (t_arr >= 0) & (t_arr < self.duration)
        return np.where(inside, self.amplitude * np.sin(2 * np.pi * t_arr / self.duration), 0.0)

    @staticmethod
    def mnist_taps(points_per_cycle: int = 100) -> np.ndarray:
        """The MNIST code's discrete kernel sin(2πk/10)/3, k = 0..9, times dt = 1/points_per_cycle."""
        if points_per_cycle < 10:
            raise ConfigError(f"points_per_cycle must be >= 10, got {points_per_cycle!r}")
        k = np.arange(10)
        return np.sin(2 * np.pi * k / 10) / 3.0 / points_per_cycle
