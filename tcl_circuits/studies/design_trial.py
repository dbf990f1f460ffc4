"""One trial of a design search (``tcl-circuits design``): a set of knob values built into a run config, held
against the technology's hard constraints, and, when it passes them, scored by two short trainings.

The hard constraints (``constraint_margins``): tau_K within the ramps (the cell differentiates them); the
threshold at least 10 sigma of R_K's noise at u and 10 times the comparator's residual offset, C_K within a
cell's largest capacitor (``physics.cell_budget.requirements``); each analog stage's bandwidth, bought by its
bias current on the process, at least what the kernel needs (``bandwidth_requirements``). A design failing
one is infeasible and not trained. A feasible one trains twice on the same task and samples: with every
non-ideality of the technology on (``learning.hardware.with_technology``) and ideal. Its objectives, all
minimised: the energy of one update per learning edge (``energy_per_edge_j``), the relative loss (noisy over
ideal final held-out loss; for classification 1 + the drop in held-out accuracy), and the time per update (one
cycle, tau_rise + tau_fall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcl_circuits.config import CellKind
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import TAU_K_PER_RAMP
from tcl_circuits.learning.design_file import apply_values
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.physics.cell_budget import Requirement
from tcl_circuits.technology.model import Technology

OBJECTIVES = ("energy_per_edge_j", "relative_loss", "time_per_update_s")
"""What a design search minimises, in this order."""
CONSTRAINTS = (
    "timescales",
    "noise",
    "offset",
    "c_k",
    "multiplier_bandwidth",
    "threshold_bandwidth",
    "integrator_bandwidth",
    "learns",
    "settings",
)
"""The hard constraints, by the name trials.csv gives them (``constraint_margins``, in this order; ``learns``
after the trainings, ``settings`` when the knobs make no valid run config)."""
LEARNS_BELOW = 0.8
"""Without a reference run, the ideal design must end its short training below this fraction of its initial
held-out loss: a design that does not learn would otherwise score a perfect relative loss (nothing lost to the
non-idealities)."""
LEARNS_WITHIN = 1.5
"""With a reference run (today's default design, ideal, on the same task and samples), the ideal design must
end within this factor of the reference's final/initial held-out loss: a design cheap because it barely learns
is not a design."""
ACCURACY_POINTS = 2.0
"""... or, on a classification task, within this many points of the reference's held-out accuracy."""


@dataclass(frozen=True)
class Problem:
    """What a search designs for: the base run (network, task, training length, engine) and the technology
    (``--tech``, the comparator kind and R_K's resistor type)."""

    base: RunConfig
    tech: str
    comparator: str = "auto_zeroed"
    resistor: str = "metal"
    reference: dict[str, float] | None = None
    """The reference run's ``loss_ratio`` and, when classified, ``final_test_accuracy`` (``learns_margin``)."""

    def technology(self) -> Technology:
        from tcl_circuits.technology.model import technology

        return technology(self.tech)


def _timescales(values: dict[str, Any], base: RunConfig) -> Requirement:
    """tau_K at most ``TAU_K_PER_RAMP`` of the shorter ramp (``kernels.window.check_timescales``)."""
    rise = values.get("drive.tau_rise_s", base.drive.tau_rise_s)
    fall = values.get("drive.tau_fall_s", base.drive.tau_fall_s)
    tau_k = values.get("cell.tau_k_s", base.cell.tau_k_s)
    allowed = TAU_K_PER_RAMP * min(rise, fall)
    return Requirement("tau_K within the ramps", tau_k, allowed, "s", allowed / tau_k)


def constraint_margins(
    config: RunConfig, design: Any, tech: Technology, problem: Problem
) -> list[Requirement]:
    """The noise, offset, C_K and stage-bandwidth requirements of a resolved cell design (module docstring);
    the stages' poles as their bias currents buy them on the process's supply, the integrator loaded by the
    C_int the analog cell sizes for this design."""
    from tcl_circuits.circuit.cell_design import resolve
    from tcl_circuits.physics.cell_budget import bandwidth_requirements, on_process_supply, requirements

    analog = on_process_supply(tech.cmos, config.cell.analog)
    built = resolve(
        design.config.replace(kind=CellKind.ANALOG, analog=analog),
        design.calibration,
        design.drive,
        design.edge_groups,
        outputs=len(design.clamp_factors),
    )
    integrator_c_f = float(max(built.integrator_c_f)) if built.integrator_c_f is not None else 0.0
    return [
        *requirements(design, tech.cmos, comparator=problem.comparator, resistor=problem.resistor),
        *bandwidth_requirements(design, tech.cmos, analog, integrator_c_f),
    ]


def learns_margin(ideal: dict[str, Any], reference: dict[str, float] | None) -> float:
    """How well the design learns, ideal, as a margin (at least 1 passes): against the reference run
    (``LEARNS_WITHIN`` x its loss ratio, or ``ACCURACY_POINTS`` of its accuracy), else ``LEARNS_BELOW``."""
    ratio = float(ideal["loss_ratio"])
    if reference is None:
        return LEARNS_BELOW / ratio
    if reference.get("final_test_accuracy") is not None:
        lost = 100.0 * (float(reference["final_test_accuracy"]) - float(ideal["final_test_accuracy"]))
        return ACCURACY_POINTS / lost if lost > 0 else math.inf
    return LEARNS_WITHIN * float(reference["loss_ratio"]) / ratio


def violation(margin: float) -> float:
    """A constraint value as the sampler reads it (<= 0 passes): -log10 of the margin, so a margin of 1/100
    counts twice as far from feasible as one of 1/10."""
    return -math.log10(margin) if margin > 0 else 30.0


def energy_per_edge_j(noisy: dict[str, Any]) -> dict[str, float]:
    """The energy of one update per learning edge, by block, and their ``total``: the run with every
    non-ideality on, its whole bill (summary.json's ``energy_per_update_j``, priced by the technology the run
    recorded: ``physics.energy_bill``); the one place the objective is read."""
    bill = noisy["energy_per_update_j"]
    if bill["unpriced"]:
        raise ConfigError(f"the trial's energy bill is not whole: {', '.join(bill['unpriced'])} unpriced")
    edges = int(noisy["edges"])
    blocks = {block: float(value) / edges for block, value in bill["by_block"].items()}
    blocks["total"] = float(bill["per_edge"])
    return blocks


def relative_loss(noisy: dict[str, Any], ideal: dict[str, Any]) -> float:
    """How much the non-idealities cost: noisy over ideal final held-out loss; for a classification task
    1 + the held-out accuracy lost (1: no loss in both)."""
    if ideal.get("final_test_accuracy") is not None:
        return 1.0 + float(ideal["final_test_accuracy"]) - float(noisy["final_test_accuracy"])
    return float(noisy["final_test_loss"]) / float(ideal["final_test_loss"])


def _infeasible(margins: dict[str, float], failing: str) -> dict[str, Any]:
    return {"status": "infeasible", "failing_constraint": failing, "margins": margins}


def evaluate(problem: Problem, values: dict[str, Any], folder: str) -> dict[str, Any]:
    """One trial (module docstring), its trainings in ``folder/ideal`` and ``folder/noisy``: a dict with
    ``status`` (feasible, infeasible or failed), ``margins`` (by ``CONSTRAINTS`` name), the failing
    constraint, the objectives and what explains them. Never raises: a trial that fails is a result."""
    try:
        return _evaluate(problem, values, Path(folder))
    except Exception as error:  # noqa: BLE001 - one failed trial is reported, not fatal to the search
        return {"status": "failed", "error": f"{type(error).__name__}: {' '.join(str(error).split())}"}


def _evaluate(problem: Problem, values: dict[str, Any], folder: Path) -> dict[str, Any]:
    from tcl_circuits.learning.hardware import with_technology
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task

    tech = problem.technology()
    timescales = _timescales(values, problem.base)
    margins = {"timescales": timescales.margin}
    if not timescales.passes:
        return _infeasible(margins, "timescales")
    try:
        config = apply_values(problem.base, values, "trial")
    except ConfigError as error:
        return {**_infeasible({**margins, "settings": 0.0}, "settings"), "error": str(error)}
    task = make_task(config.task, config.learning.seed)
    config = config.for_task(task)
    design = calibrate_for_run(config.cell, task.student, task, config.drive)
    explained: dict[str, Any] = {"threshold_v": design.theta_v, "c_k_f": config.cell.c_k_f}
    found = constraint_margins(config, design, tech, problem)
    margins.update(zip(CONSTRAINTS[1:-2], (r.margin for r in found), strict=True))
    failing = [name for name, r in zip(CONSTRAINTS[1:-2], found, strict=True) if not r.passes]
    if failing:
        return {**_infeasible(margins, failing[0]), **explained}
    noisy_config = with_technology(
        config,
        tech,
        comparator=problem.comparator,
        resistor=problem.resistor,
        nonlinear=task.student.nonlinear,
    ).config
    ideal = train(task, config, folder / "ideal", resume=True, progress=False, plots=False)
    margins["learns"] = learns_margin(ideal, problem.reference)
    explained["ideal_final_test_loss"] = ideal["final_test_loss"]
    if margins["learns"] < 1:
        return {**_infeasible(margins, "learns"), **explained, "seconds": float(ideal["seconds"])}
    noisy = train(task, noisy_config, folder / "noisy", resume=True, progress=False, plots=False)
    energy = energy_per_edge_j(noisy)
    return {
        "status": "feasible",
        "failing_constraint": "",
        "margins": margins,
        "objectives": {
            "energy_per_edge_j": energy["total"],
            "relative_loss": relative_loss(noisy, ideal),
            "time_per_update_s": config.drive.period_s,
        },
        **explained,
        "noisy_final_test_loss": noisy["final_test_loss"],
        "energy_by_block_j": {block: value for block, value in energy.items() if block != "total"},
        "seconds": float(ideal["seconds"]) + float(noisy["seconds"]),
    }
