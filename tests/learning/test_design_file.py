"""Design files: written and read back exactly, strict about everything else, applied as a whole config."""

from __future__ import annotations

import math
import os
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.design_file import (
    KNOBS,
    design_text,
    design_values,
    load_design,
    parse_design,
)
from tcl_circuits.learning.run_config import RunConfig

FUZZ = settings(
    max_examples=int(os.environ.get("TCL_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _knob_values() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            knob.field: (
                st.sampled_from(knob.choices)
                if knob.choices
                else st.floats(knob.low, knob.high, allow_nan=False, allow_infinity=False)
            )
            for knob in KNOBS
        }
    )


@FUZZ
@given(values=_knob_values(), trial=st.integers(0, 10**6))
def test_a_design_is_read_back_exactly(values, trial):
    text = design_text(values, {"technology": "cmos65+reram", "trial": trial, "objectives": {"a": 1.5}})
    design = parse_design(tomllib.loads(text), "f.toml")
    assert design.values == values  # floats by repr: bit for bit
    assert design.provenance["trial"] == trial


def test_the_default_design_applies_as_the_defaults_and_tables_group_it():
    text = design_text(design_values(RunConfig()), {})
    assert "[drive]" in text and "[cell]" in text and "[cell.analog]" in text
    assert text.index("[drive]") < text.index("[cell]") < text.index("[cell.analog]")
    assert parse_design(tomllib.loads(text)).apply(RunConfig()) == RunConfig()


def test_a_design_sets_its_fields_and_keeps_the_others(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text(
        "[drive]\ntau_rise_s = 2e-5\n[cell]\nr_k_ohm = 5e5\n[cell.analog]\nintegrator_r_ohm = 1e6\n"
    )
    config = load_design(path).apply(RunConfig())
    assert config.drive.tau_rise_s == 2e-5 and config.cell.r_k_ohm == 5e5
    assert config.cell.analog.integrator_r_ohm == 1e6
    assert config.drive.tau_fall_s == RunConfig().drive.tau_fall_s and config.task == RunConfig().task


REFUSED = [
    ("[cell]\nfoo = 1.0\n", "cell.foo is not a design setting"),
    ("[cell]\nspread_r_k = 0.1\n", "cell.spread_r_k is not a design setting"),  # a setting, not a knob
    ("[learning]\nepochs = 3\n", "learning.epochs is not a design setting"),
    ("tau_k_s = 1e-6\n", "tau_k_s is not a design setting"),
    ("[cell]\ntau_k_s = nan\n", "cell.tau_k_s must be a finite number"),
    ("[cell]\ntau_k_s = inf\n", "cell.tau_k_s must be a finite number"),
    ("[cell]\ntau_k_s = '1u'\n", "cell.tau_k_s must be a finite number"),
    ("[cell]\ntau_k_s = true\n", "cell.tau_k_s must be a finite number"),
    ("[cell]\ntau_k_s = -1e-6\n", "cell.tau_k_s must be > 0"),
    ("[cell]\nthreshold_headroom = 1000.0\n", "cell.threshold_headroom must be > 0 and <= 100"),
    ("[cell]\ntau_k_s = [1e-6]\n", "cell.tau_k_s must be a finite number"),
    ("[cell]\ntau_k_s = 1e-320\n", "denormal"),
    ("[cell]\nanalog = 3\n", "cell.analog is not a design setting"),
    ("[provenance]\nwho = 'me'\n", "unknown entry provenance.who"),
    ("[provenance]\ntrial = nan\n", "provenance.trial must hold text or finite numbers"),
    ("[provenance]\nobjectives = { a = inf }\n", "provenance.objectives must hold text or finite numbers"),
    ("provenance = 3\n", "[provenance] must be a table"),
    ("[cell\n", "not valid TOML"),
    ("[cell]\ntau_k_s = 1e-6\ntau_k_s = 2e-6\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_a_bad_design_file_is_refused_in_one_line_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_design(path)
    assert str(caught.value).startswith(f"--design {path}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_design_that_breaks_the_whole_config_is_refused_on_apply(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text("[cell]\ntau_k_s = 4e-5\n")  # more than half the default 10 us rise
    with pytest.raises(ConfigError, match=rf"^--design {path}: tau_k_s \(4e-05 s\) must be at most"):
        load_design(path).apply(RunConfig())
    path.write_text("[drive]\ntau_rise_s = 1e-3\n")  # slower than the fall
    with pytest.raises(ConfigError, match="must exceed tau_rise_s"):
        load_design(path).apply(RunConfig())


def test_an_unreadable_design_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        load_design(tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes(b"[cell]\n# \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_design(tmp_path / "latin.toml")


_KEYS = st.sampled_from(
    [*(k.field for k in KNOBS), "cell.foo", "drive", "learning.epochs", "provenance.trial"]
)
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.floats(0, 1), max_size=2),
)


def _nested(flat: dict) -> dict:
    out: dict = {}
    for dotted, value in flat.items():
        *path, name = dotted.split(".")
        table = out
        for part in path:
            table = table.setdefault(part, {}) if isinstance(table.get(part, {}), dict) else {}
        table[name] = value
    return out


@FUZZ
@given(flat=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_random_designs_are_read_exactly_or_refused_in_one_line(flat):
    data = _nested(flat)
    try:
        design = parse_design(data, "f.toml")
    except ConfigError as error:
        assert "\n" not in str(error) and str(error).startswith("f.toml: ")
        return
    for dotted, value in design.values.items():
        assert value == flat[dotted] and isinstance(value, float) and math.isfinite(value)
    try:
        config = design.apply(RunConfig())
    except ConfigError as error:
        assert "\n" not in str(error)
        return
    for dotted, value in design.values.items():
        found = config
        for part in dotted.split("."):
            found = getattr(found, part)
        assert found == value
