"""Memristor device models and how an edge cell programs them.

Owns the device physics used by memristor netlists: the published state equations (VTEAM, linear ion drift
with Biolek / Joglekar / rectangular windows, Yakopcic) with a normalised state x in [0, 1] that lives on a
1 F capacitor in SPICE; their read current; presets that cite their source; device-to-device spread; the
map of a network's conductance range onto each device's R(x); and the calibration of the programming drive
(:class:`ProgrammingConfig`, :func:`plan_programming`) that turns the integral-feedback output u into a state
change of the size resistor-mode TCL would make. The SPICE text of these equations is written by
``spice/memristor_cells.py``; the numpy forms here are the reference it is tested against.

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
from scipy.optimize import brentq

from .config import FeedbackCellConfig, SawtoothConfig
from .errors import ConfigError


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


class ProgrammingMode(Enum):
    """How the edge cell's integral-feedback output u programs the device state.

    DEVICE_THRESHOLD: v_p = A_p * u drives the device's own state equation, so the device's switching
    threshold is the dead zone g (the physical TCL memristor). Needs a device with thresholds.
    CELL_THRESHOLD: the cell's threshold g(u) (hard or dead zone) sets a programming current A_i * g(u) that
    drives the state; for the threshold-less drift models.
    """

    DEVICE_THRESHOLD = "device"
    CELL_THRESHOLD = "cell"


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


def _window_p(value: int) -> None:
    _require(
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 50,
        f"window_p must be an int in 1..50, got {value!r}",
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
        _positive("r_on_ohm", self.r_on_ohm)
        _positive("r_off_ohm", self.r_off_ohm)
        _require(
            self.r_off_ohm > self.r_on_ohm,
            f"need r_off_ohm > r_on_ohm, got {self.r_off_ohm!r} <= {self.r_on_ohm!r}",
        )
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
        _require(isinstance(self.window, WindowKind), f"window must be a WindowKind, got {self.window!r}")
        _window_p(self.window_p)

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
        _positive("r_on_ohm", self.r_on_ohm)
        _positive("r_off_ohm", self.r_off_ohm)
        _require(
            self.r_off_ohm > self.r_on_ohm,
            f"need r_off_ohm > r_on_ohm, got {self.r_off_ohm!r} <= {self.r_on_ohm!r}",
        )
        _positive("k_up_per_c", self.k_up_per_c)
        _positive("k_down_per_c", self.k_down_per_c)
        _require(isinstance(self.window, WindowKind), f"window must be a WindowKind, got {self.window!r}")
        _window_p(self.window_p)

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

# --- presets ---------------------------------------------------------------------------------------------

VTEAM_KVATINSKY_2015 = VteamDevice(
    r_on_ohm=50.0,
    r_off_ohm=1000.0,
    v_on_v=-0.2,
    v_off_v=0.02,
    k_on_per_s=-10.0 / 3e-9,
    k_off_per_s=5e-4 / 3e-9,
    alpha_on=3.0,
    alpha_off=1.0,
    window=WindowKind.BIOLEK,
    window_p=10,
)
"""VTEAM, Kvatinsky et al. IEEE TCAS-II 62(8) 2015: R_on 50 ohm, R_off 1 kohm, v_on -0.2 V, v_off 0.02 V,
k_on -10 m/s, k_off 5e-4 m/s over a 3 nm state range, alpha_on 3, alpha_off 1 (the reference parameter set
as distributed with MemTorch's VTEAM model, Lammie et al. 2022). The window (Biolek, p = 10: flat over the working states, so it
bounds x without making potentiation and depression unequal there) is our choice: VTEAM leaves it open."""

LINEAR_DRIFT_STRUKOV_2008 = LinearDriftDevice(
    r_on_ohm=100.0,
    r_off_ohm=16e3,
    k_up_per_c=1e-14 * 100.0 / (10e-9) ** 2,
    k_down_per_c=1e-14 * 100.0 / (10e-9) ** 2,
    window=WindowKind.RECTANGULAR,
    window_p=1,
)
"""HP linear ion drift, Strukov et al. Nature 453 (2008): R_on 100 ohm, R_off 16 kohm, D 10 nm,
mu_v 1e-14 m^2/(V s), so k = mu_v R_on / D^2 = 1e4 per coulomb; no window (state clipped to [0, 1])."""

BIOLEK_2009 = dataclasses.replace(LINEAR_DRIFT_STRUKOV_2008, window=WindowKind.BIOLEK, window_p=10)
"""HP linear drift (Strukov et al. 2008 parameters) with the Biolek window, Biolek et al. Radioengineering
18(2) 2009; p = 10 (the paper leaves p free; 10 as in ngspice-notes section 2)."""

JOGLEKAR_2009 = dataclasses.replace(LINEAR_DRIFT_STRUKOV_2008, window=WindowKind.JOGLEKAR, window_p=10)
"""HP linear drift (Strukov et al. 2008 parameters) with the Joglekar window, Joglekar & Wolf Eur. J. Phys.
30 (2009); p = 10 (the paper leaves p free)."""

YAKOPCIC_2011 = YakopcicDevice(
    a1_a=0.17,
    a2_a=0.17,
    b_per_v=0.05,
    vp_v=0.16,
    vn_v=0.15,
    ap_per_s=4000.0,
    an_per_s=4000.0,
    xp=0.3,
    xn=0.5,
    alpha_p=1.0,
    alpha_n=5.0,
    eta=1,
)
"""Yakopcic et al. IEEE EDL 32(10) 2011, fit to the Oblea et al. device: a1 = a2 = 0.17, b 0.05, Vp 0.16 V,
Vn 0.15 V, Ap = An = 4000, xp 0.3, xn 0.5, alpha_p 1, alpha_n 5, eta 1."""

VTEAM_SYMMETRIC = dataclasses.replace(
    VTEAM_KVATINSKY_2015,
    v_on_v=-VTEAM_KVATINSKY_2015.v_off_v,
    k_on_per_s=-VTEAM_KVATINSKY_2015.k_off_per_s,
    alpha_on=VTEAM_KVATINSKY_2015.alpha_off,
)
"""Hypothetical, not a published fit: VTEAM with both branches equal to the OFF branch of the Kvatinsky et
al. 2015 set above (v_on = -v_off = -0.02 V, k_on = -k_off, alpha_on = alpha_off = 1). It isolates what the
published set's branch asymmetry (alpha_on 3 vs alpha_off 1, thresholds 10x apart) does to learning."""

