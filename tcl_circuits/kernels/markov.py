"""E. coli sensory-adaptation (ESA) Markov ladder: rate matrix, exact kernels and entropy production.

Owns the 2 × 5 ladder of the paper's E. coli adaptation kernels (active "top" row, nodes 0–4, and inactive "bottom" row, nodes
5–9, methylation m = 0..4), the kernel obtained from its response to a ligand step (§4.2), and the
steady-state entropy-production rate σ(γ) in kT per Markov time unit.

The response is exact: after the step the master equation dp/dt = M(s)p is linear with constant M, so
p(t) = Σ_j c_j v_j e^{λ_j t} from the eigendecomposition of M(s). The activity a(t) (top-row occupancy)
is a sum of exponentials and the kernel da/dt is an :class:`~tcl_circuits.kernels.kernel.ExponentialSumKernel`
whose taps are exact on any grid, however stiff the vertical rates (up to RF·e⁶ ≈ 1e4).

Conventions follow the single-synapse analysis code: the kernel time is Markov time divided by
``time_rescale`` = 5, and the kernel is normalised as K ← −K/|m₁| so a derivative-like kernel has first
moment −1. For γ ≳ 0.5 the raw first moment changes sign; such kernels get first moment +1 and are flagged
``derivative_like = False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import ExponentialSumKernel

__all__ = [
    "N_METHYLATION",
    "EsaLadder",
    "MarkovKernel",
    "esa_kernel",
    "esa_linear_response_kernel",
    "entropy_production",
    "random_gammas",
]

N_METHYLATION = 5
_KD_INACTIVE_UM = 18.2
_KD_ACTIVE_UM = 3000.0


@dataclass(frozen=True)
class EsaLadder:
    """Parameters of the ESA ladder.

    Attributes
    ----------
    gamma
        Reverse-rate suppression γ ∈ (0, 1]: the "wrong-way" methylation rates are e·γ. γ = 1 is
        detailed balance; the cycle affinity is 2·ln(1/γ) kT.
    rate_factor
        RF, the scale of the vertical (activity) rates (25 by default, 1..99 in the paper's Fig. 6B).
    """

    gamma: float
    rate_factor: float = 25.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise ConfigError(f"gamma must lie in (0, 1], got {self.gamma!r}")
        if not (math.isfinite(self.rate_factor) and self.rate_factor > 0):
            raise ConfigError(f"rate_factor must be a finite number > 0, got {self.rate_factor!r}")

    @staticmethod
    def energy_difference(ligand_um: float, m: np.ndarray) -> np.ndarray:
        """ΔE(s, m) = 2(1 − m) + ln[(1 + s/18.2)/(1 + s/3000)] in kT (inactive minus active)."""
        if not (math.isfinite(ligand_um) and ligand_um >= 0):
            raise ConfigError(f"ligand_um must be a finite number >= 0, got {ligand_um!r}")
        return 2.0 * (1.0 - m) + math.log((1 + ligand_um / _KD_INACTIVE_UM) / (1 + ligand_um / _KD_ACTIVE_UM))

    def rate_matrix(self, ligand_um: float) -> np.ndarray:
        """Generator M with M[i, j] the rate j → i and columns summing to zero."""
        n = N_METHYLATION
        rates = np.zeros((2 * n, 2 * n))
        back = math.e * self.gamma
        for m in range(n):
            top, bottom = m, n + m
            if m > 0:
                rates[top - 1, top] = 1.0  # active: demethylation k_b
                rates[bottom - 1, bottom] = back  # inactive: reverse k_r'
            if m < n - 1:
                rates[top + 1, top] = back  # active: reverse k_b'
                rates[bottom + 1, bottom] = 1.0  # inactive: methylation k_r
        de = self.energy_difference(ligand_um, np.arange(n, dtype=float))
        rf = self.rate_factor
        w0 = np.where(de < 0, rf * np.exp(-np.minimum(de, 0.0)), rf)  # bottom → top
        w1 = np.where(de < 0, rf, rf * np.exp(np.maximum(de, 0.0)))  # top → bottom
        for m in range(n):
            rates[n + m, m] = w1[m]
            rates[m, n + m] = w0[m]
        return rates - np.diag(rates.sum(axis=0))

    def rate_matrix_derivative(self, ligand_um: float) -> np.ndarray:
        """∂M/∂s at ``ligand_um`` (per µM), analytic: only the vertical rates depend on s, through ΔE."""
        n = N_METHYLATION
        de = self.energy_difference(ligand_um, np.arange(n, dtype=float))
        dde = 1.0 / (_KD_INACTIVE_UM + ligand_um) - 1.0 / (_KD_ACTIVE_UM + ligand_um)  # dΔE/ds
        rf = self.rate_factor
        dw0 = np.where(de < 0, -rf * np.exp(-np.minimum(de, 0.0)) * dde, 0.0)
        dw1 = np.where(de < 0, 0.0, rf * np.exp(np.maximum(de, 0.0)) * dde)
        d = np.zeros((2 * n, 2 * n))
        for m in range(n):
            d[n + m, m] = dw1[m]
            d[m, n + m] = dw0[m]
        return d - np.diag(d.sum(axis=0))

    def steady_state(self, ligand_um: float) -> np.ndarray:
        """Stationary distribution of M(s), normalised to 1."""
        mat = self.rate_matrix(ligand_um)
        a = mat.copy()
        a[-1, :] = 1.0
        rhs = np.zeros(a.shape[0])
        rhs[-1] = 1.0
        p = np.linalg.solve(a, rhs)
        return np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum()

    def activity(self, p: np.ndarray) -> np.ndarray:
        """Top-row (active) occupancy of distributions p (last axis = states)."""
        return np.asarray(p)[..., :N_METHYLATION].sum(axis=-1)


def entropy_production(gamma: float, rate_factor: float = 25.0, ligand_um: float = 0.0) -> float:
    """Steady-state entropy-production rate σ = Σ_{i>j} (J_ij − J_ji) ln(J_ij/J_ji), kT per Markov time.

    J_ij = M[i, j]·p_ss[j] is the probability flux j → i. The paper's Fig. 6B evaluates σ at s = 0 and
    RF = 25 for every kernel. σ(γ = 1) is zero (detailed balance); for small γ, σ ≈ 0.968·ln(1/γ).
    """
    ladder = EsaLadder(gamma, rate_factor)
    mat = ladder.rate_matrix(ligand_um)
    p = ladder.steady_state(ligand_um)
    flux = mat * p[None, :]
    np.fill_diagonal(flux, 0.0)
    i, j = np.nonzero(np.triu(flux + flux.T) > 0)
    fwd, bwd = flux[i, j], flux[j, i]
    if np.any((fwd > 0) != (bwd > 0)):  # cannot happen for the ladder's rates; guards against underflow
        raise ConfigError("the ladder has an irreversible transition; σ is infinite")
    return float(np.sum((fwd - bwd) * np.log(fwd / bwd)))


@dataclass(frozen=True)
class MarkovKernel:
    """Kernel from the ESA ladder's response to a ligand step, with its provenance.

    Attributes
    ----------
    kernel
        The normalised kernel (kernel time = Markov time / ``time_rescale``; first moment ±1).
    gamma, rate_factor, step_um, time_rescale
        Parameters it was built from (``step_um`` = 0 for the small-signal linear-response kernel).
    raw_first_moment
        First moment of da/dt in kernel time units before normalisation (positive when derivative-like).
    delta_activity
        a_ss(step) − a_ss(0); for the linear-response kernel the susceptibility da_ss/ds per µM.
    """

    kernel: ExponentialSumKernel
    gamma: float
    rate_factor: float
    step_um: float
    time_rescale: float
    raw_first_moment: float
    delta_activity: float

    @property
    def derivative_like(self) -> bool:
        """True when the normalised kernel has first moment −1 (usable for TCL)."""
        return self.raw_first_moment > 0

    @property
    def area(self) -> float:
        """Normalised kernel area I = −5·Δa_ss/|m₁'| (m₁' in Markov time)."""
        return self.kernel.area


def esa_kernel(
    gamma: float, rate_factor: float = 25.0, step_um: float = 200.0, time_rescale: float = 5.0
) -> MarkovKernel:
    """Exact kernel K = −(da/dt)/|m₁| for a ligand step 0 → ``step_um`` from the s = 0 steady state.

    The modes come from the eigendecomposition of M(step); the stationary mode (λ = 0) is dropped, which
    is exact since it does not contribute to da/dt.
    """
    if not (math.isfinite(step_um) and step_um > 0):
        raise ConfigError(f"step_um must be a finite number > 0, got {step_um!r}")
    if not (math.isfinite(time_rescale) and time_rescale > 0):
        raise ConfigError(f"time_rescale must be a finite number > 0, got {time_rescale!r}")
    ladder = EsaLadder(gamma, rate_factor)
    p0 = ladder.steady_state(0.0)
    mat = ladder.rate_matrix(step_um)
    lam, vec = np.linalg.eig(mat)
    coef = np.linalg.solve(vec, p0.astype(complex))
    keep = np.abs(lam) > 1e-9 * np.max(np.abs(lam))
    if np.count_nonzero(~keep) != 1:  # an irreducible chain has exactly one
        raise ConfigError("the rate matrix does not have exactly one stationary mode")
    lam, vec, coef = lam[keep], vec[:, keep], coef[keep]
    amp = vec[:N_METHYLATION, :].sum(axis=0) * coef  # a(t) = a_∞ + Σ amp_j e^{λ_j t}
    # da/dt in kernel time t = t'/r: K_raw(t) = Σ amp_j λ_j e^{λ_j r t}
    raw = ExponentialSumKernel(tuple(lam * time_rescale), tuple(amp * lam), 0.0, "esa")
    m1 = raw.first_moment
    delta_a = float(ladder.activity(ladder.steady_state(step_um)) - ladder.activity(p0))
    kern = raw.scaled(-1.0 / abs(m1), label=f"esa(gamma={gamma:.6g})")
    return MarkovKernel(
        kern, float(gamma), float(rate_factor), float(step_um), float(time_rescale), m1, delta_a
    )


def esa_linear_response_kernel(
    gamma: float, rate_factor: float = 25.0, ligand_um: float = 0.0, time_rescale: float = 5.0
) -> MarkovKernel:
    """Small-signal kernel about ``ligand_um``: the impulse response of a to δs,
    K_raw(t) = 1_topᵀ e^{M t} (∂M/∂s) p_ss, normalised like :func:`esa_kernel` (K ← −K/|m₁|).

    This is the limit of :func:`esa_kernel` for a vanishing step; ``delta_activity`` is then the static
    susceptibility da_ss/ds (per µM).
    """
    if not (math.isfinite(time_rescale) and time_rescale > 0):
        raise ConfigError(f"time_rescale must be a finite number > 0, got {time_rescale!r}")
    ladder = EsaLadder(gamma, rate_factor)
    p_ss = ladder.steady_state(ligand_um)
    mat = ladder.rate_matrix(ligand_um)
    forcing = ladder.rate_matrix_derivative(ligand_um) @ p_ss  # sums to zero: no stationary component
    lam, vec = np.linalg.eig(mat)
    coef = np.linalg.solve(vec, forcing.astype(complex))
    keep = np.abs(lam) > 1e-9 * np.max(np.abs(lam))
    lam, vec, coef = lam[keep], vec[:, keep], coef[keep]
    amp = vec[:N_METHYLATION, :].sum(axis=0) * coef  # K_raw(t') = Σ amp_j e^{λ_j t'}
    # kernel time t = t'/r, same convention as esa_kernel: K(t) = K_raw(r t)
    raw = ExponentialSumKernel(tuple(lam * time_rescale), tuple(amp), 0.0, "esa-linear")
    m1 = raw.first_moment
    chi = raw.area * time_rescale  # ∫K_raw dt' = da_ss/ds
    kern = raw.scaled(-1.0 / abs(m1), label=f"esa-linear(gamma={gamma:.6g})")
    return MarkovKernel(kern, float(gamma), float(rate_factor), 0.0, float(time_rescale), m1, chi)


def random_gammas(n: int, seed: int) -> np.ndarray:
    """γ values drawn like the paper's ``get_random_kernels``: per block of 50, 10 with γ ~ U(0, 1) and 40
    with γ = U(0, 1)·10^{−k}, k uniform in 0..24. Zeros are redrawn away (γ ≥ 1e-300)."""
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 1.0, size=n)
    block_pos = np.arange(n) % 50
    exponent = np.where(block_pos < 10, 0, rng.integers(0, 25, size=n))
    return np.maximum(u * 10.0 ** (-exponent.astype(float)), 1e-300)
