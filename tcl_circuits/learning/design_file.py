"""Design files: the settings a design search chose, as a TOML file that ``train``, ``compile`` and
``feasibility`` take (``--design FILE``) and ``tcl-circuits design`` writes (``recommended.toml``).

    [drive]
    tau_rise_s = 2e-05
    tau_fall_s = 0.0012
    [cell]
    tau_k_s = 4e-07
    r_k_ohm = 350000.0
    [cell.analog]
    multiplier_quiescent_a = 1e-07
    [provenance]                 # informational; ignored when the design is applied
    technology = "cmos65+reram"
    trial = 17
    objectives = { energy_per_edge_j = 1.2e-12, relative_loss = 1.1, time_per_update_s = 0.0012 }

A design holds only the design knobs (``KNOBS``: the search space of ``tcl-circuits design``, each a dotted
run-config field with the range searched); any other key, a wrong type, NaN or an infinity, or a value outside
the field's own bounds is refused with one line naming the file and the key. Applied to a run config, a
design replaces those fields and the whole config is checked again (the ramps in learning order, tau_K within
the ramps). Precedence on the command line: defaults (or ``--config``), then ``--design``, then ``--tech``'s
non-idealities, then the flags given.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tcl_circuits.checked import check_value, field_types, from_dict, set_dotted, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.files import read_toml
from tcl_circuits.learning.run_config import RunConfig


@dataclass(frozen=True)
class Knob:
    """One design setting searched: a dotted run-config field and its range (log-uniform where ``log``), or
    for a setting of named kinds its ``choices``."""

    field: str
    low: float = 0.0
    high: float = 0.0
    log: bool = True
    choices: tuple[str, ...] = ()


KNOBS: tuple[Knob, ...] = (
    Knob("drive.tau_rise_s", 1e-9, 1e-4),
    Knob("drive.tau_fall_s", 1e-8, 1e-2),
    Knob("drive.beta_max", 0.1, 2.0),
    Knob("drive.clamp_conductance_s", 1e-5, 1e-2),
    Knob("cell.tau_k_s", 1e-10, 2e-5),
    Knob("cell.r_k_ohm", 1e2, 1e8),
    Knob("cell.signal_gain", 1.0, 1e4),
    Knob("cell.threshold_headroom", 0.1, 20.0),
    Knob("cell.analog.multiplier_quiescent_a", 1e-9, 1e-4),
    Knob("cell.analog.threshold_quiescent_a", 1e-10, 1e-5),
    Knob("cell.analog.integrator_quiescent_a", 1e-10, 1e-4),
    Knob("cell.analog.integrator_r_ohm", 1e3, 1e8),
    Knob("write.rounding", choices=("nearest", "stochastic")),
)
"""The design knobs: what ``tcl-circuits design`` searches and what a design file may set. A new knob (the
cell's signal gain, say) is one line here."""

PROVENANCE = "provenance"
PROVENANCE_KEYS = (
    "technology",
    "comparator",
    "r_k_type",
    "network",
    "task",
    "sampler",
    "trial",
    "objectives",
)
"""What a design file may record about where it came from (ignored on apply)."""


@dataclass(frozen=True)
class Design:
    """A design file's settings (dotted field -> value) and its provenance."""

    values: dict[str, Any]
    provenance: dict[str, Any]
    where: str = "design"

    def apply(self, config: RunConfig) -> RunConfig:
        """``config`` with this design's settings, checked as a whole (errors name the file)."""
        return apply_values(config, self.values, self.where)


def _field(dotted: str) -> tuple[Any, dict]:
    """(type hint, param metadata) of a dotted RunConfig field."""
    owner: Any = RunConfig
    *path, name = dotted.split(".")
    for part in path:
        owner = type(getattr(owner(), part))  # a nested config's class, from its default
    found = next(f for f in dataclasses.fields(owner) if f.name == name)
    return field_types(owner)[name], dict(found.metadata)


def check_knob_value(dotted: str, value: Any, where: str) -> Any:
    """``value`` for the knob ``dotted`` as the config holds it (a whole number as a float where the field is
    one), or ConfigError naming ``where`` and the key: not a knob, wrong type, NaN/inf, out of the field's
    bounds."""
    known = [knob.field for knob in KNOBS]
    if dotted not in known:
        raise ConfigError(
            f"{where}: {dotted} is not a design setting (known: {', '.join(known)})", field=dotted
        )
    hint, meta = _field(dotted)
    if isinstance(hint, type) and issubclass(hint, Enum):  # named kinds are held by name, as config files do
        names = [str(m.value) for m in hint]
        if value not in names:
            raise ConfigError(
                f"{where}: {dotted} must be one of {', '.join(names)}, got {value!r}", field=dotted
            )
        return value
    if hint in (float, float | None) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    try:
        check_value(dotted, value, hint, meta)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}", field=dotted) from None
    return value


