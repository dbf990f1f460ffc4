"""Sweep specs: grid, random and seed axes read into points with stable names; every bad entry is refused
with the file and the entry named."""

import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.studies.sweep_spec import SEED_FIELD, load_spec, parse_spec, point_name

BASE = {"task": {"network": "lattice:3x3", "train_samples": 8, "test_samples": 4}, "learning": {"epochs": 1}}


def test_grid_times_seeds_gives_every_combination_with_its_config():
    spec = parse_spec({"base": BASE, "seeds": [0, 1, 2], "grid": {"drive.tau_fall_s": [9e-4, 9e-3]}})
    assert spec.axes == ("drive.tau_fall_s", SEED_FIELD)
    assert len(spec.points) == 6
    seen = {(p.config.drive.tau_fall_s, p.config.learning.seed) for p in spec.points}
    assert seen == {(f, s) for f in (9e-4, 9e-3) for s in (0, 1, 2)}
    for point in spec.points:
        assert point.config.task.network == "lattice:3x3"
        assert point.name == point_name(point.values)
        assert point.values == {
            "drive.tau_fall_s": point.config.drive.tau_fall_s,
            SEED_FIELD: point.config.learning.seed,
        }


def test_point_names_do_not_depend_on_the_order_of_the_spec():
    one = parse_spec({"grid": {"drive.tau_fall_s": [9e-4, 9e-3], "cell.tau_k_s": [5e-7, 5e-6]}})
    two = parse_spec({"grid": {"cell.tau_k_s": [5e-6, 5e-7], "drive.tau_fall_s": [9e-3, 9e-4]}})
    assert {p.name for p in one.points} == {p.name for p in two.points}
    assert len({p.name for p in one.points}) == 4


def test_random_draws_are_reproducible_and_within_their_ranges():
    table = {
        "points": 50,
        "seed": 3,
        "cell.threshold_headroom": {"log_uniform": [5, 50]},
        "drive.beta_max": {"uniform": [0.1, 0.9]},
        "learning.rule": {"choice": ["tcl", "contrastive"]},
    }
    spec = parse_spec({"random": table, "seeds": [0, 1]})
    assert len(spec.points) == 100
    again = parse_spec({"random": table, "seeds": [0, 1]})
    assert [p.values for p in spec.points] == [p.values for p in again.points]
    headroom = [p.config.cell.threshold_headroom for p in spec.points]
    assert min(headroom) >= 5 and max(headroom) <= 50
    assert min(headroom) < 10 and max(headroom) > 25  # spread over the range (log-uniform)
    assert all(0.1 <= p.config.drive.beta_max <= 0.9 for p in spec.points)
    assert {p.config.learning.rule.value for p in spec.points} == {"tcl", "contrastive"}
    other = parse_spec({"random": {**table, "seed": 4}})
    assert [p.values for p in other.points] != [p.values for p in spec.points[::2]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grids": {}}, "unknown entry 'grids'"),
        ({"grid": {"drive.tau_fal_s": [1e-3]}}, "drive.tau_fal_s"),
        ({"grid": {"drive": [1]}}, "group of settings"),
        ({"grid": {"drive.tau_fall_s": []}}, "non-empty list"),
        ({"grid": {"drive.tau_fall_s": [1e-3, 1e-3]}}, "listed twice"),
        ({"grid": {"drive.tau_fall_s": 1e-3}}, "non-empty list"),
        ({"grid": {"drive.tau_fall_s": [float("nan")]}}, "finite"),
        ({"grid": {"drive.tau_fall_s": [1e-6]}}, "tau_fall_s=1e-06"),
        ({"grid": {"learning.rule": ["tlc"]}}, "learning.rule must be one of"),
        ({"random": {"points": 0, "drive.beta_max": {"uniform": [0, 1]}}}, "points"),
        ({"random": {"points": 2}}, "at least one field"),
        ({"random": {"points": 2, "drive.beta_max": {"normal": [0, 1]}}}, "uniform"),
        ({"random": {"points": 2, "drive.beta_max": {"uniform": [1, 0]}}}, "lo < hi"),
        ({"random": {"points": 2, "drive.beta_max": {"log_uniform": [0, 1]}}}, "lo > 0"),
        ({"seeds": [0], "grid": {"learning.seed": [1]}}, "not both"),
        ({"base": {"drive": {"tau_rise_s": -1.0}}}, r"\[base\]"),
        (
            {
                "grid": {"learning.seed": list(range(1000))},
                "random": {"points": 200, "drive.beta_max": {"uniform": [0.1, 1]}},
            },
            "exceed",
        ),
    ],
)
def test_bad_specs_are_refused_naming_the_entry(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_spec(data)


def test_load_spec_names_the_file(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'seeds = [0, 1]\n[base]\ntask = { network = "lattice:3x3" }\n[grid]\n"drive.beta_max" = [0.25, 0.5]\n'
    )
    assert len(load_spec(spec).points) == 4
    spec.write_text("[grid\n")
    with pytest.raises(ConfigError, match=r"spec.toml: not valid TOML"):
        load_spec(spec)
    with pytest.raises(ConfigError, match=r"missing.toml: cannot read"):
        load_spec(tmp_path / "missing.toml")


def test_ranges_linked_axes_and_the_axes_averaged_over():
    spec = parse_spec(
        {
            "average_over": ["cell.spread_seed"],
            "grid": {
                "cell.spread_seed": {"range": [0, 4]},
                "cell.spread_r_k,cell.spread_gain": [0.0, 0.2],
            },
        }
    )
    assert len(spec.points) == 8 and spec.average_over == ("cell.spread_seed",)
    assert sorted({p.config.cell.spread_seed for p in spec.points}) == [0, 1, 2, 3]
    assert all(p.config.cell.spread_r_k == p.config.cell.spread_gain for p in spec.points)
    assert {p.config.cell.spread_r_k for p in spec.points} == {0.0, 0.2}
    assert all(p.config.cell.spread_c_k == 0.0 for p in spec.points)
    with pytest.raises(ConfigError, match="not an axis"):
        parse_spec({"average_over": ["drive.beta_max"], "grid": {"cell.spread_seed": [0, 1]}})
    with pytest.raises(ConfigError, match="range needs"):
        parse_spec({"grid": {"cell.spread_seed": {"range": [4, 4]}}})
    with pytest.raises(ConfigError, match="cell.spread_rk"):
        parse_spec({"grid": {"cell.spread_r_k,cell.spread_rk": [0.1]}})
