"""Final loss of TCL training vs the threshold placement (headroom), side by side in one run.

Shows the central design constraint of a fixed threshold: too high and the shrinking contrasts fall below
the learning window early (regime i), too low and the large early contrasts leak through the slow ramp
(regime iii). Writes a CSV and a PNG to --out.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import shutil
import tempfile
from pathlib import Path

from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.rules import calibrate_threshold_v
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import teacher_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--network", default="lattice:4x4")
    parser.add_argument("--backend", choices=[b.value for b in BackendKind], default="ngspice")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--headroom", type=float, nargs="+", default=[0.01, 0.03, 0.1, 0.2, 0.3, 0.6, 1.0, 1.5]
    )
    parser.add_argument("--tau-fall", type=float, default=9e-4)
    parser.add_argument("--out", default="out/threshold_sweep")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    task = teacher_task(args.network, train_samples=100, test_samples=50, seed=0)
    drive = SawtoothConfig(tau_fall_s=args.tau_fall)
    rows = []
    for headroom in args.headroom:
        theta = calibrate_threshold_v(
            task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6, headroom=headroom
        )
        config = RunConfig(
            backend=BackendKind(args.backend),
            drive=drive,
            cell=dataclasses.replace(FeedbackCellConfig(), threshold_v=theta),
            sim=SimulatorConfig(),
            learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=5e-6, epochs=args.epochs),
        )
        run_dir = Path(tempfile.mkdtemp())
        summary = train(task, config, run_dir, progress=False)
        shutil.rmtree(run_dir)
        rows.append(
            {
                "headroom": headroom,
                "threshold_v": theta,
                "loss_ratio": summary["loss_ratio"],
                "seconds": summary["seconds"],
            }
        )
        print(
            f"headroom {headroom:6.3f}  theta {theta:.3e} V  final/initial loss {summary['loss_ratio']:.4f}  (1/{1 / summary['loss_ratio']:.0f})"
        )
    with open(out / "threshold_sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog([r["headroom"] for r in rows], [r["loss_ratio"] for r in rows], "o-")
    ax.set_xlabel("A_max / largest initial contrast (headroom)")
    ax.set_ylabel("final / initial test loss")
    ax.set_title(
        f"TCL on {args.network}, tau_fall/tau_rise = {args.tau_fall / drive.tau_rise_s:.0f}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(out / "threshold_sweep.png", dpi=120)
    print(f"wrote {out / 'threshold_sweep.csv'} and {out / 'threshold_sweep.png'}")


if __name__ == "__main__":
    main()
