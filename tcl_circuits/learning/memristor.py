"""Learning that runs entirely inside a memristor circuit: a whole training stream in ngspice.

Owns the memristor-mode training loop. Every learning edge is a memristor programmed by its own
integral-feedback element (:class:`~tcl_circuits.circuit.ir.MemristorCell`); the controller only presents
inputs and targets. A stream of samples is simulated in chunks of K samples, each one transient whose
inputs, targets, sawtooth and learn-enable gate are piecewise-linear sequences; the memristor states are
handed from one chunk to the next with ``.ic v(x<e>)=...`` (the operating point of each chunk is computed
with the states held, so every C_K starts charged to its free-state signal and the first transition of the
chunk is simulated from the previous sample's inputs exactly as inside a chunk).

Per sample the timeline is: inputs and targets ramp from the previous sample's values (transition_s, gate
closed, beta = 0) -> settle (settle_s, gate closed: the high-pass output of the transition decays) -> gate
opens (gate_ramp_s) -> one sawtooth cycle -> gate closes (gate_ramp_s). With the gate closed the programming
drive is zero, so only the read voltages act on the state (a VTEAM state below threshold does not move).

After each chunk a checkpoint with the complete circuit state (all memristor states, stream position, the
previous sample, devices, records) is written atomically, so a stopped stream resumes exactly. Held-out
loss uses the free state of the frozen network: exact for linear R(x) (VTEAM, linear drift), small-signal
for Yakopcic (its sinh I-V at the read voltages used here; error quantified in tests/test_stream.py).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
from scipy.integrate import trapezoid
from tqdm import tqdm

from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.compile import BETA_NODE, output_clamps
from tcl_circuits.circuit.ir import Circuit, Clamp, MemristorCell, Transient, VoltageSource
from tcl_circuits.config import (
    FeedbackCellConfig,
    LearningConfig,
    Role,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    ThresholdShape,
)
from tcl_circuits.devices import (
    Device,
    ProgrammingConfig,
    ProgrammingMode,
    ProgrammingPlan,
    device_from_dict,
    device_to_dict,
    dg_dx,
    fit_to_range,
    plan_programming,
    preset,
    smallest_threshold_v,
    spread_devices,
    state_for_conductance,
)
from tcl_circuits.errors import ConfigError, LearningError
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
from tcl_circuits.network.spec import NetworkSpec
from tcl_circuits.physics.linear import LinearNetwork, mean_loss
from tcl_circuits.spice.writer import write_netlist

CHECKPOINT = "checkpoint.json"
ENABLE_NODE = "en"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


class GateMode(Enum):
    """The learn-enable gate of the programming drive.

    CYCLES: open only during the sawtooth cycles (closed while inputs and targets move); ALWAYS: never
    closed (transitions program the devices too); CLOSED: never open (reads only: programming disabled).
    """

    CYCLES = "cycles"
    ALWAYS = "always"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True)
class StreamConfig:
    """How samples follow each other inside one long transient."""

    chunk_samples: int = 50
    """Samples per simulated transient (a checkpoint is written after each)."""
    transition_s: float = 5e-5
    """Ramp time of inputs and targets from one sample to the next, seconds."""
    settle_s: float = 5e-5
    """Hold after the transition with the gate still closed (>> tau_k, so u decays below threshold), seconds."""
    gate_ramp_s: float = 1e-5
    """Rise and fall time of the learn-enable gate, seconds."""
    gate: GateMode = GateMode.CYCLES
    """When the programming drive is enabled (see GateMode)."""

    def __post_init__(self) -> None:
        _require(isinstance(self.gate, GateMode), f"gate must be a GateMode, got {self.gate!r}")
        _require(
            isinstance(self.chunk_samples, int)
            and not isinstance(self.chunk_samples, bool)
            and self.chunk_samples >= 1,
            f"chunk_samples must be an int >= 1, got {self.chunk_samples!r}",
        )
        for name in ("transition_s", "settle_s", "gate_ramp_s"):
            value = getattr(self, name)
            _require(
                isinstance(value, int | float) and np.isfinite(value) and value > 0,
                f"{name} must be a finite number > 0, got {value!r}",
            )

    def sample_period_s(self, drive: SawtoothConfig) -> float:
        return self.transition_s + self.settle_s + 2 * self.gate_ramp_s + drive.period_s

    def cycle_offset_s(self) -> float:
        """Start of the sawtooth within a sample's slot."""
        return self.transition_s + self.settle_s + self.gate_ramp_s


