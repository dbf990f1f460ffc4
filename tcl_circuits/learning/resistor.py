"""The resistor learner: a network of fixed resistors whose conductances the controller rewrites between
samples, by one of three interchangeable rules (TCL read from the in-circuit accumulators, explicit
contrastive, exact gradient), as a hardware bench with programmable resistors would.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from tcl_circuits.backends import open_backend
from tcl_circuits.backends.base import Backend
from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import BackendKind, RuleKind, WindowConfig
from tcl_circuits.errors import DataError
from tcl_circuits.learning.compare import Alignment, alignment
from tcl_circuits.learning.plots import plot_update_bits
from tcl_circuits.learning.rules import (
    ContrastiveRule,
    Cycle,
    GradientRule,
    LearningRule,
    RuleStep,
    TclRule,
    calibrate_for_run,
)
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.run_folder import RunFolder, pack_array, unpack_array
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.learning.writes import ConductanceWrites, WriteOutcome
from tcl_circuits.physics.steady import SteadyState
from tcl_circuits.spice.writer import write_netlist


def make_rule(
    kind: RuleKind, backend: Backend, config: RunConfig, cell: CellDesign, lr: float
) -> LearningRule:
    """The rule of a run on a backend."""
    if kind is RuleKind.TCL:
        return TclRule(backend, config.drive, cell, config.sim, lr)
    if kind is RuleKind.CONTRASTIVE:
        return ContrastiveRule(backend, config.drive, config.sim, lr)
    return GradientRule(config.drive, lr)


def disagreement(step_delta: np.ndarray, reference_delta: np.ndarray) -> float:
    """Relative difference |a - b| / |b| of one sample's update between a backend and ngspice."""
    norm = float(np.linalg.norm(reference_delta))
    diff = float(np.linalg.norm(step_delta - reference_delta))
    return diff / norm if norm > 0 else (0.0 if diff == 0 else float("inf"))


class WindowControl:
    """The adaptive threshold and the nudge tracking of ``WindowConfig``, as a bench would run them."""

    ERROR_MEMORY = 20
    """Samples in the running RMS of the output error."""

    def __init__(self, config: WindowConfig, theta_v: float, beta_max: float) -> None:
        self.config = config
        self.active = config.active
        self.theta_v = theta_v
        self.beta0 = beta_max
        self.beta_max = beta_max
        self.errors: list[float] = []
        self.first_error: float | None = None

    def observe_error(self, rms_error_v: float) -> None:
        """The free-state output error of the sample about to be presented: sets beta_max."""
        if self.config.beta_tracking <= 0:
            return
        self.errors = [*self.errors[-(self.ERROR_MEMORY - 1) :], rms_error_v]
        if len(self.errors) < self.ERROR_MEMORY:
            return  # the reference error is a full window's: one sample's error varies too much
        running = float(np.sqrt(np.mean(np.square(self.errors))))
        if self.first_error is None:
            self.first_error = running
        if running > 0 and self.first_error > 0:
            factor = (self.first_error / running) ** self.config.beta_tracking
            self.beta_max = self.beta0 * float(np.clip(factor, 1.0, self.config.beta_cap))

    def observe_updates(self, fraction_updated: float) -> None:
        """After a cycle, the fraction of edges whose accumulator moved: steps theta."""
        rate = self.config.threshold_adaptation
        if rate > 0:
            target = self.config.target_updated
            self.theta_v *= float(np.exp(rate * (fraction_updated - target) / target))

    def state(self) -> dict:
        return {
            "theta_v": self.theta_v,
            "beta_max": self.beta_max,
            "errors": self.errors,
            "first_error": self.first_error,
        }

    def restore(self, state: dict) -> None:
        self.theta_v = float(state["theta_v"])
        self.beta_max = float(state["beta_max"])
        self.errors = [float(e) for e in state["errors"]]
        self.first_error = None if state["first_error"] is None else float(state["first_error"])


