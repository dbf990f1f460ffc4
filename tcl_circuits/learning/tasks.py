"""Training tasks: what the network learns and how it is scored.

``teacher``: teacher-student regression. A teacher network with the same graph and other conductances labels
random input voltages, so a student with the right conductances fits the data exactly. The loss is
C = sum over outputs of (V_out - V_target)^2 in V^2, averaged over samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

import numpy as np

from tcl_circuits.config import Checked, param
from tcl_circuits.errors import ConfigError
from tcl_circuits.network import NetworkSpec, from_graph, graph_from_argument
from tcl_circuits.physics.steady import SteadyState


class TaskKind(Enum):
    """The learning task."""

    TEACHER = "teacher"


@dataclass(frozen=True, kw_only=True)
class TaskConfig(Checked):
    """Which task, on which network, with how many samples."""

    task: TaskKind = param(TaskKind.TEACHER, help="what to learn")
    network: str = param(
        "lattice:4x4",
        help="network: lattice:RxC, regular:N,D, er:N,P, layered:A-B-C, or a .graphml / edge-list file",
    )
    train_samples: int = param(100, help="training samples per epoch", minimum=1, maximum=10_000_000)
    test_samples: int = param(50, help="held-out samples", minimum=1, maximum=10_000_000)


@dataclass(frozen=True)
class RegressionTask:
    """A student network and train/test sets of input voltages and output targets (volts)."""

    name: str
    student: NetworkSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    teacher: NetworkSpec | None = None

    loss_units = "V^2 (sum over outputs of (V_out - V_target)^2, mean over samples)"

    def metrics(self, outputs_v: np.ndarray, targets_v: np.ndarray) -> dict[str, float]:
        """Scores of free-state outputs (samples, outputs) against targets: the mean loss, V^2."""
        return {"loss": float(np.mean(np.sum((outputs_v - targets_v) ** 2, axis=1)))}

    def fingerprint(self) -> str:
        """SHA-256 of everything the task feeds a run: samples and the student's initial network."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test, self.student.conductance_s):
            digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
        digest.update(repr((self.student.labels, self.student.roles, self.student.edges)).encode())
        return digest.hexdigest()


def teacher_task(
    network: str,
    *,
    train_samples: int,
    test_samples: int,
    seed: int = 0,
    input_range_v: tuple[float, float] = (0.0, 1.0),
) -> RegressionTask:
    """A realisable teacher-student task on a network description (``lattice:4x4``) or graph file.

    The teacher is built with seed ``seed`` and the student with ``seed + 1`` (same graph, other random
    conductances; a graph file gives the student its own conductances and the teacher a random +-50 % copy).
    """
    if train_samples < 1 or test_samples < 1:
        raise ConfigError(f"need at least 1 train and 1 test sample, got {train_samples} and {test_samples}")
    lo, hi = input_range_v
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ConfigError(f"input_range_v must be finite with low < high, got {input_range_v!r}")
    rng = np.random.default_rng(seed)
    student = from_graph(graph_from_argument(network, seed=seed + 1))
    teacher = from_graph(graph_from_argument(network, seed=seed))
    if np.array_equal(teacher.conductance_s, student.conductance_s):
        scale = rng.uniform(0.5, 1.5, size=teacher.n_edges)
        teacher = teacher.with_conductances(teacher.clip(teacher.conductance_s * scale))
    n_in = len(student.input_nodes)
    x = rng.uniform(lo, hi, size=(train_samples + test_samples, n_in))
    y = SteadyState(teacher).solve(x)[:, list(teacher.output_nodes)]
    return RegressionTask(
        name=f"teacher:{network}",
        student=student,
        x_train=x[:train_samples],
        y_train=y[:train_samples],
        x_test=x[train_samples:],
        y_test=y[train_samples:],
        teacher=teacher,
    )


def make_task(config: TaskConfig, seed: int) -> RegressionTask:
    """The task a TaskConfig describes, drawn with ``seed``."""
    return teacher_task(
        config.network, train_samples=config.train_samples, test_samples=config.test_samples, seed=seed
    )
