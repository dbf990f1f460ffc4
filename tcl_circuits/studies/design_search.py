"""A design search (``tcl-circuits design``): an Optuna study over the design knobs (``learning.design_file
.KNOBS``) for a network, task and technology, its trials scored by ``studies.design_trial``.

The study lives in the search's folder (``study.journal``, Optuna's journal file): the driver is its only
writer (ask and tell), the trials run on Dask workers (``sweep.dask_client``; one worker: in this process),
so a search that is killed keeps every finished trial, and ``--resume`` marks the trials that were in flight
as interrupted and asks them again (the same knob values) before any new one. The sampler (NSGA-II by
default, or TPE) is seeded; on a resume its seed moves on by the trials already in the study, so it does not
replay its first draws. Infeasible trials carry their constraint values (``Trial.set_constraint``: NSGA-II's
constrained domination and TPE rank them after every feasible one) and placeholder objectives
(``UNSCORED``) that no front or file reports.

The folder gets: ``trials.csv`` (every trial: knobs, status, the failing constraint, margins, objectives),
``pareto.csv`` (the feasible trials no other trial beats in all three objectives), ``pareto.png`` and
``recommended.toml`` (the front's lowest-energy design whose relative loss is within ``max_relative_loss``,
else its lowest relative loss; a design file, ``learning.design_file``).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from tcl_circuits.config import to_dict
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.learning.design_file import KNOBS, Knob, design_text
from tcl_circuits.studies.design_trial import CONSTRAINTS, OBJECTIVES, Problem, evaluate, violation

STUDY = "study.journal"
TRIALS = "trials.csv"
PARETO = "pareto.csv"
PLOT = "pareto.png"
RECOMMENDED = "recommended.toml"
FRONT = "front"
"""A design file per trial of the Pareto front, ``front/tNNNNN.toml``."""
SAMPLERS = ("nsga2", "tpe")
POPULATION = 16
"""NSGA-II's population: its first generation is this many random designs."""
UNCHECKED = 3.0
"""The violation told for a constraint a trial never reached (one that failed earlier left its design
unbuilt): a margin of 1/1000, so the sampler ranks it behind the trials checked further."""
UNSCORED = 1e30
"""The objectives told for an infeasible trial (the sampler needs numbers; its constraints rank it)."""
STATUS = "status"
FINISHED = ("feasible", "infeasible", "failed")
"""A trial's ``status`` once it has run; ``interrupted`` marks one that was in flight when a search stopped."""


def _sampler(name: str, seed: int) -> Any:
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=POPULATION)


def _drop_cut_line(path: Path) -> None:
    """Cut a journal line a kill left half-written (Optuna would append after it and never read on)."""
    from tcl_circuits.files import write_bytes_atomic

    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        write_bytes_atomic(path, data[: data.rfind(b"\n") + 1])


def open_study(path: Path, sampler: str, seed: int) -> Any:
    """The study in the journal ``path`` (created if new) with the seeded sampler; trials a stopped search
    left running are marked interrupted (failed) and queued again with the same knobs."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if path.exists():
        _drop_cut_line(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = JournalStorage(JournalFileBackend(str(path)))
        study = optuna.create_study(
            study_name="design",
            storage=storage,
            directions=["minimize"] * len(OBJECTIVES),
            sampler=optuna.samplers.RandomSampler(seed=seed),
            load_if_exists=True,
        )
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_user_attr(trial._trial_id, STATUS, "interrupted")
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params, user_attrs={"repeats": trial.number})
    study.sampler = _sampler(sampler, seed + len(study.trials))
    return study


def _suggest(trial: Any, knobs: Sequence[Knob]) -> dict[str, Any]:
    return {
        knob.field: (
            trial.suggest_categorical(knob.field, list(knob.choices))
            if knob.choices
            else trial.suggest_float(knob.field, knob.low, knob.high, log=knob.log)
        )
        for knob in knobs
    }


def _tell(study: Any, trial: Any, result: dict[str, Any]) -> None:
    """Record a trial's result in the study: its constraints, what explains it, its objectives."""
    from optuna.trial import TrialState

    margins = result.get("margins", {})
    for name in CONSTRAINTS:
        if name in margins:
            trial.set_constraint(name, violation(margins[name]))
        elif result[STATUS] != "feasible" and name != "settings":
            trial.set_constraint(name, UNCHECKED)
        else:
            trial.set_constraint(name, 0.0)
    for key, value in result.items():
        trial.set_user_attr(key, value)
    if result[STATUS] == "failed":
        study.tell(trial, state=TrialState.FAIL)
    elif result[STATUS] == "infeasible":
        study.tell(trial, [UNSCORED] * len(OBJECTIVES))
    else:
        study.tell(trial, [result["objectives"][name] for name in OBJECTIVES])