PRESETS: dict[str, Device] = {
    "vteam": VTEAM_KVATINSKY_2015,
    "vteam_symmetric": VTEAM_SYMMETRIC,
    "hp": LINEAR_DRIFT_STRUKOV_2008,
    "biolek": BIOLEK_2009,
    "joglekar": JOGLEKAR_2009,
    "yakopcic": YAKOPCIC_2011,
}


def preset(name: str) -> Device:
    """A device preset by name (vteam, hp, biolek, joglekar, yakopcic)."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"unknown memristor model {name!r}; available: {', '.join(PRESETS)}") from None


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
    x_ref = float(state_for_conductance(scaled, math.sqrt(g_low_s * g_high_s)))
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
        out.append(dataclasses.replace(device, **changes))
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


# --- programming: how u becomes a state change -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProgrammingConfig:
    """The programming port of a memristor edge cell and its calibration.

    The drive acts on the state equation only (a separate programming port); the read current through the
    network is unaffected by it. ``read_coupling`` says how much of the device's own read voltage (VTEAM,
    Yakopcic) or read current (linear drift) also enters its state equation: 1 is a two-terminal device as
    published (reads disturb the state as the physics says), 0 an ideal three-terminal device.
    """

    mode: ProgrammingMode = ProgrammingMode.DEVICE_THRESHOLD
    read_coupling: float = 1.0
    """Fraction of the read voltage (or current) that acts on the state equation (0..1)."""
    read_margin: float = 0.25
    """Threshold devices: read voltages are scaled so no edge drop exceeds this fraction of the smallest
    device threshold (then reads never move a VTEAM state)."""
    voltage_saturation: float | None = None
    """DEVICE_THRESHOLD: the programming voltage saturates at this multiple of the device threshold (the
    driver's rails); None (default): no limit. Steep state equations (VTEAM alpha = 3, Yakopcic's
    exponential) need a limit: without one their slope far above threshold makes the in-cycle loop gain
    tens to hundreds. But a limit caps the fast ramp and not the slow one, so an edge above the learning
    window gets an update of the wrong sign (dead-zone devices: once the contrast exceeds the window top
    by about the limit; measured in docs/memristor.md)."""
    current_saturation: float | None = None
    """CELL_THRESHOLD: the programming current saturates at this multiple of its value at the threshold;
    None (default): no limit, so the hard threshold's update vanishes above the window as in resistor mode
    instead of reversing."""
    current_gain_a_per_v: float = 100.0
    """CELL_THRESHOLD on current-controlled devices: programming current per volt of g(u), A/V. Larger
    values make the read current's share of the state drive smaller."""
    reference_contrast: float = 3.0
    """Calibration point, in units of the learning window's lower edge A_min: a linear-ramp contrast of
    reference_contrast * A_min changes G by what resistor-mode TCL would (3 is the window's geometric middle
    at tau_fall/tau_rise = 9)."""
    max_loop_gain: float = 1.0
    """Compile-time bound on the in-cycle loop gain eta * tau_k * |ds/dG| of any edge that can program."""

    def __post_init__(self) -> None:
        _require(isinstance(self.mode, ProgrammingMode), f"mode must be a ProgrammingMode, got {self.mode!r}")
        _finite("read_coupling", self.read_coupling)
        _require(0 <= self.read_coupling <= 1, f"read_coupling must be in [0, 1], got {self.read_coupling!r}")
        _finite("read_margin", self.read_margin)
        _require(0 < self.read_margin < 1, f"read_margin must be in (0, 1), got {self.read_margin!r}")
        for name in ("voltage_saturation", "current_saturation"):
            value = getattr(self, name)
            if value is not None:
                _finite(name, value)
                _require(value > 1, f"{name} must be > 1 or None, got {value!r}")
        _positive("current_gain_a_per_v", self.current_gain_a_per_v)
        _finite("reference_contrast", self.reference_contrast)
        _require(
            self.reference_contrast > 1, f"reference_contrast must be > 1, got {self.reference_contrast!r}"
        )
        _positive("max_loop_gain", self.max_loop_gain)


