"""ESA ladder: rates, detailed balance, entropy production table, exact kernels and the area floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sl

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.energy import kt_to_joules, markov_energy_per_cycle
from tcl_circuits.kernels.markov import (
    EsaLadder,
    entropy_production,
    esa_kernel,
    esa_linear_response_kernel,
    random_gammas,
)


def test_rate_matrix_is_a_generator():
    mat = EsaLadder(0.1).rate_matrix(200.0)
    assert mat.shape == (10, 10)
    np.testing.assert_allclose(mat.sum(axis=0), 0.0, atol=1e-9)
    off = mat - np.diag(np.diag(mat))
    assert np.all(off >= 0)
    # vertical rates obey w1/w0 = e^{ΔE}
    de = EsaLadder.energy_difference(200.0, np.arange(5.0))
    np.testing.assert_allclose(mat[5:, :5].diagonal() / mat[:5, 5:].diagonal(), np.exp(de))


@pytest.mark.parametrize("gamma", [1.0, 0.3, 1e-4])
def test_each_ladder_cycle_has_affinity_two_ln_one_over_gamma(gamma):
    mat = EsaLadder(gamma).rate_matrix(0.0)
    for m in range(4):
        t0, t1, b0, b1 = m, m + 1, 5 + m, 6 + m
        fwd = mat[b0, t0] * mat[b1, b0] * mat[t1, b1] * mat[t0, t1]
        bwd = mat[t1, t0] * mat[b1, t1] * mat[b0, b1] * mat[t0, b0]
        assert fwd / bwd == pytest.approx(1 / gamma**2, rel=1e-12)


@pytest.mark.parametrize(
    ("gamma", "sigma"),
    [
        (0.5, 0.154),
        (0.2, 0.94),
        (0.1, 1.76),
        (0.05, 2.59),
        (0.02, 3.62),
        (1e-2, 4.36),
        (1e-3, 6.67),
        (1e-4, 8.92),
        (1e-6, 13.38),
        (1e-9, 20.06),
    ],
)
def test_entropy_production_table(gamma, sigma):
    assert entropy_production(gamma) == pytest.approx(sigma, abs=0.006)


def test_entropy_production_vanishes_at_detailed_balance_and_grows_logarithmically():
    assert abs(entropy_production(1.0)) < 1e-14
    slope = (entropy_production(1e-12) - entropy_production(1e-9)) / math.log(1000.0)
    assert slope == pytest.approx(0.968, abs=0.001)
    gammas = np.sort(random_gammas(60, seed=4))
    sig = np.array([entropy_production(g) for g in gammas])
    assert np.all(sig >= 0)
    assert np.all(np.diff(sig) <= 1e-12)  # more driving, more dissipation


@pytest.mark.parametrize("gamma", [0.2, 0.01, 1e-6])
def test_kernel_integral_matches_the_matrix_exponential_step_response(gamma):
    """∫₀^T K_raw = (a(5T) − a(0))/5, with a(t') from expm of the rate matrix (exact, no finite differences)."""
    mk = esa_kernel(gamma)
    ladder = EsaLadder(gamma)
    p0 = ladder.steady_state(0.0)
    mat = ladder.rate_matrix(200.0)
    p, r = mk.kernel.poles, mk.kernel.residues * (-abs(mk.raw_first_moment))
    for t_end in (1e-5, 1e-3, 0.05, 0.4, 3.0):
        integral = float(np.real(np.sum(r / p * (np.exp(p * t_end) - 1.0))))
        a_exact = ladder.activity(sl.expm(mat * 5 * t_end) @ p0)
        assert integral == pytest.approx((a_exact - ladder.activity(p0)) / 5, abs=1e-11)


@pytest.mark.parametrize(
    ("gamma", "area", "delta_a"),
    [
        (0.2, 1.82, -0.131),
        (0.1, 0.67, -0.068),
        (0.05, 0.36, -0.040),
        (0.01, 0.18, -0.021),
        (1e-3, 0.150, -0.017),
    ],
)
def test_kernel_area_table(gamma, area, delta_a):
    mk = esa_kernel(gamma)
    assert mk.area == pytest.approx(area, abs=0.006)
    assert mk.delta_activity == pytest.approx(delta_a, abs=0.0006)
    assert mk.kernel.first_moment == pytest.approx(-1.0)
    assert mk.derivative_like
    # area = −5·Δa/|m1'| with m1' the Markov-time first moment = 25 × kernel-time first moment
    assert mk.area == pytest.approx(-5 * mk.delta_activity / (25 * mk.raw_first_moment), rel=1e-8)


def test_near_equilibrium_kernels_are_not_derivative_like():
    for gamma in (0.5, 1.0):
        mk = esa_kernel(gamma)
        assert not mk.derivative_like
        assert mk.kernel.first_moment == pytest.approx(1.0)


def test_area_falls_monotonically_with_dissipation_to_a_floor():
    gammas = random_gammas(200, seed=11)
    sig = np.array([entropy_production(g) for g in gammas])
    kern = [esa_kernel(g) for g in gammas]
    area = np.array([k.area for k in kern])
    dlike = np.array([k.derivative_like for k in kern])
    order = np.argsort(sig[dlike])
    assert dlike.sum() > 150
    assert np.all(np.diff(area[dlike][order]) <= 1e-9)
    assert area[dlike & (sig > 9)].min() == pytest.approx(0.1466, abs=0.0005)
    # slowest relaxation shortens with dissipation: 2.2 (γ = 0.2) → 1.52 Markov time units
    assert 5 * esa_kernel(0.2).kernel.timescale == pytest.approx(2.2, abs=0.03)
    assert 5 * esa_kernel(1e-5).kernel.timescale == pytest.approx(1.52, abs=0.01)


def test_random_gammas_follow_the_paper_blocks_and_are_seeded():
    g = random_gammas(100, seed=5)
    assert np.array_equal(g, random_gammas(100, seed=5))
    assert not np.array_equal(g, random_gammas(100, seed=6))
    assert np.all((g > 0) & (g < 1))
    assert np.median(g[10:50]) < np.median(g[:10])


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: EsaLadder(0.0), r"gamma must lie in \(0, 1\]"),
        (lambda: EsaLadder(1.5), r"gamma must lie in \(0, 1\]"),
        (lambda: EsaLadder(0.5, rate_factor=-1.0), "rate_factor must be a finite number > 0"),
        (lambda: EsaLadder(0.5).rate_matrix(-1.0), "ligand_um must be a finite number >= 0"),
        (lambda: esa_kernel(0.1, step_um=0.0), "step_um must be a finite number > 0"),
        (lambda: esa_kernel(0.1, time_rescale=math.nan), "time_rescale must be a finite number > 0"),
        (lambda: random_gammas(0, seed=1), "n must be >= 1"),
    ],
)
def test_invalid_parameters_raise(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()


def test_markov_energy_per_cycle():
    e = markov_energy_per_cycle(0.1, cycle_time=18.0)
    assert e.cycle_markov_time == 90.0  # kernel time × 5
    assert e.energy_kt == pytest.approx(1.7617 * 90, rel=1e-4)
    assert e.energy_j == pytest.approx(e.energy_kt * 1.380649e-23 * 300)
    assert markov_energy_per_cycle(1.0, 18.0).energy_kt < 1e-12
    assert kt_to_joules(1.0, 1.0) == pytest.approx(1.380649e-23)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: markov_energy_per_cycle(0.1, 0.0), "cycle_time must be a finite number > 0"),
        (
            lambda: markov_energy_per_cycle(0.1, 1.0, time_rescale=-5.0),
            "time_rescale must be a finite number > 0",
        ),
        (lambda: kt_to_joules(1.0, 0.0), "temperature_k must be a finite number > 0"),
    ],
)
def test_invalid_energy_inputs_raise(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_degenerate_rate_matrices_are_rejected(monkeypatch):
    """Guards for matrices the ladder never produces: a one-way transition, a reducible chain."""
    good = EsaLadder.rate_matrix

    def generator(off):
        off = off - np.diag(np.diag(off))
        return off - np.diag(off.sum(axis=0))

    def one_way(self, ligand_um):
        mat = good(self, ligand_um)
        mat[1, 0] = 0.0  # top(0) → top(1) removed, top(1) → top(0) kept
        return generator(mat)

    monkeypatch.setattr(EsaLadder, "rate_matrix", one_way)
    with pytest.raises(ConfigError, match="irreversible transition"):
        entropy_production(0.1)

    def reducible(self, ligand_um):
        mat = good(self, ligand_um)
        mat[:5, 5:] = 0.0
        mat[5:, :5] = 0.0  # rows decoupled: two stationary modes
        return generator(mat)

    monkeypatch.setattr(EsaLadder, "rate_matrix", reducible)
    monkeypatch.setattr(EsaLadder, "steady_state", lambda self, s: np.full(10, 0.1))
    with pytest.raises(ConfigError, match="exactly one stationary mode"):
        esa_kernel(0.1)


@pytest.mark.parametrize("gamma", [0.2, 1e-3, 0.7])
def test_linear_response_kernel_is_the_small_step_limit(gamma):
    lr = esa_linear_response_kernel(gamma)
    small = esa_kernel(gamma, step_um=1e-4)
    assert lr.area == pytest.approx(small.area, rel=1e-5)
    assert lr.derivative_like == small.derivative_like
    t = np.array([0.0, 0.01, 0.1, 0.5])
    np.testing.assert_allclose(lr.kernel.impulse_response(t), small.kernel.impulse_response(t), rtol=1e-5)
    ladder = EsaLadder(gamma)
    h = 1e-3
    chi = (ladder.activity(ladder.steady_state(h)) - ladder.activity(ladder.steady_state(0.0))) / h
    assert lr.delta_activity == pytest.approx(chi, rel=1e-3)
    assert lr.step_um == 0.0


def test_small_signal_area_floor_is_larger_than_for_the_200um_step():
    assert esa_linear_response_kernel(1e-6).area == pytest.approx(0.636, abs=0.001)
    assert esa_kernel(1e-6).area == pytest.approx(0.1466, abs=0.0005)
    with pytest.raises(ConfigError, match="time_rescale must be a finite number > 0"):
        esa_linear_response_kernel(0.1, time_rescale=0.0)
