"""The circuit IR as index arrays for the native engine: node numbering, resistors, sources, clamps, capacitors
and feedback cells, with every value checked (finite, positive where it must be) and every element the engine
cannot simulate refused by name. Carried over between samples while the connections stay the same."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from tcl_circuits.circuit.ir import (
    Amplifier,
    Capacitor,
    Circuit,
    Clamp,
    Diode,
    DiodeModel,
    FeedbackCell,
    FeedbackCellArray,
    Resistor,
    ResistorArray,
    VoltageSource,
)
from tcl_circuits.circuit.noise import CellNoise, NetworkNoise
from tcl_circuits.errors import NetlistError, SimulationError
from tcl_circuits.kernels.nonlinearity import THRESHOLD_PIECES
from tcl_circuits.physics.quasistatic import GROUND


def finite_value(value: float, what: str, *, positive: bool = False) -> float:
    """A float of the IR, refusing NaN, infinities (and values <= 0 with ``positive``) with the element named."""
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        expected = "a finite number > 0" if positive else "a finite number"
        raise NetlistError(f"{what} must be {expected}, got {value!r}")
    return value


def _checked(
    values, label_of: Callable[[int], str], what: str, *, positive: bool = False, nonnegative: bool = False
) -> np.ndarray:
    """Floats of many elements as an array, refusing non-finite (or non-positive / negative) values;
    ``label_of(k)`` names element k in the error."""
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError):
        array = np.array([v if isinstance(v, int | float) else np.nan for v in values], dtype=float)
    bad = ~np.isfinite(array)
    if positive:
        bad |= array <= 0
    if nonnegative:
        bad |= array < 0
    if np.any(bad):
        at = int(np.argmax(bad))
        expected = "> 0" if positive else ">= 0" if nonnegative else "finite"
        raise NetlistError(f"{what} of {label_of(at)} must be {expected}, got {values[at]!r}")
    return array


def _cell_label(cells: FeedbackCellArray) -> Callable[[int], str]:
    return lambda k: f"cell {cells.index[k]}"


def _indices(index: dict[str, int], names: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(index.__getitem__, names), dtype=int, count=len(names))


NETWORK_NOISE_LIMIT = (
    "the native engine adds network noise on linear networks without node capacitance only (by superposition); "
    "use ngspice"
)
"""Why the native engine refuses a circuit's ``NetworkNoise``: diodes, amplifiers or node capacitance."""

_SUPPORTED = (
    CellNoise,
    NetworkNoise,
    Resistor,
    ResistorArray,
    Capacitor,
    VoltageSource,
    Clamp,
    FeedbackCell,
    FeedbackCellArray,
    Diode,
    Amplifier,
)


