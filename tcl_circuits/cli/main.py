"""The ``tcl-circuits`` command: compile netlists, train, compare learning rules, run the demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    ThresholdShape,
)
from tcl_circuits.errors import ConfigError, TclCircuitsError


def _add_circuit_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("circuit and protocol")
    group.add_argument(
        "--tau-rise", type=float, default=1e-4, help="fast ramp free->clamped, s (default 1e-4)"
    )
    group.add_argument(
        "--tau-fall", type=float, default=9e-4, help="slow ramp clamped->free, s (default 9e-4)"
    )
    group.add_argument("--beta-max", type=float, default=0.5, help="peak nudge factor (default 0.5)")
    group.add_argument(
        "--clamp-conductance", type=float, default=1e-3, help="clamp conductance per unit beta, S"
    )
    group.add_argument(
        "--tau-k", type=float, default=5e-6, help="feedback kernel time R_K*C_K, s (default 5e-6)"
    )
    group.add_argument("--r-k", type=float, default=1e3, help="feedback resistor R_K, ohm (default 1e3)")
    group.add_argument(
        "--threshold",
        default="auto",
        help="threshold theta on u in volts, or 'auto' to place the learning window over the initial contrasts",
    )
    group.add_argument("--threshold-shape", choices=[s.value for s in ThresholdShape], default="hard")
    group.add_argument(
        "--node-capacitance",
        type=float,
        default=0.0,
        help="capacitance from every free network node to ground, F (default 0: the network settles instantly)",
    )


def _drive(args) -> SawtoothConfig:
    return SawtoothConfig(
        tau_rise_s=args.tau_rise,
        tau_fall_s=args.tau_fall,
        beta_max=args.beta_max,
        clamp_conductance_s=args.clamp_conductance,
    )


def _cell(args, drive: SawtoothConfig, spec, x, y, *, headroom: float = 0.4) -> FeedbackCellConfig:
    from tcl_circuits.learning.rules import calibrate_threshold_v

    if str(args.threshold).lower() == "auto":
        theta = calibrate_threshold_v(
            spec, np.atleast_2d(x), np.atleast_2d(y), drive, args.tau_k, headroom=headroom
        )
    else:
        try:
            theta = float(args.threshold)
        except ValueError:
            raise TclCircuitsError(
                f"--threshold must be a number of volts or 'auto', got {args.threshold!r}"
            ) from None
    return FeedbackCellConfig(
        tau_k_s=args.tau_k,
        r_k_ohm=args.r_k,
        threshold_v=theta,
        threshold_shape=ThresholdShape(args.threshold_shape),
    )


def cmd_compile(args) -> int:
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.learning.tasks import teacher_task
    from tcl_circuits.network import build, from_graph, load_graph
    from tcl_circuits.spice.writer import write_netlist

    drive = _drive(args)
    if Path(args.graph).is_file():
        spec = from_graph(load_graph(args.graph))
        x, y = spec.input_voltage_v, spec.target_v
    else:
        build(args.graph)  # fails early with a clear message on a bad description
        task = teacher_task(args.graph, train_samples=1, test_samples=1, seed=args.seed)
        spec, x, y = task.student, task.x_train[0], task.y_train[0]
    cell = _cell(args, drive, spec, x, y)
    circuit = compile_tcl(
        spec,
        drive=drive,
        cell=cell,
        sim=SimulatorConfig(node_capacitance_f=args.node_capacitance),
        inputs_v=x,
        targets_v=y,
        title=f"TCL cycle of {args.graph}",
        measure_accumulators=True,
    )
    text = write_netlist(circuit)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
        print(
            f"wrote {args.output}: {spec.n_nodes} nodes, {spec.n_edges} learning edges, threshold {cell.threshold_v:.4g} V"
        )
    return 0


def _run_config(args, task):
    from tcl_circuits.learning.controller import RunConfig

    drive = _drive(args)
    n_cal = min(len(task.x_train), 20)
    cell = _cell(args, drive, task.student, task.x_train[:n_cal], task.y_train[:n_cal])
    learning = LearningConfig(
        rule=RuleKind(args.rule), learning_rate_s2_per_v2=args.lr, epochs=args.epochs, seed=args.seed
    )
    sim = SimulatorConfig(
        verify_every=getattr(args, "verify_every", 0), node_capacitance_f=args.node_capacitance
    )
    return RunConfig(task.name, BackendKind(args.backend), drive, cell, sim, learning)


def cmd_train(args) -> int:
    from tcl_circuits.learning.controller import train
    from tcl_circuits.learning.tasks import teacher_task

    if args.device != "resistor":
        from tcl_circuits.cli.memristor import train_memristor

        if args.node_capacitance:
            raise ConfigError("--node-capacitance applies to resistor networks; memristor streams have none")
        args.backend = args.backend or BackendKind.NGSPICE.value
        return train_memristor(args)
    args.backend = args.backend or BackendKind.NATIVE.value
    args.lr = 5e-6 if args.lr is None else args.lr
    if args.task != "teacher":
        raise TclCircuitsError(f"unknown task {args.task!r}; available: teacher")
    task = teacher_task(
        args.network, train_samples=args.train_samples, test_samples=args.test_samples, seed=args.seed
    )
    summary = train(
        task, _run_config(args, task), args.out, resume=args.resume, progress=not args.no_progress
    )
    print(json.dumps(summary, indent=2))
    return 0


def cmd_compare(args) -> int:
    from tcl_circuits.backends import open_backend
    from tcl_circuits.learning.compare import compare_updates
    from tcl_circuits.learning.tasks import teacher_task

    task = teacher_task(args.network, train_samples=20, test_samples=1, seed=args.seed)
    drive = _drive(args)
    # 'auto' places the window over this sample's own contrasts: the comparison is about the linear regime
    cell = _cell(args, drive, task.student, task.x_test[:1], task.y_test[:1], headroom=1.5)
    with open_backend(BackendKind(args.backend)) as backend:
        result = compare_updates(
            task.student,
            task.x_test[0],
            task.y_test[0],
            backend=backend,
            drive=drive,
            cell=cell,
            sim=SimulatorConfig(node_capacitance_f=args.node_capacitance),
        )
    if args.json:
        print(
            json.dumps(
                {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in result.items()}, indent=2
            )
        )
    else:
        print(
            f"held-out sample of teacher task on {args.network} (seed {args.seed}), {task.student.n_edges} edges"
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


def cmd_demo(args) -> int:
    from tcl_circuits.learning.controller import train
    from tcl_circuits.learning.tasks import teacher_task

    print("TCL demo: a 4x4 resistor lattice learns a teacher network in ngspice, sample by sample")
    task = teacher_task("lattice:4x4", train_samples=100, test_samples=50, seed=args.seed)
    args.rule, args.backend, args.lr, args.epochs = "tcl", "ngspice", 5e-6, 5
    config = _run_config(args, task)
    out = Path(args.out)
    if (out / "checkpoint.json").exists() and not args.resume:
        import shutil

        shutil.rmtree(out)
    summary = train(task, config, out, resume=args.resume)
    print(
        f"\ntest loss {summary['initial_test_loss']:.3e} -> {summary['final_test_loss']:.3e} V^2 "
        f"(ratio 1/{1 / summary['loss_ratio']:.1f}) in {summary['seconds']:.1f} s, "
        f"{summary['samples']} samples, {summary['energy_per_sample_j']:.3e} J per sample in the network"
    )
    print(f"run folder: {out} (summary.json, epochs.csv, samples.csv, learning_curve.png, first_sample.cir)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tcl-circuits", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="compile a graph into an ngspice netlist of one TCL cycle")
    p.add_argument("graph", help="GraphML/edge-list file, or a description such as lattice:4x4")
    p.add_argument("-o", "--output", default="-", help="netlist path ('-' for stdout)")
    p.add_argument("--seed", type=int, default=0)
    _add_circuit_options(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("train", help="train a network sample by sample")
    p.add_argument("--task", default="teacher", help="task (teacher)")
    p.add_argument(
        "--network", default="lattice:4x4", help="lattice:RxC, regular:N,D, er:N,P, layered:A-B-C or a file"
    )
    p.add_argument("--rule", choices=[r.value for r in RuleKind], default="tcl")
    p.add_argument(
        "--backend",
        choices=[b.value for b in BackendKind],
        default=None,
        help="simulator (default: native for resistor networks, ngspice for memristor streams)",
    )
    p.add_argument(
        "--device",
        default="resistor",
        help="resistor (controller rewrites conductances between samples) or memristor:MODEL[:device|cell] "
        "with MODEL one of vteam, hp, biolek, joglekar, yakopcic, vteam_symmetric (learning entirely in the circuit)",
    )
    p.add_argument("--spread", type=float, default=0.0, help="memristor device-to-device spread sigma/mu")
    p.add_argument("--chunk-samples", type=int, default=50, help="memristor stream: samples per ngspice run")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train-samples", type=int, default=100)
    p.add_argument("--test-samples", type=int, default=50)
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate, S^2/V^2 (Delta G = -lr dC/dG); default 5e-6 for resistor networks, and for "
        "memristor streams the rate that puts the in-cycle loop gain at 0.5",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument(
        "--verify-every",
        type=int,
        default=0,
        metavar="K",
        help="with --backend native, re-run every K-th sample in ngspice and record the update disagreement",
    )
    p.add_argument("--no-progress", action="store_true")
    _add_circuit_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "compare", help="TCL vs explicit contrastive vs gradient update on one held-out sample"
    )
    p.add_argument("--network", default="lattice:4x4")
    p.add_argument("--backend", choices=[b.value for b in BackendKind], default="ngspice")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    _add_circuit_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("demo", help="the demo: TCL on a 4x4 lattice teacher task in ngspice")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    _add_circuit_options(p)
    p.set_defaults(func=cmd_demo)

    from tcl_circuits.cli.kernel import add_kernel_parser

    add_kernel_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TclCircuitsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun with --resume to continue from the last checkpoint", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
