"""Before a run starts: how long and how much memory it will take, and refusal of runs that cannot fit.

The per-sample costs are the measured ones of ``scripts/bench_engines.py`` (docs/native.md) on the 2-core
development machine: they give the order of magnitude a user needs to decide, not a promise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.backends.native.engine import SHARED_CELL_SHARE, equal_cells, segment_points
from tcl_circuits.config import BackendKind, FeedbackCellConfig, points_per_ramp
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.network.spec import NetworkSpec

NATIVE_S_PER_EDGE_POINT = 2e-8
"""Native engine: seconds per edge per time point (cells, squarer, read-out), 32x32 lattice."""
NATIVE_S_FIXED = 1e-3
NATIVE_NONLINEAR_FACTOR = 2.5
"""Networks with diodes: the Newton solve over the cycle costs about as much again as the cells and more
(scripts/bench_tasks.py: iris 5.0, digits 13.0, MNIST 45 ms a sample, 2.1-3.7x the linear model's time)."""
NGSPICE_S_PER_EDGE_POINT = 3.6e-6
"""ngspice at the run defaults, per edge and per point of the maximum-step grid: measured 2.6e-6 (4x4 lattice),
3.7e-6 (8x8) and 5.0e-6 (16x16) with the shared library on this machine (B-source evaluation dominates)."""
BYTES_PER_VALUE = 8
WORK_ARRAYS = 4
"""Node voltages, s, u, w: the native engine's arrays of (rows, time points)."""


@dataclass(frozen=True)
class RunEstimate:
    """Size and cost of a run."""

    time_points: int
    memory_bytes: float
    seconds_per_sample: float
    samples: int

    @property
    def seconds(self) -> float:
        return self.seconds_per_sample * self.samples

    def describe(self) -> str:
        return (
            f"{self.samples:,} samples of {self.time_points:,} time points: about {duration(self.seconds)} "
            f"({self.seconds_per_sample * 1e3:.3g} ms per sample), {self.memory_bytes / 2**20:,.0f} MiB per cycle"
        )


def duration(seconds: float) -> str:
    """A time in words: seconds, minutes or hours (for estimates)."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def available_memory_bytes() -> float | None:
    """MemAvailable of /proc/meminfo (None where it cannot be read)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cells_integrated(spec: NetworkSpec, inputs_v: np.ndarray, cell: FeedbackCellConfig) -> int:
    """How many feedback cells the native engine integrates for a sample with these inputs: the engine's own
    rule (``engine.equal_cells``) on the network's nodes, constant nodes at equal voltages taken as one, when
    enough cells sit on constant sources for the engine to look. Mismatched cells are each their own."""
    if not spec.n_edges:
        return 0
    if any(getattr(cell, name) for name in cell.SPREAD_FIELDS):
        return spec.n_edges
    nodes = len(spec.labels)
    value = np.full(nodes, np.nan)
    value[list(spec.input_nodes)] = inputs_v
    value[list(spec.bias_nodes)] = spec.bias_voltage_v
    a, b = np.array(spec.edges).T
    fixed = np.flatnonzero(~np.isnan(value))
    if np.count_nonzero(np.isin(a, fixed) | np.isin(b, fixed)) < SHARED_CELL_SHARE * spec.n_edges:
        return spec.n_edges
    canonical = np.arange(nodes)
    _, first, group = np.unique(value[fixed], return_index=True, return_inverse=True)
    canonical[fixed] = fixed[first][group]
    kept, _ = equal_cells(canonical[a], canonical[b], np.zeros(spec.n_edges, dtype=np.int64))
    return spec.n_edges if kept is None else int(kept.size)


def estimate(config: RunConfig, task: RegressionTask) -> RunEstimate:
    """Time points per cycle, memory of one cycle and seconds per sample of a run."""
    drive, sim = config.drive, config.sim
    step = max(config.cell.tau_k_s / sim.points_per_tau_k, drive.period_s / sim.points_per_cycle)
    points = 1
    native = config.resolved_backend is BackendKind.NATIVE and not sim.node_capacitance_f
    for ramp in (drive.tau_rise_s, drive.tau_fall_s):
        steps = math.ceil(ramp / step)
        points += segment_points(steps, points_per_ramp(sim, task.student.nonlinear)) if native else steps
    spec = task.student
    cells = spec.n_edges
    if config.resolved_backend is BackendKind.NATIVE and len(task.x_train):
        cells = cells_integrated(spec, task.x_train[0], config.cell)
    memory = WORK_ARRAYS * (spec.n_nodes + 3 * cells) * points * BYTES_PER_VALUE
    if config.resolved_backend is BackendKind.NATIVE:
        per_sample = NATIVE_S_FIXED + NATIVE_S_PER_EDGE_POINT * cells * points
        if spec.nonlinear:
            per_sample *= NATIVE_NONLINEAR_FACTOR
    else:
        per_sample = NGSPICE_S_PER_EDGE_POINT * max(spec.n_edges, 1) * points
    return RunEstimate(points, float(memory), per_sample, config.learning.epochs * len(task.x_train))


def check_fits(config: RunConfig, task: RegressionTask) -> RunEstimate:
    """The estimate, after refusing a run whose cycle has too many time points or cannot fit in memory."""
    found = estimate(config, task)
    if found.time_points > config.sim.max_time_points:
        raise ConfigError(
            f"one cycle would take {found.time_points:,} time points (ramps of {config.drive.tau_rise_s:g} and "
            f"{config.drive.tau_fall_s:g} s in steps of tau_k / points_per_tau_k), over the limit of {config.sim.max_time_points:,}: "
            "raise tau_k_s or shorten the ramps (or raise max_time_points)",
            field="max_time_points",
        )
    available = available_memory_bytes()
    if available is not None and found.memory_bytes > 0.8 * available:
        raise ConfigError(
            f"one cycle would need about {found.memory_bytes / 2**30:.1f} GiB, more than the {available / 2**30:.1f} GiB "
            "of memory available: use a smaller network or fewer time points (tau_k_s, points_per_tau_k)",
            field="max_time_points",
        )
    return found
