"""Compile a NetworkSpec plus one sample (inputs, targets) into the circuit IR.

The compiler assigns every node name and element identifier: network node i is ``n<i>`` (ground-role nodes
are node ``0``), edge e is resistor ``e<e>`` with its feedback cell on nodes ``s<e> u<e> w<e>``, input k is
source ``in<k>``, output k has target source ``t<k>`` on node ``t<k>`` and clamp ``cl<k>``. Identifiers carry
no SPICE type letter: the writer adds it (``spice.names``), so the deck reads ``re<e>``, ``vin<k>``,
``vt<k>``, ``bcl<k>`` and the cell parts ``bs<e> ck<e> rk<e> bw<e> cw<e>``. User labels only reach comments,
and the writer sanitises those. Memristor streams (many samples in one
transient) compile in ``circuit.compile_stream``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from tcl_circuits.circuit.analog_cell import cell_elements, supply_sources
from tcl_circuits.circuit.cell_design import CellDesign, as_design
from tcl_circuits.circuit.drive import sawtooth_points
from tcl_circuits.circuit.ir import (
    Amplifier,
    AnalogCellArray,
    Capacitor,
    Circuit,
    Clamp,
    DcSweep,
    Diode,
    DiodeModel,
    Element,
    FeedbackCellArray,
    Measure,
    ResistorArray,
    Transient,
    VoltageSource,
)
from tcl_circuits.circuit.noise import NOISE_SAMPLES_PER_TAU_K, CellNoise, NetworkNoise, SampledThermalNoise
from tcl_circuits.config import (
    CellKind,
    FeedbackCellConfig,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import check_timescales
from tcl_circuits.memo import BoundedCache
from tcl_circuits.network.spec import NetworkSpec

BETA_NODE = "beta"
BETA_SOURCE = "beta"


def _sample_values(spec: NetworkSpec, inputs_v: np.ndarray | None, targets_v: np.ndarray | None):
    inputs = spec.input_voltage_v if inputs_v is None else np.asarray(inputs_v, dtype=float)
    targets = spec.target_v if targets_v is None else np.asarray(targets_v, dtype=float)
    if inputs.shape != (len(spec.input_nodes),):
        raise ConfigError(f"need {len(spec.input_nodes)} input voltages, got shape {inputs.shape}")
    if targets.shape != (len(spec.output_nodes),):
        raise ConfigError(f"need {len(spec.output_nodes)} targets, got shape {targets.shape}")
    for values, nodes, role, what in (
        (inputs, spec.input_nodes, "input", "voltage"),
        (targets, spec.output_nodes, "output", "target"),
    ):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ConfigError(f"{role} node {spec.labels[nodes[bad[0]]]!r} has no finite {what}")
    return inputs, targets


_PER_TOPOLOGY: BoundedCache[Any] = BoundedCache(32)


def _per_topology(spec: NetworkSpec, build, *settings):
    """``build(spec, *settings)``, built once per network topology (``spec.topology_key``) and settings:
    a training run compiles every sample, and only values change between them."""
    return _PER_TOPOLOGY.get((spec.topology_key, build, *settings), lambda: build(spec, *settings))


@dataclass(frozen=True)
class _Names:
    """Every generated name and label comment of a network (fixed per topology)."""

    nodes: tuple[str, ...]
    inputs: tuple[tuple[str, str, str], ...]  # (source, node, comment) per input
    edges: tuple[str, ...]
    ends_a: tuple[str, ...]
    ends_b: tuple[str, ...]
    edge_comments: tuple[str, ...]
    header: tuple[str, ...]


def _names(spec: NetworkSpec) -> _Names:
    ground = frozenset(spec.ground_nodes)
    nodes = tuple("0" if i in ground else f"n{i}" for i in range(spec.n_nodes))
    r = spec.label_reprs
    header = tuple(
        f"node 0: {r[i]} (ground)" if i in ground else f"node n{i}: {r[i]} ({spec.roles[i].value})"
        for i in range(spec.n_nodes)
    )
    return _Names(
        nodes=nodes,
        inputs=tuple((f"in{k}", nodes[i], f"input {r[i]}") for k, i in enumerate(spec.input_nodes)),
        edges=tuple(f"e{e}" for e in range(spec.n_edges)),
        ends_a=tuple(nodes[i] for i, _ in spec.edges),
        ends_b=tuple(nodes[j] for _, j in spec.edges),
        edge_comments=tuple(f"edge {d}" for d in spec.edge_descriptions),
        header=header,
    )


_INPUT_SOURCES_KEPT = 1 << 17


def _input_sources(spec: NetworkSpec) -> dict[tuple[int, float], VoltageSource]:
    """Input sources made so far, by (input, volts): inputs repeat their values from sample to sample (pixel
    levels) and a MNIST network has 1,570 of them, so each element is made once."""
    return {}


def network_nodes(spec: NetworkSpec) -> tuple[str, ...]:
    """The SPICE node of every network node: ``n<i>``, ground-role nodes ``0`` (built once per topology)."""
    return _per_topology(spec, _names).nodes


def _network_elements(
    spec: NetworkSpec,
    inputs: np.ndarray,
    targets: np.ndarray,
    drive: SawtoothConfig,
    beta: VoltageSource,
    clamp_factors: np.ndarray | None = None,
) -> tuple[_Names, list[Element]]:
    names = _per_topology(spec, _names)
    made = _per_topology(spec, _input_sources)
    elements: list[Element] = []
    for key in enumerate(inputs.tolist()):
        source = made.get(key)
        if source is None:
            if len(made) >= _INPUT_SOURCES_KEPT:
                made.clear()
            name, node, comment = names.inputs[key[0]]
            source = made[key] = VoltageSource(name, node, "0", dc_v=key[1], comment=comment)
        elements.append(source)
    elements.append(
        ResistorArray(names.edges, names.ends_a, names.ends_b, 1.0 / spec.conductance_s, names.edge_comments)
    )
    elements.append(beta)
    elements.extend(output_clamps(spec, names.nodes, drive, targets.tolist(), clamp_factors))
    elements.extend(_per_topology(spec, _fixed_elements)[0])
    return names, elements


def _fixed_elements(spec: NetworkSpec) -> tuple[tuple[Element, ...], tuple[DiodeModel, ...]]:
    """Bias sources ``b<k>``, diodes ``<k>`` (one model ``dm<m>`` per distinct parameter set) and amplifiers
    ``a<k>`` of a network (written ``vb<k>``, ``d<k>``, ``ea<k>``/``fa<k>``), and the diode models (the same for every sample)."""
    nodes, r = network_nodes(spec), spec.label_reprs
    elements: list[Element] = [
        VoltageSource(f"b{k}", nodes[i], "0", dc_v=float(spec.bias_voltage_v[k]), comment=f"bias {r[i]}")
        for k, i in enumerate(spec.bias_nodes)
    ]
    models: dict[tuple[float, float, float], DiodeModel] = {}
    for k, d in enumerate(spec.diodes):
        key = (d.is_a, d.n, d.rs_ohm)
        if key not in models:
            models[key] = DiodeModel(f"dm{len(models)}", d.is_a, d.n, d.rs_ohm)
        comment = f"diode {r[d.anode]} -> {r[d.cathode]}"
        elements.append(Diode(f"{k}", nodes[d.anode], nodes[d.cathode], models[key].name, comment=comment))
    for k, a in enumerate(spec.amplifiers):
        comment = f"amplifier {r[a.source]} x {a.gain:g} -> {r[a.output]}"
        elements.append(Amplifier(f"a{k}", nodes[a.output], nodes[a.source], a.gain, comment=comment))
    return tuple(elements), tuple(models.values())


def output_clamps(
    spec: NetworkSpec,
    nodes: tuple[str, ...],
    drive: SawtoothConfig,
    targets: list,
    factors: np.ndarray | None = None,
) -> list[Element]:
    """Target source ``t<k>`` and beta-driven clamp ``cl<k>`` of every output (written ``vt<k>``, ``bcl<k>``); a target is a DC value in
    volts or a tuple of PWL breakpoints (time s, volts). ``factors``: each clamp's conductance over the
    nominal one (mismatch; ones when None)."""
    elements: list[Element] = []
    factors = np.ones(len(spec.output_nodes)) if factors is None else factors
    for k, o in enumerate(spec.output_nodes):
        target = targets[k]
        shape = {"pwl": target} if isinstance(target, tuple) else {"dc_v": target}
        elements.append(
            VoltageSource(f"t{k}", f"t{k}", "0", comment=f"target of {spec.labels[o]!r}", **shape)
        )
        elements.append(
            Clamp(
                f"cl{k}",
                nodes[o],
                f"t{k}",
                BETA_NODE,
                drive.clamp_conductance_s * float(factors[k]),
                comment=f"clamp {spec.labels[o]!r}",
            )
        )
    return elements


def _node_capacitors(spec: NetworkSpec, capacitance_f: float) -> tuple[Capacitor, ...]:
    """Capacitor ``n<i>`` (written ``cn<i>``) from every free network node to ground (finite relaxation time of the network)."""
    nodes, r = network_nodes(spec), spec.label_reprs
    return tuple(
        Capacitor(f"n{i}", nodes[i], "0", capacitance_f, comment=f"capacitance of {r[i]}")
        for i in spec.free_nodes
    )


def _feedback_cells(spec: NetworkSpec, design: CellDesign) -> FeedbackCellArray:
    """The cells as the design built them, on the network's nodes (a training run builds them once)."""
    names = _per_topology(spec, _names)
    count = spec.n_edges
    if design.n_edges != count:
        raise ConfigError(f"the cell design has {design.n_edges} edges, the network {count}")
    return FeedbackCellArray(
        index=tuple(range(count)),
        a=names.ends_a,
        b=names.ends_b,
        signal=tuple(f"s{e}" for e in range(count)),
        feedback=tuple(f"u{e}" for e in range(count)),
        accumulator=tuple(f"w{e}" for e in range(count)),
        c_k_f=design.c_k_f,
        r_k_ohm=design.r_k_ohm,
        threshold_v=design.threshold_v,
        shape=(design.shape,) * count,
        gain_a_per_v=design.gain_a_per_v,
        offset_v=design.offset_v,
        signal_gain=np.full(count, design.signal_gain),
        comments=tuple(f"feedback cell of edge {d}" for d in spec.edge_descriptions),
    )