class ParsedCircuit:
    """The IR as index arrays: node numbering, resistors, sources, clamps, cells.

    Network nodes (those of resistors, sources, clamps and diodes) are numbered in order of appearance;
    ``GROUND`` stands for node 0. An amplifier's output is not an unknown: elements at it act on its source
    node with the gain as coefficient (``*_coef``), and its voltage is the source's times the gain; such
    nodes get the numbers after the network's (``amplified``). Cell-internal nodes (s, u, w) are not network
    nodes.
    """

    names: list[str]
    index: dict[str, int]
    res_a: np.ndarray
    res_b: np.ndarray
    clamp_a: np.ndarray
    clamp_b: np.ndarray
    clamp_beta: np.ndarray
    res_coef_a: np.ndarray
    res_coef_b: np.ndarray
    diode_a: np.ndarray
    diode_c: np.ndarray
    diode_coef_a: np.ndarray
    diode_coef_c: np.ndarray
    amplified: list[tuple[str, int, float]]
    node_ref: dict[str, tuple[int, float]]

    noise: CellNoise | None
    network_noise: NetworkNoise | None
    noise_a: np.ndarray
    noise_b: np.ndarray

    def __init__(self, circuit: Circuit, previous: ParsedCircuit | None = None) -> None:
        for element in circuit.elements:
            if not isinstance(element, _SUPPORTED):
                label = getattr(element, "name", None) or f"index {getattr(element, 'index', '?')}"
                raise SimulationError(
                    f"the native engine cannot simulate {type(element).__name__} elements ({label}); it "
                    "supports resistors, capacitors to ground, VoltageSource (to ground), Clamp, diodes, "
                    "amplifiers and feedback cells"
                )
        noises = circuit.of_type(CellNoise)
        if len(noises) > 1 or (noises and noises[0].nodes != circuit.cells.feedback):
            raise SimulationError(
                "cell noise must be one CellNoise on the feedback nodes of the circuit's cells"
            )
        self.noise = noises[0] if noises else None
        sources, clamps = list(circuit.of_type(VoltageSource)), list(circuit.of_type(Clamp))
        for source in sources:
            if source.neg != "0" or source.pos == "0":
                raise SimulationError(
                    f"voltage source {source.name}: the native engine supports only sources from a node to "
                    f"ground, got {source.pos!r} -> {source.neg!r}"
                )
        resistors = circuit.resistor_table
        res_a, res_b = resistors.a, resistors.b
        amplifiers = list(circuit.of_type(Amplifier))
        diodes = list(circuit.of_type(Diode))
        clamp_nodes = (
            tuple(c.node for c in clamps),
            tuple(c.target for c in clamps),
            tuple(c.beta for c in clamps),
        )
        diode_ends = (tuple(d.anode for d in diodes), tuple(d.cathode for d in diodes))
        amplifier_ends = tuple((a.output, a.source, a.gain) for a in amplifiers)
        self.connections = (
            res_a,
            res_b,
            tuple(s.pos for s in sources),
            *clamp_nodes,
            *diode_ends,
            amplifier_ends,
        )
        if previous is not None and previous.connections == self.connections:
            # same connections as the previous circuit (a training run): reuse the node numbering
            self.names, self.index = previous.names, previous.index
            self.res_a, self.res_b = previous.res_a, previous.res_b
            self.res_coef_a, self.res_coef_b = previous.res_coef_a, previous.res_coef_b
            self.amplified, self.node_ref = previous.amplified, previous.node_ref
            self.diode_a, self.diode_c, self.diode_coef_a, self.diode_coef_c = (
                previous.diode_a,
                previous.diode_c,
                previous.diode_coef_a,
                previous.diode_coef_c,
            )
            self.clamp_a, self.clamp_b, self.clamp_beta = (
                previous.clamp_a,
                previous.clamp_b,
                previous.clamp_beta,
            )
        else:
            previous = None
            self._number_nodes(res_a, res_b, sources, clamp_nodes, diode_ends, amplifiers)
        self.res_g = 1.0 / _checked(
            resistors.resistance_ohm, lambda k: f"resistor {resistors.names[k]}", "resistance", positive=True
        )
        self._sources(sources)
        self.clamps = clamps
        self.clamp_g = _checked(
            [c.conductance_s for c in clamps], lambda k: f"clamp {clamps[k].name}", "conductance"
        )
        for clamp, beta in zip(clamps, self.clamp_beta, strict=True):
            if beta not in self.driven_by:
                raise SimulationError(
                    f"clamp {clamp.name}: its beta node {clamp.beta!r} must be driven by a voltage source "
                    "(the native engine treats the clamp as a time-varying linear conductance)"
                )
        self._capacitors(circuit.of_type(Capacitor))
        self._diode_models(diodes, circuit.models)
        self._cells(circuit.cells, previous)
        networks = circuit.of_type(NetworkNoise)
        if len(networks) > 1:
            raise SimulationError("network noise must be one NetworkNoise element")
        self.network_noise = networks[0] if networks else None
        if self.network_noise is not None:
            if diodes or amplifiers:
                raise SimulationError(NETWORK_NOISE_LIMIT)
            self.noise_a = _indices(self.index, self.network_noise.ends_a)
            self.noise_b = _indices(self.index, self.network_noise.ends_b)

    def _number_nodes(self, res_a, res_b, sources, clamp_nodes, diode_ends, amplifiers) -> None:
        """Node numbers (amplifier outputs after the network's) and the index arrays of every element."""
        outputs = {a.output: a for a in amplifiers}
        for amplifier in amplifiers:
            if amplifier.source in outputs or amplifier.source == "0" or amplifier.output == "0":
                raise SimulationError(
                    f"amplifier {amplifier.name}: its source must be a network node, not an amplifier's output"
                )
        if len(outputs) != len(amplifiers):
            raise SimulationError("two amplifiers drive the same node")
        everything = (
            res_a + res_b + tuple(s.pos for s in sources) + tuple(n for part in clamp_nodes for n in part)
        )
        order = dict.fromkeys(
            everything + diode_ends[0] + diode_ends[1] + tuple(a.source for a in amplifiers)
        )
        order.pop("0", None)
        for name in outputs:
            order.pop(name, None)
        self.names = list(order)
        index = {name: i for i, name in enumerate(self.names)}
        index["0"] = GROUND
        self.index = index
        self.amplified = [(a.output, index[a.source], float(a.gain)) for a in amplifiers]
        # (index, coefficient) of every node name an element may touch
        self.node_ref = {name: (i, 1.0) for name, i in index.items()}
        for name, source, gain in self.amplified:
            self.node_ref[name] = (source, gain)
        for source in sources:
            if source.pos in outputs:
                raise SimulationError(
                    f"voltage source {source.name} drives the amplifier output {source.pos!r}"
                )

        def refs(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
            pairs = [self.node_ref[n] for n in names]
            return np.array([p[0] for p in pairs], dtype=int), np.array([p[1] for p in pairs], dtype=float)

        self.res_a, self.res_coef_a = refs(res_a)
        self.res_b, self.res_coef_b = refs(res_b)
        self.diode_a, self.diode_coef_a = refs(diode_ends[0])
        self.diode_c, self.diode_coef_c = refs(diode_ends[1])
        self.clamp_a, self.clamp_b, self.clamp_beta = (_indices(index, part) for part in clamp_nodes)

    def _diode_models(self, diodes: list[Diode], models: tuple[DiodeModel, ...]) -> None:
        by_name = {m.name: m for m in models}
        missing = [d for d in diodes if d.model not in by_name]
        if missing:
            raise NetlistError(
                f"diode {missing[0].name} uses model {missing[0].model!r}, which the circuit does not define"
            )
        label = lambda k: f"diode {diodes[k].name}"  # noqa: E731
        self.diode_is = _checked([by_name[d.model].is_a for d in diodes], label, "IS", positive=True)
        self.diode_n = _checked([by_name[d.model].n for d in diodes], label, "N", positive=True)
        self.diode_rs = _checked([by_name[d.model].rs_ohm for d in diodes], label, "RS", positive=True)

    @property
    def n_amplified(self) -> int:
        return len(self.amplified)

    def _capacitors(self, capacitors: tuple[Capacitor, ...]) -> None:
        """Capacitors from a network node to ground: node index and capacitance of each."""
        nodes = [c.b if c.a == "0" else c.a for c in capacitors]
        for capacitor, node in zip(capacitors, nodes, strict=True):
            if "0" not in (capacitor.a, capacitor.b) or node == "0":
                raise SimulationError(
                    f"capacitor {capacitor.name}: the native engine supports only capacitors from a node to "
                    f"ground, got {capacitor.a!r} -> {capacitor.b!r}"
                )
            if node not in self.index:
                raise NetlistError(
                    f"capacitor {capacitor.name} is on node {node!r}, which no resistor connects"
                )
        self.cap_node = _indices(self.index, nodes)
        self.cap_f = _checked(
            [c.capacitance_f for c in capacitors],
            lambda k: f"capacitor {capacitors[k].name}",
            "capacitance",
            positive=True,
        )

    def _sources(self, sources: list[VoltageSource]) -> None:
        self.sources: dict[str, VoltageSource] = {}
        self.driven_by: dict[int, VoltageSource] = {}
        for source in sources:
            if source.name in self.sources:
                raise NetlistError(f"two voltage sources are named {source.name!r}")
            node = self.index[source.pos]
            if node in self.driven_by:
                raise SimulationError(
                    f"node {source.pos!r} is driven by both sources {self.driven_by[node].name} and {source.name} "
                    "(a voltage-source loop)"
                )
            if source.pwl is None:
                finite_value(source.dc_v, f"DC value of source {source.name}")
            else:
                times = np.array(
                    [finite_value(t, f"PWL time of source {source.name}") for t, _ in source.pwl]
                )
                for _, v in source.pwl:
                    finite_value(v, f"PWL value of source {source.name}")
                if times.size == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
                    raise NetlistError(
                        f"PWL of source {source.name} needs increasing times >= 0, got {source.pwl!r}"
                    )
            self.sources[source.name] = source
            self.driven_by[node] = source
        self.driven = np.array(sorted(self.driven_by), dtype=int)
        self.pwl_sources = [source for source in sources if source.pwl is not None]

    _CELL_FIELDS = (
        "cell_a",
        "cell_b",
        "signal",
        "feedback",
        "accumulator",
        "tau_s",
        "theta_v",
        "gain",
        "shift",
        "offset_v",
        "signal_gain",
        "c_k_f",
        "cell_class",
    )

    def _cells(self, cells: FeedbackCellArray, previous: ParsedCircuit | None) -> None:
        self.cells = cells
        if previous is not None and previous.cells is cells:
            # the very same (immutable) cell array on the same nodes: the compiler reuses it per topology
            for field in self._CELL_FIELDS:
                setattr(self, field, getattr(previous, field))
            return
        index = dict(self.index)
        for k, (name, _, _) in enumerate(self.amplified):
            index[name] = len(self.names) + k
        try:
            self.cell_a = _indices(index, cells.a)
            self.cell_b = _indices(index, cells.b)
        except KeyError as missing:
            raise NetlistError(
                f"a feedback cell senses node {missing}, which no network element connects"
            ) from None
        self.signal, self.feedback, self.accumulator = cells.signal, cells.feedback, cells.accumulator
        inner = cells.signal + cells.feedback + cells.accumulator
        if len(set(inner)) != len(inner) or not index.keys().isdisjoint(inner):
            seen: set[str] = set()
            for name in inner:
                if name in seen or name in index:
                    raise NetlistError(f"feedback cell node {name!r} is used twice")
                seen.add(name)
        label = _cell_label(cells)
        r_k = _checked(cells.r_k_ohm, label, "R_K", positive=True)
        self.c_k_f = _checked(cells.c_k_f, label, "C_K", positive=True)
        self.tau_s = r_k * self.c_k_f
        self.theta_v = _checked(cells.threshold_v, label, "threshold", nonnegative=True)
        self.gain = _checked(cells.gain_a_per_v, label, "gain")
        self.offset_v = _checked(cells.offset_v, label, "offset")
        self.signal_gain = _checked(cells.signal_gain, label, "squarer gain", positive=True)
        unknown = [shape for shape in cells.shape if shape not in THRESHOLD_PIECES]
        if unknown:
            raise SimulationError(f"unknown threshold shape {unknown[0]!r}")
        self.shift = np.array([THRESHOLD_PIECES[shape].shift for shape in cells.shape], dtype=float)
        # cells with equal parameters share a class (the engine integrates equal cells once)
        self.cell_class = np.zeros(len(cells), dtype=np.int64)
        for column in (self.tau_s, self.theta_v, self.gain, self.shift, self.offset_v, self.signal_gain):
            if column.size and not np.all(column == column[0]):
                _, code = np.unique(column, return_inverse=True)
                self.cell_class = self.cell_class * (int(code.max()) + 1) + code
        if self.cell_class.size:
            self.cell_class = np.unique(self.cell_class, return_inverse=True)[1].astype(np.int64)

    def source_values(self, times_s: np.ndarray | None, points: int) -> np.ndarray:
        """(P, n_driven) driven voltages: PWL sources at ``times_s`` (their t = 0 value when None)."""
        ordered = [self.driven_by[node] for node in self.driven.tolist()]
        values = np.empty((points, self.driven.size))
        values[:] = [source.dc_v if source.pwl is None else 0.0 for source in ordered]
        for column, source in enumerate(ordered):
            if source.pwl is not None:
                t, v = zip(*source.pwl, strict=True)
                values[:, column] = np.interp(0.0 if times_s is None else times_s, t, v)
        return values
