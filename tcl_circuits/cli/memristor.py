"""Command-line entry for memristor training streams, and the generator of the reviewed example netlist.

``train_memristor(args)`` takes the namespace of ``tcl-circuits train`` plus ``device`` ("memristor:vteam",
optionally "memristor:<model>:<device|cell>" to choose the programming mode), ``spread`` (sigma/mu) and
``chunk_samples``, runs the whole training stream inside ngspice and writes the run folder (summary.json
with the resistor-mode keys plus device information). ``python -m tcl_circuits.cli.memristor example``
rewrites ``netlists/memristor_vteam_cycle.cir``.
"""

from __future__ import annotations

import argparse
import json

from tcl_circuits.config import (
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    ThresholdShape,
)
from tcl_circuits.devices import DriveKind, ProgrammingConfig, ProgrammingMode, preset
from tcl_circuits.errors import ConfigError, TclCircuitsError

EXAMPLE_NETLIST = "memristor_vteam_cycle.cir"
DEFAULT_DEVICE = "memristor:vteam"


def parse_device(text: str) -> tuple[str, ProgrammingMode]:
    """``memristor:<model>[:<device|cell>]`` -> (preset name, programming mode).

    Without a mode, threshold devices (VTEAM, Yakopcic) use their own threshold and the drift models
    (hp, biolek, joglekar) the cell's.
    """
    parts = [p.strip().lower() for p in str(text).split(":")]
    if len(parts) not in (2, 3) or parts[0] != "memristor":
        raise ConfigError(f"--device must look like memristor:<model>[:device|cell], got {text!r}")
    device = preset(parts[1])
    if len(parts) == 3:
        try:
            mode = ProgrammingMode(parts[2])
        except ValueError:
            raise ConfigError(f"programming mode must be 'device' or 'cell', got {parts[2]!r}") from None
    else:
        mode = (
            ProgrammingMode.CELL_THRESHOLD
            if device.drive_kind is DriveKind.CURRENT
            else ProgrammingMode.DEVICE_THRESHOLD
        )
    return parts[1], mode


def _threshold(args, drive: SawtoothConfig, student, x, y) -> float:
    from tcl_circuits.learning.rules import calibrate_threshold_v

    if str(args.threshold).lower() == "auto":
        return calibrate_threshold_v(student, x, y, drive, args.tau_k, headroom=0.4)
    try:
        return float(args.threshold)
    except ValueError:
        raise ConfigError(
            f"--threshold must be a number of volts or 'auto', got {args.threshold!r}"
        ) from None


def run_config_from_args(args, task):
    """The MemristorRunConfig a ``train`` namespace describes (threshold 'auto' as in resistor mode)."""
    from tcl_circuits.learning.memristor import MemristorRunConfig, StreamConfig

    if args.rule != RuleKind.TCL.value:
        raise ConfigError(f"memristor networks learn in the circuit by TCL only, got --rule {args.rule}")
    if args.backend != "ngspice":
        raise ConfigError(f"memristor streams run in ngspice only, got --backend {args.backend}")
    name, mode = parse_device(getattr(args, "device", DEFAULT_DEVICE))
    drive = SawtoothConfig(
        tau_rise_s=args.tau_rise,
        tau_fall_s=args.tau_fall,
        beta_max=args.beta_max,
        clamp_conductance_s=args.clamp_conductance,
    )
    n_cal = min(len(task.x_train), 20)
    cell = FeedbackCellConfig(
        tau_k_s=args.tau_k,
        r_k_ohm=args.r_k,
        threshold_v=_threshold(args, drive, task.student, task.x_train[:n_cal], task.y_train[:n_cal]),
        threshold_shape=ThresholdShape(args.threshold_shape),
    )
    learning = LearningConfig(
        rule=RuleKind.TCL, learning_rate_s2_per_v2=args.lr, epochs=args.epochs, seed=args.seed
    )
    return MemristorRunConfig(
        task=task.name,
        device=name,
        drive=drive,
        cell=cell,
        sim=SimulatorConfig(),
        learning=learning,
        programming=ProgrammingConfig(
            mode=mode,
            read_coupling=float(getattr(args, "read_coupling", 1.0)),
            voltage_saturation=getattr(args, "voltage_saturation", None),
        ),
        stream=StreamConfig(chunk_samples=int(getattr(args, "chunk_samples", 50))),
        spread_cv=float(getattr(args, "spread", 0.0)),
    )


def train_memristor(args) -> int:
    """``tcl-circuits train --device memristor:<model>``: the whole stream in ngspice; prints the summary."""
    from tcl_circuits.backends.ngspice import NgspiceBackend
    from tcl_circuits.learning.memristor import learning_rate_for_loop_gain, train_stream
    from tcl_circuits.learning.tasks import teacher_task

    if args.task != "teacher":
        raise TclCircuitsError(f"unknown task {args.task!r}; available: teacher")
    task = teacher_task(
        args.network, train_samples=args.train_samples, test_samples=args.test_samples, seed=args.seed
    )
    if args.lr is None:  # the rate that puts the in-cycle loop gain at 0.5 on the first samples
        probe = run_config_from_args(argparse.Namespace(**{**vars(args), "lr": 1e-9}), task)
        args.lr = learning_rate_for_loop_gain(
            task, probe, target=0.5, probe_samples=probe.stream.chunk_samples
        )
    config = run_config_from_args(args, task)
    with NgspiceBackend(timeout_s=config.sim.timeout_s) as backend:
        summary = train_stream(
            task, config, args.out, backend=backend, resume=args.resume, progress=not args.no_progress
        )
    print(json.dumps(summary, indent=2))
    return 0
