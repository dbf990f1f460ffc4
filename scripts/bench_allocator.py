"""Measure what ``allocator.keep_freed_memory`` buys: the same numpy work in two fresh interpreters, one with
glibc's default malloc thresholds and one with the raised ones, alternating so both see the same load.

The work is what the native engine and the energy read-out do per sample on a 32x32 lattice: gather the two
end voltages of every edge from (nodes x points) voltages and square the drop, (1984 x 201) temporaries.
Prints the median time of each and their ratio.

Usage: .venv/bin/python scripts/bench_allocator.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

WORK = """
import sys, time
import numpy as np
if sys.argv[1] == "raised":
    from tcl_circuits.backends.native import allocator
    assert allocator.keep_freed_memory()
rng = np.random.default_rng(0)
voltages = rng.random((1024, 201))
a, b = rng.integers(0, 1024, 1984), rng.integers(0, 1024, 1984)
conductance = rng.random(1984)
for _ in range(5):
    drop = voltages[a] - voltages[b]
times = []
for _ in range(50):
    started = time.perf_counter()
    drop = voltages[a] - voltages[b]
    power = conductance @ (drop * drop)
    times.append(time.perf_counter() - started)
print(sorted(times)[len(times) // 2])
"""


def median_ms(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", WORK, mode], capture_output=True, text=True, check=True)
    return 1e3 * float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating pairs of interpreters")
    args = parser.parse_args()
    default, raised = [], []
    for _ in range(args.rounds):
        default.append(median_ms("default"))
        raised.append(median_ms("raised"))
    d, r = statistics.median(default), statistics.median(raised)
    print(
        f"edge drops squared, (1984 x 201): default malloc {d:.2f} ms, raised thresholds {r:.2f} ms, ratio {d / r:.1f}x"
    )
    print(
        "per round (default / raised):",
        ", ".join(f"{x:.2f}/{y:.2f}" for x, y in zip(default, raised, strict=True)),
    )


if __name__ == "__main__":
    main()
