"""Command-line options generated from the config dataclasses, and the parser every command shares.

Each ``param`` field of a config (nested configs included) becomes one option: its flag (``param(flag=...)``,
else the field name without its unit suffix, dashed: ``tau_rise_s`` -> ``--tau-rise``), its help with the
unit and the default, and its parser: numbers accept SPICE suffixes (``1m``, ``5u``, ``1k``; ``units``),
whole numbers only digits, choices their values, None-able fields their keyword (``auto``). Options not given
keep the config's value, so ``--config FILE`` (a saved run config) and explicit flags combine. A bad value is
one line naming the flag, exit code 2.

Why argparse built from the dataclasses rather than tyro or jsonargparse: the fields already carry units,
bounds and help (``checked.param``), SPICE suffixes and the 'auto' keywords need custom parsers anyway, and
mapping validation errors back to flags needs the field -> flag table this module builds; no dependency.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, NoReturn

from tcl_circuits.checked import base_type, field_types
from tcl_circuits.errors import ConfigError
from tcl_circuits.units import SYNTAX, parse_integer, parse_quantity

_UNIT_SUFFIXES = ("_s2_per_v2", "_a_per_v", "_ohm", "_s", "_v", "_f", "_h", "_j", "_w", "_a")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: <message>``, exit 2) instead of usage dumps, and the number
    syntax in every help's epilog."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", SYNTAX[0].upper() + SYNTAX[1:] + ".")
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)


@dataclass(frozen=True)
class Section:
    """A heading of a command's help gathering generated options by their dotted config paths (fnmatch
    patterns such as ``cell.spread_*``), across configs: what a newcomer scans for, not how the code nests."""

    title: str
    patterns: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class Option:
    """One generated option: where its field sits in the config tree and its flag."""

    path: tuple[str, ...]
    flag: str

    @property
    def dest(self) -> str:
        return "cfg__" + "__".join(self.path)


def flag_for(name: str, metadata: dict) -> str:
    if metadata.get("flag"):
        return metadata["flag"]
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return "--" + name.replace("_", "-")


def _show(value: Any, metadata: dict) -> str:
    if value is None:
        return metadata.get("none", "none").split(":")[0] or "none"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _none_word(metadata: dict) -> str:
    return (metadata.get("none") or "none").split(":")[0].split()[0]


def _value_parser(kind: Any, nullable: bool, metadata: dict) -> Callable[[str], Any]:
    none_word = _none_word(metadata)

    def parse(text: str) -> Any:
        if nullable and text.strip().lower() == none_word:
            return None
        try:
            if kind is float:
                return parse_quantity(text, metadata.get("unit", ""))
            if kind is int:
                return parse_integer(text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        if isinstance(kind, type) and issubclass(kind, Enum):
            try:
                return kind(text.strip().lower())
            except ValueError:
                choices = ", ".join(str(m.value) for m in kind)
                raise argparse.ArgumentTypeError(f"expected one of {choices}, got {text!r}") from None
        return text

    parse.__name__ = "value"
    return parse


def choice_metavar(kind: type[Enum]) -> str:
    """``{ngspice,native}``: an Enum flag's choices by value, for its usage line."""
    return "{" + ",".join(str(m.value) for m in kind) + "}"


def number_type(kind: type) -> Callable[[str], Any]:
    """An argparse ``type`` for a hand-written flag, read as the generated ones are: ``int`` (digits only),
    ``float`` (SPICE suffixes, finite), an Enum (by value)."""
    return _value_parser(kind, False, {})


def quantity_type(unit: str) -> Callable[[str], Any]:
    """An argparse ``type`` for a hand-written flag of a quantity in ``unit`` (SPICE suffixes, the unit may
    follow: ``100p``, ``100pJ``; finite)."""
    return _value_parser(float, False, {"unit": unit})


def parse_setting(text: str, config: Any) -> tuple[str, Any]:
    """``--set KEY=VALUE``: a dotted field of ``config`` (``learning.epochs``) and its value, read as that
    field's flag reads it (units and SPICE suffixes, whole numbers, choices, its 'none' keyword, true/false),
    in the form config.json stores (choices by value). Unknown keys and groups of settings are refused."""
    key, sep, raw = (part.strip() for part in text.partition("="))
    if not sep or not key or not raw:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE such as learning.epochs=3, got {text!r}")
    instance, parts = config, key.split(".")
    for depth, part in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(instance)}
        where = ".".join(parts[:depth]) or "the run config"
        if part not in fields:
            raise argparse.ArgumentTypeError(
                f"{key}: {where} has no setting {part!r} (known: {', '.join(fields)})"
            )
        value = getattr(instance, part)
        if depth < len(parts) - 1:
            if not dataclasses.is_dataclass(value):
                raise argparse.ArgumentTypeError(
                    f"{key}: {'.'.join(parts[: depth + 1])} is not a group of settings"
                )
            instance = value
    if dataclasses.is_dataclass(value):
        raise argparse.ArgumentTypeError(f"{key} is a group of settings; name one of its fields")
    kind, nullable = base_type(field_types(type(instance))[parts[-1]])
    if kind is bool:
        if raw.lower() not in ("true", "false"):
            raise argparse.ArgumentTypeError(f"{key}: expected true or false, got {raw!r}")
        return key, raw.lower() == "true"
    if not (kind in (int, float, str) or isinstance(kind, type) and issubclass(kind, Enum)):
        raise argparse.ArgumentTypeError(f"{key} holds a list; set it in the spec's [base] table")
    try:
        parsed = _value_parser(kind, nullable, dict(fields[parts[-1]].metadata))(raw)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{key}: {error}") from None
    return key, parsed.value if isinstance(parsed, Enum) else parsed


