"""How an edge cell programs its memristor: the drive calibration that makes u a TCL-sized state change."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.checked import Checked, param
from tcl_circuits.config import ProgrammingMode, SawtoothConfig
from tcl_circuits.devices.mapping import RangeMap, device_to_dict, dg_dx
from tcl_circuits.devices.models import Device, DriveKind, _positive
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import LearningWindow

# --- programming: how u becomes a state change -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProgrammingConfig(Checked):
    """The programming port of a memristor edge cell and its calibration.

    The drive acts on the state equation only (a separate programming port); the read current through the
    network is unaffected by it. ``read_coupling`` says how much of the device's own read voltage (VTEAM,
    Yakopcic) or read current (linear drift) also enters its state equation: 1 is a two-terminal device as
    published (reads disturb the state as the physics says), 0 an ideal three-terminal device.

    ``voltage_saturation``: steep state equations (VTEAM alpha = 3, Yakopcic's exponential) need a limit:
    without one their slope far above threshold makes the in-cycle loop gain tens to hundreds. But a limit
    caps the fast ramp and not the slow one, so an edge above the learning window gets an update of the
    wrong sign (dead-zone devices: once the contrast exceeds the window top by about the limit; measured in
    docs/memristor.md). ``current_saturation`` None keeps the hard threshold's update vanishing above the
    window, as in resistor mode, instead of reversing.
    """

    mode: ProgrammingMode = param(
        ProgrammingMode.DEVICE_THRESHOLD,
        help="device: u drives the device threshold; cell: the cell's g(u) drives a current",
        cli=False,
    )
    read_coupling: float = param(
        1.0,
        help="fraction of the read voltage (or current) acting on the state equation (1: two-terminal device)",
        minimum=0,
        maximum=1,
    )
    read_margin: float = param(
        0.25,
        help="threshold devices: read voltages stay below this fraction of the smallest device threshold",
        above=0,
        below=1,
    )
    voltage_saturation: float | None = param(
        None,
        help="device mode: the programming voltage saturates at this multiple of the device threshold",
        above=1,
        none="none: no limit",
    )
    current_saturation: float | None = param(
        None,
        help="cell mode: the programming current saturates at this multiple of its value at the threshold",
        above=1,
        none="none: no limit",
    )
    current_gain_a_per_v: float = param(
        100.0,
        unit="A/V",
        help="cell mode on current-driven devices: programming current per volt of g(u)",
        above=0,
    )
    reference_contrast: float = param(
        3.0,
        help="calibration contrast in units of the window's lower edge (3: its geometric middle at 1:9)",
        above=1,
    )
    max_loop_gain: float = param(
        1.0,
        help="bound on the in-cycle loop gain of any programming edge (checked before every chunk)",
        above=0,
    )
    rate_asymmetry: float = param(
        1.0,
        help="up/down asymmetry left after the calibration: the G-raising rate over the G-lowering rate at the "
        "reference (1: matched; the geometric mean stays calibrated)",
        above=0,
    )


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
    window: LearningWindow,
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
    theta = float(window.theta_v)
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
    a_min = float(window.lower_v2)
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
    skew = math.sqrt(programming.rate_asymmetry)  # a residual mismatch of the two directions
    trims = {down_g: numbers["down_g"][3] / skew, -down_g: numbers["up_g"][3] * skew}
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
