"""``tcl-circuits design`` (a multi-objective search over the design knobs) and the ``--design FILE`` option of
train, compile and feasibility."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tcl_circuits.cli.output import print_json

DESIGN_HELP = (
    "start from a design file (a design search's recommended.toml): its drive and cell settings replace the "
    "defaults (and --config's); --tech and the flags given still override it (default: none)"
)


def add_design_option(p: argparse.ArgumentParser | Any) -> None:
    """``--design FILE`` (train, compile, feasibility)."""
    p.add_argument("--design", metavar="FILE", help=DESIGN_HELP)


def with_design(config: Any, args: argparse.Namespace) -> Any:
    """``config`` with the --design file's settings, when one is given (errors name the file and key)."""
    path = getattr(args, "design", None)
    if path is None:
        return config
    from tcl_circuits.learning.design_file import load_design

    return load_design(path).apply(config)


def design_config() -> Any:
    """The base run of a design search: the 16x16 lattice teacher task, 100 samples x 1 epoch, 20 held out,
    native engine: each trial trains it twice (ideal, and with every non-ideality of --tech on)."""
    from tcl_circuits.config import BackendKind, LearningConfig
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig

    return RunConfig(
        task=TaskConfig(network="lattice:16x16", train_samples=100, test_samples=20),
        backend=BackendKind.NATIVE,
        learning=LearningConfig(learning_rate_s2_per_v2=None, epochs=1),
    )


BASE_FLAGS = {"network", "task", "train_samples", "test_samples", "epochs", "seed"}
"""The run-config fields ``design`` takes as flags: what is learned, on which network, and how long."""


def add_design_command(sub: Any) -> None:
    from tcl_circuits.cli.options import add_config_options, number_type
    from tcl_circuits.cli.studies import dask_options
    from tcl_circuits.studies.design_search import SAMPLERS
    from tcl_circuits.technology.model import COMPARATOR_KINDS

    p = sub.add_parser(
        "design",
        help="search the cell and drive design for a network, task and technology (Pareto front)",
        description="Search the design knobs (ramps, nudge amplitude, clamp conductance, tau_K, R_K, the gain "
        "ahead of the high-pass, threshold placement, the analog stages' bias currents, R_int, write rounding) "
        "with Optuna for a network, task and technology: designs that break a hard constraint are infeasible; "
        "feasible ones are scored by two short trainings (every non-ideality of --tech on, and ideal). Writes "
        "trials.csv, pareto.csv, pareto.png, recommended.toml and front/tNNNNN.toml (for --design FILE) to "
        "--out (docs/feasibility.md).",
    )
    p.add_argument("--out", required=True, help="search folder: new or empty, or this search's with --resume")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the search in --out: finished trials are kept, those in flight are asked again",
    )
    p.add_argument(
        "--trials",
        type=number_type(int),
        default=40,
        help="finished trials the search ends with (default: 40)",
    )
    p.add_argument("--sampler", choices=SAMPLERS, default="nsga2", help="Optuna sampler (default: nsga2)")
    p.add_argument("--search-seed", type=number_type(int), default=0, help="seed of the sampler (default: 0)")
    p.add_argument(
        "--max-relative-loss",
        type=number_type(float),
        default=1.5,
        help="recommended.toml: the lowest-energy design of the front whose relative loss (noisy / ideal final "
        "held-out loss) is at most this, else the one with the lowest relative loss (default: 1.5)",
    )
    p.add_argument(
        "--tech",
        metavar="PROCESS+DEVICE",
        default="cmos65+reram",
        help="the technology designed for: presets or TOML files as in train --tech (default: cmos65+reram)",
    )
    p.add_argument(
        "--comparator",
        choices=COMPARATOR_KINDS,
        default="auto_zeroed",
        help="the threshold comparison's kind: its offset and energy per decision (default: auto_zeroed)",
    )
    p.add_argument(
        "--r-k-type",
        default="metal",
        metavar="TYPE",
        help="R_K's resistor type in the process (poly, metal, mos): its 1/f corner (default: metal)",
    )
    dask_options(p)
    options = add_config_options(p, design_config(), title="the run each trial trains", only=BASE_FLAGS)
    p.set_defaults(
        run=lambda args: cmd_design(args, options),
        resolve=lambda args: design_problem(args, options),
    )


def design_problem(args: argparse.Namespace, options: list) -> Any:
    """The search's problem: the base run with the flags applied, the technology checked."""
    from tcl_circuits.cli.options import apply_options
    from tcl_circuits.studies.design_trial import Problem

    base = apply_options(design_config(), args, options)
    problem = Problem(base=base, tech=args.tech, comparator=args.comparator, resistor=args.r_k_type)
    tech = problem.technology()
    if args.r_k_type not in tech.cmos.resistor_flicker_corner_hz:
        from tcl_circuits.errors import ConfigError

        known = ", ".join(tech.cmos.resistor_flicker_corner_hz)
        raise ConfigError(f"--r-k-type must be one of {known} ({tech.cmos.name}), got {args.r_k_type!r}")
    return problem


def cmd_design(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits.cli.studies import dask_run
    from tcl_circuits.studies.design_search import run_design

    problem = design_problem(args, options)
    where = f"on {args.scheduler}" if args.scheduler else f"on {args.workers} local worker process(es)"
    print(
        f"design search: {problem.base.task.task.value} on {problem.base.task.network}, {problem.tech}, "
        f"{args.trials} trials ({args.sampler}), {where}"
    )
    outcome = run_design(
        problem,
        args.out,
        trials=args.trials,
        sampler=args.sampler,
        seed=args.search_seed,
        max_relative_loss=args.max_relative_loss,
        announce=True,
        **dask_run(args),
    )
    print_json(outcome)
    if outcome["files"]["recommended"] is None:
        print("no feasible design among the trials: no recommended.toml (see trials.csv)", file=sys.stderr)
    return 0
