"""TCL vs explicit contrastive vs exact gradient on the same network and data, side by side in one run.

Prints a table (final/initial held-out loss, seconds, energy per sample) and writes CSV + one figure with
the three learning curves to --out.
"""

from __future__ import annotations

import argparse
import csv
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
    parser.add_argument("--train-samples", type=int, default=100)
    parser.add_argument("--lr", type=float, default=5e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/rules")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    task = teacher_task(args.network, train_samples=args.train_samples, test_samples=50, seed=args.seed)
    drive = SawtoothConfig()
    theta = calibrate_threshold_v(task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6)
    rows, curves = [], {}
    for rule in RuleKind:
        config = RunConfig(
            backend=BackendKind(args.backend),
            drive=drive,
            cell=FeedbackCellConfig(threshold_v=theta),
            sim=SimulatorConfig(),
            learning=LearningConfig(
                rule=rule, learning_rate_s2_per_v2=args.lr, epochs=args.epochs, seed=args.seed
            ),
        )
        run_dir = Path(tempfile.mkdtemp())
        summary = train(task, config, run_dir, progress=False)
        curves[rule.value] = list(csv.DictReader((run_dir / "epochs.csv").read_text().splitlines()))
        shutil.rmtree(run_dir)
        rows.append(
            {
                "rule": rule.value,
                "backend": args.backend if rule is not RuleKind.GRADIENT else "adjoint (numpy)",
                "final_over_initial": summary["loss_ratio"],
                "seconds": summary["seconds"],
                "energy_per_sample_j": summary["energy_per_sample_j"],
            }
        )
    print(f"{'rule':12s} {'backend':16s} {'final/initial':>14s} {'seconds':>8s} {'J/sample':>10s}")
    for r in rows:
        print(
            f"{r['rule']:12s} {r['backend']:16s} {r['final_over_initial']:14.5f} {r['seconds']:8.1f} "
            f"{r['energy_per_sample_j']:10.3e}"
        )
    with open(out / "rules.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for rule, curve in curves.items():
        ax.semilogy(
            [int(r["epoch"]) for r in curve], [float(r["test_loss"]) for r in curve], "o-", label=rule
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out loss (V$^2$)")
    ax.set_title(f"teacher task on {args.network}, same data and step size", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "rules.png", dpi=120)
    print(f"wrote {out / 'rules.csv'} and {out / 'rules.png'}")


if __name__ == "__main__":
    main()
