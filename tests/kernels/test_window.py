"""The learning window (kernels/window.py): its formulas, its inverse, occupancy, the timescale condition, and
its edges against the cell integrator's measured ones."""

import numpy as np
import pytest

from tcl_circuits.backends.native.cell_dynamics import integrate_cells
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import LearningWindow, WindowOccupancy, check_timescales


def test_the_window_spans_tau_fall_over_tau_rise_and_the_inverse_places_its_top():
    window = LearningWindow(1e-5, 1e-4, 9e-4, 5e-6)
    assert window.lower_v2 == pytest.approx(2e-4) and window.upper_v2 == pytest.approx(1.8e-3)
    assert window.span == pytest.approx(9.0) and window.top_u_v == pytest.approx(9e-5)
    placed = LearningWindow.with_top(1.8e-3, 1e-4, 9e-4, 5e-6)
    assert placed.theta_v == pytest.approx(1e-5)
    per_edge = LearningWindow(np.array([1e-5, 2e-5]), 1e-4, 9e-4, 5e-6)
    np.testing.assert_allclose(per_edge.lower_v2, [2e-4, 4e-4])


def test_a_squarer_gain_divides_the_window_in_contrast_and_its_inverse_multiplies_theta():
    for gain in (10.0, 1e3):
        lifted = LearningWindow(1e-5, 1e-4, 9e-4, 5e-6, signal_gain=gain)
        assert lifted.lower_v2 == pytest.approx(2e-4 / gain) and lifted.upper_v2 == pytest.approx(
            1.8e-3 / gain
        )
        assert lifted.top_u_v == pytest.approx(9e-5)  # u itself, what the stages pass, is volts as before
        placed = LearningWindow.with_top(1.8e-3, 1e-4, 9e-4, 5e-6, signal_gain=gain)
        assert placed.theta_v == pytest.approx(1e-5 * gain) and placed.upper_v2 == pytest.approx(1.8e-3)


def test_occupancy_counts_each_contrast_against_its_own_edge_window():
    window = LearningWindow(np.array([1.0, 1.0, 1.0, 10.0]), 1.0, 9.0, 1.0)  # [1, 9] and [10, 90]
    found = window.occupancy(np.array([0.5, -5.0, 20.0, 20.0]))
    assert found == WindowOccupancy(frac_below=0.25, frac_window=0.5, frac_above=0.25)
    assert found.as_dict() == {"frac_below": 0.25, "frac_window": 0.5, "frac_above": 0.25}
    assert LearningWindow(1.0, 1.0, 9.0, 1.0).occupancy(np.array([1.0, 9.0])).frac_window == 1.0


def test_the_kernel_time_must_be_at_most_half_of_either_ramp():
    check_timescales(5e-7, 1e-5, 9e-4)
    check_timescales(5e-6, 1e-5, 1e-5)
    for tau_rise, tau_fall in ((9e-6, 9e-4), (9e-4, 9e-6)):
        with pytest.raises(ConfigError, match="tau_k_s") as caught:
            check_timescales(5e-6, tau_rise, tau_fall)
        assert caught.value.field == "tau_k_s"


def _measured_edges(window: LearningWindow, amplitudes: np.ndarray, dt: float) -> tuple[float, float]:
    """The contrasts where the integrator's update first and last reaches half the contrast, for a linear
    sawtooth s(t) of each amplitude (rise over tau_rise, fall over tau_fall) through the R_K C_K cell."""
    t = np.arange(0.0, window.tau_rise_s + window.tau_fall_s + dt / 2, dt)
    shape = np.where(
        t <= window.tau_rise_s, t / window.tau_rise_s, 1 - (t - window.tau_rise_s) / window.tau_fall_s
    )
    signal = amplitudes[:, None] * shape[None, :]
    count = amplitudes.size
    _, w = integrate_cells(
        signal,
        np.diff(t),
        np.full(count, window.tau_k_s),
        np.full(count, float(window.theta_v)),
        np.ones(count),
        np.zeros(count, dtype=bool),
    )
    ratio = -w[:, -1] / (window.tau_k_s * amplitudes)
    inside = np.flatnonzero(ratio >= 0.5)
    return float(amplitudes[inside[0]]), float(amplitudes[inside[-1]])


@pytest.mark.parametrize("tau_rise_over_tau_k", [20.0, 200.0])
def test_the_window_edges_are_the_cell_integrators_measured_ones(tau_rise_over_tau_k):
    """Theory and the native cell integrator agree on where learning starts and where the slow ramp leaks:
    the measured edges (update >= half the contrast, 600 amplitudes 1.2 % apart) are theta tau_rise / tau_k and
    theta tau_fall / tau_k within 1 % (measured 1.0008 and 0.9992 at both ratios)."""
    window = LearningWindow(1.0, tau_rise_over_tau_k, 9 * tau_rise_over_tau_k, 1.0)
    amplitudes = np.geomspace(0.5 * window.lower_v2, 2 * window.upper_v2, 600)
    lower, upper = _measured_edges(window, amplitudes, dt=tau_rise_over_tau_k / 2000)
    assert lower / window.lower_v2 == pytest.approx(1.0, abs=0.01)
    assert upper / window.upper_v2 == pytest.approx(1.0, abs=0.01)