@dataclass(frozen=True)
class ResistorSample:
    """One sample presented to a resistor network: the rule's step, the update as written, and what the bench
    checked on the way (None: not set or not measured for this sample)."""

    step: RuleStep
    """The rule's update and measurements (its arrays are not recorded)."""
    update_norm_s: float
    """Norm of the update requested after ``lr_decay``, siemens."""
    write: WriteOutcome
    threshold_v: float | None = None
    """The threshold the bench set for this cycle, when it tracks the window."""
    beta_max: float | None = None
    """The nudge the bench set for this cycle, when it tracks the window."""
    alignment: Alignment | None = None
    """Cosines with the contrastive rule and the gradient, every ``alignment_every`` samples."""
    verify_update_rel_error: float | None = None
    """The update's relative difference from ngspice's, every ``verify_every`` samples (replaces alignment)."""

    def as_record(self) -> dict[str, Any]:
        """The sample's line of samples.jsonl (keys and order as always; what was not measured left out)."""
        step = self.step
        fields = {
            "energy_network_j": step.energy_network_j,
            "energy_feedback_j": step.energy_feedback_j,
            "update_norm_s": self.update_norm_s,
            "clipped_edges": self.write.clipped_edges,
            "write_pulses": self.write.write_pulses,
            "frac_writes_lost": self.write.frac_writes_lost,
            **{f"block_energy_{block}_j": value for block, value in step.block_energy_j.items()},
            **(step.occupancy.as_dict() if step.occupancy is not None else {}),
            "frac_updated": step.frac_updated,
            "time_points": step.time_points,
            "threshold_v": self.threshold_v,
            "beta_max": self.beta_max,
            **(self.alignment.as_dict() if self.alignment is not None else {}),
            "verify_update_rel_error": self.verify_update_rel_error,
        }
        return {key: value for key, value in fields.items() if value is not None}


