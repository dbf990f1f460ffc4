"""Sweep specifications: a TOML file naming a base run config and the axes to vary, read into its points.

    # a sweep of full training runs (tcl-circuits sweep SPEC.toml --out DIR)
    seeds = [0, 1, 2]                  # the learning.seed axis (optional)
    average_over = ["learning.seed"]   # axes aggregate.csv and the plot average over (this is the default)

    [base]                             # a run config, nested as in a run's config.json (optional)
    task = { network = "lattice:4x4", train_samples = 50, test_samples = 20 }
    backend = "native"

    [grid]                             # every combination of these values (optional)
    "drive.tau_fall_s" = [9e-4, 9e-3]
    "cell.tau_k_s" = [5e-7, 5e-6]
    "cell.spread_seed" = { range = [0, 32] }                   # 0, 1, ..., 31
    "cell.spread_r_k,cell.spread_c_k" = [0.0, 0.1]             # one axis setting several fields alike

    [random]                           # or/and: random draws (optional)
    points = 8                         # draws, each combined with every grid point
    seed = 0                           # of the draws
    "cell.threshold_headroom" = { log_uniform = [5, 50] }   # also: uniform = [lo, hi], choice = [a, b, ...]

Fields are the dotted paths of a run config (``learning.rule``, ``drive.tau_rise_s``, ...). A point's name is
a hash of its values, so a point keeps its name (and its run folder) when the spec lists it in another order.
Every point's config is built and checked before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tcl_circuits.checked import set_dotted
from tcl_circuits.config import from_dict, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.files import read_toml
from tcl_circuits.learning.run_config import RunConfig

SEED_FIELD = "learning.seed"
DISTRIBUTIONS = ("uniform", "log_uniform", "choice")
TOP_LEVEL = ("seeds", "average_over", "base", "grid", "random")
MAX_POINTS = 100_000
"""A spec with more points than this is refused (most likely a mistake; split the sweep)."""


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its name, the values it sets (dotted field -> value) and its full config."""

    name: str
    values: dict[str, Any]
    config: RunConfig


@dataclass(frozen=True)
class SweepSpec:
    """A parsed spec: the base config (as a dict), the varied fields in order, and every point."""

    base: dict[str, Any]
    axes: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    average_over: tuple[str, ...] = (SEED_FIELD,)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the sweep: a folder holding it is resumed only by the same base and points."""
        return {"base": self.base, "points": {p.name: p.values for p in self.points}}


def point_name(values: dict[str, Any]) -> str:
    """``p`` and 12 hex digits of the SHA-256 of the values (canonical JSON): stable under reordering."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return "p" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _check_field(where: str, dotted: Any, defaults: dict) -> str:
    """An axis name: a dotted field, or several joined by commas (set to the same value)."""
    if not isinstance(dotted, str) or not dotted:
        raise ConfigError(f"{where}: a field must be a dotted name such as drive.tau_fall_s, got {dotted!r}")
    for field in dotted.split(","):
        try:
            set_dotted(defaults, field.strip(), None)
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
    return dotted


def _set_axis(data: dict, axis: str, value: Any) -> dict:
    for field in axis.split(","):
        data = set_dotted(data, field.strip(), value)
    return data


def _scalar(where: str, value: Any) -> Any:
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ConfigError(f"{where}: values must be finite numbers, strings or true/false, got {value!r}")


def _grid_axes(where: str, table: Any, defaults: dict) -> dict[str, list]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of field = [values]")
    axes: dict[str, list] = {}
    for field, values in table.items():
        _check_field(f"{where} {field}", field, defaults)
        if isinstance(values, dict) and set(values) == {"range"}:
            bounds = values["range"]
            if not (
                isinstance(bounds, list)
                and len(bounds) == 2
                and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                and 0 < bounds[1] - bounds[0] <= MAX_POINTS
            ):
                raise ConfigError(f"{where} {field}: range needs [start, stop] whole numbers, start < stop")
            values = list(range(bounds[0], bounds[1]))
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where} {field}: expected a non-empty list of values, got {values!r}")
        axes[field] = [_scalar(f"{where} {field}", v) for v in values]
        if len({json.dumps(v) for v in axes[field]}) != len(values):
            raise ConfigError(f"{where} {field}: a value is listed twice")
    return axes


def _draw(where: str, rule: Any, rng: np.random.Generator, count: int) -> list:
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in DISTRIBUTIONS:
        raise ConfigError(
            f"{where}: expected one of {{ uniform = [lo, hi] }}, {{ log_uniform = [lo, hi] }}, "
            f"{{ choice = [a, b, ...] }}, got {rule!r}"
        )
    kind, args = next(iter(rule.items()))
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ConfigError(f"{where}: choice needs a non-empty list")
        options = [_scalar(where, a) for a in args]
        return [options[i] for i in rng.integers(0, len(options), size=count)]
    if (
        not isinstance(args, list)
        or len(args) != 2
        or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
        or not all(math.isfinite(a) for a in args)
        or not args[0] < args[1]
    ):
        raise ConfigError(f"{where}: {kind} needs [lo, hi] with finite lo < hi, got {args!r}")
    lo, hi = float(args[0]), float(args[1])
    if kind == "uniform":
        return [float(v) for v in rng.uniform(lo, hi, size=count)]
    if lo <= 0:
        raise ConfigError(f"{where}: log_uniform needs lo > 0, got {lo!r}")
    return [float(v) for v in np.exp(rng.uniform(math.log(lo), math.log(hi), size=count))]


