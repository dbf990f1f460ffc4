"""The number syntax of flags and files (``tcl_circuits.units``)."""

from __future__ import annotations

import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.units import parse_integer, parse_quantity


@pytest.mark.parametrize("text", ["1μ", "1µ", "1μs", "1µs"])
def test_both_micro_characters_read_as_micro(text):
    unit = "s" if text.endswith("s") else ""
    assert parse_quantity(text, unit) == pytest.approx(1e-6, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("1ms", "s", 1e-3),
        ("10us", "s", 1e-5),
        ("1meg", "", 1e6),
        ("1meg", "ohm", 1e6),
        ("1megohm", "ohm", 1e6),
        ("2.2k", "ohm", 2.2e3),
        ("2.2kohm", "ohm", 2.2e3),
        ("2.2kΩ", "ohm", 2.2e3),
        ("100u", "s", 1e-4),
        ("1m", "s", 1e-3),
        ("1s", "s", 1.0),
        ("0.5V", "V", 0.5),
        ("10mV", "V", 1e-2),
        ("1nF", "F", 1e-9),
        ("1fF", "F", 1e-15),
        ("1mS", "S", 1e-3),
        ("10megHz", "Hz", 1e7),
        ("20uA", "A", 2e-5),
        ("300", "K", 300.0),
        ("1M", "", 1e-3),
    ],
)
def test_a_trailing_unit_matching_the_value_is_read_after_the_spice_suffix(text, unit, value):
    assert parse_quantity(text, unit) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "unit", "match"),
    [
        ("1ms", "", "expected a number"),  # no unit to match: a dimensionless value takes none
        ("1mV", "s", "expected a number"),  # the wrong unit
        ("1msec", "s", "expected a number"),
        ("1f", "F", "ambiguous"),  # femto or farad
        ("300k", "K", "ambiguous"),  # kilo or kelvin
        ("10MHz", "Hz", "ambiguous"),  # SPICE: 10 millihertz
        ("1MS", "s", "ambiguous"),
    ],
)
def test_a_unit_that_does_not_match_or_reads_two_ways_is_refused(text, unit, match):
    with pytest.raises(ConfigError, match=match):
        parse_quantity(text, unit)


@pytest.mark.parametrize("text", ["١", "1٠", "１", "1\u0665", "1e-3\u00a0x", "1\u212a", "½", "1\u017f"])
def test_confusable_non_ascii_characters_are_refused_by_name(text):
    with pytest.raises(ConfigError) as caught:
        parse_quantity(text, "s")
    assert "\n" not in str(caught.value)
    if text in ("١", "１"):
        assert "non-ASCII character" in str(caught.value) and "U+" in str(caught.value)


@pytest.mark.parametrize("text", ["1_0", "١", "１", "+1_000", "1.0", "1e3", "", "0x10"])
def test_whole_numbers_refuse_underscores_non_ascii_digits_and_decimals(text):
    with pytest.raises(ConfigError):
        parse_integer(text)


@pytest.mark.parametrize(
    "text", ["inf", "-inf", "nan", "1e400", "1e300t", "1_0", "1e-400", "-1e-400", "1e-310", "1e-300f"]
)
def test_non_finite_overflowing_and_underflowing_numbers_are_refused(text):
    with pytest.raises(ConfigError):
        parse_quantity(text)


def test_a_zero_written_with_a_tiny_exponent_is_still_zero():
    assert parse_quantity("0e-400") == 0.0 and parse_quantity("0.0") == 0.0
