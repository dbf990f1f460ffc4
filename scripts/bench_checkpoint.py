"""Time of one training checkpoint (``RunFolder.save_checkpoint``) with the conductances as a JSON list of
numbers, as checkpoints were written before, and packed (``run_folder.pack_array``), side by side in one run.

A resistor run checkpoints every ``--checkpoint-every`` samples (25 by default); MNIST's drn:784-100-10 has
159,020 conductances, where the list form cost about 40 % of a TCL run's time.

    python scripts/bench_checkpoint.py                 # MNIST's edge count
    python scripts/bench_checkpoint.py --edges 9620    # digits
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from tcl_circuits.learning.run_folder import RunFolder, pack_array
from tcl_circuits.network import drn, from_graph


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--edges",
        type=int,
        default=None,
        help="conductances in the checkpoint (unset: MNIST's drn:784-100-10)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="checkpoints of each form, alternating")
    args = parser.parse_args()
    if args.edges is None:
        args.edges = from_graph(drn([784, 100, 10])).n_edges
    if args.edges < 1 or args.rounds < 1:
        parser.error("--edges and --rounds must be at least 1")
    conductance_s = np.random.default_rng(0).uniform(1e-6, 1e-3, args.edges)
    forms = {"list": lambda: conductance_s.tolist(), "packed": lambda: pack_array(conductance_s)}
    seconds: dict[str, list[float]] = {name: [] for name in forms}
    with tempfile.TemporaryDirectory() as scratch:
        with RunFolder(scratch, {"bench": "checkpoint"}, resume=False) as folder:
            folder.start_records()
            for _ in range(args.rounds):
                for name, state in forms.items():
                    started = time.perf_counter()
                    folder.save_checkpoint({"learner": {"conductance_s": state()}})
                    seconds[name].append(time.perf_counter() - started)
    old, new = (statistics.median(seconds[name]) for name in ("list", "packed"))
    print(f"{args.edges:,} conductances, median of {args.rounds} checkpoints each")
    print(f"list:   {old * 1e3:8.1f} ms")
    print(f"packed: {new * 1e3:8.1f} ms")
    print(f"ratio:  {old / new:8.1f}x")


if __name__ == "__main__":
    main()