@dataclass(frozen=True, kw_only=True)
class MemristorRunConfig:
    """Everything that defines a memristor training stream (stored in config.json; a resume must match)."""

    task: str
    device: str
    """Preset name (devices.PRESETS)."""
    drive: SawtoothConfig
    cell: FeedbackCellConfig
    sim: SimulatorConfig
    learning: LearningConfig
    programming: ProgrammingConfig = field(default_factory=ProgrammingConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    spread_cv: float = 0.0
    """Device-to-device spread sigma/mu of resistances, thresholds and rates."""
    range_widening: float = 1.5
    """The device range covers the student's initial conductances widened by this factor at each end."""
    read_scale_v: float | None = None
    """Volts per task volt on inputs and targets; None: from the devices' thresholds and read_margin (1 V
    per V for threshold-less devices)."""

    def __post_init__(self) -> None:
        preset(self.device)
        _require(
            self.learning.rule is RuleKind.TCL,
            f"memristor streams learn by TCL only, got rule {self.learning.rule.value!r}",
        )
        _require(
            isinstance(self.spread_cv, int | float) and 0 <= self.spread_cv <= 1,
            f"spread_cv must be in [0, 1], got {self.spread_cv!r}",
        )
        _require(
            isinstance(self.range_widening, int | float) and self.range_widening >= 1,
            f"range_widening must be >= 1, got {self.range_widening!r}",
        )
        if self.read_scale_v is not None:
            _require(
                isinstance(self.read_scale_v, int | float)
                and np.isfinite(self.read_scale_v)
                and self.read_scale_v > 0,
                f"read_scale_v must be a finite number > 0, got {self.read_scale_v!r}",
            )


def config_dict(config: MemristorRunConfig) -> dict:
    return jsonable(asdict(config))


# --- the memristor network -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemristorNetwork:
    """A network whose edges are memristors: topology, one device per edge, their states, the programming."""

    spec: NetworkSpec
    """Topology and roles (its conductances are the initial ones; the states carry the current ones)."""
    devices: tuple[Device, ...]
    states: np.ndarray
    plan: ProgrammingPlan
    read_scale_v: float
    read_coupling: float

    def conductance_s(self) -> np.ndarray:
        """Small-signal conductance of every edge at its current state."""
        return np.array(
            [float(d.conductance_s(np.array(x))) for d, x in zip(self.devices, self.states, strict=True)]
        )

    def frozen_spec(self) -> NetworkSpec:
        """The network with each edge frozen at its current conductance (for free-state evaluation)."""
        return self.spec.with_conductances(self.conductance_s())

    def with_states(self, states: np.ndarray) -> MemristorNetwork:
        return MemristorNetwork(
            self.spec,
            self.devices,
            np.asarray(states, dtype=float),
            self.plan,
            self.read_scale_v,
            self.read_coupling,
        )


def build_network(
    student: NetworkSpec,
    config: MemristorRunConfig,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
) -> MemristorNetwork:
    """Map the student's conductances onto memristors: range map, programming calibration, spread, states.

    The device range covers [min G / w, max G * w] of the student (w = range_widening); each edge's device
    (nominal, or with spread drawn from the run's seed) is then set to the state that gives the student's
    conductance (a write-verify initialisation; states clip to [0, 1] where a spread device cannot reach it).
    The read scale keeps every read voltage below read_margin x the smallest device threshold: in a passive
    network all node voltages lie within the range of the sources, here the inputs, targets and 0 V.
    """
    g = student.conductance_s
    w = config.range_widening
    mapped = fit_to_range(preset(config.device), float(g.min()) / w, float(g.max()) * w)
    plan = plan_programming(
        mapped, config.programming, config.drive, config.cell, config.learning.learning_rate_s2_per_v2
    )
    devices = spread_devices(plan.device, student.n_edges, config.spread_cv, config.learning.seed + 7919)
    states = np.array([float(state_for_conductance(d, ge)) for d, ge in zip(devices, g, strict=True)])
    states = np.clip(states, 0.0, 1.0)
    if config.read_scale_v is not None:
        scale = float(config.read_scale_v)
    else:
        threshold = smallest_threshold_v(devices)
        peak = float(max(np.max(np.abs(inputs_v)), np.max(np.abs(targets_v)), 1e-12))
        scale = 1.0 if threshold is None else config.programming.read_margin * threshold / peak
    return MemristorNetwork(student, devices, states, plan, scale, config.programming.read_coupling)


# --- compile one chunk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Where each sample of a chunk sits in time (seconds from the start of the chunk)."""

    period_s: float
    cycle_offset_s: float
    tau_rise_s: float
    cycle_s: float
    samples: int

    def start(self, k: int) -> float:
        return k * self.period_s

    def cycle_start(self, k: int) -> float:
        return k * self.period_s + self.cycle_offset_s

    def end(self, k: int) -> float:
        return (k + 1) * self.period_s

    @property
    def stop_s(self) -> float:
        return self.samples * self.period_s


def _pwl(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    out: list[tuple[float, float]] = []
    for t, v in points:
        if out and t <= out[-1][0]:
            raise LearningError(f"PWL breakpoints must increase in time ({t!r} after {out[-1][0]!r})")
        out.append((float(t), float(v)))
    return tuple(out)


def compile_chunk(
    net: MemristorNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    previous: tuple[np.ndarray, np.ndarray],
    *,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
    sim: SimulatorConfig,
    stream: StreamConfig,
    frozen_read: bool = False,
    title: str = "tcl_circuits memristor stream chunk",
) -> tuple[Circuit, Timeline]:
    """One transient presenting samples (K, inputs) / (K, outputs) in task volts, from ``previous`` sample.

    Inputs and targets are scaled by the network's read scale; the squarer's gain 1/scale^2 gives s in task
    units, so threshold and learning window are those of resistor mode.
    """
    spec = net.spec
    x = np.atleast_2d(np.asarray(inputs_v, dtype=float))
    y = np.atleast_2d(np.asarray(targets_v, dtype=float))
    k_count = x.shape[0]
    if x.shape != (k_count, len(spec.input_nodes)) or y.shape != (k_count, len(spec.output_nodes)):
        raise ConfigError(
            f"need inputs of shape (K, {len(spec.input_nodes)}) and targets (K, {len(spec.output_nodes)}), "
            f"got {x.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConfigError("inputs and targets must be finite")
    c = net.read_scale_v
    timeline = Timeline(
        stream.sample_period_s(drive), stream.cycle_offset_s(), drive.tau_rise_s, drive.period_s, k_count
    )
    prev_x, prev_y = (np.asarray(v, dtype=float) for v in previous)

    def ramps(values: np.ndarray, before: np.ndarray) -> tuple[tuple[float, float], ...]:
        points = [(0.0, c * float(before))]
        for k, value in enumerate(values):
            if k:
                points.append((timeline.start(k), c * float(values[k - 1])))
            points.append((timeline.start(k) + stream.transition_s, c * float(value)))
        return _pwl(points)

    nodes = tuple("0" if role is Role.GROUND else f"n{i}" for i, role in enumerate(spec.roles))
    elements: list = []
    for k, i in enumerate(spec.input_nodes):
        elements.append(
            VoltageSource(
                f"vin{k}", nodes[i], "0", pwl=ramps(x[:, k], prev_x[k]), comment=f"input {spec.labels[i]!r}"
            )
        )
    beta_points = [(0.0, 0.0)]
    gate_points = [(0.0, 0.0)]
    for k in range(k_count):
        t_c = timeline.cycle_start(k)
        beta_points += [(t_c, 0.0), (t_c + drive.tau_rise_s, drive.beta_max), (t_c + drive.period_s, 0.0)]
        gate_points += [
            (t_c - stream.gate_ramp_s, 0.0),
            (t_c, 1.0),
            (t_c + drive.period_s, 1.0),
            (t_c + drive.period_s + stream.gate_ramp_s, 0.0),
        ]
    elements.append(
        VoltageSource(
            "vbeta",
            BETA_NODE,
            "0",
            pwl=_pwl(beta_points),
            comment="sawtooth clamp drive beta(t), one cycle per sample",
        )
    )
    if stream.gate is GateMode.CYCLES:
        gate = VoltageSource(
            "ven",
            ENABLE_NODE,
            "0",
            pwl=_pwl(gate_points),
            comment="learn-enable gate: programming only during the cycles",
        )
    else:
        is_open = stream.gate is GateMode.ALWAYS
        gate = VoltageSource(
            "ven",
            ENABLE_NODE,
            "0",
            dc_v=1.0 if is_open else 0.0,
            comment="learn-enable gate held open"
            if is_open
            else "learn-enable gate held closed (reads only)",
        )
    elements.append(gate)
    elements.extend(output_clamps(spec, nodes, drive, [ramps(y[:, k], prev_y[k]) for k in range(y.shape[1])]))
    plan = net.plan
    for e, (i, j) in enumerate(spec.edges):
        elements.append(
            MemristorCell(
                index=e,
                a=nodes[i],
                b=nodes[j],
                signal=f"s{e}",
                feedback=f"u{e}",
                drive=f"p{e}",
                state=f"x{e}",
                enable=ENABLE_NODE,
                device=net.devices[e],
                state_initial=float(net.states[e]),
                mode=plan.mode,
                c_k_f=cell.c_k_f,
                r_k_ohm=cell.r_k_ohm,
                signal_gain=1.0 / (c * c),
                threshold_v=cell.theta_v,
                shape=cell.threshold_shape,
                sign_down_g=plan.sign_down_g,
                gain_down_g=plan.gain_down_g,
                limit_down_g=plan.limit_down_g,
                sign_up_g=plan.sign_up_g,
                gain_up_g=plan.gain_up_g,
                limit_up_g=plan.limit_up_g,
                read_coupling=net.read_coupling,
                frozen_read=frozen_read,
                comment=f"memristor edge {spec.labels[i]!r}-{spec.labels[j]!r}",
            )
        )
    max_step = cell.tau_k_s / sim.points_per_tau_k
    notes = (
        f"{k_count} sample(s) of {timeline.period_s:.6g} s each: inputs and targets ramp for {stream.transition_s:.6g} s, settle "
        f"{stream.settle_s:.6g} s, gate opens in {stream.gate_ramp_s:.6g} s, one sawtooth cycle of {drive.period_s:.6g} s, gate closes",
        f"edge e is a {net.devices[0].kind.value} memristor: bm<e> read current through the device at state v(x<e>)",
        f"bs<e> squarer (gain {1.0 / (c * c):.6g}: s in task units at read scale {c:.6g} V per task volt), ck<e>/rk<e> "
        f"high-pass, v(u<e>) ~ tau_k ds/dt with tau_k = {cell.tau_k_s:.6g} s",
        f"bp<e> programming port ({plan.mode.value} threshold, theta = {cell.theta_v:.6g} V on v(u<e>)): "
        f"v(en) * driver(v(u<e>)) + {net.read_coupling:.6g} * read, acting on the state equation only",
        "bx<e> and cx<e>: the device's own state equation on a 1 F capacitor, x<e> in [0, 1], .ic carries it in",
    )
    circuit = Circuit(
        title=title,
        elements=tuple(elements),
        analysis=Transient(step_s=max_step, stop_s=timeline.stop_s, max_step_s=max_step),
        network_nodes=nodes,
        edge_resistors=tuple(f"bm{e}" for e in range(spec.n_edges)),
        reltol=sim.reltol,
        notes=notes,
    )
    return circuit, timeline


# --- loop gain -------------------------------------------------------------------------------------------


def _transfer_resistance(spec: NetworkSpec, clamp_s: float) -> np.ndarray:
    """K = B L_ff^-1 B^T, edges x edges: the drop across e per unit current injected across f, ohms.

    L_ff is the Laplacian on the free nodes (driven nodes held) with the clamp conductance on the outputs;
    dV_e/dG_f = -K_ef V_f, so K carries every edge's influence on every other edge's signal.
    """
    free = list(spec.free_nodes)
    pos = {node: k for k, node in enumerate(free)}
    laplacian = np.zeros((len(free), len(free)))
    incidence = np.zeros((spec.n_edges, len(free)))
    for e, ((i, j), g) in enumerate(zip(spec.edges, spec.conductance_s, strict=True)):
        for node, sign in ((i, 1.0), (j, -1.0)):
            if node in pos:
                incidence[e, pos[node]] = sign
                laplacian[pos[node], pos[node]] += g
        if i in pos and j in pos:
            laplacian[pos[i], pos[j]] -= g
            laplacian[pos[j], pos[i]] -= g
    for o in spec.output_nodes:
        laplacian[pos[o], pos[o]] += clamp_s
    return incidence @ np.linalg.solve(laplacian, incidence.T)


@dataclass(frozen=True)
class LoopGain:
    """In-cycle loop gains of a set of samples."""

    network: float
    """Largest spectral radius of tau_k * diag(eta) * ds/dG over samples (free and clamped states)."""
    edges: np.ndarray
    """Largest self term eta_e tau_k |ds_e/dG_e| of each edge."""


def loop_gains(
    net: MemristorNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
) -> LoopGain:
    """The in-cycle loop gain of the learning loop over these samples (ngspice-notes 1a).

    While edges program, their conductance changes alter the signals: u_e = tau_k ds_e/dt picks up
    tau_k sum_f (ds_e/dG_f) dG_f/dt, and dG_f/dt = -eta_f(u_f) u_f. ds_e/dG_f = -2 V_e K_ef V_f (K the
    transfer resistance), so the loop matrix tau_k diag(eta) ds/dG has real eigenvalues (diag(eta) times a
    symmetric positive semi-definite matrix) and the loop is unstable once its spectral radius reaches 1
    (positive feedback: a rising s lowers G, which raises s). Per sample the steepest u of each edge is
    estimated from the quasi-static network (ds/dbeta at the start and at the top of the fast ramp); eta_e
    is the largest slope |dG/dt| / |u| of the calibrated drive and device over |u| up to that value (0 for
    an edge whose u stays below the threshold: it never closes the loop; the hard threshold's step is a
    relay, not a gain, so slopes are taken on either side of it).
    """
    x = np.atleast_2d(inputs_v)
    y = np.atleast_2d(targets_v)
    spec = net.frozen_spec()
    e_arr = spec.edge_array
    delta = 1e-3 * drive.beta_max

    def drops(beta: float) -> np.ndarray:
        if beta == 0:
            v = LinearNetwork(spec).solve(x)
        else:
            v = LinearNetwork(spec, beta * drive.clamp_conductance_s).solve(x, y)
        return v[:, e_arr[:, 0]] - v[:, e_arr[:, 1]]  # (samples, edges), task volts

    v0, v_top = drops(0.0), drops(drive.beta_max)
    slope_beta = (
        np.maximum(np.abs(drops(delta) ** 2 - v0**2), np.abs(v_top**2 - drops(drive.beta_max - delta) ** 2))
        / delta
    )
    u_max = cell.tau_k_s * slope_beta * drive.beta_max / drive.tau_rise_s
    theta = cell.theta_v
    plan = net.plan
    fractions = np.linspace(0.0, 1.0, 65)[1:]
    eta = np.zeros_like(u_max)
    for e, device in enumerate(net.devices):
        for n in np.flatnonzero(u_max[:, e] >= theta):
            u = np.concatenate([-u_max[n, e] * fractions[::-1], u_max[n, e] * fractions])
            if plan.mode is ProgrammingMode.DEVICE_THRESHOLD:
                w = u
            elif cell.threshold_shape is ThresholdShape.HARD:
                w = np.where(np.abs(u) >= theta, u, 0.0)
            else:
                w = np.sign(u) * np.maximum(np.abs(u) - theta, 0.0)
            rate = device.rate_per_s(plan.drive(w), np.full_like(u, net.states[e]))
            same_side = (np.abs(u[1:]) >= theta) == (np.abs(u[:-1]) >= theta)
            slopes = np.abs(np.diff(rate) / np.diff(u))[same_side]
            eta[n, e] = (slopes.max() if slopes.size else 0.0) * abs(
                float(dg_dx(device, np.array(net.states[e])))
            )
    network = 0.0
    self_terms = np.zeros(spec.n_edges)
    for k_matrix, v in (
        (_transfer_resistance(spec, 0.0), v0),
        (_transfer_resistance(spec, drive.peak_clamp_conductance_s), v_top),
    ):
        for n in range(x.shape[0]):
            root = np.sqrt(eta[n] * cell.tau_k_s)
            scaled = (root * v[n])[:, None] * (2.0 * k_matrix) * (root * v[n])[None, :]
            network = max(network, float(np.linalg.eigvalsh(scaled)[-1]))
            self_terms = np.maximum(self_terms, np.diag(scaled))
    return LoopGain(network, self_terms)


def learning_rate_for_loop_gain(
    task: RegressionTask, config: MemristorRunConfig, target: float = 0.5, probe_samples: int = 50
) -> float:
    """The learning rate at which the in-cycle loop gain over the first samples equals ``target``.

    The loop gain is linear in the learning rate, so one evaluation at the configured rate scales to any target.
    """
    net = build_network(task.student, config, task.x_train, task.y_train)
    x, y = task.x_train[:probe_samples], task.y_train[:probe_samples]
    gain = loop_gains(net, x, y, config.drive, config.cell).network
    return config.learning.learning_rate_s2_per_v2 * target / gain


def check_loop_gain(gain: LoopGain, limit: float, spec: NetworkSpec, learning_rate: float) -> None:
    """Raise ConfigError if the in-cycle loop gain reaches ``limit``."""
    if gain.network >= limit:
        e = int(np.argmax(gain.edges))
        raise ConfigError(
            f"in-cycle loop gain {gain.network:.3g} (largest edge term {gain.edges[e]:.3g}, edge "
            f"{spec.edge_label(e)!r}) reaches the bound {limit:.3g}: the learning loop would go unstable; lower "
            f"the learning rate below about {learning_rate * limit / gain.network:.3g} S^2/V^2"
        )


# --- run one chunk ---------------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    """What one simulated chunk produced."""

    final_states: np.ndarray
    records: list[dict]
    states_after: np.ndarray
    """(samples, edges) state of every edge at the end of each sample."""
    seconds: float
    time_points: int
    result: SimResult | None = None
    """The simulated waveforms (for inspection; dropped by the training loop)."""


def wanted_vectors(circuit: Circuit) -> frozenset[str]:
    names = {"time", BETA_NODE, ENABLE_NODE}
    names |= {n for n in circuit.network_nodes if n != "0"}
    for el in circuit.elements:
        if isinstance(el, Clamp):
            names.add(el.target)
        elif isinstance(el, MemristorCell):
            names |= {el.state, el.feedback}
    return frozenset(names)


def run_chunk(
    backend,
    net: MemristorNetwork,
    circuit: Circuit,
    timeline: Timeline,
    targets_v: np.ndarray,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
) -> ChunkResult:
    """Simulate a compiled chunk and read per-sample records from its waveforms.

    Per sample: the sample's own free-state loss (outputs just before the cycle, task units), the state of
    every edge at its end, the conductance change, the contrast s(top of the fast ramp) - s(free) and the
    fraction of edges below / inside / above the learning window, and the energy dissipated in the devices
    (v * I of each device's own I-V) and clamps, and separately in the feedback resistors R_K, integrated
    from the simulated voltages (behavioural squarer, driver and state sources are not counted).
    """
    started = time.perf_counter()
    result = backend.run(dataclasses.replace(circuit, saves=wanted_vectors(circuit)))
    t = result.axis
    spec = net.spec
    c = net.read_scale_v
    e_arr = spec.edge_array
    volts = np.stack([result.v(n) for n in circuit.network_nodes], axis=1)  # (T, nodes)
    vab = volts[:, e_arr[:, 0]] - volts[:, e_arr[:, 1]]  # (T, edges)
    xs = np.stack([result.v(f"x{e}") for e in range(spec.n_edges)], axis=1)
    if not np.all(np.isfinite(xs)) or xs.min() < -0.05 or xs.max() > 1.05:
        raise LearningError(
            f"memristor states left [0, 1] (min {xs.min():.3g}, max {xs.max():.3g}): unstable programming"
        )
    power_dev = np.zeros_like(t)
    for e, device in enumerate(net.devices):
        power_dev += vab[:, e] * device.current_a(vab[:, e], xs[:, e])
    beta = result.v(BETA_NODE)
    for k, o in enumerate(spec.output_nodes):
        dv = volts[:, o] - result.v(f"t{k}")
        power_dev += drive.clamp_conductance_s * beta * dv * dv
    power_fb = np.zeros_like(t)
    for e in range(spec.n_edges):
        u = result.v(f"u{e}")
        power_fb += u * u / cell.r_k_ohm
    lo, hi = cell.window_contrast_v2(drive)
    outputs = list(spec.output_nodes)
    records = []
    states_after = np.zeros((timeline.samples, spec.n_edges))
    x_before = net.states.copy()
    for k in range(timeline.samples):
        t0, t1 = timeline.start(k), timeline.end(k)
        t_c = timeline.cycle_start(k)
        inside = (t >= t0 - 1e-15) & (t <= t1 + 1e-15)
        free_out = np.array([np.interp(t_c, t, volts[:, o]) for o in outputs]) / c
        loss = float(np.sum((free_out - targets_v[k]) ** 2))
        s_free = np.array([np.interp(t_c, t, vab[:, e]) for e in range(spec.n_edges)]) ** 2 / (c * c)
        s_top = np.array(
            [np.interp(t_c + drive.tau_rise_s, t, vab[:, e]) for e in range(spec.n_edges)]
        ) ** 2 / (c * c)
        contrast = np.abs(s_top - s_free)
        x_after = np.array([np.interp(t1, t, xs[:, e]) for e in range(spec.n_edges)])
        states_after[k] = x_after
        g_before = net.with_states(x_before).conductance_s()
        g_after = net.with_states(x_after).conductance_s()
        x_before = x_after
        records.append(
            {
                "loss": loss,
                "energy_network_j": float(trapezoid(power_dev[inside], t[inside])),
                "energy_feedback_j": float(trapezoid(power_fb[inside], t[inside])),
                "update_norm_s": float(np.linalg.norm(g_after - g_before)),
                "frac_below": float(np.mean(contrast < lo)),
                "frac_window": float(np.mean((contrast >= lo) & (contrast <= hi))),
                "frac_above": float(np.mean(contrast > hi)),
                "x_min": float(x_after.min()),
                "x_max": float(x_after.max()),
                "edges_at_bounds": int(np.sum((x_after < 1e-3) | (x_after > 1 - 1e-3))),
            }
        )
    final = np.array([result.v(f"x{e}")[-1] for e in range(spec.n_edges)])
    return ChunkResult(final, records, states_after, time.perf_counter() - started, int(t.size), result)


def free_losses_ngspice(
    backend,
    net: MemristorNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    *,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
    sim: SimulatorConfig,
) -> np.ndarray:
    """Per-sample free-state loss of the network with frozen states, simulated in ngspice (task units).

    The devices' own I-V at the simulated read voltages (the reference for the small-signal evaluation of
    nonlinear devices such as Yakopcic's): states are frozen in the read path and the gate is closed.
    """
    stream = StreamConfig(gate=GateMode.CLOSED, chunk_samples=max(1, len(inputs_v)))
    circuit, timeline = compile_chunk(
        net,
        inputs_v,
        targets_v,
        (inputs_v[0], targets_v[0]),
        drive=drive,
        cell=cell,
        sim=sim,
        stream=stream,
        frozen_read=True,
    )
    chunk = run_chunk(backend, net, circuit, timeline, np.atleast_2d(targets_v), drive, cell)
    return np.array([r["loss"] for r in chunk.records])


# --- the training stream ---------------------------------------------------------------------------------


def _losses(net: MemristorNetwork, task: RegressionTask) -> tuple[float, float]:
    frozen = net.frozen_spec()
    return mean_loss(frozen, task.x_train, task.y_train), mean_loss(frozen, task.x_test, task.y_test)


def train_stream(
    task: RegressionTask,
    config: MemristorRunConfig,
    out_dir: str | Path,
    *,
    backend,
    resume: bool = False,
    progress: bool = True,
    stop_after_chunks: int | None = None,
) -> dict:
    """Train ``task.student`` as a memristor network by streaming samples through ngspice.

    Writes config.json, first_chunk.cir, checkpoint.json (after every chunk), samples.csv, epochs.csv,
    states.npy (state of every edge after every sample), final_states.npy, final_conductance_s.npy,
    learning_curve.png and summary.json into ``out_dir``, and returns the summary. ``stop_after_chunks``
    stops the stream after that many chunks of this call (the checkpoint then resumes it), for benches and
    tests of resumption.
    """
    from tcl_circuits.learning.controller import plot_learning_curve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config_dict(config)
    checkpoint_path = out / CHECKPOINT
    if checkpoint_path.exists() and not resume:
        raise ConfigError(
            f"{out} already holds a run; pass resume=True (--resume) to continue it or pick another folder"
        )
    if stop_after_chunks is not None and (not isinstance(stop_after_chunks, int) or stop_after_chunks < 1):
        raise ConfigError(f"stop_after_chunks must be an int >= 1 or None, got {stop_after_chunks!r}")
    learning = config.learning
    n_train = len(task.x_train)
    if resume and checkpoint_path.exists():
        state = json.loads(checkpoint_path.read_text())
        if state["config"] != cfg:
            raise ConfigError(
                f"the run in {out} was started with another configuration; refusing to resume it"
            )
        base = build_network(task.student, config, task.x_train, task.y_train)
        net = MemristorNetwork(
            task.student,
            tuple(device_from_dict(d) for d in state["devices"]),
            np.array(state["states"], dtype=float),
            base.plan,
            float(state["read_scale_v"]),
            config.programming.read_coupling,
        )
        epoch, position = state["epoch"], state["position"]
        previous = (np.array(state["previous_x"]), np.array(state["previous_y"]))
        sample_log, epoch_records = SampleLog(out, state), state["epoch_records"]
        state_history = state["state_history"]
        elapsed_before, initial_test_loss = state["seconds"], state["initial_test_loss"]
        max_gain = state["max_loop_gain"]
    else:
        net = build_network(task.student, config, task.x_train, task.y_train)
        epoch, position, elapsed_before, max_gain = 0, 0, 0.0, 0.0
        sample_log, epoch_records, state_history = SampleLog(out), [], []
        first = int(np.random.default_rng([learning.seed, 0]).permutation(n_train)[0]) if n_train else 0
        previous = (task.x_train[first], task.y_train[first])
        train_loss, initial_test_loss = _losses(net, task)
        epoch_records.append(
            {"epoch": 0, "train_loss": train_loss, "test_loss": initial_test_loss, "seconds": 0.0}
        )
        write_json(
            out / "config.json",
            {"config": cfg, "seed": learning.seed, "task": task.name, "versions": versions()},
        )
    started = time.perf_counter()

    def seconds() -> float:
        return elapsed_before + time.perf_counter() - started

    def save_checkpoint() -> None:
        write_json(
            checkpoint_path,
            {
                "config": cfg,
                "devices": [device_to_dict(d) for d in net.devices],
                "plan": net.plan.to_dict(),
                "read_scale_v": net.read_scale_v,
                "states": net.states.tolist(),
                "epoch": epoch,
                "position": position,
                "previous_x": np.asarray(previous[0]).tolist(),
                "previous_y": np.asarray(previous[1]).tolist(),
                **sample_log.flush(),
                "epoch_records": epoch_records,
                "state_history": state_history,
                "seconds": seconds(),
                "initial_test_loss": initial_test_loss,
                "max_loop_gain": max_gain,
            },
        )

    bar = tqdm(
        total=learning.epochs * n_train,
        initial=epoch * n_train + position,
        disable=not progress,
        unit="sample",
        desc=f"memristor:{config.device}",
    )
    chunks_run = 0
    while epoch < learning.epochs:
        order = np.random.default_rng([learning.seed, epoch]).permutation(n_train)
        while position < n_train:
            if stop_after_chunks is not None and chunks_run >= stop_after_chunks:
                bar.close()
                return {"stopped": True, "epoch": epoch, "position": position}
            picked = order[position : position + config.stream.chunk_samples]
            x, y = task.x_train[picked], task.y_train[picked]
            gain = loop_gains(net, x, y, config.drive, config.cell)
            check_loop_gain(
                gain, config.programming.max_loop_gain, net.spec, learning.learning_rate_s2_per_v2
            )
            max_gain = max(max_gain, gain.network)
            circuit, timeline = compile_chunk(
                net,
                x,
                y,
                previous,
                drive=config.drive,
                cell=config.cell,
                sim=config.sim,
                stream=config.stream,
            )
            if not (out / "first_chunk.cir").exists():
                (out / "first_chunk.cir").write_text(write_netlist(circuit))
            chunk = run_chunk(backend, net, circuit, timeline, y, config.drive, config.cell)
            for k, record in enumerate(chunk.records):
                sample_log.append(
                    {
                        "epoch": epoch + 1,
                        "position": position + k,
                        "sample": int(picked[k]),
                        **record,
                        "chunk_loop_gain": gain.network,
                    }
                )
            state_history += chunk.states_after.tolist()
            net = net.with_states(chunk.final_states)
            previous = (x[-1], y[-1])
            position += len(picked)
            chunks_run += 1
            bar.update(len(picked))
            if position >= n_train:
                epoch += 1
                position = 0
                train_loss, test_loss = _losses(net, task)
                epoch_records.append(
                    {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss, "seconds": seconds()}
                )
                bar.set_postfix(test_loss=f"{test_loss:.3g}")
                save_checkpoint()
                break
            save_checkpoint()
    bar.close()
    sample_records = sample_log.records
    summary = _summary(
        task, config, net, sample_records, epoch_records, initial_test_loss, seconds(), max_gain
    )
    write_records(out, sample_records, epoch_records)
    np.save(out / "states.npy", np.array(state_history))
    np.save(out / "final_states.npy", net.states)
    np.save(out / "final_conductance_s.npy", net.conductance_s())
    write_json(out / "summary.json", summary)
    plot_learning_curve(
        epoch_records,
        out / "learning_curve.png",
        title=f"tcl on {task.name} (memristor:{config.device}, ngspice)",
        sample_records=sample_records,
    )
    return summary


def _summary(task, config, net, sample_records, epoch_records, initial_test_loss, seconds, max_gain) -> dict:
    device = net.devices[0]
    summary = summary_core(
        rule="tcl",
        backend="ngspice",
        task=task.name,
        edges=net.spec.n_edges,
        epochs=config.learning.epochs,
        threshold_v=config.cell.threshold_v,
        initial_test_loss=initial_test_loss,
        sample_records=sample_records,
        epoch_records=epoch_records,
        seconds=seconds,
    )
    summary |= {
        "mode": "memristor",
        "loss_units": "V^2 (sum over outputs of (V_out - V_target)^2 in task volts, mean over samples)",
        "device": f"memristor:{config.device}",
        "device_model": device.kind.value,
        "programming_mode": net.plan.mode.value,
        "spread_cv": config.spread_cv,
        "read_scale_v": net.read_scale_v,
        "read_coupling": net.read_coupling,
        "rate_trim_up": net.plan.trim_up,
        "rate_trim_down": net.plan.trim_down,
        "max_loop_gain": max_gain,
        "chunk_samples": config.stream.chunk_samples,
        "final_state_min": float(net.states.min()),
        "final_state_max": float(net.states.max()),
        "edges_at_bounds": int(np.sum((net.states < 1e-3) | (net.states > 1 - 1e-3))),
        "nominal_device": device_to_dict(net.plan.device),
    }
    summary.update(window_summary(sample_records))
    return summary
