"""Speed of a sweep on a Dask LocalCluster of 1 and of 2 worker processes, measured side by side in one run.

The same 64 points (a 4x4 lattice teacher task on the native engine, 200 samples, one seed each) run into two fresh
folders, one worker first, then two; each time includes starting the cluster. Prints both wall times and
their ratio. Run it on an otherwise idle machine: the ratio is only as good as the cores are free.

    python scripts/bench_sweep.py                 # 64 points
    python scripts/bench_sweep.py --points 16 --samples 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tcl_circuits.studies.sweep import run_sweep
from tcl_circuits.studies.sweep_spec import parse_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64, help="sweep points (seeds) (default: 64)")
    parser.add_argument("--samples", type=int, default=200, help="training samples per point (default: 200)")
    parser.add_argument(
        "--network", default="lattice:4x4", help="network of every point (default: lattice:4x4)"
    )
    args = parser.parse_args()
    spec = parse_spec(
        {
            "seeds": list(range(args.points)),
            "base": {
                "backend": "native",
                "task": {"network": args.network, "train_samples": args.samples, "test_samples": 20},
                "learning": {"epochs": 1, "alignment_every": 0},
            },
        }
    )
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        for workers in (1, 2):
            started = time.perf_counter()
            outcome = run_sweep(spec, Path(scratch) / f"workers{workers}", workers=workers, progress=False)
            seconds[workers] = time.perf_counter() - started
            assert outcome["ran"] == args.points and outcome["failed"] == 0, outcome
            print(f"{workers} worker(s): {args.points} points in {seconds[workers]:.1f} s")
    print(f"speed-up of 2 workers over 1: {seconds[1] / seconds[2]:.2f}x")


if __name__ == "__main__":
    main()