def _analog_cells(spec: NetworkSpec, design: CellDesign) -> AnalogCellArray:
    cells = _per_topology(spec, _feedback_cells, design)
    assert design.stage_gain is not None and design.integrator_c_f is not None  # resolve sizes analog cells
    array = AnalogCellArray(
        cells=cells,
        stage_gain=design.stage_gain,
        integrator_c_f=design.integrator_c_f,
        analog=design.config.analog,
        shape=design.shape,
    )
    return dataclasses.replace(array, parts=tuple(tuple(cell_elements(array, e)) for e in range(len(cells))))


MAX_NOISE_SAMPLES = 50_000_000
"""Most noise samples one cycle may draw (cells x knots): 400 MB of doubles."""


def _cell_noise(
    cells: FeedbackCellArray, cell: FeedbackCellConfig, drive: SawtoothConfig, seed: tuple[int, ...]
) -> CellNoise:
    """R_K's thermal (and 1/f) noise current of every cell, as ``cell`` (the design's configuration) asks."""
    step = cell.tau_k_s / NOISE_SAMPLES_PER_TAU_K
    noise = CellNoise(
        nodes=cells.feedback,
        r_k_ohm=cells.r_k_ohm,
        temperature_k=cell.noise_temperature_k,
        flicker_corner_hz=cell.noise_flicker_corner_hz,
        step_s=step,
        stop_s=drive.period_s,
        seed=tuple(int(k) for k in seed),
    )
    return _within_sample_limit(noise, len(cells), "cell noise", "noise_temperature_k")


