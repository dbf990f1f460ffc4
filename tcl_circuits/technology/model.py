"""Technology descriptions: a CMOS process's blocks and a programmable device, each number with its source.

A description is a TOML file in which every number is a table ``{ value = ..., source = "..." }``: a designer
reading a verdict can see where each figure comes from, and a user's own file overrides every one. A CMOS file
(``kind = "cmos"``) gives the temperature, the supply, capacitors (density, largest per cell), R_K's 1/f corner
for each resistor type, comparators (raw, offset-stored, auto-zeroed: offset and energy per decision), the OTA's
gm/I_D, the multiplier's power per bandwidth, the accumulator read-out (ADC energy per conversion step, bits) and
the cells' mismatch (R_K, C_K, the update's gain, the clamps).
A device file (``kind = "device"``) gives levels, up/down asymmetry, device-to-device and cycle-to-cycle spread,
dead devices and the energy of one write pulse. ``technology("cmos65+reram")`` joins a process and a device.
"""

from __future__ import annotations

import math
import sys
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from tcl_circuits.errors import ConfigError

PRESETS = "tcl_circuits.technology"
"""Package holding the preset files (``presets/NAME.toml``)."""


@dataclass(frozen=True)
class Sourced:
    """One number and where it comes from."""

    value: float
    source: str


@dataclass(frozen=True)
class Comparator:
    """A comparator kind: the standard deviation of its input offset (what remains after offset storage or
    auto-zeroing, for those kinds), volts, and the energy of one decision, joules."""

    offset_sigma_v: Sourced
    energy_per_decision_j: Sourced


COMPARATOR_KINDS = ("latch", "offset_stored", "auto_zeroed")


@dataclass(frozen=True)
class Mismatch:
    """Cell-to-cell spread of what a cell is built of, each a log-normal sigma (relative standard deviation):
    R_K, C_K, the gain that sets the update's size, and an output's clamp conductance."""

    r_k: Sourced
    c_k: Sourced
    gain: Sourced
    clamp: Sourced


MISMATCH_FIELDS = ("r_k", "c_k", "gain", "clamp")
"""A plain latch; one whose offset is stored on a capacitor and subtracted; an auto-zeroed or chopped stage."""


@dataclass(frozen=True)
class Cmos:
    """What a CMOS process offers the cell's blocks."""

    name: str
    description: str
    temperature_k: Sourced
    supply_v: Sourced
    capacitor_density_f_per_m2: Sourced
    max_capacitance_per_cell_f: Sourced
    resistor_flicker_corner_hz: dict[str, Sourced]
    """R_K's 1/f corner by resistor type (e.g. poly, metal)."""
    comparators: dict[str, Comparator]
    """By kind: latch, offset_stored, auto_zeroed."""
    ota_gm_over_id_per_v: Sourced
    multiplier_power_per_hz_w: Sourced
    """A multiplier's supply power per hertz of its bandwidth."""
    adc_energy_per_step_j: Sourced
    adc_bits: Sourced
    mismatch: Mismatch
    """Cell-to-cell spread of R_K, C_K, the update's gain and the clamps."""


@dataclass(frozen=True)
class Device:
    """A programmable conductance as measured: its levels over its range (0: analog), the size of a rise over
    a fall for the same request, the log-normal spread of its range from device to device and of each write
    from cycle to cycle, the fraction of dead devices, and one write pulse's energy."""

    name: str
    description: str
    levels: Sourced
    asymmetry: Sourced
    device_spread: Sourced
    step_noise: Sourced
    """Cycle-to-cycle spread of one pulse's step, in steps (standard deviation)."""
    dead_fraction: Sourced
    write_energy_per_pulse_j: Sourced


@dataclass(frozen=True)
class Technology:
    """A process and a device: what ``--tech PROCESS+DEVICE`` names."""

    cmos: Cmos
    device: Device
    spec: str = ""
    """How it was named (``PROCESS+DEVICE``, each a preset or a file's path): what reads it back."""

    @property
    def name(self) -> str:
        return f"{self.cmos.name}+{self.device.name}"


_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature_k": (0.0, 1e4),
    "supply_v": (0.1, 100.0),
    "capacitor_density_f_per_m2": (1e-6, 1.0),
    "max_capacitance_per_cell_f": (1e-18, 1e-6),
    "flicker_corner_hz": (0.0, 1e12),
    "offset_sigma_v": (0.0, 10.0),
    "energy_per_decision_j": (0.0, 1e-3),
    "ota_gm_over_id_per_v": (1.0, 40.0),
    "multiplier_power_per_hz_w": (0.0, 1e-3),
    "adc_energy_per_step_j": (0.0, 1e-6),
    "adc_bits": (1.0, 32.0),
    "levels": (0.0, 1e9),
    "asymmetry": (0.01, 100.0),
    "device_spread": (0.0, 5.0),
    "step_noise": (0.0, 10.0),
    "dead_fraction": (0.0, 1.0),
    "write_energy_per_pulse_j": (0.0, 1e-3),
    "mismatch": (0.0, 1.0),
}
"""Physical bounds of each kind of number (a value outside is a typing slip, not a technology)."""


