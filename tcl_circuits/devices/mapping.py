"""State <-> conductance, fitting a conductance range into a device, device-to-device spread, JSON form."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.optimize import brentq

from tcl_circuits.devices.models import (
    Device,
    LinearDriftDevice,
    ModelKind,
    VteamDevice,
    WindowKind,
    YakopcicDevice,
    _finite,
    _positive,
    _require,
)
from tcl_circuits.errors import ConfigError

# --- state <-> conductance, conductance range mapping, spread ------------------------------------------


def state_for_conductance(device: Device, conductance_s: np.ndarray) -> np.ndarray:
    """The state x giving small-signal conductance G (not clipped; outside [0, 1] when G is out of range)."""
    g = np.asarray(conductance_s, dtype=float)
    if isinstance(device, VteamDevice):
        return (1.0 / g - device.r_on_ohm) / (device.r_off_ohm - device.r_on_ohm)
    if isinstance(device, LinearDriftDevice):
        return (device.r_off_ohm - 1.0 / g) / (device.r_off_ohm - device.r_on_ohm)
    return g / (0.5 * (device.a1_a + device.a2_a) * device.b_per_v)


def dg_dx(device: Device, x: np.ndarray) -> np.ndarray:
    """dG/dx of the small-signal conductance, siemens per unit state."""
    x = np.asarray(x, dtype=float)
    g = device.conductance_s(x)
    if isinstance(device, VteamDevice):
        return -(device.r_off_ohm - device.r_on_ohm) * g * g
    if isinstance(device, LinearDriftDevice):
        return (device.r_off_ohm - device.r_on_ohm) * g * g
    return np.full_like(x, 0.5 * (device.a1_a + device.a2_a) * device.b_per_v)


@dataclass(frozen=True)
class RangeMap:
    """A device scaled so that a conductance range sits centred in its state range."""

    device: Device
    area: float
    """Conductance scale applied to the preset (device area relative to the published one)."""
    x_low_g: float
    """State of the range's low conductance."""
    x_high_g: float
    """State of the range's high conductance."""
    x_reference: float
    """State of the geometric-mean conductance (the calibration point)."""


def fit_to_range(device: Device, g_low_s: float, g_high_s: float, *, min_margin: float = 0.02) -> RangeMap:
    """Scale the device's conductance so that [g_low, g_high] maps onto states [x_a, 1 - x_a].

    Centring the range in x keeps both window bounds equally far from the working conductances. The device
    must span the range with at least ``min_margin`` of state to spare at each end (its R_off/R_on ratio
    bounds the conductance ratio it can represent); otherwise ConfigError.
    """
    _positive("g_low_s", g_low_s)
    _positive("g_high_s", g_high_s)
    _require(g_high_s > g_low_s, f"need g_high_s > g_low_s, got {g_high_s!r} <= {g_low_s!r}")
    _require(0 < min_margin < 0.5, f"min_margin must be in (0, 0.5), got {min_margin!r}")
    ratio = g_high_s / g_low_s

    def spanned(xa: float) -> float:
        ga, gb = device.conductance_s(np.array([xa, 1.0 - xa]))
        return max(ga, gb) / min(ga, gb)

    if spanned(min_margin) < ratio:
        raise ConfigError(
            f"a {device.kind.value} device spans a conductance ratio of only {spanned(min_margin):.3g} between "
            f"states {min_margin} and {1 - min_margin}; the network needs {ratio:.3g} ({g_low_s:.3g}..{g_high_s:.3g} S)"
        )
    xa = brentq(lambda xa: spanned(xa) - ratio, min_margin, 0.5 - 1e-9, xtol=1e-14)
    lo_x, hi_x = (xa, 1.0 - xa) if device.x_up_raises_g else (1.0 - xa, xa)
    area = g_low_s / float(device.conductance_s(np.array(lo_x)))
    scaled = device.scaled(area)
    x_ref = float(state_for_conductance(scaled, np.array(math.sqrt(g_low_s * g_high_s))))
    return RangeMap(scaled, area, float(lo_x), float(hi_x), x_ref)


def spread_devices(device: Device, n: int, cv: float, seed: int) -> tuple[Device, ...]:
    """``n`` devices whose parameters scatter around ``device`` with relative spread ``cv`` (sigma/mu).

    Each field group in ``SPREAD_FIELDS`` (resistances or areas, thresholds, rates) gets an independent
    log-normal factor per device with mean 1 and standard deviation ``cv``; fields in one group share the
    factor (one mobility or one area per device). cv = 0 returns n copies.
    """
    _finite("cv", cv)
    _require(0 <= cv <= 1, f"spread cv must be in [0, 1], got {cv!r}")
    _require(isinstance(n, int) and n >= 0, f"n must be an int >= 0, got {n!r}")
    if cv == 0:
        return (device,) * n
    rng = np.random.default_rng(seed)
    sigma = math.sqrt(math.log1p(cv * cv))
    out = []
    for _ in range(n):
        changes: dict[str, float] = {}
        for group in device.SPREAD_FIELDS:
            factor = float(rng.lognormal(-0.5 * sigma * sigma, sigma))
            for field in group:
                changes[field] = getattr(device, field) * factor
        out.append(dataclasses.replace(device, **changes))  # type: ignore[arg-type]
    return tuple(out)


def device_to_dict(device: Device) -> dict:
    """Plain-JSON form of a device (for checkpoints and summaries)."""
    data = {"model": device.kind.value}
    for field in dataclasses.fields(device):
        value = getattr(device, field.name)
        data[field.name] = value.value if isinstance(value, Enum) else value
    return data


def device_from_dict(data: dict) -> Device:
    """Inverse of :func:`device_to_dict`."""
    data = dict(data)
    kind = ModelKind(data.pop("model"))
    cls = {
        ModelKind.VTEAM: VteamDevice,
        ModelKind.LINEAR_DRIFT: LinearDriftDevice,
        ModelKind.YAKOPCIC: YakopcicDevice,
    }[kind]
    if "window" in data:
        data["window"] = WindowKind(data["window"])
    return cls(**data)
