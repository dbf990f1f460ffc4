"""Is there a chip? One design in one technology, go or no-go.

``run_go_no_go`` answers what a hardware designer asks of a design (``--design FILE``, or the settings given)
and a technology (``--tech PROCESS+DEVICE``):

- each requirement, what the technology offers, what the design needs, the margin and pass or fail: the
  threshold over the noise at u and over the comparator's residual offset, C_K within a cell's largest
  capacitor, each analog stage's bandwidth at its bias current against the kernel's
  (``studies.design_trial.constraint_margins``, the hard constraints of a design search), the whole energy bill per learning edge within a budget,
  and learning: the design with every non-ideality of the technology on at once, trained as long as the
  ideal run, ends within ``tolerance`` x the ideal's final/initial loss (classification: within
  ``accuracy_points`` of its held-out accuracy);
- the whole energy bill by block (the all-on run's ``energy_per_update_j``), the time per update and the cells'
  capacitor area;
- one cycle of the design's cells built as the analog cell (its bias currents on the process's supply) in
  ngspice, each stage's energy beside the analytic bias-current figure (``cell_budget.quiescent_energy_j``);
  and one noisy cycle with no signal in ngspice, the RMS of R_K's noise on u beside ``noise_at_u_v``.

The ideal run is the same design with nothing of the technology on: the one baseline the report names.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tcl_circuits.config import BackendKind, CellKind, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.physics.cell_budget import Requirement
from tcl_circuits.units import format_si

TOLERANCE = 1.5
"""Learning passes within this factor of the ideal run's final/initial held-out loss."""
ACCURACY_POINTS = 2.0
"""... or, on a classification task, within this many points of its held-out accuracy."""
ENERGY_BUDGET_J = 100e-12
"""The whole energy bill per learning edge per update a design must stay within, joules."""


@dataclass(frozen=True)
class AnalogCheck:
    """One analog stage kind over one cycle: the energy its rail sources delivered in ngspice and the
    analytic figure of its bias currents, joules."""

    stage: str
    ngspice_j: float
    analytic_j: float

    @property
    def ratio(self) -> float:
        return self.analytic_j / self.ngspice_j if self.ngspice_j else math.inf


@dataclass(frozen=True)
class NoiseCheck:
    """R_K's noise on u with no signal: the RMS ngspice's noisy cycle puts there (every edge, after
    ``NOISE_SETTLE_TAU_K`` kernel times) and the analytic figure (``cell_budget.noise_at_u_v``), volts."""

    ngspice_v: float
    analytic_v: float

    @property
    def ratio(self) -> float:
        return self.analytic_v / self.ngspice_v if self.ngspice_v else math.inf


NOISE_SETTLE_TAU_K = 3.0
"""The noise check reads u after this many kernel times (the high-pass settled from its zero start)."""


@dataclass(frozen=True)
class GoNoGo:
    """What the report found (module docstring)."""

    technology: str
    requirements: tuple[Requirement, ...]
    bill: dict[str, Any]
    """The all-on run's ``energy_per_update_j``."""
    time_per_update_s: float
    area_m2: float
    ideal: dict[str, Any]
    all_on: dict[str, Any]
    """The two runs' summaries."""
    analog: tuple[AnalogCheck, ...]
    noise: NoiseCheck
    left_out: tuple[str, ...]
    limits: Limits

    @property
    def go(self) -> bool:
        return all(r.passes for r in self.requirements)

    def rows(self) -> list[dict[str, Any]]:
        """go_no_go.csv: one row a requirement."""
        return [
            {
                "requirement": r.name,
                "needed": r.needed,
                "offered": r.offered,
                "unit": r.unit,
                "margin": r.margin,
                "passes": r.passes,
            }
            for r in self.requirements
        ]


def _classification(summary: dict[str, Any]) -> bool:
    return summary.get("final_test_accuracy") is not None


def learning_requirement(
    ideal: dict[str, Any], all_on: dict[str, Any], tolerance: float, accuracy_points: float
) -> Requirement:
    """The all-on run against the ideal one: within ``tolerance`` x its loss ratio, or within
    ``accuracy_points`` of its held-out accuracy on a classification task."""
    if _classification(ideal):
        drop = 100.0 * (ideal["final_test_accuracy"] - all_on["final_test_accuracy"])
        margin = accuracy_points / drop if drop > 0 else math.inf
        return Requirement(
            "learns with every non-ideality on (held-out accuracy below the ideal run's)",
            accuracy_points,
            drop,
            "points",
            margin,
        )
    ratio = all_on["loss_ratio"] / ideal["loss_ratio"]
    return Requirement(
        "learns with every non-ideality on (final/initial loss over the ideal run's)",
        tolerance,
        ratio,
        "x",
        tolerance / ratio,
    )


def energy_requirement(bill: dict[str, Any], budget_j: float) -> Requirement:
    """The whole bill per learning edge within the budget (an unpriced block fails it: the bill is not whole)."""
    per_edge = float(bill["per_edge"])
    margin = budget_j / per_edge if not bill["unpriced"] and per_edge > 0 else 0.0
    return Requirement("whole energy bill per learning edge per update", budget_j, per_edge, "J", margin)


