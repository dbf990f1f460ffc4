"""Technology descriptions: the presets load, every number has its source, a user's file is read strictly."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcl_circuits.errors import ConfigError
from tcl_circuits.technology.model import (
    COMPARATOR_KINDS,
    Cmos,
    Device,
    Sourced,
    load_file,
    preset,
    preset_names,
    technology,
)

CMOS = """
kind = "cmos"
name = "mine"
description = "a test process"
temperature_k = { value = 300, source = "room" }
supply_v = { value = 1.0, source = "s" }
capacitor_density_f_per_m2 = { value = 1e-3, source = "s" }
max_capacitance_per_cell_f = { value = 1e-12, source = "s" }
ota_gm_over_id_per_v = { value = 20, source = "s" }
multiplier_power_per_hz_w = { value = 1e-14, source = "s" }
adc_energy_per_step_j = { value = 1e-14, source = "s" }
adc_bits = { value = 8, source = "s" }
[resistor.poly]
flicker_corner_hz = { value = 0, source = "s" }
[comparator.latch]
offset_sigma_v = { value = 1e-3, source = "s" }
energy_per_decision_j = { value = 1e-13, source = "s" }
[comparator.offset_stored]
offset_sigma_v = { value = 1e-4, source = "s" }
energy_per_decision_j = { value = 1e-12, source = "s" }
[comparator.auto_zeroed]
offset_sigma_v = { value = 1e-6, source = "s" }
energy_per_decision_j = { value = 1e-12, source = "s" }
[mismatch]
r_k = { value = 0.003, source = "s" }
c_k = { value = 0.001, source = "s" }
gain = { value = 0.01, source = "s" }
clamp = { value = 0.01, source = "s" }
"""


def _numbers(description):
    for f in dataclasses.fields(description):
        value = getattr(description, f.name)
        if isinstance(value, Sourced):
            yield f.name, value
        elif dataclasses.is_dataclass(value):
            yield from ((f"{f.name}.{g.name}", getattr(value, g.name)) for g in dataclasses.fields(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                found = (
                    [item]
                    if isinstance(item, Sourced)
                    else [getattr(item, g.name) for g in dataclasses.fields(item)]
                )
                yield from ((f"{f.name}.{key}", n) for n in found)


def test_the_presets_hold_two_processes_and_the_devices_every_number_sourced():
    names = preset_names()
    assert {"cmos180", "cmos65", "reram", "ecram", "hfo2_array", "ideal"} <= set(names)
    for name in names:
        description = preset(name)
        assert isinstance(description, Cmos | Device) and description.name == name
        numbers = list(_numbers(description))
        assert numbers and all(n.source for _, n in numbers)
        if isinstance(description, Cmos):
            assert set(description.comparators) == set(COMPARATOR_KINDS)
            assert description.resistor_flicker_corner_hz


def test_a_technology_joins_a_process_and_a_device():
    both = technology("cmos65+reram")
    assert both.name == "cmos65+reram"
    assert both.device.asymmetry.value == pytest.approx(1.7) and both.cmos.supply_v.value == 1.2
    assert both.cmos.comparators["auto_zeroed"].offset_sigma_v.value == pytest.approx(10e-6)


def test_a_users_file_is_read_and_joins_a_preset(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(CMOS)
    found = technology(f"{path}+ideal")
    assert found.cmos.name == "mine" and found.cmos.adc_bits.value == 8
    assert isinstance(load_file(path), Cmos)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('supply_v = { value = 1.0, source = "s" }', "supply_v = 1.0"), "supply_v must be a table"),
        (
            ('supply_v = { value = 1.0, source = "s" }', 'supply_v = { value = 1.0, source = "" }'),
            "where the number",
        ),
        (
            ('supply_v = { value = 1.0, source = "s" }', 'supply_v = { value = 1e9, source = "s" }'),
            "from 0.1 to 100",
        ),
        (
            ('supply_v = { value = 1.0, source = "s" }', 'supply_v = { value = nan, source = "s" }'),
            "finite number",
        ),
        (
            ('supply_v = { value = 1.0, source = "s" }', 'supply_v = { value = true, source = "s" }'),
            "finite number",
        ),
        (
            (
                'flicker_corner_hz = { value = 0, source = "s" }',
                'flicker_corner_hz = { value = 1e-320, source = "s" }',
            ),
            "denormal",
        ),
        (
            ('adc_bits = { value = 8, source = "s" }', 'adc_bits = { value = 8.5, source = "s" }'),
            "whole number",
        ),
        (
            ('supply_v = { value = 1.0, source = "s" }', 'supplyv = { value = 1.0, source = "s" }'),
            "unknown key 'supplyv'",
        ),
        (("[comparator.auto_zeroed]", "[comparator.chopped]"), "unknown key 'chopped'"),
        (('kind = "cmos"', 'kind = "bjt"'), 'kind must be "cmos" or "device"'),
        (('name = "mine"', "name = 3"), "name must be text"),
        (
            ('r_k = { value = 0.003, source = "s" }', 'r_k = { value = 2, source = "s" }'),
            "mismatch.r_k.value must be",
        ),
        (('clamp = { value = 0.01, source = "s" }', ""), "missing 'clamp'"),
        (
            ('gain = { value = 0.01, source = "s" }', 'gainn = { value = 0.01, source = "s" }'),
            "unknown key 'gainn'",
        ),
        (("[mismatch]", "[mismatched]"), "unknown key 'mismatched'"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_the_number(tmp_path, change, message):
    old, new = change
    path = tmp_path / "bad.toml"
    path.write_text(CMOS.replace(old, new))
    with pytest.raises(ConfigError, match=message) as caught:
        load_file(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cmos65", "PROCESS\\+DEVICE"),
        ("cmos65+reram+x", "PROCESS\\+DEVICE"),
        ("reram+cmos65", "is not a CMOS process"),
        ("cmos65+cmos180", "is not a device"),
        ("cmos7+reram", "no technology preset 'cmos7'"),
        ("/nowhere.toml+reram", "cannot read it"),
    ],
)
def test_a_bad_technology_name_is_one_line(spec, message):
    with pytest.raises(ConfigError, match=message):
        technology(spec)


def test_a_file_that_is_not_toml_is_one_line(tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes(b"\xff\xfe = 1")
    with pytest.raises(ConfigError, match="not a TOML file"):
        load_file(path)


@settings(max_examples=300, deadline=None)
@given(
    spec=st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["+", "cmos65+", "+reram", "cmos65+reram.toml", "/.toml+x", "a\n.toml+reram", "\x00.toml+x"]
        ),
    )
)
def test_any_technology_name_is_read_or_refused_in_one_line(spec):
    """--tech takes text from the command line: whatever it is, a technology or one ConfigError line."""
    try:
        found = technology(spec)
    except ConfigError as error:
        assert "\n" not in str(error)
    else:
        assert found.name == spec


def test_a_folder_named_like_a_file_is_one_line(tmp_path):
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read it"):
        technology(f"{tmp_path / 'd.toml'}+reram")