def add_config_options(
    parser: argparse.ArgumentParser,
    config: Any,
    *,
    title: str | None = None,
    root: tuple[str, ...] = (),
    only: set[str] | None = None,
    sections: Sequence[Section] = (),
) -> list[Option]:
    """Add an option for every command-line field of ``config`` (an instance: its values are the defaults
    shown), nested configs included, grouped by config or, where given, by ``sections`` (``Section``: help
    headings in that order; a field goes to the section of its most specific pattern). ``root`` is where
    ``config`` sits in the config the options are applied to (``("drive",)`` for a RunConfig's protocol);
    ``only`` keeps just those field names. Returns the options for ``apply_options``."""
    options: list[Option] = []
    seen: dict[str, tuple[str, ...]] = {}
    # a section may already hold hand-written flags (train's run folder and output)
    headings = {group.title: group for group in parser._action_groups}
    for section in sections:
        if section.title not in headings:
            headings[section.title] = parser.add_argument_group(section.title, section.description)

    def section_of(path: tuple[str, ...]) -> Any:
        dotted = ".".join(path)
        matches = [
            (pattern == dotted, len(pattern), section.title)
            for section in sections
            for pattern in section.patterns
            if fnmatch.fnmatchcase(dotted, pattern)
        ]
        return headings[max(matches)[2]] if matches else None

    def walk(instance: Any, path: tuple[str, ...], group_title: str) -> None:
        hints = field_types(type(instance))
        own_group: list[Any] = []

        def group_for(field_path: tuple[str, ...]) -> Any:
            found = section_of(field_path)
            if found is None:
                if not own_group:
                    own_group.append(parser.add_argument_group(group_title))
                found = own_group[0]
            return found

        nested = []
        for f in dataclasses.fields(instance):
            value = getattr(instance, f.name)
            if dataclasses.is_dataclass(value):
                nested.append((value, (*path, f.name)))
                continue
            meta = dict(f.metadata)
            if not meta.get("cli", False) or (only is not None and f.name not in only):
                continue
            kind, nullable = base_type(hints[f.name])
            flag = flag_for(f.name, meta)
            if flag in seen:
                raise RuntimeError(f"flag {flag} is generated twice ({seen[flag]} and {(*path, f.name)})")
            seen[flag] = (*path, f.name)
            option = Option((*path, f.name), flag)
            unit = f" [{meta['unit']}]" if meta.get("unit") else ""
            extra = ""
            if nullable:
                word, _, meaning = meta.get("none", "none").partition(":")
                meaning = meaning.strip()
                if value is None:
                    extra = f" = {meaning}" if meaning else ""
                else:
                    extra = f"; '{word.strip()}'" + (f" = {meaning}" if meaning else "")
            help_text = f"{meta.get('help', '')}{unit} (default: {_show(value, meta)}{extra})"
            help_text = help_text.replace("%", "%%")  # argparse formats help with %
            kwargs: dict[str, Any] = {"dest": option.dest, "default": argparse.SUPPRESS, "help": help_text}
            if kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = _value_parser(kind, nullable, meta)
                kwargs["metavar"] = (
                    choice_metavar(kind)
                    if isinstance(kind, type) and issubclass(kind, Enum)
                    else ("X" if kind is float else "N" if kind is int else "TEXT")
                )
            group_for(option.path).add_argument(flag, **kwargs)
            options.append(option)
        for value, sub_path in nested:
            walk(
                value,
                sub_path,
                (type(value).__doc__ or sub_path[-1]).splitlines()[0].rstrip("."),
            )

    walk(config, root, title or (type(config).__doc__ or "settings").splitlines()[0].rstrip("."))
    return options


def _replace_path(config: Any, path: tuple[str, ...], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(config, **{path[0]: value})
    inner = getattr(config, path[0])
    return dataclasses.replace(config, **{path[0]: _replace_path(inner, path[1:], value)})


def apply_options(config: Any, args: argparse.Namespace, options: list[Option]) -> Any:
    """``config`` with the options given on the command line applied (validated; errors name the flag)."""
    given = [(o, getattr(args, o.dest)) for o in options if hasattr(args, o.dest)]
    try:
        # one replace per nested level keeps intermediate (half-changed) configs from being validated alone
        changes: dict[tuple[str, ...], dict[str, Any]] = {}
        for option, value in given:
            changes.setdefault(option.path[:-1], {})[option.path[-1]] = value

        def build(instance: Any, path: tuple[str, ...]) -> Any:
            updates = dict(changes.get(path, {}))
            for f in dataclasses.fields(instance):
                value = getattr(instance, f.name)
                if dataclasses.is_dataclass(value) and any(
                    p[: len(path) + 1] == (*path, f.name) for p in changes
                ):
                    updates[f.name] = build(value, (*path, f.name))
            return dataclasses.replace(instance, **updates) if updates else instance

        return build(config, ())
    except ConfigError as error:
        raise ConfigError(flag_message(error, options)) from None


def flag_message(error: ConfigError, options: list[Option]) -> str:
    """The error's message with config field names replaced by their flags (``tau_fall_s`` -> ``--tau-fall``),
    starting with the flag of the field at fault."""
    import re

    message = str(error)
    flags = {option.path[-1]: option.flag for option in options}
    for name in sorted(flags, key=len, reverse=True):
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w])", flags[name], message)
    at_fault = flags.get((error.field or "").split(".")[-1])
    if at_fault and not message.startswith(at_fault):
        message = f"{at_fault}: {message}"
    return message
