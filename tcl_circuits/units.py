"""Reading numbers as a circuit designer writes them: plain floats or SPICE scale suffixes (``1m``, ``5u``, ``1k``),
optionally followed by the quantity's unit (``1ms``, ``10uF``, ``2.2kohm``).

Strict on purpose: Python's ``float`` and ``int`` accept ``0_8`` (as 8), ``inf`` and non-ASCII digits (``١``
as 1); here anything but a plain decimal number with an optional SPICE scale factor and unit is refused, so
a typo can never become a different value.

The rule, as SPICE reads it but stricter: the scale factor comes first and is case-insensitive (``m`` and
``M`` are milli, ``meg`` is mega, ``u``, ``µ`` and ``μ`` are micro); then, only where the caller names the
quantity's unit, that unit may follow (``s``, ``V``, ``A``, ``F``, ``S``, ``Hz``, ``K``, ``ohm`` or ``Ω``).
Two spellings that SPICE reads differently from what they look like are refused rather than guessed:
a capital ``M`` before a unit (``10MHz`` is 10 millihertz to SPICE: write ``10megHz`` or ``10mHz``) and a
lone letter that is both a scale factor and the unit (``1f`` on a farad value, ``300k`` on a kelvin one:
write ``1fF`` / ``1e-15``, ``300`` / ``300kK``). A nonzero number too small for a float (``1e-400``, read
as 0 or as a denormal) is refused as well.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata

from tcl_circuits.errors import ConfigError

SCALE = {
    "t": 1e12,
    "g": 1e9,
    "meg": 1e6,
    "k": 1e3,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,  # U+00B5 MICRO SIGN
    "μ": 1e-6,  # U+03BC GREEK SMALL LETTER MU
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}
"""SPICE scale factors (case-insensitive; ``m`` is milli, ``meg`` mega; both micro characters are micro)."""

UNIT_SYMBOLS = {
    "s": ("s",),
    "V": ("v",),
    "A": ("a",),
    "F": ("f",),
    "S": ("s",),
    "Hz": ("hz",),
    "K": ("k",),
    "J": ("j",),
    "ohm": ("ohm", "Ω", "Ω"),  # U+03A9 GREEK CAPITAL OMEGA, U+2126 OHM SIGN
}
"""The units a number may end with (lower case; matched case-insensitively), by the unit a value is in."""

_ALLOWED_NON_ASCII = "µμΩΩ"

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(meg|[tgkmunpfµμ])?([a-zΩΩ]*)$",
    re.IGNORECASE | re.ASCII,
)
_INTEGER = re.compile(r"^[+-]?[0-9]+$", re.ASCII)
SYNTAX = (
    "numbers are ASCII decimals with an optional SPICE scale suffix (t g meg k m u/µ n p f; m is milli, meg "
    "mega) and the value's unit after it: 1e-3, 1m, 1ms, 10us, 2.2k, 1meg"
)
"""One line about the number syntax, for --help."""


def _non_ascii(text: str) -> str | None:
    """A message naming the first character that is not ASCII (nor a micro or ohm sign), or None."""
    for char in text:
        if ord(char) > 127 and char not in _ALLOWED_NON_ASCII and not char.isspace():
            name = unicodedata.name(char, "unnamed character")
            return f"non-ASCII character {char!r} (U+{ord(char):04X} {name}) in {text!r}: write digits 0-9"
    return None


def parse_quantity(text: str, unit: str = "") -> float:
    """``'1e-3'``, ``'1m'``, ``'5u'``, ``'2.2k'``, ``'1meg'`` -> float; with ``unit`` (``'s'``, ``'F'``, ...)
    also ``'1ms'``, ``'10uF'``; ConfigError for anything else (see the module docstring for the rule)."""
    stripped = str(text).strip()
    odd = _non_ascii(stripped)
    if odd:
        raise ConfigError(odd)
    match = _QUANTITY.match(stripped)
    symbols = UNIT_SYMBOLS.get(unit, ())
    if match is None or (match[3] and match[3].lower() not in {s.lower() for s in symbols}):
        units = f" (optionally followed by {unit})" if symbols else ""
        raise ConfigError(
            f"expected a number such as 1e-3, 1m, 5u or 2.2k (SPICE suffixes t g meg k m u n p f){units}, "
            f"got {text!r}"
        )
    mantissa, scale, symbol = match[1], match[2], match[3]
    if scale == "M" and symbol:
        raise ConfigError(
            f"{text!r} is ambiguous: SPICE reads M as milli; write {mantissa}meg{symbol} for mega or "
            f"{mantissa}m{symbol} for milli"
        )
    if scale and not symbol and scale.lower() in symbols:
        raise ConfigError(
            f"{text!r} is ambiguous: {scale} is a SPICE scale suffix and the unit {unit}; write "
            f"{mantissa}{scale}{unit} for the scale or {mantissa} for plain {unit}"
        )
    value = float(mantissa) * SCALE[scale.lower()] if scale else float(mantissa)
    if not math.isfinite(value):
        raise ConfigError(f"number out of range: {text!r}")
    nonzero = re.search(r"[1-9]", re.sub(r"[eE].*", "", mantissa)) is not None
    if nonzero and abs(value) < sys.float_info.min:
        raise ConfigError(
            f"number too small to represent (it would be read as 0 or lose precision): {text!r}"
        )
    return value


def parse_integer(text: str) -> int:
    """``'42'`` -> 42; ConfigError for anything else (no underscores, no decimals, ASCII digits only)."""
    stripped = str(text).strip()
    odd = _non_ascii(stripped)
    if odd:
        raise ConfigError(odd)
    if not _INTEGER.match(stripped):
        raise ConfigError(f"expected a whole number, got {text!r}")
    return int(stripped)


_SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"),
                (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a"))  # fmt: skip


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """A value with an SI prefix for people to read, ``digits`` significant: 1.39e-7 J -> ``139 nJ``
    (``u`` for micro, ASCII; outside atto to tera, and zero or non-finite values, in plain exponent form)."""
    magnitude = abs(value)
    if math.isfinite(value) and value != 0:
        for scale, prefix in _SI_PREFIXES:
            if magnitude >= scale * (1 - 0.5 * 10**-digits):  # 999.9 nJ rounds to 1 uJ, not 1e+03 nJ
                return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"
