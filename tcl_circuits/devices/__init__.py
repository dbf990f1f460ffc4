"""Memristor devices: published models (``models``), parameter sets (``presets``), range mapping and spread
(``mapping``), and the calibrated programming drive of an edge cell (``programming``)."""

from tcl_circuits.config import ProgrammingMode
from tcl_circuits.devices.mapping import (
    RangeMap,
    device_from_dict,
    device_to_dict,
    dg_dx,
    fit_to_range,
    spread_devices,
    state_for_conductance,
)
from tcl_circuits.devices.models import (
    Device,
    DriveKind,
    LinearDriftDevice,
    ModelKind,
    VteamDevice,
    WindowKind,
    YakopcicDevice,
    drive_power_w,
    window_down,
    window_up,
)
from tcl_circuits.devices.presets import (
    BIOLEK_2009,
    JOGLEKAR_2009,
    LINEAR_DRIFT_STRUKOV_2008,
    PRESETS,
    VTEAM_KVATINSKY_2015,
    VTEAM_SYMMETRIC,
    YAKOPCIC_2011,
    preset,
)
from tcl_circuits.devices.programming import (
    ProgrammingConfig,
    ProgrammingPlan,
    plan_programming,
    smallest_threshold_v,
)

__all__ = [
    "BIOLEK_2009",
    "JOGLEKAR_2009",
    "LINEAR_DRIFT_STRUKOV_2008",
    "PRESETS",
    "VTEAM_KVATINSKY_2015",
    "VTEAM_SYMMETRIC",
    "YAKOPCIC_2011",
    "Device",
    "DriveKind",
    "LinearDriftDevice",
    "ModelKind",
    "ProgrammingConfig",
    "ProgrammingMode",
    "ProgrammingPlan",
    "RangeMap",
    "VteamDevice",
    "WindowKind",
    "YakopcicDevice",
    "device_from_dict",
    "device_to_dict",
    "dg_dx",
    "fit_to_range",
    "plan_programming",
    "preset",
    "smallest_threshold_v",
    "drive_power_w",
    "spread_devices",
    "state_for_conductance",
    "window_down",
    "window_up",
]
