"""Speed of a design search on 1 and on 2 worker processes, measured side by side in one run.

The same small search (a 4x4 lattice teacher task, 600 samples, 24 trials of NSGA-II) runs into two fresh
folders, one worker first (trials in this process), then two (a Dask LocalCluster, its start included).
The process is a lenient one written for the bench (no noise to speak of, any capacitor, no offset) and the
knobs are narrowed around today's defaults, so that every trial passes the hard constraints and trains twice:
the bench measures how the trials share the workers, not how fast an infeasible design is turned away.
Prints both wall times and their ratio, and for each the trials' own training time over the wall time (how
many trainings ran at once on average). Run it on an otherwise idle machine: the ratio is only as good as the
cores are free.

    python scripts/bench_design.py
    python scripts/bench_design.py --trials 8 --samples 100
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from tcl_circuits.config import BackendKind, LearningConfig
from tcl_circuits.learning.design_file import Knob
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig
from tcl_circuits.studies.design_search import run_design
from tcl_circuits.studies.design_trial import Problem

LENIENT_CMOS = """kind = "cmos"
name = "lenient"
description = "a bench process that any reasonable design satisfies"
temperature_k = { value = 1e-3, source = "bench" }
supply_v = { value = 5.0, source = "bench" }
capacitor_density_f_per_m2 = { value = 1.0, source = "bench" }
max_capacitance_per_cell_f = { value = 1e-6, source = "bench" }
ota_gm_over_id_per_v = { value = 40.0, source = "bench" }
multiplier_power_per_hz_w = { value = 0.0, source = "bench" }
adc_energy_per_step_j = { value = 1e-15, source = "bench" }
adc_bits = { value = 8, source = "bench" }
[resistor.metal]
flicker_corner_hz = { value = 0.0, source = "bench" }
[comparator.latch]
offset_sigma_v = { value = 0.0, source = "bench" }
energy_per_decision_j = { value = 1e-14, source = "bench" }
[comparator.offset_stored]
offset_sigma_v = { value = 0.0, source = "bench" }
energy_per_decision_j = { value = 1e-14, source = "bench" }
[comparator.auto_zeroed]
offset_sigma_v = { value = 0.0, source = "bench" }
energy_per_decision_j = { value = 1e-14, source = "bench" }
[mismatch]
r_k = { value = 0.0, source = "bench" }
c_k = { value = 0.0, source = "bench" }
gain = { value = 0.0, source = "bench" }
clamp = { value = 0.0, source = "bench" }
"""

KNOBS = (
    Knob("drive.tau_rise_s", 1e-5, 2e-5),
    Knob("drive.tau_fall_s", 1.2e-4, 2e-4),
    Knob("drive.beta_max", 0.4, 0.6),
    Knob("cell.tau_k_s", 1e-6, 2e-6),
    Knob("cell.threshold_headroom", 0.8, 2.0),
    Knob("cell.analog.threshold_quiescent_a", 1e-5, 2e-5),
    Knob("cell.analog.integrator_quiescent_a", 5e-5, 1e-4),
    Knob("cell.analog.integrator_r_ohm", 1e6, 1e7),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24, help="trials of each search (default: 24)")
    parser.add_argument("--samples", type=int, default=600, help="training samples per run (default: 600)")
    args = parser.parse_args()
    base = RunConfig(
        task=TaskConfig(network="lattice:4x4", train_samples=args.samples, test_samples=6),
        backend=BackendKind.NATIVE,
        learning=LearningConfig(learning_rate_s2_per_v2=None, epochs=1),
    )
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        process = Path(scratch) / "lenient.toml"
        process.write_text(LENIENT_CMOS)
        problem = Problem(base=base, tech=f"{process}+ideal")
        for workers in (1, 2):
            started = time.perf_counter()
            outcome = run_design(
                problem,
                Path(scratch) / f"workers{workers}",
                trials=args.trials,
                workers=workers,
                progress=False,
                knobs=KNOBS,
            )
            seconds[workers] = time.perf_counter() - started
            counts = {k: outcome[k] for k in ("feasible", "infeasible", "failed")}
            with open(outcome["files"]["trials"]) as table:
                training = sum(float(row["seconds"] or 0) for row in csv.DictReader(table))
            print(
                f"{workers} worker(s): {args.trials} trials {counts} in {seconds[workers]:.1f} s; trainings "
                f"{training:.1f} s, {training / seconds[workers]:.2f} at once"
            )
    print(f"speed-up of 2 workers over 1: {seconds[1] / seconds[2]:.2f}x")


if __name__ == "__main__":
    main()
