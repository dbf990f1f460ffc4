"""Learning that runs entirely inside a memristor circuit: a whole training stream in ngspice.

The memristor learner: every learning edge is a memristor programmed by its own
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

The training loop (``learning.loop``) checkpoints after each chunk with the complete circuit state (all
memristor states, the previous sample, devices), so a stopped stream resumes exactly. Held-out loss uses the
free state of the frozen network: exact for linear R(x) (VTEAM, linear drift), small-signal for Yakopcic (its
sinh I-V at the read voltages used here; error quantified in tests/learning/test_stream.py).
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from tcl_circuits.backends.base import Backend, SimResult
from tcl_circuits.circuit.cell_design import CellDesign, as_design
from tcl_circuits.circuit.compile import BETA_NODE
from tcl_circuits.circuit.compile_stream import ENABLE_NODE, Timeline, compile_chunk
from tcl_circuits.circuit.ir import Circuit, Clamp, MemristorCell
from tcl_circuits.config import FeedbackCellConfig, GateMode, SawtoothConfig, SimulatorConfig, StreamConfig
from tcl_circuits.devices import (
    Device,
    DriveKind,
    ProgrammingPlan,
    device_from_dict,
    device_to_dict,
    drive_power_w,
    fit_to_range,
    plan_programming,
    smallest_threshold_v,
    spread_devices,
    state_for_conductance,
)
from tcl_circuits.errors import DataError, LearningError
from tcl_circuits.kernels.window import WindowOccupancy
from tcl_circuits.learning.rules import calibrate_for_run
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.run_folder import RunFolder, pack_array, unpack_array
from tcl_circuits.learning.tasks import RegressionTask
from tcl_circuits.network import NetworkSpec
from tcl_circuits.physics.energy import clamp_power_w, energy_j, feedback_power_w
from tcl_circuits.physics.loop_gain import check_loop_gain, loop_gains
from tcl_circuits.physics.steady import SteadyState
from tcl_circuits.spice.writer import write_netlist

LOOP_GAIN_TARGET = 0.5
"""The automatic learning rate puts the in-cycle loop gain over the first chunk at this value."""
DEVICE_SEED_OFFSET = 7919
"""Device spread is drawn from seed + this (independent of the task's draws from seed)."""


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
    config: RunConfig,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    *,
    cell: CellDesign | FeedbackCellConfig,
    learning_rate_s2_per_v2: float,
) -> MemristorNetwork:
    """Map the student's conductances onto memristors: range map, programming calibration, spread, states.

    The device range covers [min G / w, max G * w] of the student (w = range_widening); each edge's device
    (nominal, or with spread drawn from the run's seed) is then set to the state that gives the student's
    conductance (a write-verify initialisation; states clip to [0, 1] where a spread device cannot reach it).
    The read scale keeps every read voltage below read_margin x the smallest device threshold: in a passive
    network all node voltages lie within the range of the sources, here the inputs, targets and 0 V.
    """
    cell = as_design(cell, config.drive, student)
    model, mode = config.memristor_device or ("", None)
    memristor = config.memristor
    programming = memristor.programming.replace(mode=mode)
    g = student.conductance_s
    w = memristor.range_widening
    mapped = fit_to_range(memristor.device(model), float(g.min()) / w, float(g.max()) * w)
    plan = plan_programming(
        mapped, programming, config.drive, cell.reference_window(), learning_rate_s2_per_v2
    )
    seed = config.learning.seed + DEVICE_SEED_OFFSET
    devices = spread_devices(plan.device, student.n_edges, memristor.spread_cv, seed)
    states = np.array([float(state_for_conductance(d, ge)) for d, ge in zip(devices, g, strict=True)])
    states = np.clip(states, 0.0, 1.0)
    if memristor.read_scale_v is not None:
        scale = float(memristor.read_scale_v)
    else:
        threshold = smallest_threshold_v(devices)
        peak = float(max(np.max(np.abs(inputs_v)), np.max(np.abs(targets_v)), 1e-12))
        scale = 1.0 if threshold is None else programming.read_margin * threshold / peak
    return MemristorNetwork(student, devices, states, plan, scale, programming.read_coupling)