def _sourced(data: Any, where: str, kind: str) -> Sourced:
    if not isinstance(data, dict) or set(data) != {"value", "source"}:
        raise ConfigError(f'{where} must be a table {{ value = NUMBER, source = "TEXT" }}, got {data!r}')
    value, source = data["value"], data["source"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}.value must be a finite number, got {value!r}")
    if 0 < abs(value) < sys.float_info.min:
        raise ConfigError(f"{where}.value is too small to represent (a denormal number), got {value!r}")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}.source must say where the number comes from")
    low, high = _BOUNDS[kind]
    if not low <= value <= high:
        raise ConfigError(f"{where}.value must be from {low:g} to {high:g}, got {value!r}")
    if kind in ("adc_bits", "levels") and value != int(value):
        raise ConfigError(f"{where}.value must be a whole number, got {value!r}")
    return Sourced(float(value), source.strip())


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: needs a table [{key}]")
    return value


def _exact_keys(data: dict, expected: set[str], where: str) -> None:
    missing, unknown = sorted(expected - set(data)), sorted(set(data) - expected)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(expected))})")
    if missing:
        raise ConfigError(f"{where}: missing {missing[0]!r}")


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be text")
    return value.strip()


def parse_cmos(data: dict, where: str) -> Cmos:
    """A CMOS description from TOML data (``where`` names the file in errors)."""
    plain = {"kind", "name", "description", "temperature_k", "supply_v", "capacitor_density_f_per_m2",
             "max_capacitance_per_cell_f", "ota_gm_over_id_per_v", "multiplier_power_per_hz_w",
             "adc_energy_per_step_j", "adc_bits", "resistor", "comparator", "mismatch"}  # fmt: skip
    _exact_keys(data, plain, where)
    resistors = {}
    for kind, table in _table(data, "resistor", where).items():
        at = f"{where} resistor.{kind}"
        if not isinstance(table, dict):
            raise ConfigError(f"{at} must be a table")
        _exact_keys(table, {"flicker_corner_hz"}, at)
        resistors[kind] = _sourced(table["flicker_corner_hz"], f"{at}.flicker_corner_hz", "flicker_corner_hz")
    comparators = {}
    kinds = _table(data, "comparator", where)
    _exact_keys(kinds, set(COMPARATOR_KINDS), f"{where} [comparator]")
    for kind, table in kinds.items():
        at = f"{where} comparator.{kind}"
        if not isinstance(table, dict):
            raise ConfigError(f"{at} must be a table")
        _exact_keys(table, {"offset_sigma_v", "energy_per_decision_j"}, at)
        comparators[kind] = Comparator(
            *(_sourced(table[f.name], f"{at}.{f.name}", f.name) for f in fields(Comparator))
        )
    spreads = _table(data, "mismatch", where)
    _exact_keys(spreads, set(MISMATCH_FIELDS), f"{where} [mismatch]")
    mismatch = Mismatch(
        *(_sourced(spreads[name], f"{where} mismatch.{name}", "mismatch") for name in MISMATCH_FIELDS)
    )
    simple = {
        f.name: _sourced(data[f.name], f"{where} {f.name}", f.name)
        for f in fields(Cmos)
        if f.name not in ("name", "description", "resistor_flicker_corner_hz", "comparators", "mismatch")
    }
    return Cmos(
        name=_text(data, "name", where),
        description=_text(data, "description", where),
        resistor_flicker_corner_hz=resistors,
        comparators=comparators,
        mismatch=mismatch,
        **simple,
    )


def parse_device(data: dict, where: str) -> Device:
    """A device description from TOML data."""
    numbers = [f.name for f in fields(Device) if f.name not in ("name", "description")]
    _exact_keys(data, {"kind", "name", "description", *numbers}, where)
    return Device(
        name=_text(data, "name", where),
        description=_text(data, "description", where),
        **{name: _sourced(data[name], f"{where} {name}", name) for name in numbers},
    )


def load_file(path: str | Path) -> Cmos | Device:
    """A description from a TOML file: a CMOS process or a device, by its ``kind``."""
    path = Path(path)
    where = str(path) if str(path).isprintable() else repr(str(path))  # one line, whatever the name holds
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where}: not a TOML file ({error})") from None
    except (OSError, ValueError) as error:  # ValueError: a name with a NUL in it
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ConfigError(f"{where}: cannot read it ({reason})") from None
    return _parsed(data, where)


def _parsed(data: dict, where: str) -> Cmos | Device:
    kind = data.get("kind")
    if kind == "cmos":
        return parse_cmos(data, where)
    if kind == "device":
        return parse_device(data, where)
    raise ConfigError(f'{where}: kind must be "cmos" or "device", got {kind!r}')


def preset_names() -> tuple[str, ...]:
    """The shipped descriptions, by file name."""
    folder = resources.files(PRESETS) / "presets"
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")))


def preset(name: str) -> Cmos | Device:
    """A shipped description by name (``cmos65``, ``reram``, ...)."""
    if name not in preset_names():
        raise ConfigError(f"no technology preset {name!r} (known: {', '.join(preset_names())})", field="tech")
    text = (resources.files(PRESETS) / "presets" / f"{name}.toml").read_text(encoding="utf-8")
    return _parsed(tomllib.loads(text), f"preset {name}")


def technology(spec: str) -> Technology:
    """``PROCESS+DEVICE``, each a preset name or a TOML file's path (e.g. ``cmos65+reram``)."""
    parts = spec.split("+")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"--tech must be PROCESS+DEVICE (e.g. cmos65+reram), got {spec!r}", field="tech")
    found = [load_file(p) if p.endswith(".toml") else preset(p) for p in parts]
    cmos, device = found
    if not isinstance(cmos, Cmos):
        raise ConfigError(f"--tech {spec}: {parts[0]!r} is not a CMOS process", field="tech")
    if not isinstance(device, Device):
        raise ConfigError(f"--tech {spec}: {parts[1]!r} is not a device", field="tech")
    return Technology(cmos, device, spec)