class ResistorLearner:
    """Learns by rewriting conductances between samples (see the module docstring)."""

    samples_per_step = 1
    checkpoint_each_step = False

    def __init__(self, task: RegressionTask, config: RunConfig, *, backend: Backend | None = None) -> None:
        self.task = task
        self.config = config
        tech = config.technology.model()
        levels = None if tech is None else int(tech.device.levels.value)
        self.writes = ConductanceWrites(config.write, config.learning.seed, pulse_levels=levels)
        self.spec = self.writes.initial(task.student)
        self.learning_rate = config.learning.learning_rate_s2_per_v2 or task.default_learning_rate_s2_per_v2
        self.cell = calibrate_for_run(config.cell, self.spec, task, config.drive)
        self._stack = ExitStack()
        kind = config.resolved_backend
        self.backend = (
            backend if backend is not None else self._stack.enter_context(open_backend(kind, config.sim))
        )
        self.rule = make_rule(config.learning.rule, self.backend, config, self.cell, self.learning_rate)
        verify = config.sim.verify_every if kind is not BackendKind.NGSPICE else 0
        self.verify_every = verify
        self.reference = None
        if verify:
            reference = self._stack.enter_context(open_backend(BackendKind.NGSPICE, config.sim))
            self.reference = make_rule(config.learning.rule, reference, config, self.cell, self.learning_rate)
        self.samples_seen = 0
        self.last_cycle = Cycle()
        """The settings of the last sample's cycle."""
        self.window = WindowControl(config.window, self.cell.theta_v, config.drive.beta_max)

    def netlist(self, x: np.ndarray, y: np.ndarray) -> str:
        """The deck of one TCL cycle of the current network on a sample (what the bench simulates)."""
        circuit = compile_tcl(
            self.spec, drive=self.config.drive, cell=self.cell, sim=self.config.sim, inputs_v=x, targets_v=y
        )
        return write_netlist(circuit)

    def step_scale(self) -> float:
        """The factor on this sample's update: ``lr_decay`` to the power of the epochs already completed."""
        return float(self.config.learning.lr_decay ** (self.samples_seen // len(self.task.x_train)))

    def step(self, x: np.ndarray, y: np.ndarray) -> list[ResistorSample]:
        """Present samples (k, inputs) one after another; one record per sample."""
        records = []
        for xs, ys in zip(x, y, strict=True):
            cycle = self.last_cycle = self._cycle(xs, ys)
            step = self.rule.update(self.spec, xs, ys, cycle)
            tracked = None
            if self.tracks_window:
                tracked = (self.window.theta_v, self.window.beta_max)
                assert step.frac_updated is not None  # a TCL cycle measures it
                self.window.observe_updates(step.frac_updated)
            aligned, verified = None, None
            every = self.config.learning.alignment_every
            if every and self.samples_seen % every == 0:
                aligned = alignment(self.spec, xs, ys, step.dc_dg_estimate, self.config.drive)
            if self.reference is not None and self.samples_seen % self.verify_every == 0:
                reference = self.reference.update(self.spec, xs, ys, cycle)
                aligned, verified = None, disagreement(step.delta_g_s, reference.delta_g_s)
            delta_g_s = step.delta_g_s * self.step_scale()
            self.spec, written = self.writes.apply(self.spec, delta_g_s, self.samples_seen)
            self.samples_seen += 1
            records.append(
                ResistorSample(
                    step=step,
                    update_norm_s=float(np.linalg.norm(delta_g_s)),
                    write=written,
                    threshold_v=None if tracked is None else tracked[0],
                    beta_max=None if tracked is None else tracked[1],
                    alignment=aligned,
                    verify_update_rel_error=verified,
                )
            )
        return records

    @property
    def tracks_window(self) -> bool:
        """Whether the bench scales the threshold or the nudge as it goes (TCL with ``WindowConfig`` on)."""
        return self.rule.kind is RuleKind.TCL and self.window.active

    def _cycle(self, x: np.ndarray, y: np.ndarray) -> Cycle:
        """This sample's cycle: its own noise draw (the same on resume) and, when the bench tracks the window,
        the threshold and nudge it set from the free state it sees before the cycle."""
        seed = (self.config.learning.seed, self.samples_seen)
        if not self.tracks_window:
            return Cycle(noise_seed=seed)
        outputs = self.predict(x[None])[0]
        self.window.observe_error(float(np.sqrt(np.mean((outputs - y) ** 2))))
        return Cycle(
            noise_seed=seed,
            cell=self.cell.with_threshold_scaled(self.window.theta_v / self.cell.theta_v),
            drive=self.config.drive.replace(beta_max=self.window.beta_max),
        )

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Free-state outputs (samples, outputs) of the current network, volts."""
        return SteadyState(self.spec).solve(x)[:, list(self.spec.output_nodes)]

    def state(self) -> dict:
        return {
            "conductance_s": pack_array(self.spec.conductance_s),
            "samples_seen": self.samples_seen,
            "window": self.window.state(),
            "writes": self.writes.state(),
        }

    def restore(self, state: dict) -> None:
        try:
            conductance = unpack_array(state["conductance_s"])
            self.samples_seen = int(state["samples_seen"])
            self.spec = self.spec.with_conductances(conductance)
            self.window.restore(state["window"])
            if "writes" in state:  # checkpoints from before the write stage have none
                self.writes.restore(state["writes"])
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the checkpoint's learner state is damaged ({error})") from None

    def summary(self, records: list[dict]) -> dict:
        summary: dict = {
            "threshold_v": self.cell.theta_v,
            **{f"threshold_v_{group}": theta for group, theta in self.cell.calibration.group_thresholds_v},
            "learning_rate_s2_per_v2": self.learning_rate,
        }
        if self.window.active:
            summary.update(final_threshold_v=self.window.theta_v, final_beta_max=self.window.beta_max)
        summary.update(self.writes.summary())
        lost = [r["frac_writes_lost"] for r in records if "frac_writes_lost" in r]
        if lost:
            summary["frac_writes_lost"] = float(np.mean(lost))
        verified = [r["verify_update_rel_error"] for r in records if "verify_update_rel_error" in r]
        if verified:
            summary["verified_samples"] = len(verified)
            summary["verify_update_rel_error_max"] = float(np.max(verified))
            summary["verify_update_rel_error_median"] = float(np.median(verified))
        return summary

    def save_results(self, folder: RunFolder, records: list[dict], *, plots: bool = True) -> None:
        np.save(folder.file("final_conductance_s.npy"), self.spec.conductance_s)
        folder.write_csv("update_bits.csv", self.writes.rows())
        if plots and self.writes.bits_counts.any():
            plot_update_bits(
                self.writes.bits_counts, folder.file("update_bits.png"), self.config.write.conductance_bits
            )

    def close(self) -> None:
        self._stack.close()
