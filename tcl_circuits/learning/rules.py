"""Learning rules as interchangeable strategies: each maps (network, one sample) to a conductance update.

All rules step the same way, Delta G = -learning_rate * (estimate of dC/dG), so they compare side by side:
- TCL: the memory is in the circuit. One sawtooth cycle is simulated; each edge's accumulator ends at
  v(w) ~ -accumulator_gain * (s_clamped - s_free), read once at the end of the cycle.
- explicit contrastive (coupled learning / equilibrium propagation): free and clamped steady states are
  simulated and the controller remembers the free one; dC/dG ~ (s_clamped - s_free) / (beta_max * G_c).
- gradient: the exact dC/dG by the adjoint method on the free state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tcl_circuits.backends.base import Backend
from tcl_circuits.circuit.cell_design import Calibration, CellDesign, as_design, resolve
from tcl_circuits.circuit.compile import compile_phases, compile_tcl
from tcl_circuits.config import FeedbackCellConfig, RuleKind, SawtoothConfig, SimulatorConfig
from tcl_circuits.errors import ConfigError, LearningError
from tcl_circuits.kernels.window import LearningWindow, WindowOccupancy
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.network.spec import NetworkSpec
from tcl_circuits.physics.energy import energy_bill_j, feedback_energy_j
from tcl_circuits.physics.steady import SteadyState


@dataclass(frozen=True)
class RuleStep:
    """One sample's update and what was measured on the way (the cycle's measurements: TCL only)."""

    delta_g_s: np.ndarray
    """Conductance change per edge (before clipping to bounds), siemens."""
    dc_dg_estimate: np.ndarray
    """The rule's estimate of dC/dG per edge, V^2/S."""
    contrast_v2: np.ndarray | None = None
    """s_clamped - s_free per edge as measured (V^2), where the rule measures it."""
    energy_network_j: float = float("nan")
    energy_feedback_j: float = float("nan")
    block_energy_j: dict[str, float] = field(default_factory=dict)
    """The simulated cycle's energy by block (``physics.energy.energy_bill_j``), joules."""
    occupancy: WindowOccupancy | None = None
    """Where the measured contrasts fell against the learning window."""
    frac_updated: float | None = None
    """Fraction of edges whose accumulator moved in the cycle."""
    time_points: float | None = None
    """Points of the simulated cycle (a float, as the records have always held it)."""


def _edge_signal(spec: NetworkSpec, voltages: np.ndarray) -> np.ndarray:
    e = spec.edge_array
    dv = voltages[..., e[:, 0]] - voltages[..., e[:, 1]]
    return dv * dv


@dataclass(frozen=True)
class Cycle:
    """What a bench sets for one sample's cycle where it departs from the rule's own settings: the cells (a
    threshold it scaled), the drive (a nudge it grew) and the seed of the cycle's noise draws."""

    noise_seed: tuple[int, ...] = (0,)
    cell: CellDesign | None = None
    drive: SawtoothConfig | None = None


class LearningRule(Protocol):
    """What the resistor learner asks of a rule: one sample's update of the network's conductances."""

    kind: RuleKind

    def update(self, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, cycle: Cycle = Cycle()) -> RuleStep: ...


def _check(step: RuleStep) -> RuleStep:
    if not np.all(np.isfinite(step.delta_g_s)):
        raise LearningError("the rule produced a non-finite conductance update")
    return step


@dataclass
class TclRule:
    """Temporal contrastive learning: one simulated sawtooth cycle with a feedback cell on every edge."""

    backend: Backend
    drive: SawtoothConfig
    cell: CellDesign | FeedbackCellConfig
    """The cells as built, or a configuration with a fixed threshold (resolved on the network it meets)."""
    sim: SimulatorConfig
    learning_rate_s2_per_v2: float
    kind: RuleKind = RuleKind.TCL

    def update(self, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, cycle: Cycle = Cycle()) -> RuleStep:
        drive = cycle.drive or self.drive
        design = as_design(cycle.cell or self.cell, drive, spec)
        circuit = compile_tcl(
            spec, drive=drive, cell=design, sim=self.sim, inputs_v=x, targets_v=y, noise_seed=cycle.noise_seed
        )
        result = self.backend.run(circuit)
        t = result.axis
        cells = circuit.cells
        w_end = result.at(cells.accumulator, [-1])[:, 0]
        k = int(np.clip(np.searchsorted(t, drive.tau_rise_s), 1, t.size - 1))
        frac = (drive.tau_rise_s - t[k - 1]) / (t[k] - t[k - 1])
        # s free, and around the peak of beta, in V^2 of drop (the squarer writes A times it)
        signals = result.at(cells.signal, [0, k - 1, k]) / design.signal_gain
        s_clamped = signals[:, 1] + frac * (signals[:, 2] - signals[:, 1])
        contrast = s_clamped - signals[:, 0]
        estimate = -w_end / (design.accumulator_gain * drive.peak_clamp_conductance_s)
        bill = energy_bill_j(circuit, result)
        step = RuleStep(
            delta_g_s=-self.learning_rate_s2_per_v2 * estimate,
            dc_dg_estimate=estimate,
            contrast_v2=contrast,
            energy_network_j=bill["network"] + bill["clamp"],
            # the behavioural bill holds R_K's heat; the analog one counts it inside the multipliers' supply
            energy_feedback_j=bill["feedback_rk"]
            if "feedback_rk" in bill
            else feedback_energy_j(circuit, result),
            block_energy_j=bill,
            occupancy=design.window().occupancy(contrast),
            frac_updated=float(np.mean(w_end != 0.0)),
            time_points=float(t.size),
        )
        return _check(step)


