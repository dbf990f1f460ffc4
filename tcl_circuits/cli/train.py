"""``tcl-circuits train`` and ``demo``: the run config from a --config file, --tech and the flags; the run with its
estimate first and its one-line result last."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tcl_circuits.cli.output import load_config_file, print_json
from tcl_circuits.units import format_si

DEMO_DIR = Path("runs")


def _run(config: Any, out: str, *, resume: bool, progress: bool) -> dict:
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.preflight import check_fits
    from tcl_circuits.learning.tasks import make_task

    task = make_task(config.task, config.learning.seed)
    found = check_fits(config, task)
    if found.seconds > 60:
        print(f"estimate: {found.describe()}", file=sys.stderr)
    return train(task, config, out, resume=resume, progress=progress)


def technology_arguments(group: Any, what: str) -> None:
    """--tech, --comparator and --r-k-type (train: what the technology switches on; feasibility: the
    technology a design is judged in)."""
    from tcl_circuits.technology.model import COMPARATOR_KINDS

    group.add_argument(
        "--tech",
        metavar="PROCESS+DEVICE",
        help=f"presets (cmos180, cmos65; reram, ecram, hfo2_array, ideal) or TOML files, e.g. cmos65+reram: {what} "
        "(default: none)",
    )
    group.add_argument(
        "--comparator",
        choices=COMPARATOR_KINDS,
        default="auto_zeroed",
        help="with --tech: the threshold comparison's kind, whose offset spread applies (default: auto_zeroed)",
    )
    group.add_argument(
        "--r-k-type",
        default="metal",
        metavar="TYPE",
        help="with --tech: R_K's resistor type in the process (poly, metal, mos), whose 1/f corner applies "
        "(default: metal)",
    )


def train_config(args: argparse.Namespace, options: list) -> Any:
    """train's run config: the --config file's (or the defaults), the --design file's settings over it, --tech's
    non-idealities, then the flags given, validated."""
    from tcl_circuits.cli.design import with_design
    from tcl_circuits.cli.options import apply_options
    from tcl_circuits.learning.run_config import RunConfig

    base = with_design(load_config_file(args.config) if args.config else RunConfig(), args)
    if getattr(args, "tech", None) is not None:  # an empty --tech is refused, not ignored
        base = _with_technology(base, args, options)
    return apply_options(base, args, options)


def _with_technology(base: Any, args: argparse.Namespace, options: list) -> Any:
    """The config with every non-ideality of --tech on (learning.hardware), on the network the flags name;
    flags given beside --tech still override it. What the technology leaves out goes to ``args.tech_note``."""
    from tcl_circuits.cli.options import apply_options
    from tcl_circuits.learning.hardware import with_technology
    from tcl_circuits.learning.tasks import make_task
    from tcl_circuits.technology.model import technology

    tech = technology(args.tech)
    asked = apply_options(base, args, options)
    nonlinear = make_task(asked.task, asked.learning.seed).student.nonlinear
    applied = with_technology(
        base, tech, comparator=args.comparator, resistor=args.r_k_type, nonlinear=nonlinear
    )
    args.tech_note = (
        f"--tech {tech.name} leaves out: {'; '.join(applied.left_out)}" if applied.left_out else ""
    )
    return applied.config


def result_line(summary: dict, out: str) -> str:
    """A finished run in one line: rule, task, loss ratio, accuracy where classified, stalls, the energy of
    an update per edge, time, folder."""
    if summary.get("stopped"):
        return (
            f"stopped at epoch {summary['epoch']}, sample {summary['position']}: {out} (resume with --resume)"
        )
    ratio = summary.get("loss_ratio")
    parts = [
        f"{summary['rule']} on {summary['task']}: held-out loss {summary['initial_test_loss']:.3g} -> "
        f"{summary['final_test_loss']:.3g} {summary['loss_units'].split()[0]}"
        + (f" (1/{1 / ratio:.3g})" if ratio else "")
    ]
    if summary.get("final_test_accuracy") is not None:
        parts.append(f"held-out accuracy {100 * summary['final_test_accuracy']:.2f} %")
    if summary.get("stalled_epochs"):
        parts.append(f"stalled in epoch(s) {', '.join(map(str, summary['stalled_epochs']))}")
    energy = energy_line(summary)
    if energy:
        parts.append(energy)
    parts.append(f"{summary['samples']} samples in {summary['seconds']:.1f} s")
    return "; ".join(parts) + f"; {out}"


def energy_line(summary: dict) -> str:
    """The energy of an update per edge and its time, as a person reads them (``137 nJ per edge per update
    of 910 us``), naming the blocks left unpriced; empty for a summary without a bill (an older run's)."""
    bill = summary.get("energy_per_update_j")
    if not isinstance(bill, dict):
        return ""
    line = f"{format_si(bill['per_edge'], 'J')} per edge per update"
    if summary.get("time_per_update_s"):
        line += f" of {format_si(summary['time_per_update_s'], 's')}"
    if bill.get("unpriced"):
        line += f" (without {', '.join(bill['unpriced'])}: no --tech)"
    return line


def cmd_train(args: argparse.Namespace, options: list) -> int:
    config = train_config(args, options)
    if getattr(args, "tech_note", ""):
        print(args.tech_note, file=sys.stderr)
    summary = _run(config, args.out, resume=args.resume, progress=not args.no_progress)
    print_json(summary)
    print(result_line(summary, args.out), file=sys.stderr)
    return 0


def demo_config() -> Any:
    """The demo's run: the 4x4 lattice teacher task, TCL, every cycle in ngspice, default protocol but for a
    window whose top sits at the largest initial contrasts (headroom 1) and a step of 1e-5: the edges stay in
    the window through all five epochs (the teacher tasks' headroom of 20 leaves it empty from epoch 4 on)."""
    from tcl_circuits.config import BackendKind, LearningConfig, RuleKind
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig

    defaults = RunConfig()
    return RunConfig(
        task=TaskConfig(network="lattice:4x4", train_samples=100, test_samples=50),
        backend=BackendKind.NGSPICE,
        cell=defaults.cell.replace(threshold_headroom=1.0),
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=1e-5, epochs=5),
    )


