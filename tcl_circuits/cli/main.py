"""The ``tcl-circuits`` command: compile netlists, train, compare learning rules, run the demo, kernels,
example decks. Options are generated from the config dataclasses (``cli.options``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tcl_circuits.cli.design import add_design_command, add_design_option, with_design
from tcl_circuits.cli.output import print_json
from tcl_circuits.cli.studies import (
    cmd_feasibility,
    cmd_sweep,
    dask_options,
    feasibility_run_config,
    sweep_spec,
)
from tcl_circuits.cli.train import (
    cmd_demo,
    cmd_train,
    demo_config,
    option_sections,
    technology_arguments,
    train_config,
)
from tcl_circuits.errors import ConfigError, TclCircuitsError

# --- train -----------------------------------------------------------------------------------------------


# --- compile, compare, netlists --------------------------------------------------------------------------


def circuit_config(args: argparse.Namespace, options: list) -> Any:
    """The run config of compile and compare: the defaults (compile: with its --design file's settings) with
    the flags applied, ramps in learning order."""
    from tcl_circuits.cli.options import apply_options
    from tcl_circuits.learning.run_config import RunConfig

    config = apply_options(with_design(RunConfig(), args), args, options)
    config.drive.check_learning_order()
    return config


def output_file(output: str, force: bool, example: str) -> Path | None:
    """The -o file (None: standard output), refused when it is a folder, lies in a missing one, or exists
    without --force: a command never replaces a file it was not told to."""
    out = None if output == "-" else Path(output)
    if out is not None:
        if out.is_dir():
            raise ConfigError(f"-o {out} is a folder; give a file name such as {out / example}")
        if out.exists() and not force:
            raise ConfigError(f"-o {out} exists; add --force to replace it")
        if not out.parent.is_dir():
            raise ConfigError(f"-o {out}: the folder {out.parent} does not exist")
    return out


def write_output(out: Path | None, data: str | bytes) -> None:
    """Write to the -o file atomically, or to standard output."""
    from tcl_circuits.files import write_bytes_atomic

    if out is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    try:
        write_bytes_atomic(out, data.encode() if isinstance(data, str) else data)
    except OSError as error:
        raise ConfigError(f"-o {out}: cannot write it ({error.strerror})") from None


def cmd_compile(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits.examples import cycle_netlist

    config = circuit_config(args, options)
    out = output_file(args.output, args.force, "cycle.cir")
    deck = cycle_netlist(
        args.graph,
        seed=config.learning.seed,
        drive=config.drive,
        cell=config.cell,
        sim=config.sim,
        device=config.device,
        dialect=args.dialect,
    )
    if deck.placement:
        print(deck.placement, file=sys.stderr)
    write_output(out, deck.text)
    if out is not None:
        print(f"wrote {out}: {deck.edges} learning edges, threshold {deck.cell.theta_v:.4g} V")
    return 0


# --- a run's network out: export, plot-cycle -------------------------------------------------------------


def check_sample(args: argparse.Namespace) -> argparse.Namespace:
    """export's and plot-cycle's flags, checked without reading the run (parse_command)."""
    if args.sample < 0:
        raise ConfigError(f"--sample must be >= 0, got {args.sample}")
    if getattr(args, "edges", None) is not None:
        from tcl_circuits.learning.cycle_plot import parse_edges

        parse_edges(args.edges, n_edges=sys.maxsize)
    return args


def cmd_export(args: argparse.Namespace) -> int:
    from tcl_circuits.learning.export import ExportFormat, export_run
    from tcl_circuits.learning.saved_run import open_run

    check_sample(args)
    kind = ExportFormat(args.format)
    out = output_file(args.output, args.force, f"network.{kind.value}")
    run = open_run(args.run_dir)
    write_output(out, export_run(run, kind, checkpoint=args.checkpoint, sample=args.sample))
    if out is not None:
        state = "its last checkpoint's" if args.checkpoint else "final"
        print(
            f"wrote {out}: the network of {args.run_dir} at {state} conductances, {run.task.student.n_edges} edges"
        )
    return 0


def cmd_plot_cycle(args: argparse.Namespace) -> int:
    from tcl_circuits.learning.cycle_plot import parse_edges, plot_cycle
    from tcl_circuits.learning.saved_run import open_run

    check_sample(args)
    output = args.output or f"{Path(args.run_dir).resolve().name}-cycle-sample{args.sample}.png"
    if output == "-":
        raise ConfigError("-o -: a figure needs a file (such as cycle.png)")
    out = output_file(output, args.force, "cycle.png")
    run = open_run(args.run_dir)
    run.sample(args.sample)
    edges = parse_edges(args.edges, run.task.student.n_edges)
    image, contrasts = plot_cycle(run, edges, sample=args.sample)
    write_output(out, image)
    shown = ", ".join(f"edge {e} {c:.3g} V^2" for e, c in contrasts.items())
    print(f"wrote {out}: one cycle on training sample {args.sample}; contrasts s_clamped - s_free: {shown}")
    return 0


def cmd_compare(args: argparse.Namespace, options: list) -> int:
    import numpy as np

    from tcl_circuits.backends import open_backend
    from tcl_circuits.learning.compare import compare_updates
    from tcl_circuits.learning.rules import calibrate_cell
    from tcl_circuits.learning.tasks import teacher_task

    config = circuit_config(args, options)
    task = teacher_task(config.task.network, train_samples=20, test_samples=1, seed=config.learning.seed)
    # 'auto' places the window over this sample's own contrasts: the comparison is about the linear regime
    cell = config.cell if config.cell.threshold_v is not None else config.cell.replace(threshold_headroom=1.5)
    cell = calibrate_cell(cell, task.student, task.x_test[:1], task.y_test[:1], config.drive)
    with open_backend(args.backend_choice, config.sim) as backend:
        result = compare_updates(
            task.student,
            task.x_test[0],
            task.y_test[0],
            backend=backend,
            drive=config.drive,
            cell=cell,
            sim=config.sim,
        )
    if args.json:
        print_json({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in result.items()})
        return 0
    print(
        f"held-out sample of teacher task on {config.task.network} (seed {config.learning.seed}), {task.student.n_edges} edges"
    )
    for key in (
        "cos_tcl_contrastive",
        "cos_tcl_gradient",
        "cos_contrastive_gradient",
        "tcl_over_contrastive_norm",
    ):
        print(f"  {key:28s} {result[key]: .4f}")
    print(
        f"  edges below/in/above window {result['frac_below']:.2f} / {result['frac_window']:.2f} / {result['frac_above']:.2f}"
    )
    return 0


def netlists_dir(args: argparse.Namespace) -> Path:
    """The folder of reviewed decks that netlists regenerate/check works on (it must exist)."""
    from tcl_circuits import examples

    directory = Path(args.dir) if args.dir else examples.NETLISTS_DIR
    if not directory.is_dir():
        raise ConfigError(f"--dir {directory} is not a folder (the netlists/ folder of a source checkout)")
    return directory


def cmd_netlists(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits import examples

    directory = netlists_dir(args)
    if args.netlists_command == "regenerate":
        for path in examples.regenerate(directory):
            print(f"wrote {path}")
        return 0
    differences = examples.check(directory)
    for name, difference in differences.items():
        print(f"{name}: {difference}")
    if differences:
        print("regenerate with: tcl-circuits netlists regenerate (then review the diff)")
        return 1
    print(f"all {len(examples.GENERATED)} generated decks in {directory} match the code")
    return 0


# --- the parser ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from tcl_circuits.cli.kernel import add_kernel_commands
    from tcl_circuits.cli.options import (
        Parser,
        add_config_options,
        apply_options,
        choice_metavar,
        number_type,
        parse_setting,
        quantity_type,
    )
    from tcl_circuits.config import (
        BackendKind,
        LearningConfig,
        SimulatorConfig,
    )
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig
    from tcl_circuits.spice.syntax import Dialect
    from tcl_circuits.studies.sweep import METRICS

    parser = Parser(prog="tcl-circuits", description=__doc__)
    defaults = RunConfig()
    train_sections = option_sections()
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def seed(p: argparse.ArgumentParser) -> list:
        return add_config_options(p, LearningConfig(), title="run", root=("learning",), only={"seed"})

    def circuit_options(p: argparse.ArgumentParser) -> list:
        """Protocol and cell options (compile, compare), rooted in a RunConfig."""
        return (
            seed(p)
            + add_config_options(p, defaults.drive, title="protocol", root=("drive",))
            + add_config_options(p, defaults.cell, title="feedback cell", root=("cell",))
            + add_config_options(
                p, SimulatorConfig(), title="network", root=("sim",), only={"node_capacitance_f"}
            )
        )

    p = sub.add_parser(
        "train",
        help="train a network sample by sample",
        usage="%(prog)s --out OUT [--resume] [--config FILE] [option ...]",
        description="Train a network sample by sample into a run folder. Options by heading, the common ones "
        "first; an option not given keeps its default (or the --config file's value).",
    )
    run_folder = p.add_argument_group(train_sections[0].title, train_sections[0].description)
    run_folder.add_argument(
        "--out", required=True, help="run folder: new or empty, or this run's folder with --resume"
    )
    run_folder.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    run_folder.add_argument(
        "--config",
        metavar="FILE",
        help="start from a saved run config (a run's config.json, JSON or TOML); flags override it",
    )
    add_design_option(run_folder)
    run_folder.add_argument("--no-progress", action="store_true", help="no progress bar")
    train_options = add_config_options(p, RunConfig(), sections=train_sections)
    technology_arguments(
        p.add_argument_group(
            "technology", "every non-ideality a process and a device imply, at once (docs/feasibility.md)"
        ),
        "R_K's and the network's thermal noise, R_K's 1/f corner, the comparator's offset, the cells' and "
        "clamps' mismatch, the device's range spread, levels, asymmetry, write spread and dead devices; flags "
        "given beside it override it",
    )
    p.set_defaults(
        run=lambda args: cmd_train(args, train_options),
        resolve=lambda args: train_config(args, train_options),
    )

    p = sub.add_parser("demo", help="the demo: TCL on a 4x4 lattice teacher task in ngspice")
    p.add_argument("--out", help="run folder (default: a new runs/demo-<date>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the demo run in --out")
    demo_options = seed(p) + add_config_options(p, demo_config().drive, title="protocol", root=("drive",))
    p.set_defaults(
        run=lambda args: cmd_demo(args, demo_options),
        resolve=lambda args: apply_options(demo_config(), args, demo_options),
    )

    p = sub.add_parser("compile", help="compile a graph into a standalone netlist of one TCL cycle")
    p.add_argument(
        "graph",
        help="a .graphml / edge-list file (with a voltage on every input and a target on every output), or a "
        "description such as lattice:4x4 (its teacher task's first training sample)",
    )
    p.add_argument("-o", "--output", default="-", help="netlist file ('-': standard output) (default: -)")
    p.add_argument("--force", action="store_true", help="replace -o when it exists")
    add_design_option(p)
    p.add_argument(
        "--dialect",
        type=number_type(Dialect),
        metavar=choice_metavar(Dialect),
        default=Dialect.NGSPICE,
        help="simulator the deck is written for: ngspice, or ltspice (if() instead of ngspice's ternary) "
        "(default: ngspice)",
    )
    compile_options = circuit_options(p) + add_config_options(p, defaults, title="device", only={"device"})
    p.set_defaults(
        run=lambda args: cmd_compile(args, compile_options),
        resolve=lambda args: circuit_config(args, compile_options),
    )

    for name, text in (
        ("export", "a run's network at its final conductances, as GraphML or as a one-cycle deck"),
        ("plot-cycle", "plot one TCL cycle of a run's network: beta, s, u and w of chosen edges"),
    ):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("run_dir", metavar="RUN", help="a run folder (train --out)")
        p.add_argument(
            "--sample",
            type=number_type(int),
            default=0,
            metavar="K",
            help="the training sample (data order) whose input voltages and targets the network carries "
            "(default: 0)",
        )
        p.add_argument("--force", action="store_true", help="replace -o when it exists")
        if name == "export":
            p.add_argument(
                "--format",
                choices=["graphml", "cir"],
                default="graphml",
                help="graphml (what load_graph and compile read: roles, voltages, targets, conductances in S, "
                "bounds) or cir (the ngspice deck of one cycle, the run's cells) (default: graphml)",
            )
            p.add_argument(
                "-o", "--output", default="-", help="file to write ('-': standard output) (default: -)"
            )
            p.add_argument(
                "--checkpoint",
                action="store_true",
                help="the conductances of the run's last checkpoint (an unfinished run) instead of the final ones",
            )
            p.set_defaults(run_command=cmd_export)
        else:
            p.add_argument(
                "--edges",
                required=True,
                metavar="E,E,...",
                help="edge numbers to plot, in the order of the run's network (0 to edges-1), e.g. 0,3,7; "
                "at most 8 (required)",
            )
            p.add_argument(
                "-o",
                "--output",
                help="PNG file to write (default: RUN's name-cycle-sampleK.png in the current folder)",
            )
            p.set_defaults(run_command=cmd_plot_cycle)
        p.set_defaults(run=lambda args: args.run_command(args), resolve=check_sample)

    p = sub.add_parser(
        "compare", help="TCL vs explicit contrastive vs gradient update on one held-out sample"
    )
    p.add_argument(
        "--backend",
        dest="backend_choice",
        type=number_type(BackendKind),
        metavar=choice_metavar(BackendKind),
        default=BackendKind.NGSPICE,
        help="simulator of the TCL cycle (default: ngspice)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    compare_options = circuit_options(p) + add_config_options(
        p, TaskConfig(), title="network", root=("task",), only={"network"}
    )
    p.set_defaults(
        run=lambda args: cmd_compare(args, compare_options),
        resolve=lambda args: circuit_config(args, compare_options),
    )

    p = sub.add_parser(
        "sweep",
        help="train every point of a sweep spec (TOML) on Dask workers",
        description="Train every point of SPEC (grid and random axes over any run-config field, seeds as an "
        "axis; the format is in tcl_circuits/studies/sweep_spec.py and docs/sweeps.md) on a Dask LocalCluster "
        "or an existing scheduler. Rows are appended to OUT/results.csv as points finish; --resume skips them.",
    )
    p.add_argument("spec", metavar="SPEC", help="the sweep spec, a TOML file")
    p.add_argument(
        "--out", required=True, help="sweep folder: new or empty, or this sweep's folder with --resume"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the sweep in --out; finished points are skipped"
    )
    dask_options(p)
    p.add_argument(
        "--metric",
        default="loss_ratio",
        choices=list(METRICS),
        help="the summary entry plotted over the axes (default: loss_ratio, final/initial held-out loss)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        type=lambda text: parse_setting(text, defaults),
        metavar="KEY=VALUE",
        help="set a field of the spec's base for every point: a dotted config path and a value read as its "
        "flag reads it (unit, SPICE suffix), e.g. learning.epochs=3 or drive.tau_fall_s=1ms; repeatable; not "
        "an axis of the sweep; part of the sweep's fingerprint, so --resume needs the same (default: none)",
    )
    p.set_defaults(run=lambda args: cmd_sweep(args, []), resolve=sweep_spec)

    p = sub.add_parser(
        "feasibility",
        help="hardware feasibility report: mismatch Monte Carlo, resolution, write noise, threshold vs noise",
        description="Train the network many times (on Dask workers) to measure what it tolerates: feedback-cell "
        "mismatch (Monte Carlo), conductance resolution, write noise; and set the threshold against kT/C "
        "noise. Writes report.md, verdicts.csv, feasibility.png and one sweep folder per study to --out.",
    )
    p.add_argument("--out", required=True, help="report folder: new or empty, or this report's with --resume")
    p.add_argument(
        "--resume", action="store_true", help="continue the report in --out; finished runs are kept"
    )
    p.add_argument(
        "--trials",
        type=number_type(int),
        default=32,
        help="mismatch draws per sigma; seeds per point: trials/4, at least 4 (default: 32)",
    )
    p.add_argument(
        "--tolerance",
        type=number_type(float),
        default=None,
        help="a variant learns when its mean final/initial loss stays within this factor of the ideal "
        "(default: 2; with --tech 1.5)",
    )
    dask_options(p)
    go = p.add_argument_group(
        "go/no-go",
        "with --tech: one design (--design FILE or the flags) in one technology, every requirement with its "
        "margin, the whole energy bill, the design trained with every non-ideality on against its ideal run, "
        "and one analog-cell cycle in ngspice (instead of the studies)",
    )
    technology_arguments(go, "the technology the design is judged in")
    go.add_argument(
        "--energy-budget",
        type=quantity_type("J"),
        default=100e-12,
        metavar="X",
        help="with --tech: the whole energy bill allowed per learning edge per update, J (default: 100p)",
    )
    go.add_argument(
        "--accuracy-points",
        type=number_type(float),
        default=2.0,
        metavar="X",
        help="with --tech, classification: held-out accuracy points the design may lose against its ideal run "
        "(default: 2)",
    )
    add_design_option(p)
    feasibility_options = add_config_options(p, feasibility_run_config(None, []))
    p.set_defaults(
        run=lambda args: cmd_feasibility(args, feasibility_options),
        resolve=lambda args: feasibility_run_config(args, feasibility_options),
    )

    add_design_command(sub)

    p = sub.add_parser("netlists", help="the reviewed example decks of netlists/")
    nsub = p.add_subparsers(dest="netlists_command", required=True, parser_class=Parser)
    for name, text in (
        ("regenerate", "rewrite the generated decks from the code"),
        ("check", "compare them with the code"),
    ):
        q = nsub.add_parser(name, help=text)
        q.add_argument("--dir", help="the netlists folder (default: netlists/ of the source checkout)")
        q.set_defaults(run=lambda args: cmd_netlists(args, []), resolve=netlists_dir)

    add_kernel_commands(sub, Parser)
    return parser


def parse_command(argv: list[str]) -> Any:
    """What a command line resolves to, without running it: argv parsed, and the configuration it implies
    built and validated as the command does before it starts (train, demo, compile, compare, feasibility: the
    run config; sweep: the spec, every point's config checked; netlists: the folder; kernel: the kernel and
    the protocol; export and plot-cycle: their flags, the run folder unread). Reads the files the command takes as input (``--config``, a sweep spec); simulates nothing
    and writes nothing. A bad flag exits as in ``main`` (one line, SystemExit 2); an invalid configuration
    raises ConfigError."""
    args = build_parser().parse_args(argv)
    return args.resolve(args)


def main(argv: list[str] | None = None) -> int:
    args = None
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help (0) or a bad option (2, one line already printed)
            return int(stop.code or 0)
        return args.run(args)
    except TclCircuitsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # at any moment, loading the parser's modules included
        resumable = getattr(args, "resume", None) is not None
        hint = "; rerun with --resume to continue from the last checkpoint" if resumable else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
