"""The training controller: presents samples one after another, as a hardware bench would.

Per sample: compile the network with this sample's inputs and targets, let the rule simulate and return
Delta G, clip to the device bounds, record. Per epoch: shuffle (seeded), evaluate train and held-out loss in
the free state. The run folder is self-describing (config.json with versions and seed, the first sample's
netlist, records, checkpoint, summary.json, learning-curve plot) and a run resumes from its checkpoint.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tcl_circuits.backends import open_backend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.rules import ContrastiveRule, GradientRule, TclRule
from tcl_circuits.learning.run_folder import (
    SampleLog,
    jsonable,
    summary_core,
    versions,
    window_summary,
    write_json,
    write_records,
)
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.physics.linear import mean_loss
from tcl_circuits.spice.writer import write_netlist

CHECKPOINT = "checkpoint.json"


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run (stored in config.json; a resume must match it)."""

    task: str
    backend: BackendKind
    drive: SawtoothConfig
    cell: FeedbackCellConfig
    sim: SimulatorConfig
    learning: LearningConfig


def config_dict(config: RunConfig) -> dict:
    return jsonable(asdict(config))


def make_rule(config: RunConfig, backend):
    lr = config.learning.learning_rate_s2_per_v2
    kind = config.learning.rule
    if kind is RuleKind.TCL:
        return TclRule(backend, config.drive, config.cell, config.sim, lr)
    if kind is RuleKind.CONTRASTIVE:
        return ContrastiveRule(backend, config.drive, config.sim, lr)
    return GradientRule(config.drive, lr)