@dataclass
class ContrastiveRule:
    """Explicit contrastive learning: free and clamped steady states, the free one stored by the controller."""

    backend: Backend
    drive: SawtoothConfig
    sim: SimulatorConfig
    learning_rate_s2_per_v2: float
    kind: RuleKind = RuleKind.CONTRASTIVE

    def update(self, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, cycle: Cycle = Cycle()) -> RuleStep:
        circuit = compile_phases(spec, drive=self.drive, sim=self.sim, inputs_v=x, targets_v=y)
        result = self.backend.run(circuit)
        voltages = result.rows(circuit.network_nodes).T  # (2, nodes)
        s = _edge_signal(spec, voltages)
        contrast = s[1] - s[0]
        estimate = contrast / self.drive.peak_clamp_conductance_s
        power = (s * spec.conductance_s).sum(axis=1)
        clamp_power = sum(
            self.drive.peak_clamp_conductance_s * (voltages[1, o] - y[k]) ** 2
            for k, o in enumerate(spec.output_nodes)
        )
        # the free state held for the slow-ramp time and the clamped state for the fast-ramp time
        network_j = float(power[0] * self.drive.tau_fall_s + power[1] * self.drive.tau_rise_s)
        clamp_j = float(clamp_power * self.drive.tau_rise_s)
        step = RuleStep(
            delta_g_s=-self.learning_rate_s2_per_v2 * estimate,
            dc_dg_estimate=estimate,
            contrast_v2=contrast,
            energy_network_j=network_j + clamp_j,
            energy_feedback_j=0.0,
            block_energy_j={"network": network_j, "clamp": clamp_j},
        )
        return _check(step)


@dataclass
class GradientRule:
    """The exact gradient of C by the adjoint method (a digital reference, not a physical process)."""

    drive: SawtoothConfig
    learning_rate_s2_per_v2: float
    kind: RuleKind = RuleKind.GRADIENT

    def update(self, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, cycle: Cycle = Cycle()) -> RuleStep:
        net = SteadyState(spec)
        gradient = net.gradient(x, y)
        free = net.solve(x)[0]
        power = float((_edge_signal(spec, free) * spec.conductance_s).sum())
        step = RuleStep(
            delta_g_s=-self.learning_rate_s2_per_v2 * gradient,
            dc_dg_estimate=gradient,
            energy_network_j=power * self.drive.period_s,
            energy_feedback_j=0.0,
            block_energy_j={"network": power * self.drive.period_s},
        )
        return _check(step)


def linear_contrasts(spec: NetworkSpec, x: np.ndarray, y: np.ndarray, drive: SawtoothConfig) -> np.ndarray:
    """Exact s_clamped - s_free of every edge for samples x (samples, inputs), y (samples, outputs): V^2."""
    free = SteadyState(spec).solve(x)
    clamped = SteadyState(spec, drive.peak_clamp_conductance_s).solve(x, y)
    return _edge_signal(spec, clamped) - _edge_signal(spec, free)


