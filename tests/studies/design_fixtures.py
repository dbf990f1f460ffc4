"""A lenient process for design-search tests: no noise to speak of, no offset, any capacitor, a free multiplier,
so that the knobs near today's defaults pass every hard constraint and a tiny search has designs to score; the
same process and knobs as scripts/bench_design.py, read from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_design.py"
_spec = importlib.util.spec_from_file_location("bench_design_fixtures", _BENCH)
assert _spec is not None and _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)

LENIENT_CMOS: str = _bench.LENIENT_CMOS
"""The bench's lenient process (scripts/bench_design.py): the tests and the bench search the same."""
NEAR_DEFAULTS = _bench.KNOBS
"""A narrow search space around a design that learns on the 4x4 lattice and passes the lenient process, its
cycle short against tau_K (few noise samples a cycle: quick noisy runs)."""

TINY_RUN = ["--network", "lattice:4x4", "--train-samples", "24", "--test-samples", "6", "--epochs", "1"]


def lenient_tech(folder: Path) -> str:
    """``PROCESS+DEVICE`` of the lenient process (written to ``folder``) and the ideal device."""
    path = folder / "lenient.toml"
    path.write_text(LENIENT_CMOS)
    return f"{path}+ideal"
