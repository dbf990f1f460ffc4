"""Every non-ideality a technology implies, switched on at once in a run's configuration.

``with_technology(config, tech)`` sets, from a process and a device (``technology.model``): the thermal noise of
every R_K and of the network's resistors at the process's temperature, R_K's 1/f corner for its resistor type,
the threshold comparison's offset spread of the chosen comparator kind, the cells' mismatch (R_K, C_K, the
update's gain, the clamps), and in the write stage the device's spread of its range from device to device, its
levels (the largest power of two it holds: 1,480 steps give 10 bits), up/down asymmetry, write spread (one
pulse's cycle-to-cycle spread, the largest a change can have: n pulses average it down by sqrt(n)) and dead
devices; and it records the technology (``RunConfig.technology``) for the energy bill to price. What the
description does not determine, or the
engines cannot simulate for this network, is listed with the reason (``Applied.left_out``) rather than
guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from tcl_circuits.config import WriteConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig, TechnologyConfig
from tcl_circuits.technology.model import COMPARATOR_KINDS, Technology


def _bound(name: str) -> float:
    return float(next(f for f in fields(WriteConfig) if f.name == name).metadata["maximum"])


MAX_WRITE_NOISE = _bound("write_noise")
"""The write stage's largest log-normal spread of one written change (``WriteConfig.write_noise``'s bound)."""
MAX_RANGE_SPREAD = _bound("range_spread")
"""The write stage's largest device-to-device spread of a range."""


@dataclass(frozen=True)
class Applied:
    """A configuration with a technology's non-idealities on, and what was left out and why."""

    config: RunConfig
    left_out: tuple[str, ...]


def with_technology(
    config: RunConfig,
    tech: Technology,
    *,
    comparator: str = "auto_zeroed",
    resistor: str = "metal",
    nonlinear: bool,
) -> Applied:
    """``config`` with every non-ideality of ``tech`` on (module docstring). ``nonlinear``: the network has
    diodes or amplifiers, whose resistors' thermal noise the native engine does not simulate. The technology
    is recorded as it was named (``tech.spec``: a preset's name or a file's path reads back)."""
    cmos, device = tech.cmos, tech.device
    if comparator not in COMPARATOR_KINDS:
        raise ConfigError(f"--comparator must be one of {', '.join(COMPARATOR_KINDS)}, got {comparator!r}")
    if resistor not in cmos.resistor_flicker_corner_hz:
        known = ", ".join(cmos.resistor_flicker_corner_hz)
        raise ConfigError(f"--r-k-type must be one of {known} ({cmos.name}), got {resistor!r}")
    if config.memristor_device is not None:
        raise ConfigError("--tech describes a resistor network's devices and cells (--device resistor)")
    temperature = cmos.temperature_k.value
    left_out: list[str] = []
    network_noise = 0.0 if nonlinear else temperature
    if nonlinear:
        left_out.append("thermal noise of the network's resistors (not simulated on networks with diodes)")
    levels = int(device.levels.value)
    bits = int(math.floor(math.log2(levels))) if levels >= 2 else None
    step_noise = device.step_noise.value
    if step_noise > MAX_WRITE_NOISE:
        left_out.append(
            f"write spread above {MAX_WRITE_NOISE:g} (the device's one-pulse spread of {step_noise:g} steps is "
            f"capped at the write stage's largest)"
        )
    changed = config.replace(
        cell=config.cell.replace(
            noise_temperature_k=temperature,
            noise_flicker_corner_hz=cmos.resistor_flicker_corner_hz[resistor].value,
            spread_offset_v=cmos.comparators[comparator].offset_sigma_v.value,
            spread_r_k=cmos.mismatch.r_k.value,
            spread_c_k=cmos.mismatch.c_k.value,
            spread_gain=cmos.mismatch.gain.value,
            spread_clamp=cmos.mismatch.clamp.value,
        ),
        sim=config.sim.replace(network_noise_temperature_k=network_noise),
        write=config.write.replace(
            conductance_bits=bits,
            write_asymmetry=device.asymmetry.value,
            write_noise=min(step_noise, MAX_WRITE_NOISE),
            dead_fraction=device.dead_fraction.value,
            range_spread=min(device.device_spread.value, MAX_RANGE_SPREAD),
        ),
        technology=TechnologyConfig(name=tech.spec or tech.name, comparator=comparator, r_k_type=resistor),
    )
    return Applied(changed, tuple(left_out))
