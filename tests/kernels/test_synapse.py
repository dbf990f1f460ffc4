"""Single-synapse sawtooth analysis: reference values of physics.md §7, symmetries, window and offsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import DerivativeKernel, EColiKernel, ExponentialSumKernel, SineKernel
from tcl_circuits.kernels.markov import random_gammas
from tcl_circuits.kernels.synapse import (
    Sawtooth,
    apply_nonlinearity,
    classify_regimes,
    delta_w,
    delta_w_periodic,
    fit_offset,
    learning_window,
    markov_dissipation_sweep,
    response_curve,
    window_map,
)

THETA = 100 / 9
ECOLI = EColiKernel(0.0)


@pytest.mark.parametrize(
    ("amplitude", "ratio", "tol"),
    [
        (10, 0.0, 0.0),
        (11, 0.0, 0.0),
        (12, 0.75, 0.01),
        (20, 0.91, 0.005),
        (50, 0.955, 0.001),
        (80, 0.962, 0.001),
    ],
)
def test_linear_range_reference_values(amplitude, ratio, tol):
    """physics.md §7.1: E. coli I = 0, τ_f = 1, τ_s = 9, θ = 100/9, dt = 1e-4."""
    dw = delta_w(ECOLI, Sawtooth(amplitude, 0.0, 1.0, 9.0), THETA, dt=1e-4)
    assert dw / amplitude == pytest.approx(ratio, abs=tol)
    if ratio == 0.0:
        assert dw == 0.0  # nothing passes the threshold: exactly zero


def test_acceptance_within_five_percent_and_collapse_above_the_window():
    for a in (50.0, 80.0):
        assert abs(delta_w(ECOLI, Sawtooth(a, 0.0, 1.0, 9.0), THETA, dt=1e-4) / a - 1) < 0.05
    assert delta_w(ECOLI, Sawtooth(99.0, 0.0, 1.0, 9.0), THETA, dt=1e-4) / 99 == pytest.approx(
        0.963, abs=0.001
    )
    assert abs(delta_w(ECOLI, Sawtooth(110.0, 0.0, 1.0, 9.0), THETA, dt=1e-4) / 110) < 0.02


def test_grid_convergence():
    saw = Sawtooth(50.0, 0.0, 1.0, 9.0)
    fine = delta_w(ECOLI, saw, THETA, dt=1e-4)
    assert delta_w(ECOLI, saw, THETA, dt=1e-3) == pytest.approx(fine, rel=1e-4)
    assert delta_w(ECOLI, saw, THETA) == pytest.approx(fine, rel=1e-4)  # default grid


@pytest.mark.parametrize("theta", [0.5, 2.0, 3.9, 10.0])
def test_symmetric_triangle_gives_no_update(theta):
    assert abs(delta_w(ECOLI, Sawtooth(20.0, 3.0, 5.0, 5.0), theta, dt=1e-3)) < 1e-9


def test_linear_g_gives_no_update():
    for kernel in (ECOLI, SineKernel(), DerivativeKernel()):
        assert abs(delta_w(kernel, Sawtooth(50.0, 0.0, 1.0, 9.0), 0.0, dt=1e-3) / 50) < 1e-4


def test_reversed_sawtooth_flips_the_sign():
    theta = 10 / 3
    normal = delta_w(ECOLI, Sawtooth(20.0, 0.0, 1.0, 9.0), theta, dt=1e-4) / 20
    negative = delta_w(ECOLI, Sawtooth(-20.0, 0.0, 1.0, 9.0), theta, dt=1e-4) / 20
    # an explicit slow rise (9) then fast fall (1)
    dt = 1e-3
    t = np.arange(10_000) * dt
    s = np.where(t <= 9.0, -10 + 20 * t / 9, 10 - 20 * (t - 9.0))
    explicit = delta_w_periodic(s, dt, ECOLI, theta) / 20
    assert normal == pytest.approx(0.96, abs=0.005)
    assert negative == pytest.approx(-normal, abs=1e-12)
    assert explicit == pytest.approx(-0.96, abs=0.005)


def test_area_one_low_pass_kernel_is_hebbian_not_contrastive():
    low_pass = ExponentialSumKernel((-20.0,), (20.0,))  # e^{-t/0.05}/0.05, area 1
    theta = 10 / 3
    assert abs(delta_w(low_pass, Sawtooth(20.0, 0.0, 1.0, 9.0), theta, dt=1e-3)) < 0.01
    at_mean_10 = delta_w(low_pass, Sawtooth(20.0, 10.0, 1.0, 9.0), theta, dt=1e-3)
    assert at_mean_10 == pytest.approx(97.2, abs=0.3)
    # doubling the contrast barely changes the update: it follows the mean, not A
    assert delta_w(low_pass, Sawtooth(40.0, 10.0, 1.0, 9.0), theta, dt=1e-3) == pytest.approx(100.0, abs=0.1)


def test_ideal_derivative_gives_exactly_a_inside_the_window_and_the_cubic_law():
    saw = Sawtooth(30.0, 5.0, 1.0, 9.0)
    assert delta_w(DerivativeKernel(), saw, 10.0, dt=1e-3) == pytest.approx(30.0, rel=1e-9)
    theta = 4.0
    expected = ((30 / 1) ** 3 * 1 - (30 / 9) ** 3 * 9) / theta
    assert delta_w(DerivativeKernel(), saw, theta, dt=1e-3, kind="cubic") == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("tau_ratio", "expected"), [(2, 0.0), (3, 0.52), (10, 0.855), (20, 0.92), (40, 0.953)]
)
def test_timescale_error_table(tau_ratio, expected):
    """physics.md §2.6: A = 20, period 20, θ midway between the slopes."""
    tf = tau_ratio * 0.05
    ts = 20 - tf
    theta = (20 / tf + 20 / ts) / 2
    assert delta_w(ECOLI, Sawtooth(20.0, 0.0, tf, ts), theta, dt=1e-3) / 20 == pytest.approx(
        expected, abs=0.005
    )


def test_response_curve_shows_three_regimes_and_matches_single_updates():
    amps = np.linspace(1.0, 130.0, 130)
    dw = response_curve(ECOLI, amps, 0.0, 1.0, 9.0, THETA, dt=1e-3)
    for a in (12.0, 55.0, 120.0):
        i = int(np.argmin(np.abs(amps - a)))
        assert dw[i] == pytest.approx(delta_w(ECOLI, Sawtooth(a, 0.0, 1.0, 9.0), THETA, dt=1e-3), rel=1e-12)
    regime = classify_regimes(amps, THETA, 1.0, 9.0)
    assert set(regime.tolist()) == {1, 2, 3}
    assert np.all(dw[regime == 1] == 0.0)
    inner = (regime == 2) & (amps > 2 * THETA) & (amps < 0.98 * THETA * 9)
    assert np.all(np.abs(dw[inner] / amps[inner] - 1) < 0.1)
    assert np.all(np.abs(dw[amps > 1.02 * THETA * 9] / amps[amps > 1.02 * THETA * 9]) < 0.05)
    a_min, a_max = learning_window(amps, dw)
    assert THETA <= a_min < 1.1 * THETA
    assert a_max == pytest.approx(THETA * 9, rel=0.01)


def test_window_approaches_the_dynamic_range_limit():
    fast = [2.0, 5.0, 20.0]
    slow = [4.0, 16.0]
    m = window_map(lambda: ECOLI, fast, slow, n_amplitudes=150, points_per_kernel_time=20)
    bound = np.log(np.array(slow))[None, :]
    assert np.all(m <= bound + 0.02)  # ln(A_max/A_min) ≤ ln(τ_s/τ_f)
    assert np.all(np.diff(m, axis=0) > 0)  # approached as τ_f/τ_K grows
    assert np.all(bound - m[-1] < 0.1)


def test_kernel_area_offset_reference_values_and_scaling():
    """physics.md §7.5: I = 0.05, mean 25, A = 50, θ = 10; offset ≈ I·s̄·τ_f, relatively better as τ_f grows."""
    k = EColiKernel(0.05)
    ratios = []
    for tf, ref in ((1.0, 1.50), (2.0, 2.73), (4.0, None)):
        extra = delta_w(k, Sawtooth(50, 25, tf, 9 * tf), 10.0, dt=1e-3) - delta_w(
            k, Sawtooth(50, 0, tf, 9 * tf), 10.0, dt=1e-3
        )
        if ref is not None:
            assert extra == pytest.approx(ref, abs=0.01)
        ratios.append(extra / (0.05 * 25 * tf))
    assert ratios[0] > ratios[1] > ratios[2] > 1.0
    assert ratios[2] < 1.1


def test_area_half_departs_from_a_by_the_predicted_offset():
    """I = 0.5, τ_f = 1, τ_s = 9, θ = 100/9: the background adds ≈ I·s̄·τ_f (+25–30 % edge excess), linear in s̄."""
    k = EColiKernel(0.5)
    base = delta_w(k, Sawtooth(20, 0, 1, 9), THETA, dt=1e-3)
    extra = {m: delta_w(k, Sawtooth(20, m, 1, 9), THETA, dt=1e-3) - base for m in (2.0, 5.0, 10.0)}
    for m, e in extra.items():
        assert 1.15 < e / (0.5 * m * 1.0) < 1.35
    assert delta_w(k, Sawtooth(20, 10, 1, 9), THETA, dt=1e-3) / 20 == pytest.approx(1.306, abs=0.005)
    assert delta_w(ECOLI, Sawtooth(20, 10, 1, 9), THETA, dt=1e-3) / 20 == pytest.approx(0.906, abs=0.005)


def test_fit_offset_recovers_a_line():
    a = np.linspace(0, 10, 11)
    assert fit_offset(a, 2 * a + 3, 2.0, 8.0) == pytest.approx((2.0, 3.0))


def test_markov_sweep_error_and_area_fall_with_dissipation():
    gammas = random_gammas(200, seed=1)
    sweep = markov_dissipation_sweep(gammas, dt=1e-2, n_amplitudes=100)
    sig = sweep.dissipation_kt_per_time
    ok = sweep.derivative_like & np.isfinite(sweep.background_offset)
    assert ok.sum() > 150
    order = np.argsort(sig[ok])
    assert np.all(np.diff(sweep.area[ok][order]) <= 1e-9)
    paper_range = sig[ok][order] >= 1.0
    err = np.abs(sweep.background_offset[ok][order][paper_range])
    assert np.all(np.diff(err) <= 1e-6)
    assert err[0] > 3 * err[-1]
    # the floor: background offset ≈ 1.85 × I·s̄·τ_f for the I = 0.147 kernels
    assert err[-1] == pytest.approx(0.1466 * 10 * 3 * 1.85, rel=0.03)
    assert np.all(np.isfinite(sweep.log_abs_offset_over_mean[ok]))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Sawtooth(math.nan, 0, 1, 9), "amplitude must be a finite number"),
        (lambda: Sawtooth(1, 0, 0, 9), "tau_fast must be > 0"),
        (lambda: Sawtooth(1, 0, 1, -9), "tau_slow must be > 0"),
        (lambda: Sawtooth(1, 0, 1, 9).grid(5.0), "too coarse"),
        (lambda: Sawtooth(1, 0, 1, 9).grid(1e-7), "points per period"),
        (lambda: apply_nonlinearity(np.ones(3), -1.0), "threshold must be a finite number >= 0"),
        (lambda: apply_nonlinearity(np.ones(3), 0.0, "cubic"), "threshold must be > 0 for the cubic"),
        (
            lambda: apply_nonlinearity(np.ones(3), 1.0, "square"),
            "nonlinearity must be one of hard, dead_zone, cubic",
        ),
        (lambda: delta_w_periodic(np.ones(2), 0.1, ECOLI, 1.0), "signal must be a finite 1-D array"),
        (lambda: response_curve(ECOLI, [], 0, 1, 9, 1.0), "amplitudes must be a non-empty"),
        (lambda: learning_window(np.ones(3), np.ones(4)), "same length"),
        (lambda: learning_window(np.array([2.0, 1.0]), np.ones(2)), "strictly increasing"),
        (lambda: learning_window(np.array([1.0, 2.0]), np.ones(2), fraction=1.5), "fraction must lie"),
        (lambda: fit_offset(np.arange(5.0), np.arange(5.0), 10, 20), "fewer than 2 amplitudes"),
        (lambda: window_map(DerivativeKernel, [1.0], [2.0]), "positive timescale"),
        (lambda: markov_dissipation_sweep([]), "gammas must be a non-empty"),
        (lambda: markov_dissipation_sweep([0.1], mean_signal=0.0), "mean_signal must be > 0"),
        (lambda: markov_dissipation_sweep([0.1], threshold_rule="x"), "threshold_rule must be"),
    ],
)
def test_invalid_inputs_raise(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_paper_threshold_rule_and_no_window_case():
    sweep = markov_dissipation_sweep([1e-3], dt=1e-2, n_amplitudes=50, threshold_rule="paper")
    assert sweep.derivative_like[0] and np.isfinite(sweep.offset[0])
    amps = np.array([1.0, 2.0])
    assert all(math.isnan(x) for x in learning_window(amps, np.zeros(2)))