@dataclass(frozen=True)
class Limits:
    """What a design must meet beyond the hard constraints of its cells: learning within ``tolerance`` x the
    ideal run's loss ratio (classification: ``accuracy_points`` of its accuracy) and the whole bill per
    learning edge within ``energy_budget_j``."""

    tolerance: float = TOLERANCE
    accuracy_points: float = ACCURACY_POINTS
    energy_budget_j: float = ENERGY_BUDGET_J

    def __post_init__(self) -> None:
        for name, value in (("--tolerance", self.tolerance), ("--accuracy-points", self.accuracy_points)):
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
        if not (math.isfinite(self.energy_budget_j) and self.energy_budget_j > 0):
            raise ConfigError(f"--energy-budget must be a finite number > 0 J, got {self.energy_budget_j!r}")

    def requirements(self, ideal: dict[str, Any], all_on: dict[str, Any]) -> tuple[Requirement, Requirement]:
        """The bill within the budget and the all-on run's learning against the ideal run's."""
        return (
            energy_requirement(all_on["energy_per_update_j"], self.energy_budget_j),
            learning_requirement(ideal, all_on, self.tolerance, self.accuracy_points),
        )


def run_go_no_go(
    base: RunConfig,
    tech_spec: str,
    out: str | Path,
    *,
    comparator: str = "auto_zeroed",
    resistor: str = "metal",
    limits: Limits = Limits(),
    resume: bool = False,
    progress: bool = True,
    announce: bool = False,
) -> GoNoGo:
    """The go/no-go report of ``base``'s design in ``tech_spec`` into ``out`` (a run folder of its own, the
    two training runs in ``ideal/`` and ``all_on/``); returns what it found."""
    from tcl_circuits.learning.hardware import with_technology
    from tcl_circuits.learning.preflight import duration
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.run_folder import RunFolder
    from tcl_circuits.learning.tasks import make_task
    from tcl_circuits.physics.cell_budget import cell_area_m2
    from tcl_circuits.studies.design_trial import Problem, constraint_margins
    from tcl_circuits.technology.model import technology

    if base.memristor_device is not None:
        raise ConfigError("the go/no-go report covers resistor networks (--device resistor)", field="device")
    tech = technology(tech_spec)
    task = make_task(base.task, base.learning.seed)
    ideal_config = base.for_task(task)
    nonlinear = task.student.nonlinear
    applied = with_technology(
        ideal_config, tech, comparator=comparator, resistor=resistor, nonlinear=nonlinear
    )
    all_on = applied.config
    if announce:
        seconds = go_no_go_seconds(ideal_config, all_on, task)
        print(f"estimate: about {duration(seconds)}", file=sys.stderr, flush=True)
    fingerprint = {
        "go_no_go": to_dict(ideal_config),
        "technology": tech.name,
        "comparator": comparator,
        "r_k_type": resistor,
        **dataclasses.asdict(limits),
    }
    design = calibrate_for_run(all_on.cell, task.student, task, all_on.drive)
    with RunFolder(out, fingerprint, resume=resume) as folder:
        ideal, on, analog, noise = _measure(
            folder, task, (ideal_config, all_on), design, tech, resume, progress
        )
        requirements = (
            *constraint_margins(all_on, design, tech, Problem(all_on, tech.spec, comparator, resistor)),
            *limits.requirements(ideal, on),
        )
        found = GoNoGo(
            technology=tech.name,
            requirements=requirements,
            bill=on["energy_per_update_j"],
            time_per_update_s=all_on.drive.period_s,
            area_m2=cell_area_m2(design, tech.cmos),
            ideal=ideal,
            all_on=on,
            analog=analog,
            noise=noise,
            left_out=applied.left_out,
            limits=limits,
        )
        _write(folder, found, ideal_config)
        folder.synced()
        return found


def _measure(
    folder: Any,
    task: Any,
    configs: tuple[RunConfig, RunConfig],
    design: Any,
    tech: Any,
    resume: bool,
    progress: bool,
) -> tuple[dict[str, Any], dict[str, Any], tuple[AnalogCheck, ...], NoiseCheck]:
    """The ideal and the all-on run (``ideal/``, ``all_on/``; resumed where the report is), then the analog and
    the noise check, on one progress bar: the runs' samples and one step for the checks."""
    from tqdm.auto import tqdm

    from tcl_circuits.learning.loop import train

    ideal_config, all_on = configs
    summaries = []
    total = 2 * ideal_config.learning.epochs * len(task.x_train) + 1
    with tqdm(total=total, disable=not progress, unit="step", desc="go/no-go") as bar:
        for config, name in zip(configs, ("ideal", "all_on"), strict=True):
            out = folder.file(name)
            summaries.append(
                dict(train(task, config, out, resume=resume and out.exists(), progress=bar, plots=False))
            )
        analog = analog_check(all_on, tech, task)
        noise = noise_check(all_on, design, task)
        bar.update(1)
    return summaries[0], summaries[1], analog, noise


