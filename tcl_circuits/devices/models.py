"""Memristor device models: the published state equations and read currents.

The state equations (VTEAM, linear ion drift with Biolek / Joglekar / rectangular windows, Yakopcic) with a
normalised state x in [0, 1] that lives on a 1 F capacitor in SPICE, and their read current. The SPICE text
of these equations is written by ``spice/memristor_cells.py``; the numpy forms here are the reference it is
tested against. Presets are in ``presets``, range mapping and spread in ``mapping``, the programming drive
in ``programming``.

Conventions (each model follows its paper): VTEAM x = (w - w_on)/(w_off - w_on), so x -> 1 is OFF (high R);
linear drift x = w/D, x -> 1 is ON (low R); Yakopcic x scales the current, x -> 1 is the most conductive.
"Up" and "down" always mean the direction of x. Rates are published values, multiplied by a per-direction
trim that the programming calibration sets (the simulated 1 ms cycle is not the devices' ns..ms time base).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

import numpy as np

from tcl_circuits.errors import ConfigError


class ModelKind(Enum):
    """Which published state equation a device follows."""

    VTEAM = "vteam"
    LINEAR_DRIFT = "linear_drift"
    YAKOPCIC = "yakopcic"


class WindowKind(Enum):
    """Window function f(x) that slows the state near its bounds (and keeps it in [0, 1]).

    BIOLEK: f = 1 - (x - stp(-drive))^(2p), i.e. 1 - x^(2p) moving up and 1 - (1-x)^(2p) moving down, so a
    device at a bound can leave it. JOGLEKAR: f = 1 - (2x - 1)^(2p) in both directions (a device exactly at a
    bound is stuck: the model's known boundary lock). RECTANGULAR: 1 inside, 0 past the bound being approached.
    """

    BIOLEK = "biolek"
    JOGLEKAR = "joglekar"
    RECTANGULAR = "rectangular"


class DriveKind(Enum):
    """What drives the state equation: a voltage (VTEAM, Yakopcic) or a current (linear drift)."""

    VOLTAGE = "voltage"
    CURRENT = "current"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _finite(name: str, value: float) -> None:
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
        f"{name} must be a finite number, got {value!r}",
    )


def _positive(name: str, value: float) -> None:
    _finite(name, value)
    _require(value > 0, f"{name} must be > 0, got {value!r}")


def _resistance_range(r_on_ohm: float, r_off_ohm: float) -> None:
    _positive("r_on_ohm", r_on_ohm)
    _positive("r_off_ohm", r_off_ohm)
    _require(r_off_ohm > r_on_ohm, f"need r_off_ohm > r_on_ohm, got {r_off_ohm!r} <= {r_on_ohm!r}")


def _state_window(window: WindowKind, p: int) -> None:
    _require(isinstance(window, WindowKind), f"window must be a WindowKind, got {window!r}")
    _require(
        isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 50,
        f"window_p must be an int in 1..50, got {p!r}",
    )


def window_up(kind: WindowKind, p: int, x: np.ndarray) -> np.ndarray:
    """Window factor for motion toward x = 1 (0 at and past the upper bound)."""
    x = np.asarray(x, dtype=float)
    if kind is WindowKind.BIOLEK:
        return np.maximum(1.0 - (x * x) ** p, 0.0)
    if kind is WindowKind.JOGLEKAR:
        return np.maximum(1.0 - ((2.0 * x - 1.0) ** 2) ** p, 0.0)
    return np.where(x < 1.0, 1.0, 0.0)


def window_down(kind: WindowKind, p: int, x: np.ndarray) -> np.ndarray:
    """Window factor for motion toward x = 0 (0 at and past the lower bound)."""
    x = np.asarray(x, dtype=float)
    if kind is WindowKind.BIOLEK:
        return np.maximum(1.0 - ((1.0 - x) ** 2) ** p, 0.0)
    if kind is WindowKind.JOGLEKAR:
        return np.maximum(1.0 - ((2.0 * x - 1.0) ** 2) ** p, 0.0)
    return np.where(x > 0.0, 1.0, 0.0)


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(x, dtype=float), 0.0, 1.0)


# --- devices -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VteamDevice:
    """VTEAM: voltage-controlled with thresholds v_on < 0 < v_off and a linear R(x).

    dx/dt = k_off (v/v_off - 1)^alpha_off f_up(x)   for v > v_off  (x up: toward OFF, R up)
          = k_on  (v/v_on  - 1)^alpha_on  f_down(x) for v < v_on   (k_on < 0: x down, toward ON)
          = 0 otherwise (below threshold the state does not move at all);
    R(x) = R_on + (R_off - R_on) x, I = v / R(x).
    Kvatinsky, Ramadan, Friedman, Kolodny, "VTEAM: a general model for voltage-controlled memristors",
    IEEE TCAS-II 62(8), 786-790 (2015). Rates here are per unit of normalised state (k in m/s divided by
    the state range w_off - w_on).
    """

    r_on_ohm: float
    r_off_ohm: float
    v_on_v: float
    v_off_v: float
    k_on_per_s: float
    k_off_per_s: float
    alpha_on: float
    alpha_off: float
    window: WindowKind = WindowKind.BIOLEK
    window_p: int = 2

    kind: ClassVar[ModelKind] = ModelKind.VTEAM
    drive_kind: ClassVar[DriveKind] = DriveKind.VOLTAGE
    x_up_raises_g: ClassVar[bool] = False
    SPREAD_FIELDS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("r_on_ohm",),
        ("r_off_ohm",),
        ("v_on_v",),
        ("v_off_v",),
        ("k_on_per_s",),
        ("k_off_per_s",),
    )

    def __post_init__(self) -> None:
        _resistance_range(self.r_on_ohm, self.r_off_ohm)
        _finite("v_on_v", self.v_on_v)
        _finite("v_off_v", self.v_off_v)
        _require(
            self.v_on_v < 0 < self.v_off_v,
            f"need v_on_v < 0 < v_off_v, got {self.v_on_v!r}, {self.v_off_v!r}",
        )
        _finite("k_on_per_s", self.k_on_per_s)
        _finite("k_off_per_s", self.k_off_per_s)
        _require(
            self.k_on_per_s < 0 < self.k_off_per_s,
            f"need k_on_per_s < 0 < k_off_per_s, got {self.k_on_per_s!r}, {self.k_off_per_s!r}",
        )
        for name in ("alpha_on", "alpha_off"):
            _finite(name, getattr(self, name))
            _require(
                getattr(self, name) >= 1,
                f"{name} must be >= 1 (a smooth threshold for Newton), got {getattr(self, name)!r}",
            )
        _state_window(self.window, self.window_p)

    def conductance_s(self, x: np.ndarray) -> np.ndarray:
        """Conductance 1/R(x), siemens."""
        return 1.0 / (self.r_on_ohm + (self.r_off_ohm - self.r_on_ohm) * _clip01(x))

    def current_a(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Read current for voltage v across the device, amperes."""
        return np.asarray(v, dtype=float) * self.conductance_s(x)

    def rate_per_s(self, drive: np.ndarray, x: np.ndarray) -> np.ndarray:
        """dx/dt for a drive voltage (volts) at state x."""
        v = np.asarray(drive, dtype=float)
        up = self.k_off_per_s * np.maximum(v / self.v_off_v - 1.0, 0.0) ** self.alpha_off
        down = self.k_on_per_s * np.maximum(v / self.v_on_v - 1.0, 0.0) ** self.alpha_on
        return up * window_up(self.window, self.window_p, x) + down * window_down(
            self.window, self.window_p, x
        )

    def threshold(self, direction: int) -> float:
        """Magnitude of the drive at which x starts to move in ``direction`` (+1 up, -1 down), volts."""
        return self.v_off_v if direction > 0 else -self.v_on_v

    def drive_sign(self, direction: int) -> int:
        """Sign of the drive that moves x in ``direction``."""
        return 1 if direction > 0 else -1

    def scaled(self, area: float) -> VteamDevice:
        """The same device with ``area`` times the conductance (R divided by area)."""
        return dataclasses.replace(self, r_on_ohm=self.r_on_ohm / area, r_off_ohm=self.r_off_ohm / area)

    def with_rate_trim(self, up: float, down: float) -> VteamDevice:
        """Rates of x-up and x-down motion multiplied by ``up`` and ``down``."""
        return dataclasses.replace(self, k_off_per_s=self.k_off_per_s * up, k_on_per_s=self.k_on_per_s * down)


@dataclass(frozen=True, kw_only=True)
class LinearDriftDevice:
    """Linear ion drift (HP) with a window: a current-controlled device without thresholds.

    dx/dt = k i f(x, i), k = mu_v R_on / D^2 (per coulomb), R(x) = R_on x + R_off (1 - x), I = v / R(x).
    Strukov, Snider, Stewart, Williams, "The missing memristor found", Nature 453, 80-83 (2008);
    Biolek window: Biolek, Biolek, Biolkova, Radioengineering 18(2), 210-214 (2009);
    Joglekar window: Joglekar & Wolf, Eur. J. Phys. 30, 661-675 (2009).
    """

    r_on_ohm: float
    r_off_ohm: float
    k_up_per_c: float
    k_down_per_c: float
    window: WindowKind = WindowKind.BIOLEK
    window_p: int = 2

    kind: ClassVar[ModelKind] = ModelKind.LINEAR_DRIFT
    drive_kind: ClassVar[DriveKind] = DriveKind.CURRENT
    x_up_raises_g: ClassVar[bool] = True
    SPREAD_FIELDS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("r_on_ohm",),
        ("r_off_ohm",),
        ("k_up_per_c", "k_down_per_c"),  # one dopant mobility per device
    )

    def __post_init__(self) -> None:
        _resistance_range(self.r_on_ohm, self.r_off_ohm)
        _positive("k_up_per_c", self.k_up_per_c)
        _positive("k_down_per_c", self.k_down_per_c)
        _state_window(self.window, self.window_p)

    def conductance_s(self, x: np.ndarray) -> np.ndarray:
        x = _clip01(x)
        return 1.0 / (self.r_on_ohm * x + self.r_off_ohm * (1.0 - x))

    def current_a(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.asarray(v, dtype=float) * self.conductance_s(x)

    def rate_per_s(self, drive: np.ndarray, x: np.ndarray) -> np.ndarray:
        """dx/dt for a drive current (amperes) at state x."""
        i = np.asarray(drive, dtype=float)
        up = self.k_up_per_c * np.maximum(i, 0.0) * window_up(self.window, self.window_p, x)
        down = self.k_down_per_c * np.minimum(i, 0.0) * window_down(self.window, self.window_p, x)
        return up + down

    def threshold(self, direction: int) -> float:
        return 0.0

    def drive_sign(self, direction: int) -> int:
        return 1 if direction > 0 else -1

    def scaled(self, area: float) -> LinearDriftDevice:
        return dataclasses.replace(self, r_on_ohm=self.r_on_ohm / area, r_off_ohm=self.r_off_ohm / area)

    def with_rate_trim(self, up: float, down: float) -> LinearDriftDevice:
        return dataclasses.replace(
            self, k_up_per_c=self.k_up_per_c * up, k_down_per_c=self.k_down_per_c * down
        )


@dataclass(frozen=True, kw_only=True)
class YakopcicDevice:
    """Yakopcic: sinh I-V, exponential threshold drive, state-dependent motion.

    I = x a1 sinh(b v) (v >= 0), x a2 sinh(b v) (v < 0);
    dx/dt = eta g(v) f(x): g = A_p (e^v - e^Vp) for v > Vp, -A_n (e^-v - e^Vn) for v < -Vn, else 0;
    f = e^(-alpha_p (x - x_p)) w_p(x) for x >= x_p when moving up (w_p = (x_p - x)/(1 - x_p) + 1), else 1;
    f = e^(alpha_n (x + x_n - 1)) w_n(x) for x <= 1 - x_n when moving down (w_n = x/(1 - x_n)), else 1.
    Yakopcic, Taha, Subramanyam, Pino, Rogers, "A memristor device model", IEEE EDL 32(10), 1436-1438
    (2011); parameters of its fit to the Oblea et al. device.
    """

    a1_a: float
    a2_a: float
    b_per_v: float
    vp_v: float
    vn_v: float
    ap_per_s: float
    an_per_s: float
    xp: float
    xn: float
    alpha_p: float
    alpha_n: float
    eta: int = 1

    kind: ClassVar[ModelKind] = ModelKind.YAKOPCIC
    drive_kind: ClassVar[DriveKind] = DriveKind.VOLTAGE
    x_up_raises_g: ClassVar[bool] = True
    SPREAD_FIELDS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("a1_a", "a2_a"),  # one area per device
        ("vp_v",),
        ("vn_v",),
        ("ap_per_s",),
        ("an_per_s",),
    )

    def __post_init__(self) -> None:
        for name in ("a1_a", "a2_a", "b_per_v", "vp_v", "vn_v", "ap_per_s", "an_per_s", "alpha_p", "alpha_n"):
            _positive(name, getattr(self, name))
        for name in ("xp", "xn"):
            _finite(name, getattr(self, name))
            _require(0 <= getattr(self, name) < 1, f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        _require(
            self.eta in (1, -1) and not isinstance(self.eta, bool), f"eta must be 1 or -1, got {self.eta!r}"
        )

    def conductance_s(self, x: np.ndarray) -> np.ndarray:
        """Small-signal conductance at 0 V, x (a1 + a2)/2 b (exact for a1 = a2 up to O((b v)^2) / 6)."""
        return 0.5 * (self.a1_a + self.a2_a) * self.b_per_v * _clip01(x)

    def current_a(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        a = np.where(v >= 0, self.a1_a, self.a2_a)
        return np.asarray(x, dtype=float) * a * np.sinh(self.b_per_v * v)

    def _g(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.where(v > self.vp_v, self.ap_per_s * (np.exp(v) - math.exp(self.vp_v)), 0.0)
        neg = np.where(v < -self.vn_v, -self.an_per_s * (np.exp(-v) - math.exp(self.vn_v)), 0.0)
        return pos, neg

    def _f_up(self, x: np.ndarray) -> np.ndarray:
        wp = (self.xp - x) / (1.0 - self.xp) + 1.0
        return np.maximum(np.where(x >= self.xp, np.exp(-self.alpha_p * (x - self.xp)) * wp, 1.0), 0.0)

    def _f_down(self, x: np.ndarray) -> np.ndarray:
        wn = x / (1.0 - self.xn)
        return np.maximum(
            np.where(x <= 1.0 - self.xn, np.exp(self.alpha_n * (x + self.xn - 1.0)) * wn, 1.0), 0.0
        )

    def rate_per_s(self, drive: np.ndarray, x: np.ndarray) -> np.ndarray:
        v = np.asarray(drive, dtype=float)
        x = np.asarray(x, dtype=float)
        pos, neg = self._g(v)
        if self.eta > 0:
            return pos * self._f_up(x) + neg * self._f_down(x)
        return -(pos * self._f_down(x) + neg * self._f_up(x))

    def threshold(self, direction: int) -> float:
        positive_drive = (direction > 0) == (self.eta > 0)
        return self.vp_v if positive_drive else self.vn_v

    def drive_sign(self, direction: int) -> int:
        return (1 if direction > 0 else -1) * self.eta

    def scaled(self, area: float) -> YakopcicDevice:
        return dataclasses.replace(self, a1_a=self.a1_a * area, a2_a=self.a2_a * area)

    def with_rate_trim(self, up: float, down: float) -> YakopcicDevice:
        # A_p moves x up when eta = 1, down when eta = -1
        trim_p, trim_n = (up, down) if self.eta > 0 else (down, up)
        return dataclasses.replace(self, ap_per_s=self.ap_per_s * trim_p, an_per_s=self.an_per_s * trim_n)


Device = VteamDevice | LinearDriftDevice | YakopcicDevice


def drive_power_w(device: Device, drive: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Power a programming drive would dissipate in the device at state x, were it applied across it: v I(v, x)
    for a voltage drive (volts), i^2 / G(x) for a current drive (amperes)."""
    drive = np.asarray(drive, dtype=float)
    if device.drive_kind is DriveKind.CURRENT:
        return drive * drive / device.conductance_s(x)
    return drive * device.current_a(drive, x)