N = TypeVar("N", bound=SampledThermalNoise)


def _within_sample_limit(noise: N, resistors: int, what: str, field: str) -> N:
    """``noise``, refused when its resistors x knots would exceed ``MAX_NOISE_SAMPLES``."""
    if resistors * noise.knots > MAX_NOISE_SAMPLES:
        raise ConfigError(
            f"{what} would draw {resistors:,} x {noise.knots:,} samples per cycle, over {MAX_NOISE_SAMPLES:,}: "
            "use a smaller network or a shorter cycle",
            field=field,
        )
    return noise


def _network_noise(
    spec: NetworkSpec,
    names: _Names,
    sim: SimulatorConfig,
    cell: FeedbackCellConfig,
    drive: SawtoothConfig,
    seed: tuple[int, ...],
) -> NetworkNoise:
    """The network resistors' thermal noise, on the cells' sample grid and from a stream of its own (the
    cells' seed plus one more key)."""
    noise = NetworkNoise(
        ends_a=tuple(names.ends_a),
        ends_b=tuple(names.ends_b),
        edge_conductance_s=spec.conductance_s,
        temperature_k=sim.network_noise_temperature_k,
        flicker_corner_hz=sim.network_noise_flicker_corner_hz,
        step_s=cell.tau_k_s / NOISE_SAMPLES_PER_TAU_K,
        stop_s=drive.period_s,
        seed=(*(int(k) for k in seed), 1),
    )
    return _within_sample_limit(noise, spec.n_edges, "network noise", "network_noise_temperature_k")