@dataclass(frozen=True)
class ProgrammingPlan:
    """The calibrated programming drive of every edge (shared by all edges: a chip-level calibration).

    For u > 0 (s rose during the fast ramp: G must fall) the drive is ``sign_down_g * min(gain_down_g * w,
    limit_down_g)`` with w = u (device threshold) or g(u) (cell threshold); for u < 0 the same with the
    ``up_g`` numbers and |w|. Gains are V/V or A/V, limits in volts or amperes.
    """

    mode: ProgrammingMode
    sign_down_g: int
    gain_down_g: float
    limit_down_g: float
    sign_up_g: int
    gain_up_g: float
    limit_up_g: float
    trim_up: float
    """Factor applied to the published rate of x-up motion."""
    trim_down: float
    """Factor applied to the published rate of x-down motion."""
    device: Device
    """The nominal device after range mapping and rate trims."""
    x_reference: float

    def drive(self, w: np.ndarray) -> np.ndarray:
        """Programming drive for feedback (device mode) or thresholded (cell mode) values w, gate open."""
        w = np.asarray(w, dtype=float)
        down = self.sign_down_g * np.minimum(self.gain_down_g * np.maximum(w, 0.0), self.limit_down_g)
        up = self.sign_up_g * np.minimum(self.gain_up_g * np.maximum(-w, 0.0), self.limit_up_g)
        return np.where(w >= 0, down, up)

    def to_dict(self) -> dict:
        return {
            "mode": self.mode.value,
            "sign_down_g": self.sign_down_g,
            "gain_down_g": self.gain_down_g,
            "limit_down_g": None if math.isinf(self.limit_down_g) else self.limit_down_g,
            "sign_up_g": self.sign_up_g,
            "gain_up_g": self.gain_up_g,
            "limit_up_g": None if math.isinf(self.limit_up_g) else self.limit_up_g,
            "trim_up": self.trim_up,
            "trim_down": self.trim_down,
            "device": device_to_dict(self.device),
            "x_reference": self.x_reference,
        }


