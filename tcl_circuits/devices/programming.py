"""How an edge cell programs its memristor: the drive calibration that makes u a TCL-sized state change."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.config import FeedbackCellConfig, ProgrammingMode, SawtoothConfig
from tcl_circuits.devices.mapping import RangeMap, device_to_dict, dg_dx
from tcl_circuits.devices.models import Device, DriveKind, _finite, _positive, _require
from tcl_circuits.errors import ConfigError

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
    theta = cell.theta_v
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