def _thresholds_text(design: CellDesign) -> tuple[str, tuple[str, ...]]:
    """The threshold for the notes, and one comment per edge group: group names are user text, so they go
    to the header comments, which the writer sanitises, never into a note."""
    groups = design.calibration.group_thresholds_v
    if groups:
        lines = tuple(
            f"threshold of {f'edge group {group!r}' if group else 'edges without a group'}: {theta:.6g} V"
            for group, theta in groups
        )
        return "per edge group (listed below)", lines
    return f"{design.theta_v:.6g} V", ()


def compile_tcl(
    spec: NetworkSpec,
    *,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
    sim: SimulatorConfig | None = None,
    inputs_v: np.ndarray | None = None,
    targets_v: np.ndarray | None = None,
    title: str = "tcl_circuits TCL cycle",
    measure_accumulators: bool = False,
    noise_seed: tuple[int, ...] = (0,),
) -> Circuit:
    """One sawtooth cycle of the network with a feedback cell on every edge (a transient analysis).

    ``cell`` is the resolved design (``circuit.cell_design``); a configuration with a fixed threshold is
    resolved here (``fixed_design``).

    With ``cell.noise_temperature_k`` every R_K gets its thermal noise current (``CellNoise``), drawn from
    ``noise_seed`` (a run passes its seed and the sample's index, so every cycle draws anew and a resumed run
    draws the same). With ``sim.network_noise_temperature_k`` every network resistor gets its own
    (``NetworkNoise``), from the same seed's next stream.

    With ``measure_accumulators`` the deck also prints every accumulator's final value when run standalone
    (``ngspice -b deck.cir``): ``acc<e>``.
    """
    sim = sim or SimulatorConfig()
    inputs, targets = _sample_values(spec, inputs_v, targets_v)
    design = as_design(cell, drive, spec)
    check_timescales(design.tau_k_s, drive.tau_rise_s, drive.tau_fall_s)
    beta = VoltageSource(
        BETA_SOURCE, BETA_NODE, "0", pwl=sawtooth_points(drive), comment="sawtooth clamp drive beta(t)"
    )
    names, elements = _network_elements(spec, inputs, targets, drive, beta, design.clamp_factors)
    cells = _per_topology(spec, _feedback_cells, design)
    asked = design.config
    if design.kind is CellKind.ANALOG:
        elements.append(_per_topology(spec, _analog_cells, design))
        elements.extend(supply_sources(asked.analog))
    else:
        elements.append(cells)
    if sim.node_capacitance_f > 0:
        elements.extend(_per_topology(spec, _node_capacitors, sim.node_capacitance_f))
    if asked.noise_temperature_k > 0:
        elements.append(_cell_noise(cells, asked, drive, noise_seed))
    if sim.network_noise_temperature_k > 0:
        elements.append(_network_noise(spec, names, sim, asked, drive, noise_seed))
    window = design.window()
    lo, hi = float(np.min(window.lower_v2)), float(np.max(window.upper_v2))
    thresholds, group_comments = _thresholds_text(design)
    notes: tuple[str, ...] = (
        f"one sawtooth cycle: beta 0 -> {drive.beta_max:.6g} in {drive.tau_rise_s:.6g} s, back to 0 in {drive.tau_fall_s:.6g} s",
        f"feedback cells: tau_k = R_K*C_K = {design.tau_k_s:.6g} s, threshold {thresholds} on v(u<e>)"
        + (
            f", squarer gain {design.signal_gain:.6g}: s<e> = gain * drop^2"
            if design.signal_gain != 1
            else ""
        ),
        f"learning window (linear ramp) {lo:.4g} < abs(s_clamped - s_free) < {hi:.4g} V^2",
        f"at the end v(w<e>) ~ -{design.accumulator_gain:.6g} * (s_clamped - s_free) of edge e",
        "the controller then sets G_e += lr * v(w<e>) / (accumulator_gain * beta_max * G_c)",
    )
    if design.kind is CellKind.ANALOG:
        a = asked.analog
        notes += (
            f"analog cells: multiplier {a.multiplier_scale_per_v:.6g}/V, threshold stage (threshold K*theta, gain "
            "and C_int per edge on its line) into an op-amp integrator, R_int "
            f"{a.integrator_r_ohm:.6g} ohm, rails +-{a.supply_v:.6g} V",
        )
    if sim.node_capacitance_f > 0:
        notes += (f"node capacitance {sim.node_capacitance_f:.6g} F from every free network node to ground",)
    max_step = max(design.tau_k_s / sim.points_per_tau_k, drive.period_s / sim.points_per_cycle)
    analysis = Transient(step_s=max_step, stop_s=drive.period_s, max_step_s=max_step)
    measures: tuple[Measure, ...] = ()
    if measure_accumulators:
        accumulators = cells.accumulator
        measures = tuple(Measure(f"acc{e}", w, analysis.stop_s) for e, w in enumerate(accumulators))
    return Circuit(
        title=title,
        elements=tuple(elements),
        analysis=analysis,
        network_nodes=names.nodes,
        edge_resistors=names.edges,
        reltol=sim.reltol,
        abstol_a=sim.abstol_a,
        notes=notes,
        header_comments=names.header + group_comments,
        measures=measures,
        models=_per_topology(spec, _fixed_elements)[1],
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
    names, elements = _network_elements(spec, inputs, targets, drive, beta)
    return Circuit(
        title=title,
        elements=tuple(elements),
        analysis=DcSweep(BETA_SOURCE, 0.0, drive.beta_max, drive.beta_max),
        network_nodes=names.nodes,
        edge_resistors=names.edges,
        reltol=sim.reltol,
        abstol_a=sim.abstol_a,
        header_comments=names.header,
        models=_per_topology(spec, _fixed_elements)[1],
    )
