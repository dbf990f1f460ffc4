"""``tcl-circuits sweep`` and ``feasibility``: their specs and configs, and the Dask options they share."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tcl_circuits.cli.output import print_json
from tcl_circuits.errors import ConfigError


def sweep_spec(args: argparse.Namespace) -> Any:
    """The sweep of SPEC with the --set overrides in its base (each key once)."""
    from tcl_circuits.studies.sweep_spec import load_spec

    overrides: dict[str, Any] = {}
    for key, value in args.set:
        if key in overrides:
            raise ConfigError(f"--set {key} is given twice")
        overrides[key] = value
    return load_spec(args.spec, overrides)


def cmd_sweep(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits.studies.sweep import run_sweep

    spec = sweep_spec(args)
    where = f"on {args.scheduler}" if args.scheduler else f"on {args.workers} local worker process(es)"
    changed = "".join(f", {key}={value}" for key, value in args.set)
    print(
        f"sweep {args.spec}{changed}: {len(spec.points)} points over {', '.join(spec.axes) or 'no axis'}, {where}"
    )
    outcome = run_sweep(spec, args.out, **dask_run(args), metric=args.metric, announce=True)
    print_json(outcome)
    return 1 if outcome["failed"] else 0


def feasibility_config() -> Any:
    """The feasibility report's default run: the 16x16 lattice teacher task, 300 samples x 3 epochs, native
    engine. Three epochs (not train's five) keep the report's ~320 runs near 20 minutes on two cores; by then
    the offset, resolution and asymmetry verdicts are those of five epochs but for the asymmetry's low end."""
    from tcl_circuits.config import BackendKind, LearningConfig
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig

    return RunConfig(
        task=TaskConfig(network="lattice:16x16", train_samples=300, test_samples=50),
        backend=BackendKind.NATIVE,
        learning=LearningConfig(learning_rate_s2_per_v2=None, epochs=3),
    )


def feasibility_run_config(args: argparse.Namespace | None, options: list) -> Any:
    """The feasibility report's run: its defaults, the --design file's settings, then the flags (with no
    ``args``: the defaults, which its --help shows)."""
    if args is None:
        return feasibility_config()
    from tcl_circuits.cli.design import with_design
    from tcl_circuits.cli.options import apply_options

    return apply_options(with_design(feasibility_config(), args), args, options)


def cmd_feasibility(args: argparse.Namespace, options: list) -> int:
    from tcl_circuits.studies.feasibility import run_feasibility

    config = feasibility_run_config(args, options)
    if args.tech is not None:  # an empty --tech is refused, not ignored
        return _go_no_go(config, args)
    tolerance = 2.0 if args.tolerance is None else args.tolerance
    verdicts = run_feasibility(
        config, args.out, trials=args.trials, tolerance=tolerance, **dask_run(args), announce=True
    )
    print_json(verdicts.row())
    print(f"report: {Path(args.out) / 'report.md'}", file=sys.stderr)
    return 0


def _go_no_go(config: Any, args: argparse.Namespace) -> int:
    """feasibility --tech: one design in one technology, go or no-go (studies.go_no_go)."""
    from tcl_circuits.studies.go_no_go import TOLERANCE, Limits, run_go_no_go, verdict_line

    found = run_go_no_go(
        config,
        args.tech,
        args.out,
        comparator=args.comparator,
        resistor=args.r_k_type,
        limits=Limits(
            tolerance=TOLERANCE if args.tolerance is None else args.tolerance,
            accuracy_points=args.accuracy_points,
            energy_budget_j=args.energy_budget,
        ),
        resume=args.resume,
        progress=not args.no_progress,
        announce=True,
    )
    print(verdict_line(found))
    print(f"report: {Path(args.out) / 'report.md'}", file=sys.stderr)
    return 0


def dask_options(p: argparse.ArgumentParser) -> None:
    """--workers, --scheduler and --no-progress of the commands that run many trainings on Dask."""
    from tcl_circuits.cli.options import number_type

    p.add_argument(
        "--workers",
        type=number_type(int),
        default=2,
        help="worker processes of the local cluster, one thread each (default: 2)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: none, a local cluster); "
        "its workers need this package and a file system shared with --out",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def dask_run(args: argparse.Namespace) -> dict[str, Any]:
    """What ``dask_options`` and --resume ask of a run on Dask (``run_sweep``, ``run_feasibility``)."""
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "resume": args.resume,
        "progress": not args.no_progress,
    }
