"""Kernel moments, impulse responses and the exactness of the first-order-hold discretisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate as si
import scipy.linalg as sl

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import (
    DerivativeKernel,
    EColiKernel,
    ExponentialSumKernel,
    RCKernel,
    SecondOrderKernel,
    SineKernel,
    periodic_convolve,
)

KERNELS = [
    DerivativeKernel(),
    DerivativeKernel(0.3),
    RCKernel(1.0, 0.05),
    RCKernel(2.0, 0.05, 10.0),
    SecondOrderKernel(0.01, 0.05),  # overdamped
    SecondOrderKernel(0.0125, 0.05),  # critically damped (repeated eigenvalue)
    SecondOrderKernel(0.05, 0.05),  # underdamped
    SecondOrderKernel(0.03, 0.05, 0.5),  # leaky
    EColiKernel(0.0),
    EColiKernel(0.5),
    EColiKernel(-2.0, decay_rate=10.0),
    SineKernel(),
    ExponentialSumKernel((-3.0 + 4.0j, -3.0 - 4.0j, -50.0), (1.0 + 2.0j, 1.0 - 2.0j, -5.0), 0.2),
]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
@pytest.mark.parametrize("dt", [1e-3, 1e-4])
def test_taps_reproduce_area_and_first_moment_exactly(kernel, dt):
    w = kernel.taps(dt)
    k = np.arange(w.size)
    assert w.sum() == pytest.approx(kernel.area, abs=1e-12)
    assert np.sum(k * dt * w) == pytest.approx(kernel.first_moment, rel=1e-10, abs=1e-14)


SMOOTH = [k for k in KERNELS if not isinstance(k, DerivativeKernel | RCKernel | ExponentialSumKernel)]


@pytest.mark.parametrize("kernel", SMOOTH, ids=lambda k: repr(k)[:40])
def test_closed_form_moments_match_quadrature_of_the_impulse_response(kernel):
    end = kernel.support
    area = si.quad(kernel.impulse_response, 0, end, limit=400, points=[kernel.timescale])[0]
    m1 = si.quad(lambda t: t * kernel.impulse_response(t), 0, end, limit=400, points=[kernel.timescale])[0]
    assert area + kernel.direct_gain == pytest.approx(kernel.area, abs=1e-9)
    assert m1 == pytest.approx(kernel.first_moment, rel=1e-8)


def test_rc_kernel_formulas():
    r, c, rl = 2.0, 0.05, 10.0
    leaky = RCKernel(r, c, rl)
    tau = r * rl / (r + rl) * c
    assert leaky.tau_s == pytest.approx(tau)
    assert leaky.area == pytest.approx(1 / (r + rl))
    assert leaky.first_moment == pytest.approx(-(tau**2) / (r**2 * c))
    t = np.array([0.0, 0.01, 0.1])
    np.testing.assert_allclose(leaky.impulse_response(t), -np.exp(-t / tau) / (r**2 * c))
    plain = RCKernel(1.0, 0.05)
    assert (
        plain.area == 0.0
        and plain.first_moment == pytest.approx(-0.05)
        and plain.timescale == pytest.approx(0.05)
    )
    assert plain.direct_gain == 1.0 and not plain.leaky


@pytest.mark.parametrize(
    "kernel",
    [SecondOrderKernel(0.01, 0.05), SecondOrderKernel(0.0125, 0.05), SecondOrderKernel(0.05, 0.05, 0.2)],
)
def test_second_order_impulse_response_matches_matrix_exponential(kernel):
    a = 0.0 if math.isinf(kernel.tau_leak) else 1 / kernel.tau_leak
    mat = np.array([[-1 / kernel.tau_u, -1 / kernel.tau_u], [1 / kernel.tau_z, -a]])
    b = np.array([1 / kernel.tau_u, 0.0])
    for t in (0.0, 0.003, 0.02, 0.1, 0.4):
        assert kernel.impulse_response(t) == pytest.approx((sl.expm(mat * t) @ b)[0], rel=1e-9, abs=1e-12)


def test_second_order_moments_from_transfer_function():
    k = SecondOrderKernel(0.03, 0.05, 0.5)
    a = 1 / k.tau_leak

    def h(p):
        return k.tau_z * (p + a) / ((k.tau_u * p + 1) * k.tau_z * (p + a) + 1)

    eps = 1e-6
    assert h(0.0) == pytest.approx(k.area)
    assert -(h(eps) - h(-eps)) / (2 * eps) == pytest.approx(k.first_moment, rel=1e-6)


def test_ecoli_kernel_shape_matches_the_reference_values():
    k = EColiKernel(0.0)
    t = np.linspace(0, 1, 100_001)
    v = k.impulse_response(t)
    assert v.max() == pytest.approx(92.2, abs=0.1) and t[v.argmax()] == pytest.approx(0.029, abs=0.001)
    assert v.min() == pytest.approx(-31.8, abs=0.1) and t[v.argmin()] == pytest.approx(0.171, abs=0.001)
    assert 1 / k.quadratic == pytest.approx(0.1)
    assert k.amplitude == 8000.0 and k.timescale == 0.05


def test_sine_kernel_and_the_mnist_discrete_taps():
    k = SineKernel()
    assert k.first_moment == pytest.approx(-(1 / 3) * 0.01 / (2 * math.pi))
    taps = SineKernel.mnist_taps(100)
    np.testing.assert_allclose(taps * 100, np.sin(2 * np.pi * np.arange(10) / 10) / 3)
    assert abs(taps.sum()) < 1e-15
    assert np.sum(np.arange(10) * taps * 100) == pytest.approx(-5.13, abs=0.005)
    assert k.impulse_response(0.1) == 0.0 and k.impulse_response(-0.01) == 0.0


def test_derivative_taps_are_the_backward_difference_and_exact_on_ramps():
    k = DerivativeKernel(2.0)
    np.testing.assert_allclose(k.taps(0.1), [20.0, -20.0])
    np.testing.assert_allclose(k.taps(0.1, n_taps=4), [20.0, -20.0, 0.0, 0.0])
    n, dt = 100, 0.01
    t = np.arange(n) * dt
    s = np.where(t < 0.25, 4 * t, 1.0 - (t - 0.25) * 4 / 3)  # period 1, corners on the grid
    u = periodic_convolve(k, s, dt)
    expected = np.where((t > 0) & (t <= 0.25), 8.0, -8 / 3)
    np.testing.assert_allclose(u, expected, atol=1e-9)


@pytest.mark.parametrize("kernel", [RCKernel(1.0, 0.05), SecondOrderKernel(0.02, 0.05), EColiKernel(0.3)])
def test_first_order_hold_is_exact_independent_of_the_grid(kernel):
    """u at shared grid points must not depend on dt when the ramp corners lie on both grids."""
    us = []
    for n in (1000, 8000):
        dt = 2.0 / n
        t = np.arange(n) * dt
        s = np.where(t <= 0.5, 3 * t, 1.5 - (t - 0.5))
        us.append(periodic_convolve(kernel, s, dt))
    np.testing.assert_allclose(us[1][::8], us[0], rtol=0, atol=1e-9 * np.max(np.abs(us[0])))


def test_rc_periodic_convolution_matches_an_ode_solution():
    r, c = 1.0, 0.05
    k = RCKernel(r, c, 4.0)
    period, tf = 2.0, 0.5

    def s(t):
        tm = t % period
        return 3 * tm if tm <= tf else 1.5 - (tm - tf)

    def rhs(t, v):  # capacitor voltage with leak: C dv/dt = (s - v)/R - v/R_L
        return [((s(t) - v[0]) / r - v[0] / 4.0) / c]

    sol = si.solve_ivp(rhs, (0, 10 * period), [0.0], max_step=1e-3, rtol=1e-10, atol=1e-12, dense_output=True)
    n = 2000
    dt = period / n
    t = np.arange(n) * dt
    u = periodic_convolve(k, np.array([s(x) for x in t]), dt)
    v = sol.sol(9 * period + t)[0]
    i_ode = (np.array([s(x) for x in t]) - v) / r
    np.testing.assert_allclose(u, i_ode, atol=1e-6)


def test_exponential_sum_scaling_helpers():
    k = ExponentialSumKernel((-2.0,), (3.0,), 0.5)
    assert k.scaled(2.0).area == pytest.approx(2 * k.area)
    ts = k.time_scaled(5.0)  # K'(t) = K(5t): area / 5, first moment / 25
    assert ts.area == pytest.approx(k.area / 5)
    assert ts.first_moment == pytest.approx(k.first_moment / 25)
    d = k.describe()
    assert d["kernel"] == "ExponentialSumKernel" and d["area"] == pytest.approx(k.area)


def test_periodic_taps_fold_the_tail():
    k = RCKernel(1.0, 0.5)  # τ = 0.5 s, support 20 s
    w = k.periodic_taps(0.01, 100)  # 1 s period: the tail wraps many times
    assert w.sum() == pytest.approx(k.area, abs=1e-12)
    assert w.size == 100


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: RCKernel(0.0, 1.0), "resistance_ohm must be a finite number > 0"),
        (lambda: RCKernel(1.0, math.nan), "capacitance_f must be a finite number > 0"),
        (lambda: RCKernel(1.0, 1.0, -5.0), "leak_resistance_ohm must be > 0"),
        (lambda: SecondOrderKernel(1.0, -1.0), "tau_z must be a finite number > 0"),
        (lambda: SecondOrderKernel(1.0, 1.0, 0.0), "tau_leak must be > 0"),
        (lambda: EColiKernel(-7.0), "area_target must be finite and > -decay_rate/3"),
        (lambda: EColiKernel(0.0, decay_rate=0.0), "decay_rate must be a finite number > 0"),
        (lambda: SineKernel(amplitude=0.0), "amplitude must be finite and non-zero"),
        (lambda: SineKernel(duration=-1.0), "duration must be a finite number > 0"),
        (lambda: DerivativeKernel(0.0), "gain must be finite and non-zero"),
        (lambda: ExponentialSumKernel((-1.0,), ()), "equal length"),
        (lambda: ExponentialSumKernel((-1.0,), (math.inf,)), "must be finite"),
        (lambda: ExponentialSumKernel((1.0,), (1.0,)), "negative real part"),
        (lambda: ExponentialSumKernel((-1.0,), (1.0,)).time_scaled(0.0), "factor must be"),
        (lambda: EColiKernel().taps(0.0), "dt must be a finite number > 0"),
        (lambda: EColiKernel().taps(0.01, n_taps=1), "n_taps must be >= 2"),
        (lambda: EColiKernel().taps(1e-9), "too small for this kernel"),
        (lambda: EColiKernel().periodic_taps(0.01, 1), "n_period must be >= 2"),
        (lambda: SineKernel.mnist_taps(5), "points_per_cycle must be >= 10"),
    ],
)
def test_invalid_parameters_raise_config_error(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()


def test_strongly_overdamped_loop_does_not_overflow():
    """τ_z ≫ τ_u: the fast and slow modes differ by 100×; e^{mt}·sinh(qt) must not be formed separately."""
    k = SecondOrderKernel(0.01, 1.0)
    mat = np.array([[-100.0, -100.0], [1.0, 0.0]])
    with np.errstate(over="raise"):
        for t in (0.5, 20.0, 80.0):
            assert k.impulse_response(t) == pytest.approx((sl.expm(mat * t) @ [100.0, 0.0])[0], rel=1e-8)
        w = k.taps(1e-3)
    assert w.sum() == pytest.approx(0.0, abs=1e-10)
