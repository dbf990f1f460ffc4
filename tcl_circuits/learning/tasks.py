"""Training tasks. Teacher-student regression: a teacher network with the same graph and other conductances
labels random input voltages, so a student with the right conductances fits the data exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError
from tcl_circuits.network import NetworkSpec, from_graph, graph_from_argument
from tcl_circuits.physics.linear import LinearNetwork


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
    y = LinearNetwork(teacher).solve(x)[:, list(teacher.output_nodes)]
    return RegressionTask(
        name=f"teacher:{network}",
        student=student,
        x_train=x[:train_samples],
        y_train=y[:train_samples],
        x_test=x[train_samples:],
        y_test=y[train_samples:],
        teacher=teacher,
    )