def _random_draws(where: str, table: Any, defaults: dict) -> list[dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    count, seed = table.get("points"), table.get("seed", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_POINTS:
        raise ConfigError(
            f"{where} points: expected a whole number of draws from 1 to {MAX_POINTS}, got {count!r}"
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{where} seed: expected a whole number >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    columns = {
        _check_field(f"{where} {field}", field, defaults): _draw(f"{where} {field}", rule, rng, count)
        for field, rule in table.items()
        if field not in ("points", "seed")
    }
    if not columns:
        raise ConfigError(f"{where}: name at least one field to draw")
    return [{field: values[i] for field, values in columns.items()} for i in range(count)]


def parse_spec(
    data: dict[str, Any], where: str = "spec", overrides: dict[str, Any] | None = None
) -> SweepSpec:
    """The points of a spec given as a dict (the TOML's tables); errors name ``where`` and the entry.
    ``overrides``: dotted fields set in the base on top of its [base] table (``--set``), never an axis."""
    unknown = sorted(set(data) - set(TOP_LEVEL))
    if unknown:
        raise ConfigError(f"{where}: unknown entry {unknown[0]!r} (known: {', '.join(TOP_LEVEL)})")
    base_table = data.get("base", {})
    try:
        base_config = from_dict(RunConfig, base_table)
    except ConfigError as error:
        raise ConfigError(f"{where} [base]: {error}") from None
    base = _overridden(to_dict(base_config), overrides or {})
    grid = _grid_axes(f"{where} [grid]", data.get("grid", {}), base)
    draws = _random_draws(f"{where} [random]", data["random"], base) if "random" in data else [{}]
    if "seeds" in data:
        if SEED_FIELD in grid or any(SEED_FIELD in d for d in draws):
            raise ConfigError(f"{where}: give the seeds either as 'seeds' or as {SEED_FIELD}, not both")
        grid[SEED_FIELD] = _grid_axes(f"{where}", {SEED_FIELD: data["seeds"]}, base)[SEED_FIELD]
    clash = sorted(set(grid) & set(draws[0]))
    if clash:
        raise ConfigError(f"{where}: {clash[0]} is both a grid axis and a random draw")
    total = math.prod(len(v) for v in grid.values()) * len(draws)
    if total > MAX_POINTS:
        raise ConfigError(f"{where}: {total:,} points exceed the limit of {MAX_POINTS:,}; split the sweep")
    axes = tuple(draws[0]) + tuple(grid)
    varied = {field.strip() for axis in axes for field in axis.split(",")}
    for key in overrides or {}:
        if key in varied:
            raise ConfigError(f"--set {key}: it is an axis of the sweep {where}; change its values there")
    points: dict[str, SweepPoint] = {}
    for draw in draws:
        for combination in itertools.product(*grid.values()):
            values = {**draw, **dict(zip(grid, combination, strict=True))}
            name = point_name(values)
            if name in points:
                continue
            config_data = base
            for field, value in values.items():
                config_data = _set_axis(config_data, field, value)
            try:
                config = from_dict(RunConfig, config_data)
            except ConfigError as error:
                shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
                raise ConfigError(f"{where}: the point {shown}: {error}") from None
            points[name] = SweepPoint(name, values, config)
    average_over = data.get("average_over", [SEED_FIELD])
    if not isinstance(average_over, list) or not all(isinstance(a, str) for a in average_over):
        raise ConfigError(f"{where} average_over: expected a list of axis names")
    stray = [a for a in average_over if a not in axes and a != SEED_FIELD]
    if stray:
        raise ConfigError(
            f"{where} average_over: {stray[0]!r} is not an axis of this sweep ({', '.join(axes)})"
        )
    return SweepSpec(base=base, axes=axes, points=tuple(points.values()), average_over=tuple(average_over))


def _overridden(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with each ``--set`` override applied, the config checked after each (errors name it)."""
    for key, value in overrides.items():
        try:
            base = set_dotted(base, key, value)
            base = to_dict(from_dict(RunConfig, base))
        except ConfigError as error:
            raise ConfigError(f"--set {key}={value}: {error}", field=key) from None
    return base


def load_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> SweepSpec:
    """The sweep a TOML file describes (see the module docstring), with ``overrides`` set in its base
    (``parse_spec``); errors name the file."""
    file = Path(path)
    data = read_toml(file, str(file), "the sweep spec")
    return parse_spec(data, where=str(file), overrides=overrides)
