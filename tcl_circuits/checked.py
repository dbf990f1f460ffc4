"""Checked dataclasses: fields declared with ``param`` (default, unit, help, bounds, flag) and validated
from that metadata on construction, and their plain-data form (``to_dict``, ``from_dict``).

``Checked.__post_init__`` validates every field from its metadata and raises ConfigError naming the field, so a
bad value fails at the boundary instead of deep inside a simulation; the command line (``cli.options``) reads
the same metadata (``field_types``, ``base_type``), so flags, defaults, units and checks never drift apart.
The configurations themselves are in ``config``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from dataclasses import field
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any

from tcl_circuits.errors import ConfigError

__all__ = [
    "Checked",
    "base_type",
    "check_value",
    "field_types",
    "from_dict",
    "param",
    "set_dotted",
    "to_dict",
]


def param(
    default: Any,
    *,
    unit: str = "",
    help: str = "",
    flag: str | None = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    none: str = "",
    cli: bool = True,
) -> Any:
    """A config field: default, unit (SI symbol, '' for dimensionless), help, bounds (``minimum``/``maximum``
    inclusive, ``above``/``below`` exclusive), the meaning of None where None is allowed (``none``, e.g.
    'auto'), the command-line flag (default: the field name without its unit suffix, dashed) and whether the
    command line exposes it at all."""
    metadata = {
        "unit": unit,
        "help": help,
        "flag": flag,
        "minimum": minimum,
        "above": above,
        "maximum": maximum,
        "below": below,
        "none": none,
        "cli": cli,
    }
    if isinstance(default, list | dict | set):
        raise TypeError("mutable defaults need a factory")
    if dataclasses.is_dataclass(default):
        return field(default_factory=lambda: default, metadata=metadata)
    return field(default=default, metadata=metadata)


def field_types(cls: Any) -> dict[str, Any]:
    """Resolved type hints of a config class (annotations are strings under ``from __future__``)."""
    return _field_types(cls)


@cache
def _field_types(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def base_type(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed) of a field's type hint."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else hint), len(args) < len(typing.get_args(hint))
    return hint, False


def _bound(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _describe_bounds(meta: dict) -> str:
    parts = []
    for key, sign in (("above", ">"), ("minimum", ">="), ("below", "<"), ("maximum", "<=")):
        if meta[key] is not None:
            parts.append(f"{sign} {_bound(meta[key])}")
    return " and ".join(parts)


def _within(value: float, meta: dict) -> bool:
    return (
        (meta["above"] is None or value > meta["above"])
        and (meta["minimum"] is None or value >= meta["minimum"])
        and (meta["below"] is None or value < meta["below"])
        and (meta["maximum"] is None or value <= meta["maximum"])
    )


def _fits(value: Any, hint: Any, meta: dict) -> bool:
    """Whether ``value`` has the shape of a tuple type hint (``tuple[tuple[str, float], ...]``), its numbers
    finite and within the field's bounds."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(item, args[0], meta) for item in value)
        return len(value) == len(args) and all(_fits(v, a, meta) for v, a in zip(value, args, strict=True))
    if hint is str:
        return isinstance(value, str)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and _within(value, meta)
    if hint is float:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and _within(value, meta)
        )
    return True


def _shape(hint: Any) -> str:
    """``tuple[tuple[str, float], ...]`` -> 'a list of [text, number]', for messages."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_shape(args[0])}"
        return "[" + ", ".join(_shape(a) for a in args) + "]"
    return {str: "text", int: "whole number", float: "number"}.get(hint, getattr(hint, "__name__", str(hint)))


def check_value(name: str, value: Any, hint: Any, meta: dict) -> None:
    """Raise ConfigError(field=name) unless ``value`` has the field's type and lies within its bounds."""
    kind, nullable = base_type(hint)
    if value is None:
        if nullable:
            return
        raise ConfigError(f"{name} must not be None", field=name)
    if isinstance(kind, type) and issubclass(kind, Enum):
        if not isinstance(value, kind):
            choices = ", ".join(str(m.value) for m in kind)
            raise ConfigError(f"{name} must be one of {choices}, got {value!r}", field=name)
        return
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}", field=name)
        return
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number, got {value!r}", field=name)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}", field=name)
        if 0 < abs(value) < sys.float_info.min:
            raise ConfigError(
                f"{name} is too small to represent (a denormal number), got {value!r}", field=name
            )
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be text, got {value!r}", field=name)
        return
    elif typing.get_origin(kind) is tuple:
        if not _fits(value, kind, meta):
            bounds = _describe_bounds(meta)
            numbers = f" (numbers {bounds})" if bounds else ""
            raise ConfigError(f"{name} must be {_shape(kind)}{numbers}, got {value!r}", field=name)
        return
    else:
        return  # nested configs check themselves
    bounds = _describe_bounds(meta)
    if not _within(value, meta):
        unit = f" {meta['unit']}" if meta["unit"] not in ("", "1") else ""  # "1": a pure number
        raise ConfigError(f"{name} must be {bounds}, got {value!r}{unit}", field=name)