@dataclass(frozen=True)
class MemristorSample:
    """One sample of a memristor stream, read from the chunk's waveforms (see ``run_chunk``)."""

    loss: float
    """The sample's own free-state loss, just before its cycle (task units)."""
    energy_devices_j: float
    """Dissipated in the devices over the sample's slot."""
    energy_clamp_j: float
    """Dissipated in the clamps."""
    energy_feedback_j: float
    """Dissipated in the feedback resistors R_K."""
    energy_write_j: float
    """The programming drives as dissipated in their devices."""
    update_norm_s: float
    """Norm of the conductance change over the sample, siemens."""
    occupancy: WindowOccupancy
    state_min: float
    """The smallest edge state at the sample's end (states run from 0 to 1)."""
    state_max: float
    edges_at_bounds: int
    """Edges whose state ends within 1e-3 of 0 or 1."""
    chunk_loop_gain: float | None = None
    """The in-cycle loop gain of the sample's chunk (set by the learner)."""
    states: np.ndarray | None = None
    """Every edge's state at the sample's end (set by the learner; kept in samples.jsonl and states.npy)."""

    def as_record(self) -> dict[str, Any]:
        """The sample's line of samples.jsonl (keys and order as always; what was not set left out)."""
        fields = {
            "loss": self.loss,
            "energy_network_j": self.energy_devices_j + self.energy_clamp_j,
            "energy_feedback_j": self.energy_feedback_j,
            "block_energy_network_j": self.energy_devices_j,
            "block_energy_clamp_j": self.energy_clamp_j,
            "block_energy_feedback_rk_j": self.energy_feedback_j,
            "block_energy_write_j": self.energy_write_j,
            "update_norm_s": self.update_norm_s,
            **self.occupancy.as_dict(),
            "x_min": self.state_min,
            "x_max": self.state_max,
            "edges_at_bounds": self.edges_at_bounds,
            "chunk_loop_gain": self.chunk_loop_gain,
            "states": None if self.states is None else self.states.tolist(),
        }
        return {key: value for key, value in fields.items() if value is not None}


@dataclass
class ChunkResult:
    """What one simulated chunk produced."""

    final_states: np.ndarray
    records: list[MemristorSample]
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
            names |= {el.state, el.feedback, el.drive}
    return frozenset(names)


def run_chunk(
    backend,
    net: MemristorNetwork,
    circuit: Circuit,
    timeline: Timeline,
    targets_v: np.ndarray,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
) -> ChunkResult:
    """Simulate a compiled chunk and read per-sample records from its waveforms.

    Per sample: the sample's own free-state loss (outputs just before the cycle, task units), the state of
    every edge at its end, the conductance change, the contrast s(top of the fast ramp) - s(free) and the
    fraction of edges below / inside / above the learning window, and the energy dissipated in the devices
    (v * I of each device's own I-V) and clamps, separately in the feedback resistors R_K, and the write: each
    programming drive (less its read coupling) as dissipated in its device (``devices.drive_power_w``), all
    integrated from the simulated voltages (the behavioural squarer and the state sources are not counted).
    """
    cell = as_design(cell, drive, net.spec)
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
    power_clamp = clamp_power_w(circuit, result)
    power_dev = np.zeros_like(power_clamp)
    for e, device in enumerate(net.devices):
        power_dev += vab[:, e] * device.current_a(vab[:, e], xs[:, e])
    power_fb = feedback_power_w(circuit, result)
    power_write = _write_power_w(circuit, result, net, vab, xs)
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
        contrast = s_top - s_free
        x_after = np.array([np.interp(t1, t, xs[:, e]) for e in range(spec.n_edges)])
        states_after[k] = x_after
        g_before = net.with_states(x_before).conductance_s()
        g_after = net.with_states(x_after).conductance_s()
        x_before = x_after
        network_j, clamp_j = energy_j(power_dev, t, inside), energy_j(power_clamp, t, inside)
        feedback_j = energy_j(power_fb, t, inside)
        records.append(
            MemristorSample(
                loss=loss,
                energy_devices_j=network_j,
                energy_clamp_j=clamp_j,
                energy_feedback_j=feedback_j,
                energy_write_j=energy_j(power_write, t, inside),
                update_norm_s=float(np.linalg.norm(g_after - g_before)),
                occupancy=cell.reference_window().occupancy(contrast),
                state_min=float(x_after.min()),
                state_max=float(x_after.max()),
                edges_at_bounds=int(np.sum((x_after < 1e-3) | (x_after > 1 - 1e-3))),
            )
        )
    final = np.array([result.v(f"x{e}")[-1] for e in range(spec.n_edges)])
    return ChunkResult(final, records, states_after, time.perf_counter() - started, int(t.size), result)