def _flatten(table: dict, prefix: str, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{dotted}.", where))
        else:
            out[dotted] = check_knob_value(dotted, value, where)
    return out


def _check_provenance(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{PROVENANCE}] must be a table")
    for key, value in table.items():
        if key not in PROVENANCE_KEYS:
            raise ConfigError(
                f"{where}: unknown entry {PROVENANCE}.{key} (known: {', '.join(PROVENANCE_KEYS)})"
            )
        values = value.values() if isinstance(value, dict) and key == "objectives" else [value]
        for item in values:
            bad = isinstance(item, bool) or not isinstance(item, str | int | float)
            if bad or (isinstance(item, float) and not math.isfinite(item)):
                raise ConfigError(
                    f"{where}: {PROVENANCE}.{key} must hold text or finite numbers, got {item!r}"
                )
    return dict(table)


def parse_design(data: dict[str, Any], where: str = "design") -> Design:
    """The design a parsed TOML document describes; errors name ``where`` and the key."""
    provenance = _check_provenance(data.get(PROVENANCE, {}), where)
    settings = {key: value for key, value in data.items() if key != PROVENANCE}
    stray = [key for key, value in settings.items() if not isinstance(value, dict)]
    if stray:
        raise ConfigError(
            f"{where}: {stray[0]} is not a design setting; settings sit in tables such as [drive] and [cell]"
        )
    return Design(_flatten(settings, "", where), provenance, where)


def load_design(path: str | Path) -> Design:
    """The design in the TOML file ``path`` (module docstring); errors are one line naming the file."""
    file = Path(path)
    where = str(file) if str(file).isprintable() else repr(str(file))
    data = read_toml(file, f"--design {where}")
    return parse_design(data, f"--design {where}")


def apply_values(config: RunConfig, values: dict[str, Any], where: str = "design") -> RunConfig:
    """``config`` with the dotted settings ``values`` replaced, checked as a whole."""
    data = to_dict(config)
    for dotted, value in values.items():
        data = set_dotted(data, dotted, value)
    try:
        return from_dict(RunConfig, data)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}", field=error.field) from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"a design file holds finite numbers only, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    raise ConfigError(f"a design file holds numbers, text and tables of them, got {value!r}")


def design_text(values: dict[str, Any], provenance: dict[str, Any]) -> str:
    """A design file's text: the settings grouped by table ([drive], [cell], [cell.analog]), then
    [provenance]; ``parse_design`` reads back exactly ``values``."""
    tables: dict[str, list[str]] = {}
    order = [knob.field for knob in KNOBS]
    for dotted in sorted(values, key=order.index):
        table, _, name = dotted.rpartition(".")
        tables.setdefault(table, []).append(f"{name} = {_toml_value(values[dotted])}")
    lines = ["# a design of tcl-circuits design; use it with --design FILE (train, compile, feasibility)"]
    for table, entries in tables.items():
        lines += ["", f"[{table}]", *entries]
    if provenance:
        lines += ["", f"[{PROVENANCE}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in provenance.items()]
    return "\n".join(lines) + "\n"


def design_values(config: RunConfig) -> dict[str, Any]:
    """The knobs' values in ``config`` (what a design file of it holds), but those left 'auto' (None)."""
    data: Any = to_dict(config)
    out = {}
    for knob in KNOBS:
        value = data
        for part in knob.field.split("."):
            value = value[part]
        if value is not None:
            out[knob.field] = value
    return out
