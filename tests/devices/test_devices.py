"""Memristor device physics (numpy reference forms), presets, range mapping, spread and programming calibration."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import tcl_circuits.devices as devices
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig
from tcl_circuits.devices import (
    BIOLEK_2009,
    JOGLEKAR_2009,
    LINEAR_DRIFT_STRUKOV_2008,
    VTEAM_KVATINSKY_2015,
    YAKOPCIC_2011,
    ProgrammingConfig,
    ProgrammingMode,
    RangeMap,
    WindowKind,
    dg_dx,
    fit_to_range,
    plan_programming,
    spread_devices,
    state_for_conductance,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import LearningWindow

ALL = [VTEAM_KVATINSKY_2015, LINEAR_DRIFT_STRUKOV_2008, BIOLEK_2009, JOGLEKAR_2009, YAKOPCIC_2011]
IDS = ["vteam", "hp", "biolek", "joglekar", "yakopcic"]


@pytest.mark.parametrize("device", ALL, ids=IDS)
def test_state_and_conductance_are_inverse_and_dg_dx_is_the_derivative(device):
    x = np.linspace(0.05, 0.95, 19)
    g = device.conductance_s(x)
    np.testing.assert_allclose(state_for_conductance(device, g), x, rtol=1e-12)
    h = 1e-6
    numeric = (device.conductance_s(x + h) - device.conductance_s(x - h)) / (2 * h)
    np.testing.assert_allclose(dg_dx(device, x), numeric, rtol=1e-6)
    assert (np.diff(g) > 0).all() == device.x_up_raises_g


def test_vteam_state_does_not_move_below_threshold_and_follows_the_power_law_above():
    d = VTEAM_KVATINSKY_2015
    x = np.full(5, 0.5)
    below = np.array([d.v_on_v * 0.999, -0.1, 0.0, 0.01, d.v_off_v * 0.999])
    assert np.all(d.rate_per_s(below, x) == 0.0)
    up = d.rate_per_s(np.array([3 * d.v_off_v]), np.array([0.5]))[0]
    assert up == pytest.approx(d.k_off_per_s * 2.0**d.alpha_off * (1 - 0.5**20))
    down = d.rate_per_s(np.array([2 * d.v_on_v]), np.array([0.5]))[0]
    assert down == pytest.approx(d.k_on_per_s * 1.0 * (1 - 0.5**20))
    assert down < 0 < up


@pytest.mark.parametrize("device", ALL, ids=IDS)
def test_motion_toward_a_bound_stops_at_it(device):
    strong = 10.0 if device.drive_kind.value == "voltage" else 1.0
    for drive in (strong, -strong):
        direction = np.sign(device.rate_per_s(np.array([drive]), np.array([0.5]))[0])
        assert direction != 0
        bound = 1.0 if direction > 0 else 0.0
        assert device.rate_per_s(np.array([drive]), np.array([bound]))[0] == 0.0
        assert device.rate_per_s(np.array([drive]), np.array([bound + 0.01 * direction]))[0] == 0.0


def test_biolek_leaves_a_bound_and_joglekar_is_locked_there():
    i = np.array([-1e-3])
    assert BIOLEK_2009.rate_per_s(i, np.array([1.0]))[0] < 0  # moving down from x = 1
    assert JOGLEKAR_2009.rate_per_s(i, np.array([1.0]))[0] == 0.0  # the Joglekar boundary lock
    assert LINEAR_DRIFT_STRUKOV_2008.rate_per_s(i, np.array([1.0]))[0] < 0


def test_windows_match_their_formulas():
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(devices.window_up(WindowKind.BIOLEK, 3, x), 1 - x**6)
    np.testing.assert_allclose(devices.window_down(WindowKind.BIOLEK, 3, x), 1 - (1 - x) ** 6)
    np.testing.assert_allclose(devices.window_up(WindowKind.JOGLEKAR, 2, x), 1 - (2 * x - 1) ** 4)
    assert devices.window_up(WindowKind.RECTANGULAR, 1, np.array([0.99, 1.0]))[1] == 0.0
    assert devices.window_down(WindowKind.RECTANGULAR, 1, np.array([0.0, 0.01]))[0] == 0.0


def test_yakopcic_small_signal_conductance_error_is_of_order_bv_squared():
    d = YAKOPCIC_2011
    for v in (0.01, 0.04, 0.2):
        exact = d.current_a(np.array([v]), np.array([0.5]))[0] / v
        small = d.conductance_s(np.array([0.5]))
        assert exact / small - 1 == pytest.approx((d.b_per_v * v) ** 2 / 6, rel=1e-3)


def test_yakopcic_thresholds_and_motion_directions():
    d = YAKOPCIC_2011
    assert d.rate_per_s(np.array([0.159, -0.149]), np.array([0.5, 0.5])).tolist() == [0.0, 0.0]
    assert d.rate_per_s(np.array([0.3]), np.array([0.2]))[0] == pytest.approx(
        4000 * (math.exp(0.3) - math.exp(0.16))
    )
    assert d.rate_per_s(np.array([-0.3]), np.array([0.6]))[0] < 0
    flipped = dataclasses.replace(d, eta=-1)
    assert flipped.rate_per_s(np.array([0.3]), np.array([0.2]))[0] < 0
    assert flipped.drive_sign(1) == -1 and flipped.threshold(1) == d.vn_v


@pytest.mark.parametrize("device", ALL, ids=IDS)
def test_fit_to_range_centres_the_network_range_in_the_state_range(device):
    m = fit_to_range(device, 4e-4, 3e-3)
    assert m.x_low_g + m.x_high_g == pytest.approx(1.0)
    assert float(m.device.conductance_s(np.array(m.x_low_g))) == pytest.approx(4e-4)
    assert float(m.device.conductance_s(np.array(m.x_high_g))) == pytest.approx(3e-3)
    assert float(m.device.conductance_s(np.array(m.x_reference))) == pytest.approx(math.sqrt(4e-4 * 3e-3))


def test_fit_to_range_refuses_a_device_that_cannot_span_the_range():
    with pytest.raises(ConfigError, match="spans a conductance ratio of only"):
        fit_to_range(VTEAM_KVATINSKY_2015, 1e-4, 1e-2)  # ratio 100 > R_off/R_on = 20
    with pytest.raises(ConfigError, match="g_high_s > g_low_s"):
        fit_to_range(VTEAM_KVATINSKY_2015, 1e-3, 1e-3)
    with pytest.raises(ConfigError, match="min_margin"):
        fit_to_range(VTEAM_KVATINSKY_2015, 1e-3, 2e-3, min_margin=0.5)
    with pytest.raises(ConfigError, match="g_low_s"):
        fit_to_range(VTEAM_KVATINSKY_2015, -1.0, 2e-3)


def test_spread_is_seeded_unbiased_and_has_the_requested_relative_sigma():
    spread = spread_devices(VTEAM_KVATINSKY_2015, 4000, 0.1, seed=3)
    assert spread == spread_devices(VTEAM_KVATINSKY_2015, 4000, 0.1, seed=3)
    assert spread != spread_devices(VTEAM_KVATINSKY_2015, 4000, 0.1, seed=4)
    for field in ("r_on_ohm", "v_off_v", "k_on_per_s"):
        ratio = np.array([getattr(d, field) for d in spread]) / getattr(VTEAM_KVATINSKY_2015, field)
        assert ratio.mean() == pytest.approx(1.0, abs=0.01)
        assert ratio.std() == pytest.approx(0.1, rel=0.08)
    assert all(d.v_on_v < 0 < d.v_off_v and d.k_on_per_s < 0 for d in spread)
    assert spread_devices(YAKOPCIC_2011, 3, 0.0, seed=1) == (YAKOPCIC_2011,) * 3
    shared = spread_devices(LINEAR_DRIFT_STRUKOV_2008, 50, 0.2, seed=1)
    assert all(d.k_up_per_c == d.k_down_per_c for d in shared)  # one mobility per device


def test_spread_arguments_are_checked():
    with pytest.raises(ConfigError, match="spread cv"):
        spread_devices(YAKOPCIC_2011, 3, 1.5, seed=0)
    with pytest.raises(ConfigError, match="n must be"):
        spread_devices(YAKOPCIC_2011, -1, 0.1, seed=0)


@pytest.mark.parametrize("device", ALL, ids=IDS)
def test_device_dict_round_trip(device):
    assert devices.device_from_dict(devices.device_to_dict(device)) == device


def test_preset_lookup():
    assert devices.preset(" VTEAM ") is VTEAM_KVATINSKY_2015
    with pytest.raises(ConfigError, match="unknown memristor model"):
        devices.preset("hp2")


@pytest.mark.parametrize(
    "cls, changes, message",
    [
        (devices.VteamDevice, {"r_off_ohm": 40.0}, "r_off_ohm > r_on_ohm"),
        (devices.VteamDevice, {"r_on_ohm": 0.0}, "r_on_ohm must be > 0"),
        (devices.VteamDevice, {"v_on_v": 0.1}, "v_on_v < 0 < v_off_v"),
        (devices.VteamDevice, {"k_on_per_s": 1.0}, "k_on_per_s < 0 < k_off_per_s"),
        (devices.VteamDevice, {"alpha_on": 0.5}, "alpha_on must be >= 1"),
        (devices.VteamDevice, {"window_p": 0}, "window_p"),
        (devices.VteamDevice, {"window": "biolek"}, "window must be a WindowKind"),
        (devices.VteamDevice, {"v_off_v": float("nan")}, "v_off_v must be a finite"),
        (devices.LinearDriftDevice, {"r_off_ohm": 50.0}, "r_off_ohm > r_on_ohm"),
        (devices.LinearDriftDevice, {"k_up_per_c": -1.0}, "k_up_per_c must be > 0"),
        (devices.LinearDriftDevice, {"window": None}, "window must be a WindowKind"),
        (devices.LinearDriftDevice, {"window_p": 2.5}, "window_p"),
        (devices.YakopcicDevice, {"b_per_v": 0.0}, "b_per_v must be > 0"),
        (devices.YakopcicDevice, {"xp": 1.0}, r"xp must be in \[0, 1\)"),
        (devices.YakopcicDevice, {"eta": 2}, "eta must be 1 or -1"),
    ],
)
def test_device_configs_are_validated(cls, changes, message):
    base = {
        devices.VteamDevice: VTEAM_KVATINSKY_2015,
        devices.LinearDriftDevice: LINEAR_DRIFT_STRUKOV_2008,
        devices.YakopcicDevice: YAKOPCIC_2011,
    }[cls]
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mode": "device"}, "mode must be one of device, cell"),
        ({"read_coupling": 1.5}, "read_coupling"),
        ({"read_margin": 1.0}, "read_margin"),
        ({"voltage_saturation": 1.0}, "voltage_saturation"),
        ({"current_saturation": float("inf")}, "current_saturation"),
        ({"current_gain_a_per_v": 0.0}, "current_gain_a_per_v"),
        ({"reference_contrast": 0.5}, "reference_contrast"),
        ({"max_loop_gain": -1.0}, "max_loop_gain"),
    ],
)
def test_programming_config_is_validated(changes, message):
    with pytest.raises(ConfigError, match=message):
        ProgrammingConfig(**changes)


def _window(cell, drive):
    return LearningWindow(cell.theta_v, drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s)


def _ramp_update(plan, device, drive, cell, ratio, x0):
    """State change over one linear fast ramp of contrast ratio * A_min (u = ratio * theta for tau_rise)."""
    u = ratio * cell.threshold_v
    w = u if plan.mode is ProgrammingMode.DEVICE_THRESHOLD else u  # hard threshold passes u unchanged
    d = plan.drive(np.array([w]))[0]
    sol = solve_ivp(
        lambda t, x: device.rate_per_s(np.array([d]), x), (0, drive.tau_rise_s), [x0], rtol=1e-10, atol=1e-13
    )
    return sol.y[0, -1] - x0


@pytest.mark.parametrize(
    "device, mode",
    [
        (VTEAM_KVATINSKY_2015, ProgrammingMode.DEVICE_THRESHOLD),
        (YAKOPCIC_2011, ProgrammingMode.DEVICE_THRESHOLD),
        (BIOLEK_2009, ProgrammingMode.CELL_THRESHOLD),
    ],
    ids=["vteam", "yakopcic", "biolek"],
)
def test_calibrated_drive_gives_the_resistor_mode_update_at_the_reference_contrast(device, mode):
    drive, cell, lr = SawtoothConfig(), FeedbackCellConfig(threshold_v=2e-5), 1e-6
    mapped = fit_to_range(device, 4e-4, 3e-3)
    plan = plan_programming(mapped, ProgrammingConfig(mode=mode), drive, _window(cell, drive), lr)
    a_min = cell.threshold_v * drive.tau_rise_s / cell.tau_k_s
    wanted = lr * 3.0 * a_min / drive.peak_clamp_conductance_s
    x0 = mapped.x_reference
    for sign in (1, -1):  # u > 0: s rose, G must fall; u < 0: G must rise
        dx = _ramp_update(plan, plan.device, drive, cell, sign * 3.0, x0)
        dg = float(plan.device.conductance_s(np.array(x0 + dx)) - plan.device.conductance_s(np.array(x0)))
        assert -sign * dg == pytest.approx(wanted, rel=0.02)
    # device threshold: theta on u is the device's own threshold (no motion just below it, motion above)
    if mode is ProgrammingMode.DEVICE_THRESHOLD:
        for sign in (1, -1):
            assert _ramp_update(plan, plan.device, drive, cell, sign * 0.99, x0) == 0.0
            assert _ramp_update(plan, plan.device, drive, cell, sign * 1.2, x0) != 0.0
    # with a driver limit, beyond saturation x theta the update no longer grows; without one it does
    free = plan_programming(
        mapped,
        ProgrammingConfig(mode=mode, voltage_saturation=None, current_saturation=None),
        drive,
        _window(cell, drive),
        lr,
    )
    assert abs(_ramp_update(free, free.device, drive, cell, 9.0, x0)) > abs(
        _ramp_update(free, free.device, drive, cell, 6.0, x0)
    )
    limited = plan_programming(
        mapped,
        ProgrammingConfig(mode=mode, voltage_saturation=4.0, current_saturation=4.0),
        drive,
        _window(cell, drive),
        lr,
    )
    big = _ramp_update(limited, limited.device, drive, cell, 6.0, x0)
    assert big == pytest.approx(_ramp_update(limited, limited.device, drive, cell, 9.0, x0), rel=1e-6)


def test_programming_mode_must_suit_the_device():
    drive, cell = SawtoothConfig(), FeedbackCellConfig()
    with pytest.raises(ConfigError, match="no switching threshold"):
        plan_programming(
            fit_to_range(BIOLEK_2009, 4e-4, 3e-3), ProgrammingConfig(), drive, _window(cell, drive), 1e-6
        )
    with pytest.raises(ConfigError, match="two dead zones"):
        plan_programming(
            fit_to_range(VTEAM_KVATINSKY_2015, 4e-4, 3e-3),
            ProgrammingConfig(mode=ProgrammingMode.CELL_THRESHOLD),
            drive,
            _window(cell, drive),
            1e-6,
        )
    with pytest.raises(ConfigError, match="learning_rate"):
        plan_programming(
            fit_to_range(YAKOPCIC_2011, 4e-4, 3e-3), ProgrammingConfig(), drive, _window(cell, drive), 0.0
        )


def test_calibration_refuses_a_reference_state_where_the_device_cannot_move():
    stuck = RangeMap(JOGLEKAR_2009, 1.0, 0.2, 0.8, 1.0)  # Joglekar window is 0 at x = 1
    with pytest.raises(ConfigError, match="does not move"):
        plan_programming(
            stuck,
            ProgrammingConfig(mode=ProgrammingMode.CELL_THRESHOLD),
            SawtoothConfig(),
            _window(FeedbackCellConfig(), SawtoothConfig()),
            1e-6,
        )


def test_smallest_threshold():
    assert devices.smallest_threshold_v((VTEAM_KVATINSKY_2015, YAKOPCIC_2011)) == pytest.approx(0.02)
    assert devices.smallest_threshold_v((BIOLEK_2009,)) is None


def test_rate_asymmetry_skews_the_two_directions_about_the_calibrated_mean():
    drive, cell, lr = SawtoothConfig(), FeedbackCellConfig(threshold_v=2e-5), 1e-6
    mapped = fit_to_range(BIOLEK_2009, 4e-4, 3e-3)
    x0 = mapped.x_reference
    changes = {}
    for asymmetry in (1.0, 4.0):
        config = ProgrammingConfig(mode=ProgrammingMode.CELL_THRESHOLD, rate_asymmetry=asymmetry)
        plan = plan_programming(mapped, config, drive, _window(cell, drive), lr)
        for sign in (1, -1):
            dx = _ramp_update(plan, plan.device, drive, cell, sign * 3.0, x0)
            g = plan.device.conductance_s
            changes[asymmetry, sign] = abs(float(g(np.array(x0 + dx)) - g(np.array(x0))))
    raised, lowered = changes[4.0, -1] / changes[1.0, -1], changes[4.0, 1] / changes[1.0, 1]
    assert raised == pytest.approx(2.0, rel=0.02) and lowered == pytest.approx(0.5, rel=0.02)


def test_a_run_sets_the_devices_state_window_and_refuses_it_where_there_is_none():
    from tcl_circuits.devices import WindowKind
    from tcl_circuits.errors import ConfigError
    from tcl_circuits.learning.run_config import MemristorConfig, RunConfig, with_changes

    plain = MemristorConfig().device("vteam_symmetric")
    set_ = MemristorConfig(state_window=WindowKind.JOGLEKAR, state_window_p=1).device("vteam_symmetric")
    assert (set_.window, set_.window_p) == (WindowKind.JOGLEKAR, 1)
    assert plain.window is not WindowKind.JOGLEKAR or plain.window_p != 1
    x = np.linspace(0.05, 0.95, 7)
    assert not np.allclose(
        devices.window_up(set_.window, set_.window_p, x), devices.window_up(plain.window, plain.window_p, x)
    )
    with pytest.raises(ConfigError, match="no state window"):
        with_changes(RunConfig(), {"device": "memristor:yakopcic", "memristor": {"state_window": "biolek"}})
    with pytest.raises(ConfigError, match="state_window_p applies to memristor networks"):
        with_changes(RunConfig(), {"memristor": {"state_window_p": 2}})