def cmd_demo(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits.cli.options import apply_options

    config = apply_options(demo_config(), args, options)
    out = args.out if args.out is not None else str(DEMO_DIR / time.strftime("demo-%Y%m%d-%H%M%S"))
    print("TCL demo: a 4x4 resistor lattice learns a teacher network in ngspice, sample by sample")
    summary = _run(config, out, resume=args.resume, progress=True)
    print(
        f"\ntest loss {summary['initial_test_loss']:.3e} -> {summary['final_test_loss']:.3e} V^2 "
        f"(ratio 1/{1 / summary['loss_ratio']:.1f}) in {summary['seconds']:.1f} s, "
        f"{summary['samples']} samples, {energy_line(summary)}"
    )
    print(f"run folder: {out} (summary.json, epochs.csv, samples.csv, learning_curve.png, first_sample.cir)")
    return 0


def option_sections() -> tuple[Any, ...]:
    """The headings of ``train --help``, the common ones first; a setting added to a config lands under its
    config's own heading until it is given one here."""
    from tcl_circuits.cli.options import Section

    return (
        Section(
            "run folder and output",
            ("learning.checkpoint_every", "learning.alignment_every"),
            "where the run is written and what it records",
        ),
        Section("task and data", ("task.*", "device"), "what is learned, on which network and samples"),
        Section(
            "learning", ("learning.*", "window.*"), "the rule, its step size and epochs, window remedies"
        ),
        Section("protocol (sawtooth)", ("drive.*",), "the clamp ramps of one TCL cycle"),
        Section("feedback cell", ("cell.*",), "the per-edge cell: squarer, C_K/R_K, threshold, accumulator"),
        Section(
            "hardware non-idealities",
            (
                "cell.spread_*",
                "cell.threshold_offset_v",
                "cell.noise_*",
                "sim.network_noise_*",
                "write.*",
                "memristor.programming.rate_asymmetry",
            ),
            "mismatch, offsets, noise and the write stage (docs/feasibility.md)",
        ),
        Section(
            "analog cell",
            ("cell.analog.*",),
            "--cell analog (ngspice): multiplier, threshold stage and op-amp integrator on rails of their own",
        ),
        Section("simulator", ("backend", "sim.*"), "engine, time steps, tolerances, limits"),
        Section(
            "memristor devices",
            ("memristor.*",),
            "--device memristor:...: device spread, programming port, sample stream",
        ),
    )