def calibrate_threshold_v(
    spec: NetworkSpec,
    x: np.ndarray,
    y: np.ndarray,
    drive: SawtoothConfig,
    tau_k_s: float,
    *,
    headroom: float = 0.4,
    quantile: float = 0.99,
    signal_gain: float = 1.0,
) -> float:
    """A threshold theta placing the top of the learning window at ``headroom`` x the largest initial contrasts.

    Behind a squarer of gain A (``signal_gain``) theta is A times the unit gain's, so the window in contrast,
    and with it the learning, is the same at any A.

    The window [A_max * tau_rise / tau_fall, A_max] is anchored at A_max = headroom * (the ``quantile`` of
    |s_clamped - s_free| over edges and the given samples); theta = A_max * tau_k / tau_fall. Contrasts shrink
    as the student learns, so the window should sit low: the few largest early contrasts leak through the slow
    ramp for a while, and the bulk of the edges keep learning longer; too low, and most edges leak and
    learning collapses. Final/initial loss measured with scripts/threshold_sweep.py (500 samples):
    4x4 lattice (ngspice): headroom 1.5 -> 1/34, 1.0 -> 1/43, 0.6 -> 1/53, 0.3 -> 1/82, 0.2 -> 1/114,
    0.1 -> 1/193, 0.03 -> 0.73 (collapse); 3x3 lattice, seed 4 (native): 1.5 -> 1/120, 0.4 -> 1/1400,
    0.2 -> 1/5000, 0.1 -> 0.05, 0.05 -> 0.50. With only 150 samples the low settings have not recovered
    from the early leakage yet (3x3: 0.4 -> 1/260, 0.2 -> 0.39), so the default 0.4 trades some final loss
    for a fast start and sits 4-8x above the collapse.
    """
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    for values, nodes, what in ((x, spec.input_nodes, "voltage"), (y, spec.output_nodes, "target")):
        bad = np.flatnonzero(~np.all(np.isfinite(values), axis=0))
        if bad.size:
            raise ConfigError(
                f"node {spec.labels[nodes[bad[0]]]!r} has no {what} (volts): the automatic threshold needs the "
                "sample's input voltages and output targets (a graph file gives them as 'voltage' on its inputs and "
                "'target' on its outputs)"
            )
    contrasts = np.abs(linear_contrasts(spec, x, y, drive))
    a_max = headroom * float(np.quantile(contrasts, quantile))
    if not a_max > 0:
        raise LearningError(
            "all contrasts are zero on the calibration samples (the outputs already sit on their targets, or "
            "no input drives them): there is nothing to place the automatic threshold on; give --threshold"
        )
    return float(
        LearningWindow.with_top(a_max, drive.tau_rise_s, drive.tau_fall_s, tau_k_s, signal_gain).theta_v
    )


def calibrate_cell(
    cell: FeedbackCellConfig, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, drive: SawtoothConfig
) -> CellDesign:
    """The cells of ``spec`` as built (``circuit.cell_design``): a fixed threshold as configured, else placed by
    ``calibrate_threshold_v`` on samples (x, y) with the cell's ``threshold_headroom``, and with
    ``per_group_threshold`` one threshold per edge group over that group's own contrasts (the global one stays
    as the summary's reference)."""
    return resolve(
        cell, calibrate(cell, spec, x, y, drive), drive, spec.edge_groups, outputs=len(spec.output_nodes)
    )


def calibrate(
    cell: FeedbackCellConfig, spec: NetworkSpec, x: np.ndarray, y: np.ndarray, drive: SawtoothConfig
) -> Calibration:
    """The thresholds ``calibrate_cell`` places (see there)."""
    if cell.threshold_v is not None:
        return Calibration(cell.threshold_v)
    if cell.threshold_headroom is None:
        raise ConfigError(
            "the automatic threshold needs a threshold headroom (the task's own: calibrate_for_run)"
        )
    theta = calibrate_threshold_v(
        spec, x, y, drive, cell.tau_k_s, headroom=cell.threshold_headroom, signal_gain=cell.signal_gain
    )
    if not cell.per_group_threshold or len(spec.groups) < 2:
        return Calibration(theta)
    contrasts = np.abs(linear_contrasts(spec, np.atleast_2d(x), np.atleast_2d(y), drive))
    groups = np.array(spec.edge_groups)
    by_group = []
    for group in spec.groups:
        a_max = cell.threshold_headroom * float(np.quantile(contrasts[:, groups == group], 0.99))
        placed = LearningWindow.with_top(
            a_max, drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s, cell.signal_gain
        ).theta_v
        by_group.append((group, float(placed) if a_max > 0 else theta))
    return Calibration(theta, tuple(by_group))


CALIBRATION_SAMPLES = 20
"""Training samples a run calibrates its cell on (the first ones, in data order)."""


def calibrate_for_run(
    cell: FeedbackCellConfig, spec: NetworkSpec, task: RegressionTask, drive: SawtoothConfig
) -> CellDesign:
    """``calibrate_cell`` on the samples a training run uses: the first ``CALIBRATION_SAMPLES`` of ``task``,
    with the task's own headroom when the cell names none."""
    cell = task.with_own_headroom(cell)
    n = min(len(task.x_train), CALIBRATION_SAMPLES)
    return calibrate_cell(cell, spec, task.x_train[:n], task.y_train[:n], drive)
