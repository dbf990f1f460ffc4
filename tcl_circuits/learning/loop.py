"""The one training loop: samples presented one after another, as a hardware bench would, for every learner.

Per run: open the run folder (refusing anything but a new folder or the same run), build the learner
(resistor or memristor), then per epoch a seeded order of the training samples, presented in steps of the
learner's size (1 sample for resistor networks, a chunk for memristor streams), with checkpoints (records,
learner state) every ``checkpoint_every`` samples or after every step where the learner needs it, and a
free-state evaluation of train and held-out data after every epoch. At the end: summary.json, samples.csv,
epochs.csv, the learner's arrays and the learning-curve plot. A run resumes exactly (bit for bit) from its
last checkpoint.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from tcl_circuits.backends.base import Backend
from tcl_circuits.blas import single_blas_thread
from tcl_circuits.checked import to_dict
from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.config import RuleKind
from tcl_circuits.errors import DataError
from tcl_circuits.files import loads_json
from tcl_circuits.learning.plots import confusion_counts, plot_confusion_matrix, plot_learning_curve
from tcl_circuits.learning.run_config import RunConfig, show_setting
from tcl_circuits.learning.run_folder import (
    PER_SAMPLE_MEANS,
    RunFolder,
    differences,
    sample_means,
    versions,
    window_summary,
)
from tcl_circuits.learning.tasks import ClassificationTask, RegressionTask
from tcl_circuits.physics.energy_bill import MEASURED_BLOCKS, EnergyBill, update_bill
from tcl_circuits.version import __version__


class SampleRecord(Protocol):
    """What a learner measured on one sample (``ResistorSample``, ``MemristorSample``)."""

    def as_record(self) -> dict[str, Any]:
        """The sample's fields as samples.jsonl keys them, in their order."""
        ...


class Learner(Protocol):
    """A way of learning on hardware; the loop does everything else."""

    samples_per_step: int
    checkpoint_each_step: bool
    cell: CellDesign
    """The feedback cells as built (design.json)."""

    def netlist(self, x: np.ndarray, y: np.ndarray) -> str: ...

    def step(self, x: np.ndarray, y: np.ndarray) -> Sequence[SampleRecord]: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def state(self) -> dict: ...

    def restore(self, state: dict) -> None: ...

    def summary(self, records: list[dict]) -> dict: ...

    def save_results(self, folder: RunFolder, records: list[dict], *, plots: bool = True) -> None: ...

    def close(self) -> None: ...


def make_learner(task: RegressionTask, config: RunConfig, backend: Backend | None = None) -> Learner:
    """The learner a run configuration asks for."""
    if config.memristor_device is not None:
        from tcl_circuits.learning.memristor import MemristorLearner

        return MemristorLearner(task, config, backend=backend)
    from tcl_circuits.learning.resistor import ResistorLearner

    return ResistorLearner(task, config, backend=backend)


GROWING = {"config.learning.epochs": "--epochs"}
"""What a resume may raise: a run (finished or not) is extended with more epochs, continuing exactly as a run
started with that many would have gone (the sample order and lr_decay depend on the epochs completed only)."""
CONFIG_FILE = "config.json"


def fingerprint(config: RunConfig, task: RegressionTask) -> dict:
    """What identifies a run: its configuration, its data and the code version."""
    return {
        "config": to_dict(config),
        "data_sha256": task.fingerprint(),
        "code_version": __version__,
    }


def _evaluate(task: RegressionTask, learner: Learner) -> dict[str, float]:
    out = {}
    for split, x, y in (("train", task.x_train, task.y_train), ("test", task.x_test, task.y_test)):
        for key, value in task.metrics(learner.predict(x), y).items():
            out[f"{split}_{key}"] = value
    return out


def _epoch_record(epoch: int, metrics: dict[str, float], seconds: float) -> dict:
    """One row of epochs.csv, columns in a fixed order (epoch, train_*, test_*, then the epoch's means of the
    per-sample window fractions and cosines, empty where not recorded, seconds) whatever the source."""
    ordered = sorted(
        metrics, key=lambda key: (not key.startswith("train_"), not key.startswith("test_"), key)
    )
    means = {key: metrics.get(key) for key in PER_SAMPLE_MEANS}
    return {
        "epoch": epoch,
        **{key: metrics[key] for key in ordered if key not in PER_SAMPLE_MEANS},
        **means,
        "seconds": seconds,
    }


def _csv_rows(records: list[dict]) -> list[dict]:
    """Records without their list-valued fields (kept in samples.jsonl and the learner's arrays)."""
    return [{k: v for k, v in r.items() if not isinstance(v, list)} for r in records]


