"""Training tasks: what the network learns and how it is scored.

``teacher``: teacher-student regression. A teacher network with the same graph and other conductances labels
random input voltages, so a student with the right conductances fits the data exactly.

``iris``, ``digits``, ``mnist``: classification on a deep resistive network (``network.drn``). A feature f in
[0, 1] becomes the input pair (+input_v (2f - 1), -input_v (2f - 1)); the bias pair is (+input_v, -input_v).
The target of the right class's output is target_high_v, of the others target_low_v; the predicted class is
the output with the highest free-state voltage.

In every task the loss is C = sum over outputs of (V_out - V_target)^2 in V^2, averaged over samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from enum import Enum

import numpy as np

from tcl_circuits.checked import Checked, param
from tcl_circuits.config import FeedbackCellConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.network import NetworkSpec, from_graph, graph_from_argument
from tcl_circuits.network.builders import DRN_DIODE_RS_OHM, build
from tcl_circuits.physics.steady import SteadyState


class TaskKind(Enum):
    """The learning task."""

    TEACHER = "teacher"
    IRIS = "iris"
    DIGITS = "digits"
    MNIST = "mnist"


TEACHER_SPLIT = (100, 50)
MNIST_SPLIT = (8000, 2000)
"""Training and held-out samples by default: the teacher task's, and MNIST's cut of the 10,000-image file."""


@dataclass(frozen=True, kw_only=True)
class TaskConfig(Checked):
    """Which task, on which network, with how many samples."""

    task: TaskKind = param(TaskKind.TEACHER, help="what to learn")
    network: str = param(
        "lattice:4x4",
        help="network: lattice:RxC, regular:N,D, er:N,P, layered:A-B-C, drn:IN-H-OUT (classification: its size "
        "from the data and --hidden when not a drn), or a .graphml / edge-list file",
    )
    train_samples: int | None = param(
        None,
        help="teacher and mnist: training samples per epoch (iris, digits: their 80 % split)",
        minimum=1,
        maximum=10_000_000,
        none=f"the task's own: teacher {TEACHER_SPLIT[0]}, mnist {MNIST_SPLIT[0]:,}",
    )
    test_samples: int | None = param(
        None,
        help="teacher and mnist: held-out samples",
        minimum=1,
        maximum=10_000_000,
        none=f"the task's own: teacher {TEACHER_SPLIT[1]}, mnist {MNIST_SPLIT[1]:,}",
    )
    hidden: int = param(
        0,
        help="classification: hidden nodes of the drn (0: iris 16, digits 64, mnist 100)",
        minimum=0,
        maximum=100_000,
    )
    data_dir: str | None = param(
        None,
        help="mnist: folder of the IDX files",
        flag="--data",
        none="auto: $TCL_MNIST_DIR if set, else ../shared/data/mnist",
    )
    input_v: float = param(3.0, unit="V", help="classification: input pair amplitude", above=0, maximum=1000)
    diode_rs_ohm: float = param(
        DRN_DIODE_RS_OHM,
        unit="ohm",
        help="classification: series resistance of the drn's clipping diodes (how much a hidden node leaks past "
        "its clip)",
        above=0,
        maximum=1e6,
    )
    target_high_v: float = param(0.2, unit="V", help="classification: target of the right class's output")
    target_low_v: float = param(0.0, unit="V", help="classification: target of the other outputs")

    def split(self, default: tuple[int, int]) -> tuple[int, int]:
        """(training, held-out) sample counts: those set, else the task's ``default``."""
        return (
            default[0] if self.train_samples is None else self.train_samples,
            default[1] if self.test_samples is None else self.test_samples,
        )

    def check(self) -> None:
        if self.target_high_v <= self.target_low_v:
            raise ConfigError("target_high_v must exceed target_low_v", field="target_high_v")
        defaults = {f.name: f.default for f in fields(self)}
        only = {"data_dir": (TaskKind.MNIST,)} | {
            name: (TaskKind.IRIS, TaskKind.DIGITS, TaskKind.MNIST)
            for name in ("hidden", "input_v", "diode_rs_ohm", "target_high_v", "target_low_v")
        }
        for name, tasks in only.items():
            if self.task not in tasks and getattr(self, name) != defaults[name]:
                raise ConfigError(
                    f"{name} is for {', '.join(t.value for t in tasks)} only, not {self.task.value}",
                    field=name,
                )


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
    default_learning_rate_s2_per_v2 = 5e-6
    """The step size of a resistor run that does not set one."""
    default_threshold_headroom = 20.0
    """The auto threshold's headroom of a run that does not set one: the lattice teacher tasks learn best with
    the window's top far above the first contrasts, which only shrink (docs/learning-at-scale.md)."""

    @classmethod
    def with_own_headroom(cls, cell: FeedbackCellConfig) -> FeedbackCellConfig:
        """``cell`` with the task's own threshold headroom when it names none."""
        if cell.threshold_headroom is not None:
            return cell
        return cell.replace(threshold_headroom=cls.default_threshold_headroom)

    def metrics(self, outputs_v: np.ndarray, targets_v: np.ndarray) -> dict[str, float]:
        """Scores of free-state outputs (samples, outputs) against targets: the mean loss, V^2."""
        return {"loss": float(np.mean(np.sum((outputs_v - targets_v) ** 2, axis=1)))}

    def fingerprint(self) -> str:
        """SHA-256 of everything the task feeds a run: samples and the student's initial network."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test, self.student.conductance_s):
            digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
        student = self.student
        digest.update(repr((student.labels, student.roles, student.edges)).encode())
        if student.diodes or student.amplifiers or student.bias_voltage_v.size:
            # the fixed circuit around the learning edges (linear networks have none: their digests predate this)
            digest.update(repr((student.diodes, student.amplifiers, student.edge_groups)).encode())
            for array in (student.bias_voltage_v, student.g_min_s, student.g_max_s):
                digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
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


@dataclass(frozen=True)
class ClassificationTask(RegressionTask):
    """A classification task on a deep resistive network: input and target voltages plus the labels."""

    labels_train: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    labels_test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    classes: tuple[str, ...] = ()

    default_learning_rate_s2_per_v2 = 1e-6
    """Measured on iris (20 epochs): 5e-6 leaves contrastive and gradient at ~80 % test accuracy, updates of
    several times a weight's conductance clipping at its bounds; 1e-6 reaches 96.7 % with every rule."""
    default_threshold_headroom = 2.0
    """Measured (docs/learning-at-scale.md): at 20 the shrinking output errors drop MNIST's edges below the
    window (97 % below, 53 % accuracy after one epoch against EqProp's 84 %); at 2, 84.3 % level with EqProp,
    and digits 96.4 % (95.3 % at 20, with the earlier 10 ohm diodes), iris 96.7 % (100 %)."""

    def metrics(self, outputs_v: np.ndarray, targets_v: np.ndarray) -> dict[str, float]:
        """The mean loss (V^2) and the accuracy: the output with the highest voltage is the predicted class."""
        loss = float(np.mean(np.sum((outputs_v - targets_v) ** 2, axis=1)))
        return {
            "loss": loss,
            "accuracy": float(np.mean(np.argmax(outputs_v, axis=1) == np.argmax(targets_v, axis=1))),
        }

    def fingerprint(self) -> str:
        digest = hashlib.sha256(super().fingerprint().encode())
        digest.update(np.ascontiguousarray(self.labels_train).tobytes())
        return digest.hexdigest()