def train(
    task: RegressionTask,
    config: RunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> dict:
    """Train ``task.student`` and return the summary (also written to ``out_dir/summary.json``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config_dict(config)
    checkpoint_path = out / CHECKPOINT
    if checkpoint_path.exists() and not resume:
        raise ConfigError(
            f"{out} already holds a run; pass resume=True (--resume) to continue it or pick another folder"
        )
    spec = task.student
    n_train = len(task.x_train)
    learning = config.learning
    if resume and checkpoint_path.exists():
        state = json.loads(checkpoint_path.read_text())
        if state["config"] != cfg:
            raise ConfigError(
                f"the run in {out} was started with another configuration; refusing to resume it"
            )
        spec = spec.with_conductances(np.array(state["conductance_s"]))
        epoch, position = state["epoch"], state["position"]
        sample_log, epoch_records = SampleLog(out, state), state["epoch_records"]
        elapsed_before = state["seconds"]
        initial_test_loss = state["initial_test_loss"]
    else:
        epoch, position, elapsed_before = 0, 0, 0.0
        sample_log, epoch_records = SampleLog(out), []
        initial_test_loss = mean_loss(spec, task.x_test, task.y_test)
        epoch_records.append(
            {
                "epoch": 0,
                "train_loss": mean_loss(spec, task.x_train, task.y_train),
                "test_loss": initial_test_loss,
                "seconds": 0.0,
            }
        )
        write_json(
            out / "config.json",
            {"config": cfg, "seed": learning.seed, "versions": versions(), "task": task.name},
        )
        (out / "first_sample.cir").write_text(
            write_netlist(
                compile_tcl(
                    spec,
                    drive=config.drive,
                    cell=config.cell,
                    sim=config.sim,
                    inputs_v=task.x_train[0],
                    targets_v=task.y_train[0],
                )
            )
        )
    started = time.perf_counter()

    def seconds() -> float:
        return elapsed_before + time.perf_counter() - started

    def save_checkpoint() -> None:
        write_json(
            checkpoint_path,
            {
                "config": cfg,
                "conductance_s": spec.conductance_s.tolist(),
                "epoch": epoch,
                "position": position,
                **sample_log.flush(),
                "epoch_records": epoch_records,
                "seconds": seconds(),
                "initial_test_loss": initial_test_loss,
            },
        )

    total = learning.epochs * n_train
    bar = tqdm(
        total=total,
        initial=epoch * n_train + position,
        disable=not progress,
        unit="sample",
        desc=learning.rule.value,
    )
    verify = config.sim.verify_every if config.backend is not BackendKind.NGSPICE else 0
    with open_backend(config.backend, config.sim) as backend, ExitStack() as stack:
        rule = make_rule(config, backend)
        reference = (
            make_rule(config, stack.enter_context(open_backend(BackendKind.NGSPICE, config.sim)))
            if verify
            else None
        )
        while epoch < learning.epochs:
            order = np.random.default_rng([learning.seed, epoch]).permutation(n_train)
            while position < n_train:
                k = int(order[position])
                x, y = task.x_train[k], task.y_train[k]
                step = rule.update(spec, x, y)
                checked = {}
                if reference is not None and (epoch * n_train + position) % verify == 0:
                    checked = _disagreement(step, reference.update(spec, x, y))
                proposed = spec.conductance_s + step.delta_g_s
                clipped = spec.clip(proposed)
                spec = spec.with_conductances(clipped)
                sample_log.append(
                    {
                        "epoch": epoch + 1,
                        "position": position,
                        "sample": k,
                        "energy_network_j": step.energy_network_j,
                        "energy_feedback_j": step.energy_feedback_j,
                        "update_norm_s": float(np.linalg.norm(step.delta_g_s)),
                        "clipped_edges": int(np.sum(clipped != proposed)),
                        **step.info,
                        **checked,
                    }
                )
                position += 1
                bar.update(1)
                if position % learning.checkpoint_every == 0:
                    save_checkpoint()
            epoch += 1
            position = 0
            epoch_records.append(
                {
                    "epoch": epoch,
                    "train_loss": mean_loss(spec, task.x_train, task.y_train),
                    "test_loss": mean_loss(spec, task.x_test, task.y_test),
                    "seconds": seconds(),
                }
            )
            bar.set_postfix(test_loss=f"{epoch_records[-1]['test_loss']:.3g}")
            save_checkpoint()
    bar.close()
    sample_records = sample_log.records
    summary = _summary(task, config, spec, sample_records, epoch_records, initial_test_loss, seconds())
    write_records(out, sample_records, epoch_records)
    write_json(out / "summary.json", summary)
    np.save(out / "final_conductance_s.npy", spec.conductance_s)
    plot_learning_curve(
        epoch_records,
        out / "learning_curve.png",
        title=f"{learning.rule.value} on {task.name} ({config.backend.value})",
        sample_records=sample_records,
    )
    return summary


def _disagreement(step, reference) -> dict[str, float]:
    """Relative difference of one sample's update between the training backend and ngspice."""
    norm = float(np.linalg.norm(reference.delta_g_s))
    diff = float(np.linalg.norm(step.delta_g_s - reference.delta_g_s))
    return {"verify_update_rel_error": diff / norm if norm > 0 else (0.0 if diff == 0 else float("inf"))}


def _summary(task, config, spec, sample_records, epoch_records, initial_test_loss, seconds) -> dict:
    summary = summary_core(
        rule=config.learning.rule.value,
        backend=config.backend.value,
        task=task.name,
        edges=spec.n_edges,
        epochs=config.learning.epochs,
        threshold_v=config.cell.threshold_v,
        initial_test_loss=initial_test_loss,
        sample_records=sample_records,
        epoch_records=epoch_records,
        seconds=seconds,
    )
    summary["loss_units"] = "V^2 (sum over outputs of (V_out - V_target)^2, mean over samples)"
    verified = [r["verify_update_rel_error"] for r in sample_records if "verify_update_rel_error" in r]
    if verified:
        summary["verified_samples"] = len(verified)
        summary["verify_update_rel_error_max"] = float(np.max(verified))
        summary["verify_update_rel_error_median"] = float(np.median(verified))
    summary.update(window_summary(sample_records))
    return summary


def plot_learning_curve(
    epoch_records: list[dict], path: Path, *, title: str, sample_records: list[dict] = ()
) -> None:
    """Train and held-out loss per epoch (log scale); beside it, where TCL runs record them, the fractions
    of edges below, inside and above the learning window per sample (running mean over 20 samples)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    windowed = bool(sample_records) and "frac_window" in sample_records[0]
    fig, axes = plt.subplots(1, 2 if windowed else 1, figsize=(10 if windowed else 5, 3.5), squeeze=False)
    ax = axes[0, 0]
    epochs = [r["epoch"] for r in epoch_records]
    ax.semilogy(epochs, [r["train_loss"] for r in epoch_records], "o-", label="train")
    ax.semilogy(epochs, [r["test_loss"] for r in epoch_records], "s-", label="held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (V$^2$)")
    ax.set_title(title, fontsize=9)
    ax.legend()
    if windowed:
        ax = axes[0, 1]
        kernel = np.ones(20) / 20
        for key, label in (
            ("frac_below", "below (no update)"),
            ("frac_window", "in window"),
            ("frac_above", "above (leaks)"),
        ):
            values = np.array([r[key] for r in sample_records])
            smooth = np.convolve(values, kernel, mode="valid") if values.size >= 20 else values
            ax.plot(np.arange(smooth.size) + (values.size - smooth.size), smooth, label=label)
        ax.set_xlabel("sample")
        ax.set_ylabel("fraction of edges")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("edges per regime of the learning window", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