def trial_rows(study: Any, knobs: Sequence[Knob] = KNOBS) -> list[dict[str, Any]]:
    """One row per trial: number, status, knobs, the failing constraint and error, objectives, margins."""
    rows = []
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        attrs = trial.user_attrs
        objectives = attrs.get("objectives", {})
        margins = attrs.get("margins", {})
        row: dict[str, Any] = {"trial": trial.number, STATUS: attrs.get(STATUS, trial.state.name.lower())}
        row.update({knob.field: trial.params.get(knob.field) for knob in knobs})
        row["failing_constraint"] = attrs.get("failing_constraint", "")
        row["error"] = attrs.get("error", "")
        row.update({name: objectives.get(name) for name in OBJECTIVES})
        for key in ("ideal_final_test_loss", "noisy_final_test_loss", "threshold_v", "c_k_f", "seconds"):
            row[key] = attrs.get(key)
        row.update({f"margin_{name}": margins.get(name) for name in CONSTRAINTS})
        rows.append(row)
    return rows


def pareto_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The feasible rows no other feasible row beats: as good in every objective and better in one."""
    scored = [row for row in rows if row[STATUS] == "feasible"]

    def beats(a: dict, b: dict) -> bool:
        return all(a[k] <= b[k] for k in OBJECTIVES) and any(a[k] < b[k] for k in OBJECTIVES)

    front = [row for row in scored if not any(beats(other, row) for other in scored)]
    return sorted(front, key=lambda row: row["energy_per_edge_j"])


def recommend(front: Sequence[dict[str, Any]], max_relative_loss: float) -> dict[str, Any] | None:
    """The front's lowest-energy design whose relative loss is within ``max_relative_loss``, else its lowest
    relative loss (None without a feasible design)."""
    within = [row for row in front if row["relative_loss"] <= max_relative_loss]
    if within:
        return min(within, key=lambda row: row["energy_per_edge_j"])
    return min(front, key=lambda row: row["relative_loss"]) if front else None


def plot_front(rows: Sequence[dict[str, Any]], front: Sequence[dict[str, Any]], path: Path) -> bool:
    """Energy per edge against relative loss (colour: time per update) and against time per update (colour:
    relative loss), every feasible trial, the front ringed. False when no trial is feasible."""
    scored = [row for row in rows if row[STATUS] == "feasible"]
    if not scored:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    pairs = (("relative_loss", "time_per_update_s"), ("time_per_update_s", "relative_loss"))
    labels = {
        "relative_loss": "relative loss (noisy / ideal)",
        "time_per_update_s": "time per update (s)",
        "energy_per_edge_j": "energy per update per edge (J)",
    }
    for ax, (x, colour) in zip(axes, pairs, strict=True):
        points = ax.scatter(
            [row[x] for row in scored],
            [row["energy_per_edge_j"] for row in scored],
            c=[row[colour] for row in scored],
            cmap="viridis",
            norm=matplotlib.colors.LogNorm() if colour == "time_per_update_s" else None,
            s=22,
        )
        ax.scatter(
            [row[x] for row in front],
            [row["energy_per_edge_j"] for row in front],
            facecolors="none",
            edgecolors="red",
            s=70,
            label="Pareto front",
        )
        if x == "time_per_update_s":
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(labels[x])
        ax.set_ylabel(labels["energy_per_edge_j"])
        fig.colorbar(points, ax=ax, label=labels[colour])
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"design search: {len(scored)} feasible of {len(rows)} trials, {len(front)} on the front")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _estimate_s(problem: Problem, trials: int, workers: int) -> float:
    """Two trainings per trial at the base design (``sweep.runs_seconds``), shared among the workers."""
    from tcl_circuits.learning.hardware import with_technology
    from tcl_circuits.learning.tasks import make_task
    from tcl_circuits.studies.sweep import runs_seconds

    base = problem.base
    nonlinear = make_task(base.task, base.learning.seed).student.nonlinear
    noisy = with_technology(
        base,
        problem.technology(),
        comparator=problem.comparator,
        resistor=problem.resistor,
        nonlinear=nonlinear,
    ).config
    return runs_seconds([base, noisy] * trials, workers)


def _write_front_designs(folder: Path, front: list[dict[str, Any]], design_of: Any) -> None:
    """One design file per trial of the front (``front/tNNNNN.toml``); the files of trials a resumed search
    pushed off the front are removed (this search wrote them, and only it writes there)."""
    from tcl_circuits.files import write_text_atomic

    folder.mkdir(exist_ok=True)
    kept = {f"t{int(row['trial']):05d}.toml": row for row in front}
    for stale in folder.glob("t*.toml"):
        if stale.name not in kept:
            stale.unlink()
    for name, row in kept.items():
        write_text_atomic(folder / name, design_of(row))


def reference_run(problem: Problem, folder: Path) -> dict[str, float]:
    """Today's default design on the search's task and samples, ideal, trained once into ``folder`` (resumed
    with the search): what a design must learn nearly as well as (``design_trial.learns_margin``)."""
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.tasks import make_task

    task = make_task(problem.base.task, problem.base.learning.seed)
    summary = train(task, problem.base, folder, resume=folder.exists(), progress=False, plots=False)
    kept = {"loss_ratio": float(summary["loss_ratio"])}
    if summary.get("final_test_accuracy") is not None:
        kept["final_test_accuracy"] = float(summary["final_test_accuracy"])
    return kept


def run_design(
    problem: Problem,
    out: str | Path,
    *,
    trials: int,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    sampler: str = "nsga2",
    seed: int = 0,
    max_relative_loss: float = 1.5,
    announce: bool = False,
    knobs: Sequence[Knob] = KNOBS,
) -> dict[str, Any]:
    """Run the search in ``out`` until it holds ``trials`` finished trials; write its files (module
    docstring) and return counts, the recommended trial and the files written. ``out`` must be new or empty,
    or (with ``resume``) hold this same search (``RunFolder``). ``knobs``: the search space (a subset of the
    design knobs, or narrower ranges); the base config's values stand for the knobs left out."""
    from tcl_circuits.learning.run_folder import RunFolder

    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}", field="sampler")
    if not 1 <= trials <= 100_000:
        raise ConfigError(f"--trials must be from 1 to 100000, got {trials}", field="trials")
    if not 1 <= workers <= 256:
        raise ConfigError(f"--workers must be from 1 to 256, got {workers}", field="workers")
    if not (math.isfinite(max_relative_loss) and max_relative_loss >= 1):
        raise ConfigError(
            f"--max-relative-loss must be >= 1, got {max_relative_loss}", field="max_relative_loss"
        )
    problem.technology()  # a bad --tech fails before the folder is made
    fingerprint = {
        "base": to_dict(problem.base),
        "technology": problem.tech,
        "comparator": problem.comparator,
        "r_k_type": problem.resistor,
        "sampler": sampler,
        "seed": seed,
        "knobs": [
            [knob.field, list(knob.choices)] if knob.choices else [knob.field, knob.low, knob.high, knob.log]
            for knob in knobs
        ],
    }
    started = time.perf_counter()
    with RunFolder(out, fingerprint, resume=resume) as folder:
        problem = dataclasses.replace(problem, reference=reference_run(problem, folder.file("reference")))
        study = open_study(folder.file(STUDY), sampler, seed)
        done = sum(1 for t in study.trials if t.user_attrs.get(STATUS) in FINISHED)
        to_run = max(0, trials - done)
        trials_dir = folder.file("trials")
        trials_dir.mkdir(exist_ok=True)
        if announce and to_run and not scheduler:
            from tcl_circuits.learning import preflight

            seconds = _estimate_s(problem, to_run, workers)
            print(
                f"estimate: {to_run} trials (two trainings each at most) on {workers} workers: about "
                f"{preflight.duration(seconds)}",
                flush=True,
            )
        bar = tqdm(total=trials, initial=min(done, trials), desc="trials", disable=not progress)

        def finish(trial: Any, result: dict[str, Any]) -> None:
            _tell(study, trial, result)
            folder.write_csv(TRIALS, trial_rows(study, knobs))
            bar.update()
            if result[STATUS] == "failed":
                bar.write(f"trial {trial.number} failed: {result['error']}")

        if to_run:
            _drive(study, problem, knobs, trials_dir, to_run, workers, scheduler, finish)
        bar.close()
        rows = trial_rows(study, knobs)
        if not rows:
            raise DataError(f"{out}: the study holds no trial")
        folder.write_csv(TRIALS, rows)
        front = pareto_rows(rows)
        if front:
            folder.write_csv(PARETO, front)
        plotted = plot_front(rows, front, folder.file(PLOT))
        best = recommend(front, max_relative_loss)

        def design_of(row: dict[str, Any]) -> str:
            provenance = {
                "technology": problem.tech,
                "comparator": problem.comparator,
                "r_k_type": problem.resistor,
                "network": problem.base.task.network,
                "task": problem.base.task.task.value,
                "sampler": sampler,
                "trial": row["trial"],
                "objectives": {name: row[name] for name in OBJECTIVES},
            }
            return design_text({knob.field: row[knob.field] for knob in knobs}, provenance)

        if best is not None:
            folder.write_text(RECOMMENDED, design_of(best))
        _write_front_designs(folder.file(FRONT), front, design_of)
        folder.synced()
        counts = {
            status: sum(1 for row in rows if row[STATUS] == status) for status in (*FINISHED, "interrupted")
        }
        return {
            "trials": len(rows),
            "ran": to_run,
            **counts,
            "pareto": len(front),
            "recommended": None if best is None else {k: best[k] for k in ("trial", *OBJECTIVES)},
            "seconds": time.perf_counter() - started,
            "files": {
                "trials": str(folder.file(TRIALS)),
                "pareto": str(folder.file(PARETO)) if front else None,
                "front": str(folder.file(FRONT)),
                "plot": str(folder.file(PLOT)) if plotted else None,
                "recommended": str(folder.file(RECOMMENDED)) if best is not None else None,
            },
        }