class Checked:
    """Mixin of the config dataclasses: every field is validated from its ``param`` metadata on construction,
    then ``check`` adds the checks that involve several fields."""

    def __post_init__(self) -> None:
        hints = field_types(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            check_value(f.name, getattr(self, f.name), hints[f.name], dict(f.metadata) or _NO_META)
        self.check()

    def check(self) -> None:
        """Checks across fields (override)."""

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


_NO_META = {
    "unit": "",
    "help": "",
    "flag": None,
    "minimum": None,
    "above": None,
    "maximum": None,
    "below": None,
    "none": "",
    "cli": False,
}


def to_dict(config: Any) -> dict:
    """A config as plain JSON-able data (Enums by value), the form config.json stores."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_dict(value)
        elif isinstance(value, Enum):
            out[f.name] = value.value
        else:
            out[f.name] = value
    return out


def set_dotted(data: dict, dotted: str, value: Any) -> dict:
    """A copy of nested settings (``to_dict``'s form) with the setting at a dotted key such as
    ``learning.epochs`` replaced; a key that names no setting, or a group of them, is a ConfigError."""
    out = dict(data)
    head, _, rest = dotted.partition(".")
    if rest:
        inner = out.get(head)
        if not isinstance(inner, dict):
            raise ConfigError(f"{dotted}: {head!r} is not a group of settings", field=dotted)
        out[head] = set_dotted(inner, rest, value)
    else:
        if head not in out:
            raise ConfigError(f"unknown setting {dotted!r}", field=dotted)
        if isinstance(out[head], dict):
            raise ConfigError(f"{dotted} is a group of settings; name one of its fields", field=dotted)
        out[head] = value
    return out


def _overlaid(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` laid over it, nested tables merged key by key."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = (
            _overlaid(base[key], value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return out


def from_dict(cls: type, data: Any, where: str = "") -> Any:
    """The config of class ``cls`` that ``to_dict`` gave ``data``; unknown or ill-typed keys are a ConfigError
    naming their dotted path. Missing keys take their defaults: within a nested table, those of the field's
    own default (``RunConfig``'s cell, not a bare ``FeedbackCellConfig()``)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = field_types(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for name, why in getattr(cls, "RETIRED", {}).items():
        if name in data:
            if data[name] not in ([], (), None):
                raise ConfigError(f"{where}{name} is no longer a setting: {why}", field=f"{where}{name}")
            data = {key: value for key, value in data.items() if key != name}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown setting {where}{unknown[0]!r} (known: {', '.join(known)})", field=f"{where}{unknown[0]}"
        )
    values: dict[str, Any] = {}
    for name, raw in data.items():
        kind, _ = base_type(hints[name])
        path = f"{where}{name}"
        if raw is not None and dataclasses.is_dataclass(kind):
            field_ = known[name]
            default = field_.default_factory() if field_.default_factory is not dataclasses.MISSING else None
            if dataclasses.is_dataclass(default) and isinstance(raw, dict):
                raw = _overlaid(to_dict(default), raw)
            values[name] = from_dict(kind, raw, f"{path}.")  # type: ignore[arg-type]
        elif raw is not None and isinstance(kind, type) and issubclass(kind, Enum):
            try:
                values[name] = kind(raw)
            except ValueError:
                choices = ", ".join(str(m.value) for m in kind)
                raise ConfigError(f"{path} must be one of {choices}, got {raw!r}", field=path) from None
        elif kind is float and isinstance(raw, int) and not isinstance(raw, bool):
            values[name] = float(raw)
        elif isinstance(raw, list):  # JSON arrays back to the tuples the configs hold
            values[name] = tuple(tuple(item) if isinstance(item, list) else item for item in raw)
        else:
            values[name] = raw
    try:
        return cls(**values)
    except ConfigError as error:
        message = str(error)
        if where and error.field and message.startswith(error.field):
            message = where + message  # name the field by its dotted path: cell.spread_r_k
        raise ConfigError(message, field=f"{where}{error.field}" if error.field else None) from None