@dataclass
class _Progress:
    """Where a run stands: the epoch and position within it, the epochs' rows so far, and its time."""

    epoch: int = 0
    position: int = 0
    epoch_records: list[dict] = field(default_factory=list)
    elapsed_before_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def seconds(self) -> float:
        return self.elapsed_before_s + time.perf_counter() - self.started

    def checkpoint(self, folder: RunFolder, learner: Learner) -> None:
        folder.save_checkpoint(
            {
                "epoch": self.epoch,
                "position": self.position,
                "epoch_records": self.epoch_records,
                "seconds": self.seconds(),
                "learner": learner.state(),
            }
        )


def train(
    task: RegressionTask,
    config: RunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool | tqdm = True,
    backend: Backend | None = None,
    stop_after_samples: int | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Train ``task.student`` as ``config`` says, in the run folder ``out_dir``; returns the summary.

    ``resume`` continues the run found in ``out_dir``, also with more epochs than it had (the run is
    extended; fewer are refused). ``backend`` overrides the simulator the config names
    (for tests and benches). ``progress``: a bar of this run's own, none, or a caller's bar (a report of
    several runs) that the samples advance. ``stop_after_samples`` stops (after a checkpoint) once that many samples have
    been presented in this call, as an interrupted run would; ``resume`` then continues it. ``plots=False``
    leaves out the PNGs (a sweep's many runs: drawing them takes about as long as a small run).
    """
    config = config.for_task(task)
    started = time.perf_counter()
    defaults = fingerprint(RunConfig().for_task(task), task)
    with (
        RunFolder(
            out_dir,
            fingerprint(config, task),
            resume=resume,
            defaults=defaults,
            growing=GROWING,
            show=show_setting,
        ) as folder,
        single_blas_thread(),
    ):
        if folder.resuming:
            _check_config_file(folder)
        learner = make_learner(task, config, backend)
        try:
            if folder.resuming:
                run = _resumed(folder, learner, len(task.x_train), config.learning.epochs)
            else:
                run = _started(folder, task, config, learner)
            run.started = started  # the run's time includes building the learner (calibration, first compile)
            _write_design(folder, learner)
            if not _present_samples(folder, task, config, learner, run, progress, stop_after_samples):
                return {"stopped": True, "epoch": run.epoch, "position": run.position}
            return _finish(folder, task, config, learner, run, plots)
        finally:
            learner.close()


def _check_config_file(folder: RunFolder) -> None:
    """config.json says what run.json's fingerprint says (an edit of either is refused); after an extension
    (this one, or one interrupted before config.json was rewritten) it gets the new epoch count."""
    path = folder.file(CONFIG_FILE)
    try:
        saved = loads_json(path.read_text(encoding="utf-8"))
        written = saved["config"]
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise DataError(f"{path} is missing or damaged ({error}); the run cannot be resumed") from None
    expected = folder.fingerprint["config"]
    changed = differences(written, expected, "config.", show=show_setting)
    epochs = [line for line in changed if line.startswith("config.learning.epochs:")]
    extension = (
        changed == epochs
        and isinstance(written.get("learning", {}).get("epochs"), int)
        and written["learning"]["epochs"] < expected["learning"]["epochs"]
    )
    if changed and not extension:
        raise DataError(
            f"{path} does not match run.json ({'; '.join(changed[:3])}): one of them was edited; the run "
            "cannot be resumed"
        )
    if extension:
        folder.write_json(CONFIG_FILE, {**saved, "config": expected})


def _resumed(folder: RunFolder, learner: Learner, n_train: int, epochs: int) -> _Progress:
    """Where an interrupted run stopped, from its verified checkpoint; the learner restored to it."""
    state = folder.load_checkpoint()
    try:
        run = _Progress(
            epoch=int(state["epoch"]),
            position=int(state["position"]),
            epoch_records=[
                _epoch_record(
                    int(r["epoch"]),
                    {k: v for k, v in r.items() if k not in ("epoch", "seconds")},
                    float(r["seconds"]),
                )
                for r in state["epoch_records"]
            ],
            elapsed_before_s=float(state["seconds"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(f"checkpoint.json is damaged ({error})") from None
    if not (
        0 <= run.epoch <= epochs
        and 0 <= run.position < n_train
        and state["records"] == run.epoch * n_train + run.position
    ):
        raise DataError(
            f"checkpoint.json is inconsistent (epoch {run.epoch}, position {run.position}, {state['records']} "
            f"records for {n_train} samples per epoch); it cannot be resumed"
        )
    learner.restore(state["learner"])
    return run


def _started(folder: RunFolder, task: RegressionTask, config: RunConfig, learner: Learner) -> _Progress:
    """A new run: its config.json, the deck of one cycle and the initial evaluation."""
    folder.start_records()
    folder.write_json(
        CONFIG_FILE,
        {"config": to_dict(config), "seed": config.learning.seed, "task": task.name, "versions": versions()},
    )
    title, deck = learner.netlist(task.x_train[0], task.y_train[0]).split("\n", 1)
    where = "* training sample 0 in data order (training presents a shuffled order), initial conductances"
    folder.write_text("first_sample.cir", f"{title}\n{where}\n{deck}")
    return _Progress(epoch_records=[_epoch_record(0, _evaluate(task, learner), 0.0)])


DESIGN_FILE = "design.json"
"""What a run built (``circuit.cell_design.CellDesign.summary``) beside what it asked (config.json)."""


def _write_design(folder: RunFolder, learner: Learner) -> None:
    """design.json, once per run (a folder from before it existed gets it when resumed)."""
    if not folder.file(DESIGN_FILE).exists():
        folder.write_json(DESIGN_FILE, learner.cell.summary())


def _present_samples(
    folder: RunFolder,
    task: RegressionTask,
    config: RunConfig,
    learner: Learner,
    run: _Progress,
    progress: bool | tqdm,
    stop_after: int | None,
) -> bool:
    """The epochs: each a seeded order of the training samples, checkpoints on the way and an evaluation at
    its end. False when stopped after ``stop_after`` samples of this call."""
    learning, n_train = config.learning, len(task.x_train)
    done = run.epoch * n_train + run.position
    if not isinstance(progress, bool):  # a caller's bar (any tqdm)
        bar, owned = progress, contextlib.nullcontext()
        bar.update(done)
    else:
        bar = tqdm(
            total=learning.epochs * n_train,
            initial=done,
            disable=not progress,
            unit="sample",
            desc=learning.rule.value if config.memristor_device is None else config.device,
        )
        owned = bar
    presented, since_checkpoint = 0, 0
    with owned:
        while run.epoch < learning.epochs:
            order = np.random.default_rng([learning.seed, run.epoch]).permutation(n_train)
            while run.position < n_train:
                if stop_after is not None and presented >= stop_after:
                    return False
                picked = order[run.position : run.position + learner.samples_per_step]
                records = learner.step(task.x_train[picked], task.y_train[picked])
                for k, record in enumerate(records):
                    folder.records.append(
                        {
                            "epoch": run.epoch + 1,
                            "position": run.position + k,
                            "sample": int(picked[k]),
                            **record.as_record(),
                        }
                    )
                run.position += len(picked)
                presented += len(picked)
                since_checkpoint += len(picked)
                bar.update(len(picked))
                if run.position < n_train and (
                    learner.checkpoint_each_step or since_checkpoint >= learning.checkpoint_every
                ):
                    run.checkpoint(folder, learner)
                    since_checkpoint = 0
            _end_epoch(folder, task, learner, run, bar)
            since_checkpoint = 0
    return True


STALL_FLOOR = 0.001
"""An epoch whose edges sat inside the learning window less than this fraction of the time (the mean of the
per-sample occupancy) has stalled: TCL learns only from contrasts inside the window."""


def stall_warning(row: dict) -> str | None:
    """One line saying that an epoch (a row of epochs.csv) stalled and which knob moves the window, or None."""
    inside = row.get("frac_window")
    if inside is None or not inside < STALL_FLOOR:
        return None
    below, above = row.get("frac_below") or 0.0, row.get("frac_above") or 0.0
    knob = (
        "contrasts fell below the window: lower the threshold (--threshold-headroom, or --threshold)"
        if below >= above
        else "contrasts leak over the window: raise the threshold (--threshold-headroom, or --threshold)"
    )
    return (
        f"epoch {row['epoch']}: learning stalled, {100 * inside:.2g} % of the edges in the learning window "
        f"(floor {100 * STALL_FLOOR:g} %; {100 * below:.3g} % below it, {100 * above:.3g} % above); {knob}"
    )


def _end_epoch(folder: RunFolder, task: RegressionTask, learner: Learner, run: _Progress, bar: tqdm) -> None:
    """An epoch's evaluation and means, its row in epochs.csv (readable while a long run goes on), a checkpoint."""
    n_train = len(task.x_train)
    run.epoch += 1
    run.position = 0
    this_epoch = sample_means(r for r in folder.records.records[-n_train:] if r.get("epoch") == run.epoch)
    run.epoch_records.append(
        _epoch_record(run.epoch, {**_evaluate(task, learner), **this_epoch}, run.seconds())
    )
    latest = run.epoch_records[-1]
    shown = {"test_loss": f"{latest['test_loss']:.3g}"}
    if "test_accuracy" in latest:
        shown["test_accuracy"] = f"{latest['test_accuracy']:.2%}"
    bar.set_postfix(shown)
    warning = stall_warning(latest)
    if warning is not None and not bar.disable:
        bar.write(warning, file=sys.stderr)
    run.checkpoint(folder, learner)
    folder.write_csv("epochs.csv", run.epoch_records)


def _finish(
    folder: RunFolder, task: RegressionTask, config: RunConfig, learner: Learner, run: _Progress, plots: bool
) -> dict[str, Any]:
    """The finished run's files: samples.csv, epochs.csv, the learner's arrays, plots, summary.json."""
    records = folder.records.records
    summary = _summary(task, config, learner, records, run.epoch_records, run.seconds())
    folder.write_csv("samples.csv", _csv_rows(records))
    folder.write_csv("epochs.csv", run.epoch_records)
    learner.save_results(folder, records, plots=plots)
    if plots:
        plot_learning_curve(
            run.epoch_records,
            folder.file("learning_curve.png"),
            title=f"{config.learning.rule.value} on {task.name} ({config.device}, {config.resolved_backend.value})",
            sample_records=records,
        )
    if isinstance(task, ClassificationTask):
        _write_confusion(folder, task, learner, f"{config.learning.rule.value} on {task.name}", plots)
    folder.synced()
    folder.write_json("summary.json", summary)
    return summary


def _write_confusion(
    folder: RunFolder, task: ClassificationTask, learner: Learner, title: str, plots: bool
) -> None:
    counts = confusion_counts(
        task.labels_test, np.argmax(learner.predict(task.x_test), axis=1), len(task.classes)
    )
    folder.write_csv(
        "confusion_matrix.csv",
        [
            {"true": name, **dict(zip(task.classes, map(int, row), strict=True))}
            for name, row in zip(task.classes, counts, strict=True)
        ],
    )
    if plots:
        plot_confusion_matrix(counts, task.classes, folder.file("confusion_matrix.png"), title=title)


def energy_bill(config: RunConfig, learner: Learner, records: list[dict], edges: int) -> EnergyBill:
    """One update's energy by block (``physics.energy_bill``): the engine's measured blocks and the write
    pulses averaged over the run's records, the rest priced by the run's technology."""
    blocks = sorted({key for r in records for key in r if key.startswith("block_energy_")})
    measured = {}
    for key in blocks:
        name = key.removeprefix("block_energy_").removesuffix("_j")
        measured[MEASURED_BLOCKS.get(name, name)] = float(np.mean([r[key] for r in records if key in r]))
    pulses = [r["write_pulses"] for r in records if "write_pulses" in r]
    in_circuit = config.learning.rule is RuleKind.TCL
    period = config.drive.period_s
    if config.memristor_device is not None:  # a stream's sample slot: its transitions and settling as well
        period = config.memristor.stream.sample_period_s(config.drive)
    return update_bill(
        measured,
        edges=edges,
        period_s=period,
        design=learner.cell if in_circuit else None,
        tech=config.technology.model(),
        comparator=config.technology.comparator,
        pulses_per_update=float(np.mean(pulses)) if pulses else None,
        technology_name=config.technology.name,
    )


def _summary(
    task: RegressionTask,
    config: RunConfig,
    learner: Learner,
    records: list[dict],
    epoch_records: list[dict],
    seconds: float,
) -> dict:
    """The summary.json of a finished run (losses in the task's units; the energy of an update by block,
    ``energy_per_update_j``, and its time, ``time_per_update_s``: ``energy_bill``)."""
    first, last = epoch_records[0], epoch_records[-1]
    initial = first["test_loss"]
    bill = energy_bill(config, learner, records, task.student.n_edges)
    summary = {
        "rule": config.learning.rule.value,
        "backend": config.resolved_backend.value,
        "device": config.device,
        "task": task.name,
        "edges": task.student.n_edges,
        "initial_test_loss": initial,
        "final_test_loss": last["test_loss"],
        "loss_ratio": last["test_loss"] / initial if initial else None,
        "initial_train_loss": first["train_loss"],
        "final_train_loss": last["train_loss"],
        "loss_units": task.loss_units,
        "epochs": config.learning.epochs,
        "samples": len(records),
        "seconds": seconds,
        "seconds_per_sample": seconds / max(1, len(records)),
        "energy_per_update_j": bill.summary(),
        "time_per_update_s": bill.time_per_update_s,
    }
    for key, value in last.items():
        if key.startswith(("train_", "test_")) and key not in ("train_loss", "test_loss"):
            summary[f"final_{key}"] = value
    summary.update(learner.summary(records))
    summary.update(window_summary(records))
    stalled = [int(row["epoch"]) for row in epoch_records if stall_warning(row) is not None]
    summary["stalled_epochs"] = stalled  # epochs whose edges sat below the learning window (STALL_FLOOR)
    return summary
