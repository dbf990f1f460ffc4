"""Resistor-mode TCL vs memristor networks that learn inside the circuit, on one teacher task in ngspice.

Runs the same teacher task (default lattice:4x4, 100 training samples x 5 epochs, 50 held-out) once in
resistor mode (controller rewrites resistors between samples) and once per memristor model (the whole
stream simulated in ngspice, the devices programmed by their own feedback elements), then a loss-ratio vs
device-spread sweep for one model. Writes into --out: devices.csv and spread.csv (one row per run),
devices.png (held-out loss vs samples seen, all runs on one figure; loss ratio vs spread), and each run's
folder; prints the tables.

Each memristor run gets the largest learning rate whose in-cycle loop gain on the first samples stays at
--target-loop-gain (the loop is unstable at 1; the gain grows a little as states move), capped at the
resistor-mode rate. Usage: .venv/bin/python scripts/compare_devices.py [--out out/devices] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from tcl_circuits.backends.ngspice import NgspiceBackend
from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    StreamConfig,
)
from tcl_circuits.devices import ProgrammingConfig, ProgrammingMode, preset
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.memristor import learning_rate_for_loop_gain
from tcl_circuits.learning.rules import calibrate_threshold_v
from tcl_circuits.learning.run_config import MemristorConfig, RunConfig
from tcl_circuits.learning.tasks import teacher_task

# steep state equations need the driver's limit to keep the in-cycle loop gain finite (docs/memristor.md)
SATURATION = {"vteam": 3.0, "yakopcic": 3.0}


def memristor_config(task, name, lr, *, drive, cell, epochs, seed, spread, chunk):
    """``name`` is a preset, or ``<preset>:3t`` for an ideal three-terminal device (reads do not act on
    the state: read_coupling 0)."""
    name, _, variant = name.partition(":")
    read_coupling = 0.0 if variant == "3t" else 1.0
    device = preset(name)
    mode = (
        ProgrammingMode.CELL_THRESHOLD
        if device.drive_kind.value == "current"
        else ProgrammingMode.DEVICE_THRESHOLD
    )
    return RunConfig(
        device=f"memristor:{name}:{mode.value}",
        drive=drive,
        cell=cell,
        sim=SimulatorConfig(),
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=lr, epochs=epochs, seed=seed),
        memristor=MemristorConfig(
            programming=ProgrammingConfig(
                voltage_saturation=SATURATION.get(name), read_coupling=read_coupling
            ),
            stream=StreamConfig(chunk_samples=chunk),
            spread_cv=spread,
        ),
    )


def curve(folder: Path, n_train: int):
    rows = list(csv.DictReader(open(folder / "epochs.csv")))
    return [int(r["epoch"]) * n_train for r in rows], [float(r["test_loss"]) for r in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="out/devices")
    parser.add_argument("--network", default="lattice:4x4")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-samples", type=int, default=100)
    parser.add_argument("--test-samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models",
        default="vteam,vteam_symmetric,yakopcic,biolek,hp",
        help="presets; <preset>:3t reads without disturbing the state",
    )
    parser.add_argument(
        "--resistor-lr", type=float, default=5e-6, help="resistor-mode rate (the CLI default)"
    )
    parser.add_argument("--target-loop-gain", type=float, default=0.5)
    parser.add_argument("--spread-model", default="vteam_symmetric")
    parser.add_argument("--spreads", default="0,0.05,0.1,0.2")
    parser.add_argument("--chunk-samples", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="2 epochs of 40 samples (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.train_samples, args.test_samples = 2, 40, 20
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        parser.error(f"--out {out} is not empty; choose a new or empty folder (nothing is ever deleted)")
    out.mkdir(parents=True, exist_ok=True)
    task = teacher_task(
        args.network, train_samples=args.train_samples, test_samples=args.test_samples, seed=args.seed
    )
    drive = SawtoothConfig()
    n_cal = min(20, args.train_samples)
    theta = calibrate_threshold_v(task.student, task.x_train[:n_cal], task.y_train[:n_cal], drive, 5e-6)
    cell = FeedbackCellConfig(threshold_v=theta)
    rows, curves = [], {}

    def record(label, mode, folder, summary, lr):
        rows.append(
            {
                "run": label,
                "mode": mode,
                "lr_s2_per_v2": lr,
                "max_loop_gain": summary.get("max_loop_gain", ""),
                "initial_test_loss": summary["initial_test_loss"],
                "final_test_loss": summary["final_test_loss"],
                "loss_ratio": summary["loss_ratio"],
                "energy_per_update_j": summary["energy_per_update_j"]["total"],
                "feedback_energy_per_update_j": summary["energy_per_update_j"]["by_block"].get("feedback_rk"),
                "read_scale_v": summary.get("read_scale_v", 1.0),
                "seconds": summary["seconds"],
                "seconds_per_sample": summary["seconds_per_sample"],
                "edges_at_bounds": summary.get("edges_at_bounds", ""),
            }
        )
        curves[label] = curve(folder, args.train_samples)
        print(f"  {label}: loss ratio {summary['loss_ratio']:.4g} in {summary['seconds']:.0f} s", flush=True)

    print(
        f"teacher task on {args.network}: {args.epochs} x {args.train_samples} samples, theta {theta:.3g} V",
        flush=True,
    )
    config = RunConfig(
        backend=BackendKind.NGSPICE,
        drive=drive,
        cell=cell,
        sim=SimulatorConfig(),
        learning=LearningConfig(
            rule=RuleKind.TCL, learning_rate_s2_per_v2=args.resistor_lr, epochs=args.epochs, seed=args.seed
        ),
    )
    summary = train(task, config, out / "resistor", progress=False)
    record("resistor", "resistor", out / "resistor", summary, args.resistor_lr)

    rates = {}

    def run_memristor(name, spread, label, lr=None):
        probe = memristor_config(
            task,
            name,
            1e-6,
            drive=drive,
            cell=cell,
            epochs=args.epochs,
            seed=args.seed,
            spread=spread,
            chunk=args.chunk_samples,
        )
        wanted = min(
            args.resistor_lr,
            learning_rate_for_loop_gain(task, probe, cell, args.target_loop_gain, args.chunk_samples),
        )
        if lr is None:
            lr = wanted
            rates[name] = lr
        elif learning_rate_for_loop_gain(task, probe, cell, 1.0, args.chunk_samples) <= lr:
            # the spread-free rate would be refused by the loop-gain check for these devices: use theirs
            print(
                f"  {label}: loop gain >= 1 at lr {lr:.3g}; using {wanted:.3g} (loop gain {args.target_loop_gain})"
            )
            lr = wanted
        config = dataclasses.replace(
            probe, learning=dataclasses.replace(probe.learning, learning_rate_s2_per_v2=lr)
        )
        folder = out / label
        started = time.perf_counter()
        try:
            with NgspiceBackend() as backend:
                summary = train(task, config, folder, backend=backend, progress=False)
        except Exception as exc:  # a failing model is a result too: record why
            print(f"  {label}: FAILED after {time.perf_counter() - started:.0f} s: {exc}", flush=True)
            rows.append(
                {"run": label, "mode": "memristor", "lr_s2_per_v2": lr, "loss_ratio": f"failed: {exc}"[:200]}
            )
            return None
        record(label, f"memristor:{name}", folder, summary, lr)
        return summary

    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        run_memristor(name, 0.0, f"memristor_{name.replace(':', '_')}")
    # the sweep keeps the spread-free run's learning rate, so only the devices change
    if args.spread_model not in rates:
        run_memristor(args.spread_model, 0.0, f"memristor_{args.spread_model.replace(':', '_')}")
    spread_rows = []
    for spread in [float(s) for s in args.spreads.split(",")]:
        if spread == 0:
            row = next(
                (r for r in rows if r["run"] == f"memristor_{args.spread_model.replace(':', '_')}"), None
            )
            ratio = row["loss_ratio"] if row else float("nan")
        else:
            label = f"spread_{args.spread_model.replace(':', '_')}_{spread:g}"
            summary = run_memristor(args.spread_model, spread, label, lr=rates[args.spread_model])
            ratio = summary["loss_ratio"] if summary else float("nan")
        spread_rows.append({"model": args.spread_model, "spread_cv": spread, "loss_ratio": ratio})

    for name, table in (("devices.csv", rows), ("spread.csv", spread_rows)):
        keys = list(dict.fromkeys(k for row in table for k in row))
        with open(out / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(table)
    plot(out / "devices.png", curves, spread_rows, args)
    print()
    print(
        f"{'run':32s} {'lr':>9s} {'loopgain':>8s} {'final/initial':>13s} {'E/update J':>11s} {'E_fb J':>9s} {'s':>6s}"
    )
    for r in rows:
        if isinstance(r["loss_ratio"], str):
            print(f"{r['run']:32s} {r['lr_s2_per_v2']:9.3g} {r['loss_ratio']}")
            continue
        gain = f"{r['max_loop_gain']:.2f}" if r["max_loop_gain"] != "" else "-"
        print(
            f"{r['run']:32s} {r['lr_s2_per_v2']:9.3g} {gain:>8s} {r['loss_ratio']:13.4g} "
            f"{r['energy_per_update_j']:11.3g} {r['feedback_energy_per_update_j'] or 0.0:9.2g} {r['seconds']:6.0f}"
        )
    print()
    for r in spread_rows:
        print(f"spread {r['spread_cv']:4.2f} ({r['model']}): loss ratio {r['loss_ratio']}")
    print(f"\nwrote {out}/devices.csv, spread.csv, devices.png")
    return 0


def plot(path: Path, curves, spread_rows, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for label, (samples, loss) in curves.items():
        if label.startswith("spread_"):
            continue
        ax.semilogy(samples, loss, "o-" if label == "resistor" else "s--", label=label, ms=4)
    ax.set_xlabel("training samples presented")
    ax.set_ylabel("held-out loss (V$^2$)")
    ax.set_title(f"TCL on teacher:{args.network} in ngspice", fontsize=9)
    ax.legend(fontsize=7)
    xs = [r["spread_cv"] * 100 for r in spread_rows]
    ys = [r["loss_ratio"] if isinstance(r["loss_ratio"], float) else np.nan for r in spread_rows]
    bx.semilogy(xs, ys, "o-")
    bx.axhline(0.1, color="gray", lw=0.8, ls=":")
    bx.set_xlabel("device spread sigma/mu (%)")
    bx.set_ylabel("final / initial held-out loss")
    bx.set_title(f"memristor:{args.spread_model} vs device spread", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