def _write_power_w(
    circuit: Circuit, result, net: MemristorNetwork, vab: np.ndarray, xs: np.ndarray
) -> np.ndarray:
    """The programming drives' power, summed over edges, (T,): each cell's drive v(p) less its read coupling,
    as dissipated in its device at its state (``devices.drive_power_w``)."""
    cells = {el.index: el for el in circuit.elements if isinstance(el, MemristorCell)}
    power = np.zeros(vab.shape[0])
    for e, device in enumerate(net.devices):
        cell = cells[e]
        read = vab[:, e] if device.drive_kind is DriveKind.VOLTAGE else device.current_a(vab[:, e], xs[:, e])
        programming = result.v(cell.drive) - cell.read_coupling * read
        power += drive_power_w(device, programming, xs[:, e])
    return power


def free_losses_ngspice(
    backend,
    net: MemristorNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    *,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
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
    return np.array([r.loss for r in chunk.records])


def learning_rate_for_loop_gain(
    task: RegressionTask,
    config: RunConfig,
    cell: CellDesign | FeedbackCellConfig,
    target: float = LOOP_GAIN_TARGET,
    probe_samples: int | None = None,
) -> float:
    """The learning rate at which the in-cycle loop gain over the first samples (a chunk by default) equals
    ``target``. The loop gain is linear in the learning rate, so one evaluation scales to any target."""
    probe_rate = 1e-9
    probe = build_network(
        task.student, config, task.x_train, task.y_train, cell=cell, learning_rate_s2_per_v2=probe_rate
    )
    k = probe_samples or config.memristor.stream.chunk_samples
    gain = loop_gains(probe, task.x_train[:k], task.y_train[:k], config.drive, cell).network
    if not gain > 0:
        raise LearningError("no edge can program on the first samples (loop gain 0): give --lr")
    return probe_rate * target / gain


# --- the learner -----------------------------------------------------------------------------------------


class MemristorLearner:
    """Learns inside a memristor circuit: samples stream through ngspice in chunks (see the module docstring)."""

    checkpoint_each_step = True

    def __init__(self, task: RegressionTask, config: RunConfig, *, backend: Backend | None = None) -> None:
        from tcl_circuits.backends import open_backend

        self.task = task
        self.config = config
        self.samples_per_step = config.memristor.stream.chunk_samples
        self.cell = calibrate_for_run(config.cell, task.student, task, config.drive)
        lr = config.learning.learning_rate_s2_per_v2
        if lr is None:
            lr = learning_rate_for_loop_gain(task, config, self.cell)
        self.learning_rate = lr
        self.net = build_network(
            task.student, config, task.x_train, task.y_train, cell=self.cell, learning_rate_s2_per_v2=lr
        )
        first = int(np.random.default_rng([config.learning.seed, 0]).permutation(len(task.x_train))[0])
        self.previous = (task.x_train[first], task.y_train[first])
        self.max_loop_gain = 0.0
        self._stack = ExitStack()
        self.backend = (
            backend
            if backend is not None
            else self._stack.enter_context(open_backend(config.resolved_backend, config.sim))
        )

    def _compile(self, x: np.ndarray, y: np.ndarray) -> tuple[Circuit, Timeline]:
        c = self.config
        return compile_chunk(
            self.net, x, y, self.previous, drive=c.drive, cell=self.cell, sim=c.sim, stream=c.memristor.stream
        )

    def netlist(self, x: np.ndarray, y: np.ndarray) -> str:
        """The deck of the first sample: one chunk of one sample from the current states."""
        return write_netlist(self._compile(np.atleast_2d(x), np.atleast_2d(y))[0])

    def step(self, x: np.ndarray, y: np.ndarray) -> list[MemristorSample]:
        """One chunk: the loop gain checked, then the samples streamed through ngspice; a record per sample
        (with the state of every edge after it)."""
        c = self.config
        gain = loop_gains(self.net, x, y, c.drive, self.cell)
        check_loop_gain(gain, c.memristor.programming.max_loop_gain, self.net.spec, self.learning_rate)
        self.max_loop_gain = max(self.max_loop_gain, gain.network)
        circuit, timeline = self._compile(x, y)
        chunk = run_chunk(self.backend, self.net, circuit, timeline, y, c.drive, self.cell)
        records = [
            dataclasses.replace(record, chunk_loop_gain=gain.network, states=chunk.states_after[k])
            for k, record in enumerate(chunk.records)
        ]
        self.net = self.net.with_states(chunk.final_states)
        self.previous = (x[-1], y[-1])
        return records

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Free-state outputs (samples, outputs) of the network frozen at its current states, task volts."""
        spec = self.net.frozen_spec()
        return SteadyState(spec).solve(x)[:, list(spec.output_nodes)]

    def state(self) -> dict:
        return {
            "devices": [device_to_dict(d) for d in self.net.devices],
            "states": pack_array(self.net.states),
            "read_scale_v": self.net.read_scale_v,
            "previous_x": np.asarray(self.previous[0]).tolist(),
            "previous_y": np.asarray(self.previous[1]).tolist(),
            "max_loop_gain": self.max_loop_gain,
        }

    def restore(self, state: dict) -> None:
        try:
            devices = tuple(device_from_dict(d) for d in state["devices"])
            states = unpack_array(state["states"])
            if states.shape != (self.net.spec.n_edges,) or len(devices) != self.net.spec.n_edges:
                raise DataError(f"{states.shape[0]} states for {self.net.spec.n_edges} edges")
            self.net = MemristorNetwork(
                self.net.spec,
                devices,
                states,
                self.net.plan,
                float(state["read_scale_v"]),
                self.net.read_coupling,
            )
            self.previous = (
                np.array(state["previous_x"], dtype=float),
                np.array(state["previous_y"], dtype=float),
            )
            self.max_loop_gain = float(state["max_loop_gain"])
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the checkpoint's memristor state is damaged ({error})") from None

    def summary(self, records: list[dict]) -> dict:
        net = self.net
        device = net.devices[0]
        model, mode = self.config.memristor_device or ("", None)
        return {
            "mode": "memristor",
            "threshold_v": self.cell.theta_v,
            "learning_rate_s2_per_v2": self.learning_rate,
            "device": self.config.device,
            "device_model": device.kind.value,
            "programming_mode": net.plan.mode.value,
            "spread_cv": self.config.memristor.spread_cv,
            "read_scale_v": net.read_scale_v,
            "read_coupling": net.read_coupling,
            "rate_trim_up": net.plan.trim_up,
            "rate_trim_down": net.plan.trim_down,
            "max_loop_gain": self.max_loop_gain,
            "chunk_samples": self.samples_per_step,
            "final_state_min": float(net.states.min()),
            "final_state_max": float(net.states.max()),
            "edges_at_bounds": int(np.sum((net.states < 1e-3) | (net.states > 1 - 1e-3))),
            "nominal_device": device_to_dict(net.plan.device),
        }

    def save_results(self, folder: RunFolder, records: list[dict], *, plots: bool = True) -> None:
        np.save(folder.file("states.npy"), np.array([r["states"] for r in records]))
        np.save(folder.file("final_states.npy"), self.net.states)
        np.save(folder.file("final_conductance_s.npy"), self.net.conductance_s())

    def close(self) -> None:
        self._stack.close()
