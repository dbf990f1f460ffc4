"""Time a noisy TCL training cycle against a noiseless one on the native engine, side by side in one run.

Per network (a teacher task's student lattice, the drive and tau_K of ``tcl-circuits train``, the threshold
calibrated on its samples), cycles alternate between

  quiet   no noise: ``TclRule.update`` (compile, NativeBackend.run, the update and its energy bill)
  noisy   the same with thermal noise of every R_K (``--noise-temperature``) and of every network resistor
          (``--network-noise-temperature``), each cycle drawing its own seed, as a run does

and each column is the median per cycle after one untimed warm-up cycle of each (compiled loops loaded).
``ratio`` is noisy / quiet of the medians, ``pair`` the median of noisy / quiet over back-to-back pairs
(less affected by a changing load on a shared machine). ``draw`` is the time of drawing the cycle's noise
samples alone (``CellNoise.samples`` and ``NetworkNoise.samples``: one normal per resistor per knot, the
knots tau_K / 10 apart), part of every noisy cycle whatever the engine does with them; ``floor`` is
(quiet + draw) / quiet, the least ratio those samples allow.

Usage: PYTHONPATH=. .venv/bin/python scripts/bench_noise.py [--quick] [--cycles 9]
       [--networks lattice:8x8,lattice:16x16] [--noise-temperature 300] [--network-noise-temperature 300]
       [--design FILE]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.circuit.noise import CellNoise, NetworkNoise
from tcl_circuits.config import SimulatorConfig
from tcl_circuits.learning.design_file import load_design
from tcl_circuits.learning.rules import Cycle, TclRule, calibrate_threshold_v
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import teacher_task

NETWORKS = "lattice:8x8,lattice:16x16"


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def bench_network(
    description: str, cycles: int, cell_k: float, network_k: float, defaults: RunConfig | None = None
) -> dict:
    """Median per-cycle times of quiet and noisy training cycles on one network (see the module docstring);
    ``defaults``: the drive and cell (a design's), else train's."""
    task = teacher_task(description, train_samples=max(cycles, 20), test_samples=1, seed=0)
    spec = task.student
    defaults = RunConfig() if defaults is None else defaults
    drive = defaults.drive
    theta_v = calibrate_threshold_v(
        spec,
        task.x_train,
        task.y_train,
        drive,
        defaults.cell.tau_k_s,
        headroom=defaults.cell.threshold_headroom or 0.4,
        signal_gain=defaults.cell.signal_gain,
    )
    quiet_cell = defaults.cell.replace(threshold_v=theta_v, threshold_headroom=None)
    noisy_cell = quiet_cell.replace(noise_temperature_k=cell_k)
    noisy_sim = SimulatorConfig(network_noise_temperature_k=network_k)
    quiet = TclRule(NativeBackend(), drive, quiet_cell, SimulatorConfig(), 1e-7)
    noisy = TclRule(NativeBackend(), drive, noisy_cell, noisy_sim, 1e-7)

    def sample(rule: TclRule, k: int) -> float:
        """One cycle; its time points."""
        x, y = task.x_train[k % len(task.x_train)], task.y_train[k % len(task.x_train)]
        return float(rule.update(spec, x, y, Cycle(noise_seed=(k,))).time_points)

    def draw(k: int) -> None:
        x, y = task.x_train[0], task.y_train[0]
        circuit = compile_tcl(
            spec, drive=drive, cell=noisy_cell, sim=noisy_sim, inputs_v=x, targets_v=y, noise_seed=(k,)
        )
        for noise in circuit.of_type(CellNoise) + circuit.of_type(NetworkNoise):
            noise.samples()

    row: dict = {"network": description, "edges": spec.n_edges}
    row["points_quiet"] = int(sample(quiet, 0))  # warm-up: the compiled loops load
    row["points_noisy"] = int(sample(noisy, 0))
    times: dict[str, list[float]] = {"quiet_s": [], "noisy_s": [], "draw_s": []}
    for k in range(1, cycles + 1):
        times["quiet_s"].append(timed(lambda k=k: sample(quiet, k)))
        times["noisy_s"].append(timed(lambda k=k: sample(noisy, k)))
        times["draw_s"].append(timed(lambda k=k: draw(k)))
    row.update({name: float(np.median(values)) for name, values in times.items()})
    row["ratio"] = row["noisy_s"] / row["quiet_s"]
    row["pair"] = float(np.median(np.divide(times["noisy_s"], times["quiet_s"])))
    row["floor"] = (row["quiet_s"] + row["draw_s"]) / row["quiet_s"]
    return row


HEADER = (
    f"{'network':<15}{'edges':>7}{'T quiet':>9}{'T noisy':>9}{'quiet ms':>10}{'noisy ms':>10}"
    f"{'draw ms':>9}{'ratio':>8}{'pair':>8}{'floor':>8}"
)


def line(r: dict) -> str:
    """One network's row of the table under HEADER (times in ms per cycle)."""
    return (
        f"{r['network']:<15}{r['edges']:>7}{r['points_quiet']:>9}{r['points_noisy']:>9}"
        f"{1e3 * r['quiet_s']:>10.2f}{1e3 * r['noisy_s']:>10.1f}{1e3 * r['draw_s']:>9.1f}"
        f"{r['ratio']:>8.1f}{r['pair']:>8.1f}{r['floor']:>8.1f}"
    )


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="lattice:8x8 only, 2 cycles (a short check)")
    parser.add_argument(
        "--networks", default=NETWORKS, help=f"comma-separated network descriptions (default: {NETWORKS})"
    )
    parser.add_argument(
        "--cycles", type=int, default=9, help="timed cycles of each kind per network (default: 9)"
    )
    parser.add_argument(
        "--noise-temperature", type=float, default=300.0, help="R_K noise temperature [K] (default: 300)"
    )
    parser.add_argument(
        "--network-noise-temperature",
        type=float,
        default=300.0,
        help="network resistors' noise temperature [K] (default: 300)",
    )
    parser.add_argument(
        "--design",
        metavar="FILE",
        help="a design file (tcl-circuits design's recommended.toml): its drive and cell (default: train's)",
    )
    args = parser.parse_args(argv)
    defaults = load_design(args.design).apply(RunConfig()) if args.design else None
    networks, cycles = args.networks.split(","), args.cycles
    if args.quick:
        networks, cycles = ["lattice:8x8"], 2
    if cycles < 1 or not args.noise_temperature > 0 or not args.network_noise_temperature > 0:
        parser.error("--cycles must be >= 1 and the noise temperatures > 0")
    print(HEADER, flush=True)
    rows = []
    for description in networks:
        rows.append(
            bench_network(
                description, cycles, args.noise_temperature, args.network_noise_temperature, defaults
            )
        )
        print(line(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
