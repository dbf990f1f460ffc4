"""Comparing decks as a reviewer would: token by token, numbers within a relative tolerance.

A deck written on another machine may differ in the last digits of computed values (thresholds from
quantiles, solves by sparse LU) when numpy or scipy differ; everything else must be identical.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_#]*|\S")


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return token[:1].isdigit() or token[:1] in "+-."


def _last_place(token: str) -> float:
    """The value of one unit in the last written digit of a number token (``0.0004401`` -> 1e-7)."""
    mantissa, _, exponent = token.lower().lstrip("+-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    return 10.0 ** (int(exponent or 0) - len(fraction))


def _close(x: str, y: str, rel_tol: float) -> bool:
    """Equal within rel_tol, or within one unit of the last digit written (short numbers in comments)."""
    a, b = float(x), float(y)
    return abs(a - b) <= (1 + 1e-9) * max(_last_place(x), _last_place(y), rel_tol * max(abs(a), abs(b)))


def first_difference(actual: str, expected: str, *, rel_tol: float = 1e-9) -> str | None:
    """None when the decks match (numbers within ``rel_tol`` or one unit of their last written digit), else
    where and how they first differ."""
    a_lines, e_lines = actual.splitlines(), expected.splitlines()
    if len(a_lines) != len(e_lines):
        return f"{len(a_lines)} lines, expected {len(e_lines)}"
    for number, (a, e) in enumerate(zip(a_lines, e_lines, strict=True), start=1):
        a_tokens, e_tokens = _tokens(a), _tokens(e)
        same = len(a_tokens) == len(e_tokens)
        for x, y in zip(a_tokens, e_tokens, strict=False):
            if x == y:
                continue
            if _is_number(x) and _is_number(y) and _close(x, y, rel_tol):
                continue
            same = False
            break
        if not same:
            return f"line {number}: {a[:100]!r}, expected {e[:100]!r}"
    return None