def go_no_go_seconds(ideal: RunConfig, all_on: RunConfig, task: Any) -> float:
    """The report's estimated wall time: its two runs and one analog-cell cycle in ngspice."""
    from tcl_circuits.learning.preflight import estimate

    runs = sum(estimate(c, task).seconds for c in (ideal, all_on))
    analog = estimate(ideal.replace(backend=BackendKind.NGSPICE), task).seconds_per_sample
    return runs + 3.0 * analog


def analog_cell_config(config: RunConfig, tech: Any) -> RunConfig:
    """``config`` with its cells built as the analog cell, its stages at the design's bias currents on the
    process's supply (``cell_budget.on_process_supply``), in ngspice."""
    from tcl_circuits.physics.cell_budget import on_process_supply

    analog_cell = config.cell.replace(
        kind=CellKind.ANALOG, analog=on_process_supply(tech.cmos, config.cell.analog)
    )
    return config.replace(cell=analog_cell, backend=BackendKind.NGSPICE)


def analog_check(config: RunConfig, tech: Any, task: Any) -> tuple[AnalogCheck, ...]:
    """One cycle of the design's analog cells in ngspice (first training sample, noiseless): each stage
    kind's delivered energy beside its bias currents' figure (the bill's quiescent block)."""
    from tcl_circuits.physics.cell_budget import quiescent_energy_j
    from tcl_circuits.studies.energy import analog_energy_rows

    quiet = config.replace(
        cell=config.cell.replace(noise_temperature_k=0.0, noise_flicker_corner_hz=0.0),
        sim=config.sim.replace(network_noise_temperature_k=0.0),
    )
    built = analog_cell_config(quiet, tech)
    measured = {row["block"]: row["energy_j"] for row in analog_energy_rows(built)}
    analytic = quiescent_energy_j(built.cell.analog, task.student.n_edges, built.drive.period_s)
    return tuple(AnalogCheck(stage, measured[stage], energy) for stage, energy in analytic.items())


def noise_check(config: RunConfig, design: Any, task: Any) -> NoiseCheck:
    """One noisy cycle of the design's behavioural cells (``design``, R_K's noise at the technology's
    temperature and 1/f corner) in ngspice with no signal (inputs and targets at 0 V, the network quiet): the
    RMS of u over every edge beside ``noise_at_u_v``'s mean-square average."""
    from tcl_circuits.backends import open_backend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.physics.cell_budget import noise_at_u_v

    cell = config.cell
    spec = task.student
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))
    quiet_sim = config.sim.replace(network_noise_temperature_k=0.0)
    circuit = compile_tcl(
        spec, drive=config.drive, cell=design, sim=quiet_sim, inputs_v=zeros[0], targets_v=zeros[1]
    )
    with open_backend(BackendKind.NGSPICE, quiet_sim) as backend:
        result = backend.run(circuit)
    u = result.rows(circuit.cells.feedback)[:, result.axis > NOISE_SETTLE_TAU_K * cell.tau_k_s]
    analytic = noise_at_u_v(
        design.c_k_f,
        design.r_k_ohm,
        cell.noise_temperature_k,
        cell.noise_flicker_corner_hz,
        config.drive.period_s,
    )
    return NoiseCheck(float(np.sqrt(np.mean(u**2))), float(np.sqrt(np.mean(analytic**2))))


def _write(folder: Any, found: GoNoGo, ideal_config: RunConfig) -> None:
    from tcl_circuits.studies.go_no_go_report import plot_go_no_go, report_markdown

    folder.write_csv("go_no_go.csv", found.rows())
    folder.write_csv(
        "energy.csv",
        [{"block": block, "energy_j": value} for block, value in found.bill["by_block"].items()],
    )
    folder.write_csv(
        "noise_check.csv",
        [
            {
                "ngspice_v": found.noise.ngspice_v,
                "analytic_v": found.noise.analytic_v,
                "ratio": found.noise.ratio,
            }
        ],
    )
    folder.write_csv(
        "analog_check.csv",
        [
            {"stage": a.stage, "ngspice_j": a.ngspice_j, "analytic_j": a.analytic_j, "ratio": a.ratio}
            for a in found.analog
        ],
    )
    folder.write_text("report.md", report_markdown(found, ideal_config))
    plot_go_no_go(found, folder.file("ideal"), folder.file("all_on"), folder.file("go_no_go.png"))


def verdict_line(found: GoNoGo) -> str:
    """One line for the terminal: go or no-go, and what failed."""
    failed = [r.name for r in found.requirements if not r.passes]
    per_edge = format_si(float(found.bill["per_edge"]), "J")
    head = f"{'GO' if found.go else 'NO-GO'}: {found.technology}, {per_edge} per edge per update"
    return head + ("" if not failed else f"; fails: {'; '.join(failed)}")