def plan_programming(
    mapped: RangeMap,
    programming: ProgrammingConfig,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
    learning_rate_s2_per_v2: float,
) -> ProgrammingPlan:
    """Gains, saturation and per-direction rate trims that make a reference contrast give the TCL update.

    Resistor-mode TCL changes G by -lr * (s_C - s_F) / (beta_max G_c). For a linear fast ramp of contrast
    A = r * A_min (A_min = theta tau_rise / tau_k) the feedback output is u = r theta for tau_rise. Device
    mode maps theta onto each direction's device threshold (gain V_th/theta), so the dead zone is the
    device's own; cell mode drives a current A_i g(u). The trim of each direction's rate is then set so that
    at the reference state (geometric-mean conductance) the state change over tau_rise gives that |dG|.
    Raises ConfigError for a device-threshold cell on a device without thresholds, and for a cell threshold
    on a voltage-threshold device (two dead zones in series).
    """
    device = mapped.device
    theta = cell.threshold_v
    _positive("learning_rate_s2_per_v2", learning_rate_s2_per_v2)
    if programming.mode is ProgrammingMode.DEVICE_THRESHOLD and device.drive_kind is DriveKind.CURRENT:
        raise ConfigError(
            f"the {device.kind.value} model has no switching threshold, so it cannot be the dead zone: "
            "use the cell-threshold programming mode"
        )
    if programming.mode is ProgrammingMode.CELL_THRESHOLD and device.drive_kind is DriveKind.VOLTAGE:
        raise ConfigError(
            f"the {device.kind.value} model has its own switching thresholds; a cell threshold in front of it "
            "would put two dead zones in series: use the device-threshold programming mode"
        )
    down_g = 1 if not device.x_up_raises_g else -1  # x direction that lowers G
    r = programming.reference_contrast
    x_ref = mapped.x_reference
    a_min = theta * drive.tau_rise_s / cell.tau_k_s
    wanted_dg = learning_rate_s2_per_v2 * r * a_min / drive.peak_clamp_conductance_s
    wanted_rate = wanted_dg / abs(float(dg_dx(device, np.array(x_ref)))) / drive.tau_rise_s
    numbers = {}
    saturation = (
        programming.voltage_saturation
        if programming.mode is ProgrammingMode.DEVICE_THRESHOLD
        else programming.current_saturation
    )
    for g_dir, x_dir in (("down_g", down_g), ("up_g", -down_g)):
        sign = device.drive_sign(x_dir)
        if programming.mode is ProgrammingMode.DEVICE_THRESHOLD:
            gain = device.threshold(x_dir) / theta
        else:
            gain = programming.current_gain_a_per_v
        limit = math.inf if saturation is None else saturation * gain * theta
        reference_drive = sign * min(gain * r * theta, limit)
        rate = abs(float(device.rate_per_s(np.array(reference_drive), np.array(x_ref))))
        if not rate > 0:
            raise ConfigError(
                f"the {device.kind.value} device does not move at the reference drive {reference_drive:.3g}"
            )
        numbers[g_dir] = (sign, gain, limit, wanted_rate / rate)
    trims = {down_g: numbers["down_g"][3], -down_g: numbers["up_g"][3]}
    trimmed = device.with_rate_trim(trims[1], trims[-1])
    return ProgrammingPlan(
        mode=programming.mode,
        sign_down_g=numbers["down_g"][0],
        gain_down_g=numbers["down_g"][1],
        limit_down_g=numbers["down_g"][2],
        sign_up_g=numbers["up_g"][0],
        gain_up_g=numbers["up_g"][1],
        limit_up_g=numbers["up_g"][2],
        trim_up=trims[1],
        trim_down=trims[-1],
        device=trimmed,
        x_reference=x_ref,
    )


def smallest_threshold_v(devices: tuple[Device, ...]) -> float | None:
    """The smallest switching threshold (either polarity) over devices, volts; None for threshold-less ones."""
    values = [min(d.threshold(1), d.threshold(-1)) for d in devices]
    return None if not values or min(values) <= 0 else min(values)
