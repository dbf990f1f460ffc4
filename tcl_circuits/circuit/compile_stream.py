"""Compile a memristor network and a chunk of samples into one long transient (the memristor stream).

Samples follow each other inside the transient: inputs and targets ramp to the next sample's values, settle,
then the learn-enable gate (node ``en``, source ``en``, written ``ven``) opens for one sawtooth cycle. Edge e is a
``MemristorCell`` (read ``bm<e>``, squarer ``bs<e>``, ``ck<e>``/``rk<e>``, programming port ``bp<e>``, state
``bx<e>``/``cx<e>`` on node ``x<e>``); network nodes, clamps and the beta source are named as in
``circuit.compile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign, as_design
from tcl_circuits.circuit.compile import BETA_NODE, BETA_SOURCE, network_nodes, output_clamps
from tcl_circuits.circuit.drive import sawtooth_points
from tcl_circuits.circuit.ir import Circuit, MemristorCell, ProgrammingDrive, Transient, VoltageSource
from tcl_circuits.config import (
    FeedbackCellConfig,
    GateMode,
    SawtoothConfig,
    SimulatorConfig,
    StreamConfig,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.network.spec import NetworkSpec

MEMRISTOR_SIGNAL_GAIN = (
    "--signal-gain must be 1 with memristor cells: their squarer's gain carries the read scale and their "
    "programming window is placed at unit gain"
)
"""Why memristor cells refuse a squarer gain."""

ENABLE_NODE = "en"
"""Node of the learn-enable gate of memristor streams."""


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
            raise ConfigError(f"PWL breakpoints must increase in time ({t!r} after {out[-1][0]!r})")
        out.append((float(t), float(v)))
    return tuple(out)


def _gate(stream: StreamConfig, timeline: Timeline) -> VoltageSource:
    """The learn-enable gate (source ``en``, written ``ven``): open for each sample's cycle (ramping in ``gate_ramp_s``), or held."""
    pwl, dc_v = None, 0.0
    if stream.gate is GateMode.CYCLES:
        points = [(0.0, 0.0)]
        for k in range(timeline.samples):
            t_c = timeline.cycle_start(k)
            points += [
                (t_c - stream.gate_ramp_s, 0.0),
                (t_c, 1.0),
                (t_c + timeline.cycle_s, 1.0),
                (t_c + timeline.cycle_s + stream.gate_ramp_s, 0.0),
            ]
        pwl, comment = _pwl(points), "learn-enable gate: programming only during the cycles"
    elif stream.gate is GateMode.ALWAYS:
        dc_v, comment = 1.0, "learn-enable gate held open"
    else:
        comment = "learn-enable gate held closed (reads only)"
    return VoltageSource("en", ENABLE_NODE, "0", dc_v=dc_v, pwl=pwl, comment=comment)


class StreamNetwork(Protocol):
    """What ``compile_chunk`` reads of a memristor network (``learning.memristor.MemristorNetwork``): its
    topology, one device per edge (held as data: the compiler does not depend on device physics), their
    states, the programming driver, the read scale and the read coupling."""

    @property
    def spec(self) -> NetworkSpec: ...
    @property
    def devices(self) -> Sequence[Any]: ...
    @property
    def states(self) -> np.ndarray: ...
    @property
    def plan(self) -> ProgrammingDrive: ...
    @property
    def read_scale_v(self) -> float: ...
    @property
    def read_coupling(self) -> float: ...


def compile_chunk(
    net: StreamNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    previous: tuple[np.ndarray, np.ndarray],
    *,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
    sim: SimulatorConfig,
    stream: StreamConfig,
    frozen_read: bool = False,
    title: str = "tcl_circuits memristor stream chunk",
) -> tuple[Circuit, Timeline]:
    """One transient presenting samples (K, inputs) / (K, outputs) in task volts, from ``previous`` sample.

    ``net`` is a ``learning.memristor.MemristorNetwork`` (its spec, devices, states, programming plan, read
    scale and read coupling; the compiler reads them without depending on device physics). Inputs and targets
    are scaled by the network's read scale; the squarer's gain 1/scale^2 gives s in task units, so threshold
    and learning window are those of resistor mode.
    """
    spec = net.spec
    cell = as_design(cell, drive, spec)
    if cell.signal_gain != 1:
        raise ConfigError(MEMRISTOR_SIGNAL_GAIN, field="signal_gain")
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

    nodes = network_nodes(spec)
    elements: list = []
    for k, i in enumerate(spec.input_nodes):
        elements.append(
            VoltageSource(
                f"in{k}", nodes[i], "0", pwl=ramps(x[:, k], prev_x[k]), comment=f"input {spec.labels[i]!r}"
            )
        )
    elements.append(
        VoltageSource(
            BETA_SOURCE,
            BETA_NODE,
            "0",
            pwl=sawtooth_points(drive, [timeline.cycle_start(k) for k in range(k_count)]),
            comment="sawtooth clamp drive beta(t), one cycle per sample",
        )
    )
    elements.append(_gate(stream, timeline))
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
                plan=plan,
                c_k_f=cell.config.c_k_f,
                r_k_ohm=cell.config.r_k_ohm,
                signal_gain=1.0 / (c * c),
                threshold_v=cell.theta_v,
                shape=cell.shape,
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
        edge_resistors=tuple(f"m{e}" for e in range(spec.n_edges)),
        reltol=sim.reltol,
        abstol_a=sim.abstol_a,
        notes=notes,
    )
    return circuit, timeline
