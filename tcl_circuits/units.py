"""Reading numbers as a circuit designer writes them: plain floats or SPICE scale suffixes (``1m``, ``5u``, ``1k``).

Strict on purpose: Python's ``float`` accepts ``0_8`` (as 8) and ``inf``; here anything but a plain decimal
number with an optional SPICE scale factor is refused, so a typo can never become a different value.
"""

from __future__ import annotations

import math
import re

from tcl_circuits.errors import ConfigError

SCALE = {
    "t": 1e12,
    "g": 1e9,
    "meg": 1e6,
    "k": 1e3,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}
"""SPICE scale factors (case-insensitive; ``m`` is milli, ``meg`` mega)."""

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(meg|[tgkmuµnpf])?$", re.IGNORECASE
)
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def parse_quantity(text: str) -> float:
    """``'1e-3'``, ``'1m'``, ``'5u'``, ``'2.2k'``, ``'1meg'`` -> float; ConfigError for anything else."""
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise ConfigError(
            f"expected a number such as 1e-3, 1m, 5u or 2.2k (SPICE suffixes t g meg k m u n p f), got {text!r}"
        )
    value = float(match[1]) * SCALE[match[2].lower()] if match[2] else float(match[1])
    if not math.isfinite(value):
        raise ConfigError(f"number out of range: {text!r}")
    return value


def parse_integer(text: str) -> int:
    """``'42'`` -> 42; ConfigError for anything else (no underscores, no decimals)."""
    if not _INTEGER.match(str(text).strip()):
        raise ConfigError(f"expected a whole number, got {text!r}")
    return int(str(text).strip())
