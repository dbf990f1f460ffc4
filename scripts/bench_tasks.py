"""Time per sample and per epoch of every task, side by side in one run: TCL on the native engine (and, for
the small DRN, in ngspice), explicit contrastive on the native engine, and where the time of a TCL sample
goes (the network's states over the cycle, the cells, and the controller: compiling the sample's circuit,
reading the updates, energies).

    python scripts/bench_tasks.py                # all tasks
    python scripts/bench_tasks.py --tasks mnist --samples 40
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tcl_circuits.backends import open_backend
from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.ir import Circuit
from tcl_circuits.config import BackendKind
from tcl_circuits.learning.resistor import ResistorLearner
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.learning.tasks import make_task

TASKS = {
    "teacher": {"task": "teacher", "network": "lattice:16x16", "train_samples": 500, "test_samples": 100},
    "iris": {"task": "iris"},
    "digits": {"task": "digits"},
    "mnist": {"task": "mnist", "train_samples": 8000, "test_samples": 2000},
}
NGSPICE_TASKS = ("iris",)
"""Tasks small enough to time in ngspice too (drn:4-16-3: 244 cells)."""


class TimedBackend:
    """A backend that keeps each run's wall time and the engine's own split of it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds: list[float] = []
        self.network: list[float] = []
        self.cells: list[float] = []

    def run(self, circuit: Circuit) -> SimResult:
        started = time.perf_counter()
        result = self.inner.run(circuit)
        self.seconds.append(time.perf_counter() - started)
        self.network.append(result.stats.get("seconds_network", np.nan))
        self.cells.append(result.stats.get("seconds_cells", np.nan))
        return result

    def close(self) -> None:
        self.inner.close()


def _time(task, config: RunConfig, kind: BackendKind, samples: int) -> dict[str, float]:
    with open_backend(kind, config.sim) as inner:
        backend = TimedBackend(inner)
        learner = ResistorLearner(task, config, backend=backend)  # type: ignore[arg-type]
        try:
            learner.step(task.x_train[:1], task.y_train[:1])  # warm-up: compilation, caches
            backend.seconds.clear(), backend.network.clear(), backend.cells.clear()
            picked = np.arange(1, 1 + samples) % len(task.x_train)
            started = time.perf_counter()
            learner.step(task.x_train[picked], task.y_train[picked])
            total = (time.perf_counter() - started) / samples
        finally:
            learner.close()
    simulate = float(np.mean(backend.seconds)) if backend.seconds else 0.0
    return {
        "per_sample_s": total,
        "network_s": float(np.mean(backend.network)) if backend.network else np.nan,  # NaN: not reported
        "cells_s": float(np.mean(backend.cells)) if backend.cells else np.nan,
        "simulator_s": simulate,
        "controller_s": total - simulate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--samples", type=int, default=30, help="timed samples per task and engine")
    parser.add_argument("--ngspice-samples", type=int, default=5, help="timed samples in ngspice")
    args = parser.parse_args()
    if args.samples < 1 or args.ngspice_samples < 1:
        parser.exit(2, "bench_tasks.py: error: --samples and --ngspice-samples must be positive\n")
    rows = []
    for name in args.tasks:
        base = with_changes(RunConfig(), {"task": TASKS[name], "learning": {"alignment_every": 0}})
        task = make_task(base.task, 0)
        per_epoch = len(task.x_train)
        runs = [("tcl", BackendKind.NATIVE, args.samples), ("contrastive", BackendKind.NATIVE, args.samples)]
        if name in NGSPICE_TASKS:
            runs.append(("tcl", BackendKind.NGSPICE, args.ngspice_samples))
        for rule, kind, samples in runs:
            config = with_changes(base, {"learning": {"rule": rule}, "backend": kind.value})
            timing = _time(task, config, kind, samples)
            rows.append(
                {"task": task.name, "rule": rule, "engine": kind.value, "per_epoch": per_epoch, **timing}
            )
            print(
                f"  {task.name} {rule} {kind.value}: {1e3 * timing['per_sample_s']:.1f} ms/sample", flush=True
            )
    print(
        f"\n{'task':26s} {'rule':12s} {'engine':8s} {'ms/sample':>10s} {'min/epoch':>10s} "
        f"{'network':>8s} {'cells':>8s} {'control':>8s}  (shares of a sample's time)"
    )
    for r in rows:
        t = r["per_sample_s"]
        shares = [r["network_s"] / t, r["cells_s"] / t, r["controller_s"] / t]
        if r["rule"] != "tcl" or r["engine"] != "native":
            shares[:2] = [np.nan, np.nan]
        print(
            f"{r['task']:26s} {r['rule']:12s} {r['engine']:8s} {1e3 * t:10.1f} {t * r['per_epoch'] / 60:10.2f} "
            + " ".join(f"{s:8.0%}" if np.isfinite(s) else f"{'-':>8s}" for s in shares)
        )
    native = {(r["task"], r["rule"]): r for r in rows if r["engine"] == "native"}
    for r in rows:
        if r["engine"] == "ngspice":
            ratio = r["per_sample_s"] / native[(r["task"], r["rule"])]["per_sample_s"]
            print(f"{r['task']}: ngspice takes {ratio:.0f}x the native engine's time per TCL sample")


if __name__ == "__main__":
    main()
