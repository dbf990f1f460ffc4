"""Compile a NetworkSpec plus one sample (inputs, targets) into the circuit IR.

The compiler assigns every SPICE name: network node i is ``n<i>`` (ground-role nodes are node ``0``), edge
e is resistor ``re<e>`` with feedback cell parts ``bs<e> ck<e> rk<e> bw<e> cw<e>`` on nodes ``s<e> u<e> w<e>``,
input k is source ``vin<k>``, output k has target source ``vt<k>`` on node ``t<k>`` and clamp ``bcl<k>``.
User labels only reach comments, and the writer sanitises those.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .circuit import Circuit, Clamp, DcSweep, Element, FeedbackCell, Resistor, Transient, VoltageSource
from .config import FeedbackCellConfig, Role, SawtoothConfig, SimulatorConfig
from .drive import sawtooth_points
from .errors import ConfigError
from .network import NetworkSpec

BETA_NODE = "beta"
BETA_SOURCE = "vbeta"


def _sample_values(spec: NetworkSpec, inputs_v: np.ndarray | None, targets_v: np.ndarray | None):
    inputs = spec.input_voltage_v if inputs_v is None else np.asarray(inputs_v, dtype=float)
    targets = spec.target_v if targets_v is None else np.asarray(targets_v, dtype=float)
    if inputs.shape != (len(spec.input_nodes),):
        raise ConfigError(f"need {len(spec.input_nodes)} input voltages, got shape {inputs.shape}")
    if targets.shape != (len(spec.output_nodes),):
        raise ConfigError(f"need {len(spec.output_nodes)} targets, got shape {targets.shape}")
    for k, value in enumerate(inputs):
        if not np.isfinite(value):
            raise ConfigError(f"input node {spec.labels[spec.input_nodes[k]]!r} has no finite voltage")
    for k, value in enumerate(targets):
        if not np.isfinite(value):
            raise ConfigError(f"output node {spec.labels[spec.output_nodes[k]]!r} has no finite target")
    return inputs, targets


def _network_elements(
    spec: NetworkSpec, inputs: np.ndarray, targets: np.ndarray, drive: SawtoothConfig, beta: VoltageSource
) -> tuple[tuple[str, ...], list[Element]]:
    nodes = tuple("0" if role is Role.GROUND else f"n{i}" for i, role in enumerate(spec.roles))
    elements: list[Element] = []
    for k, i in enumerate(spec.input_nodes):
        elements.append(
            VoltageSource(
                f"vin{k}", nodes[i], "0", dc_v=float(inputs[k]), comment=f"input {spec.labels[i]!r}"
            )
        )
    resistances = (1.0 / spec.conductance_s).tolist()
    for e, (i, j) in enumerate(spec.edges):
        elements.append(
            Resistor(
                f"re{e}", nodes[i], nodes[j], resistances[e], comment=f"edge {spec.edge_descriptions[e]}"
            )
        )
    elements.append(beta)
    elements.extend(output_clamps(spec, nodes, drive, [float(t) for t in targets]))
    return nodes, elements


def output_clamps(
    spec: NetworkSpec, nodes: tuple[str, ...], drive: SawtoothConfig, targets: list
) -> list[Element]:
    """Target source ``vt<k>`` and beta-driven clamp ``bcl<k>`` of every output; a target is a DC value in
    volts or a tuple of PWL breakpoints (time s, volts)."""
    elements: list[Element] = []
    for k, o in enumerate(spec.output_nodes):
        target = targets[k]
        shape = {"pwl": target} if isinstance(target, tuple) else {"dc_v": target}
        elements.append(
            VoltageSource(f"vt{k}", f"t{k}", "0", comment=f"target of {spec.labels[o]!r}", **shape)
        )
        elements.append(
            Clamp(
                f"bcl{k}",
                nodes[o],
                f"t{k}",
                BETA_NODE,
                drive.clamp_conductance_s,
                comment=f"clamp {spec.labels[o]!r}",
            )
        )
    return elements


def _header(spec: NetworkSpec) -> tuple[str, ...]:
    return tuple(
        f"node 0: {r} (ground)" if role is Role.GROUND else f"node n{i}: {r} ({role.value})"
        for i, (r, role) in enumerate(zip(spec.label_reprs, spec.roles, strict=True))
    )


@lru_cache(maxsize=8)
def _feedback_cells(
    edges: tuple[tuple[int, int], ...],
    nodes: tuple[str, ...],
    descriptions: tuple[str, ...],
    cell: FeedbackCellConfig,
) -> tuple[FeedbackCell, ...]:
    """The cells depend only on the topology and the cell config, so a training run builds them once."""
    gain = cell.accumulator_gain / cell.tau_k_s
    return tuple(
        FeedbackCell(
            index=e,
            a=nodes[i],
            b=nodes[j],
            signal=f"s{e}",
            feedback=f"u{e}",
            accumulator=f"w{e}",
            c_k_f=cell.c_k_f,
            r_k_ohm=cell.r_k_ohm,
            threshold_v=cell.threshold_v,
            shape=cell.threshold_shape,
            gain_a_per_v=gain,
            comment=f"feedback cell of edge {descriptions[e]}",
        )
        for e, (i, j) in enumerate(edges)
    )


def compile_tcl(
    spec: NetworkSpec,
    *,
    drive: SawtoothConfig,
    cell: FeedbackCellConfig,
    sim: SimulatorConfig | None = None,
    inputs_v: np.ndarray | None = None,
    targets_v: np.ndarray | None = None,
    title: str = "tcl_circuits TCL cycle",
) -> Circuit:
    """One sawtooth cycle of the network with a feedback cell on every edge (a transient analysis)."""
    sim = sim or SimulatorConfig()
    inputs, targets = _sample_values(spec, inputs_v, targets_v)
    if cell.tau_k_s >= drive.tau_rise_s or cell.tau_k_s >= drive.tau_fall_s:
        raise ConfigError(
            f"tau_k_s ({cell.tau_k_s}) must be much shorter than the ramps ({drive.tau_rise_s}, {drive.tau_fall_s})"
        )
    beta = VoltageSource(
        BETA_SOURCE, BETA_NODE, "0", pwl=sawtooth_points(drive), comment="sawtooth clamp drive beta(t)"
    )
    nodes, elements = _network_elements(spec, inputs, targets, drive, beta)
    elements.extend(_feedback_cells(spec.edges, nodes, spec.edge_descriptions, cell))
    lo, hi = cell.window_contrast_v2(drive)
    notes = (
        f"one sawtooth cycle: beta 0 -> {drive.beta_max!r} in {drive.tau_rise_s!r} s, back to 0 in {drive.tau_fall_s!r} s",
        f"feedback cells: tau_k = R_K*C_K = {cell.tau_k_s!r} s, threshold {cell.threshold_v!r} V on v(u<e>)",
        f"learning window (linear ramp) {lo:.4g} < abs(s_clamped - s_free) < {hi:.4g} V^2",
        f"at the end v(w<e>) ~ -{cell.accumulator_gain!r} * (s_clamped - s_free) of edge e",
        "the controller then sets G_e += lr * v(w<e>) / (accumulator_gain * beta_max * G_c)",
    )
    max_step = cell.tau_k_s / sim.points_per_tau_k
    analysis = Transient(step_s=max_step, stop_s=drive.period_s, max_step_s=max_step)
    return Circuit(
        title=title,
        elements=tuple(elements),
        analysis=analysis,
        network_nodes=nodes,
        edge_resistors=tuple(f"re{e}" for e in range(spec.n_edges)),
        reltol=sim.reltol,
        notes=notes,
        header_comments=_header(spec),
    )


def compile_phases(
    spec: NetworkSpec,
    *,
    drive: SawtoothConfig,
    sim: SimulatorConfig | None = None,
    inputs_v: np.ndarray | None = None,
    targets_v: np.ndarray | None = None,
    title: str = "tcl_circuits free and clamped states",
) -> Circuit:
    """Free (beta = 0) and clamped (beta = beta_max) steady states as a two-point DC sweep of beta."""
    sim = sim or SimulatorConfig()
    inputs, targets = _sample_values(spec, inputs_v, targets_v)
    beta = VoltageSource(BETA_SOURCE, BETA_NODE, "0", dc_v=0.0, comment="clamp strength beta (swept)")
    nodes, elements = _network_elements(spec, inputs, targets, drive, beta)
    return Circuit(
        title=title,
        elements=tuple(elements),
        analysis=DcSweep(BETA_SOURCE, 0.0, drive.beta_max, drive.beta_max),
        network_nodes=nodes,
        edge_resistors=tuple(f"re{e}" for e in range(spec.n_edges)),
        reltol=sim.reltol,
        header_comments=_header(spec),
    )
