"""The resistor learner: a network of fixed resistors whose conductances the controller rewrites between
samples, by one of three interchangeable rules (TCL read from the in-circuit accumulators, explicit
contrastive, exact gradient), as a hardware bench with programmable resistors would.
"""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np

from tcl_circuits.backends import open_backend
from tcl_circuits.backends.base import Backend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import BackendKind, FeedbackCellConfig, RuleKind
from tcl_circuits.errors import DataError
from tcl_circuits.learning.rules import ContrastiveRule, GradientRule, LearningRule, TclRule, calibrate_cell
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.run_folder import RunFolder
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.physics.linear import LinearNetwork
from tcl_circuits.spice.writer import write_netlist

DEFAULT_LEARNING_RATE_S2_PER_V2 = 5e-6
CALIBRATION_SAMPLES = 20
"""Training samples the automatic threshold is placed on (the first ones, in data order)."""


def make_rule(
    kind: RuleKind, backend: Backend, config: RunConfig, cell: FeedbackCellConfig, lr: float
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


class ResistorLearner:
    """Learns by rewriting conductances between samples (see the module docstring)."""

    samples_per_step = 1
    checkpoint_each_step = False

    def __init__(self, task: RegressionTask, config: RunConfig, *, backend: Backend | None = None) -> None:
        self.task = task
        self.config = config
        self.spec = task.student
        self.learning_rate = config.learning.learning_rate_s2_per_v2 or DEFAULT_LEARNING_RATE_S2_PER_V2
        n_cal = min(len(task.x_train), CALIBRATION_SAMPLES)
        self.cell = calibrate_cell(
            config.cell, self.spec, task.x_train[:n_cal], task.y_train[:n_cal], config.drive
        )
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

    def netlist(self, x: np.ndarray, y: np.ndarray) -> str:
        """The deck of one TCL cycle of the current network on a sample (what the bench simulates)."""
        circuit = compile_tcl(
            self.spec, drive=self.config.drive, cell=self.cell, sim=self.config.sim, inputs_v=x, targets_v=y
        )
        return write_netlist(circuit)

    def step(self, x: np.ndarray, y: np.ndarray) -> list[dict]:
        """Present samples (k, inputs) one after another; one record per sample."""
        records = []
        for xs, ys in zip(x, y, strict=True):
            step = self.rule.update(self.spec, xs, ys)
            checked = {}
            if self.reference is not None and self.samples_seen % self.verify_every == 0:
                reference = self.reference.update(self.spec, xs, ys)
                checked = {"verify_update_rel_error": disagreement(step.delta_g_s, reference.delta_g_s)}
            proposed = self.spec.conductance_s + step.delta_g_s
            clipped = self.spec.clip(proposed)
            self.spec = self.spec.with_conductances(clipped)
            self.samples_seen += 1
            records.append(
                {
                    "energy_network_j": step.energy_network_j,
                    "energy_feedback_j": step.energy_feedback_j,
                    "update_norm_s": float(np.linalg.norm(step.delta_g_s)),
                    "clipped_edges": int(np.sum(clipped != proposed)),
                    **step.info,
                    **checked,
                }
            )
        return records

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Free-state outputs (samples, outputs) of the current network, volts."""
        return LinearNetwork(self.spec).solve(x)[:, list(self.spec.output_nodes)]

    def state(self) -> dict:
        return {"conductance_s": self.spec.conductance_s.tolist(), "samples_seen": self.samples_seen}

    def restore(self, state: dict) -> None:
        try:
            conductance = np.array(state["conductance_s"], dtype=float)
            self.samples_seen = int(state["samples_seen"])
            self.spec = self.spec.with_conductances(conductance)
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the checkpoint's learner state is damaged ({error})") from None

    def summary(self, records: list[dict]) -> dict:
        summary: dict = {"threshold_v": self.cell.threshold_v, "learning_rate_s2_per_v2": self.learning_rate}
        verified = [r["verify_update_rel_error"] for r in records if "verify_update_rel_error" in r]
        if verified:
            summary["verified_samples"] = len(verified)
            summary["verify_update_rel_error_max"] = float(np.max(verified))
            summary["verify_update_rel_error_median"] = float(np.median(verified))
        return summary

    def save_results(self, folder: RunFolder, records: list[dict]) -> None:
        np.save(folder.file("final_conductance_s.npy"), self.spec.conductance_s)

    def close(self) -> None:
        self._stack.close()