DEFAULT_HIDDEN = {TaskKind.IRIS: 16, TaskKind.DIGITS: 64, TaskKind.MNIST: 100}


def input_voltages(features: np.ndarray, input_v: float) -> np.ndarray:
    """Features in [0, 1] (samples, F) -> input pair voltages (samples, 2 F + 2), bias pair last."""
    u = input_v * (2.0 * np.asarray(features, dtype=float) - 1.0)
    pairs = np.stack([u, -u], axis=2).reshape(u.shape[0], -1)
    return np.hstack([pairs, np.tile([input_v, -input_v], (u.shape[0], 1))])


def target_voltages(labels: np.ndarray, classes: int, high_v: float, low_v: float) -> np.ndarray:
    """One-hot targets as output voltages (samples, classes)."""
    out = np.full((labels.size, classes), low_v)
    out[np.arange(labels.size), labels] = high_v
    return out


def classification_task(config: TaskConfig, seed: int) -> ClassificationTask:
    """iris, digits or mnist on a drn (``config.network`` 'auto' or a drn description matching the data)."""
    from tcl_circuits.learning import datasets

    if config.task is TaskKind.IRIS:
        data = datasets.iris(seed)
    elif config.task is TaskKind.DIGITS:
        data = datasets.digits(seed)
    else:
        train, test = config.split(MNIST_SPLIT)
        data = datasets.mnist(config.data_dir, train=train, test=test)
    features, classes = data.x_train.shape[1], len(data.classes)
    hidden = config.hidden or DEFAULT_HIDDEN[config.task]
    if not config.network.startswith("drn:") and config.network != TaskConfig().network:
        raise ConfigError(
            f"--network {config.network}: {data.name} runs on a deep resistive network, drn:{features}-H-{classes} "
            "(or leave --network out: --hidden sets H)",
            field="network",
        )
    network = config.network if config.network.startswith("drn:") else f"drn:{features}-{hidden}-{classes}"
    sizes = [int(s) for s in network.split(":", 1)[1].split("-")]
    if sizes[0] != features or sizes[-1] != classes:
        raise ConfigError(
            f"--network {network}: {data.name} needs {features} inputs and {classes} outputs (drn:{features}-H-{classes})",
            field="network",
        )
    student = from_graph(build(network, seed=seed + 1, diode_rs_ohm=config.diode_rs_ohm))
    targets = lambda labels: target_voltages(labels, classes, config.target_high_v, config.target_low_v)  # noqa: E731
    return ClassificationTask(
        name=f"{data.name}:{network}",
        student=student,
        x_train=input_voltages(data.x_train, config.input_v),
        y_train=targets(data.y_train),
        x_test=input_voltages(data.x_test, config.input_v),
        y_test=targets(data.y_test),
        labels_train=data.y_train,
        labels_test=data.y_test,
        classes=data.classes,
    )


def make_task(config: TaskConfig, seed: int) -> RegressionTask:
    """The task a TaskConfig describes, drawn with ``seed``."""
    if config.task is not TaskKind.TEACHER:
        return classification_task(config, seed)
    train, test = config.split(TEACHER_SPLIT)
    return teacher_task(config.network, train_samples=train, test_samples=test, seed=seed)