def _drive(
    study: Any,
    problem: Problem,
    knobs: Sequence[Knob],
    trials_dir: Path,
    count: int,
    workers: int,
    scheduler: str | None,
    finish: Any,
) -> None:
    """Ask ``count`` trials, run them (in this process for one local worker, else on Dask with one trial in
    flight per worker, each asked when a worker frees up so it learns from the trials told so far) and tell
    each result as it arrives."""

    def folder_of(trial: Any) -> str:
        return str(trials_dir / f"t{trial.number:05d}")

    if workers <= 1 and not scheduler:
        for _ in range(count):
            trial = study.ask()
            finish(trial, evaluate(problem, _suggest(trial, knobs), folder_of(trial)))
        return
    from distributed import wait

    from tcl_circuits.studies.sweep import dask_client

    with dask_client(workers, scheduler) as client:
        slots = len(client.scheduler_info()["workers"]) if scheduler else workers
        pending: dict[Any, Any] = {}
        asked = 0
        while asked < count or pending:
            while asked < count and len(pending) < max(1, slots):
                trial = study.ask()
                values = _suggest(trial, knobs)
                future = client.submit(
                    evaluate, problem, values, folder_of(trial), key=f"trial-{trial.number}", pure=False
                )
                pending[future] = trial
                asked += 1
            finished = wait(list(pending), return_when="FIRST_COMPLETED").done
            for future in finished:
                finish(pending.pop(future), future.result())
