"""scripts/bench_design.py runs a tiny search on 1 and 2 workers and prints their ratio (no timing asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_tiny_bench_prints_both_searches_and_their_ratio():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_design.py"), "--trials", "2", "--samples", "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1 worker(s): 2 trials") and lines[1].startswith("2 worker(s): 2 trials")
    assert "'failed': 0" in lines[0] and "'failed': 0" in lines[1]
    assert re.fullmatch(r"speed-up of 2 workers over 1: [0-9.]+x", lines[2])
