"""NetworkSpec: a validated, immutable learning network (node order, roles, edges, conductances, bounds).

A NetworkSpec fixes the node order (index i is SPICE node
``n<i>``), the node roles, the edge list and the per-edge conductances and bounds; everything downstream
works on indices, and user labels are kept only for messages and sanitised comments.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tcl_circuits.config import Role
from tcl_circuits.errors import GraphError

DEFAULT_G_MIN_S = 1e-5
DEFAULT_G_MAX_S = 1e-2


MAX_AMPLIFIER_GAIN = 1e6
"""Largest voltage gain of an amplifier, either sign (and 1 / it the smallest): 120 dB, beyond any closed-loop
stage; far beyond it the network's equations overflow."""


THERMAL_VOLTAGE_V = 1.38064852e-23 * 300.15 / 1.6021766208e-19
"""kT/q at 27 C (300.15 K), volts, with the constants ngspice 39 uses (CODATA 2014): its default temperature."""


@dataclass(frozen=True)
class DiodeSpec:
    """A Shockley diode with series resistance from node ``anode`` to node ``cathode`` (indices):
    I = is_a (exp((V_ak - I rs_ohm) / (n V_t)) - 1). Not a learning element."""

    anode: int
    cathode: int
    is_a: float = 1e-14
    n: float = 1.0
    rs_ohm: float = 10.0

    def __post_init__(self) -> None:
        for name in ("is_a", "n", "rs_ohm"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= sys.float_info.min):
                raise GraphError(
                    f"diode {self.anode}-{self.cathode}: {name} must be a finite number > 0 (and not below "
                    f"{sys.float_info.min:g}), got {value!r}"
                )


@dataclass(frozen=True)
class AmplifierSpec:
    """An ideal bidirectional amplifier (Kendall et al. 2020): node ``output`` is held at ``gain`` times the
    voltage of node ``source``, and the current the output delivers is drawn from the source times ``gain``
    (an ideal transformer: no power gain, so the network stays an energy minimiser; the next layer's terms
    are weighted by 1 / gain^2 as seen from the source). A negative gain inverts."""

    output: int
    source: int
    gain: float

    def __post_init__(self) -> None:
        if not (
            isinstance(self.gain, int | float)
            and 1 / MAX_AMPLIFIER_GAIN <= abs(self.gain) <= MAX_AMPLIFIER_GAIN
        ):
            raise GraphError(f"amplifier {self.source}->{self.output}: {gain_problem(self.gain)}")


def gain_problem(gain: object) -> str:
    """What is wrong with an amplifier gain, for a message."""
    return (
        f"gain must be a number of magnitude {1 / MAX_AMPLIFIER_GAIN:g} to {MAX_AMPLIFIER_GAIN:g} (either sign), "
        f"got {gain!r}"
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class NetworkSpec:
    """An ordered, validated resistor network with node roles.

    Attributes
    ----------
    labels : the user's node labels, in SPICE order (node i is ``n<i>``).
    roles : the Role of each node.
    edges : (i, j) index pairs, i < j, one per learning edge (edge e is resistor ``e<e>``, ``re<e>`` in a deck).
    conductance_s : conductance of each edge, siemens.
    g_min_s, g_max_s : per-edge bounds that learning clips to, siemens.
    input_voltage_v : default voltage of each input node (NaN where the graph gives none).
    target_v : default target of each output node (NaN where the graph gives none).
    bias_voltage_v : the fixed voltage of each bias node.
    diodes : the network's diodes (fixed, nonlinear, between any two nodes).
    amplifiers : one per node of role AMPLIFIED, from its source node (a hidden node).
    edge_groups : a group name per edge ("" for all by default): the automatic threshold is placed per group
        (the paper thresholds each parameter group separately).
    """

    labels: tuple[Hashable, ...]
    roles: tuple[Role, ...]
    edges: tuple[tuple[int, int], ...]
    conductance_s: np.ndarray
    g_min_s: np.ndarray
    g_max_s: np.ndarray
    input_voltage_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    target_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bias_voltage_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    diodes: tuple[DiodeSpec, ...] = ()
    amplifiers: tuple[AmplifierSpec, ...] = ()
    edge_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("conductance_s", "g_min_s", "g_max_s", "input_voltage_v", "target_v", "bias_voltage_v"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if not self.edge_groups:
            object.__setattr__(self, "edge_groups", ("",) * len(self.edges))
        if not self.input_voltage_v.size:
            object.__setattr__(self, "input_voltage_v", _frozen(np.full(len(self.input_nodes), np.nan)))
        if not self.target_v.size:
            object.__setattr__(self, "target_v", _frozen(np.full(len(self.output_nodes), np.nan)))
        _validate(self)

    # --- derived index sets -------------------------------------------------------------------
    def nodes_with(self, role: Role) -> tuple[int, ...]:
        """Indices of the nodes that have this role, in order."""
        return tuple(i for i, r in enumerate(self.roles) if r is role)

    @cached_property
    def input_nodes(self) -> tuple[int, ...]:
        return self.nodes_with(Role.INPUT)

    @cached_property
    def output_nodes(self) -> tuple[int, ...]:
        return self.nodes_with(Role.OUTPUT)

    @cached_property
    def ground_nodes(self) -> tuple[int, ...]:
        return self.nodes_with(Role.GROUND)

    @cached_property
    def bias_nodes(self) -> tuple[int, ...]:
        return self.nodes_with(Role.BIAS)

    @property
    def nonlinear(self) -> bool:
        """Whether the network has diodes (its steady states need Newton's method)."""
        return bool(self.diodes)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The distinct edge groups, in order of first appearance."""
        return tuple(dict.fromkeys(self.edge_groups))

    @cached_property
    def amplified_nodes(self) -> tuple[int, ...]:
        return self.nodes_with(Role.AMPLIFIED)

    @cached_property
    def node_map(self) -> tuple[np.ndarray, np.ndarray]:
        """(node each node's voltage follows, its coefficient): an amplified node follows its source times the
        gain, every other node itself times 1. Edges and diodes at an amplified node act on its source."""
        follows = np.arange(self.n_nodes)
        coefficient = np.ones(self.n_nodes)
        for amplifier in self.amplifiers:
            follows[amplifier.output] = amplifier.source
            coefficient[amplifier.output] = amplifier.gain
        follows.setflags(write=False)
        coefficient.setflags(write=False)
        return follows, coefficient

    @cached_property
    def free_nodes(self) -> tuple[int, ...]:
        """Nodes whose voltage the network decides (hidden and output)."""
        return tuple(i for i, r in enumerate(self.roles) if r in (Role.HIDDEN, Role.OUTPUT))

    @property
    def n_nodes(self) -> int:
        return len(self.labels)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @cached_property
    def edge_array(self) -> np.ndarray:
        """Edges as an (E, 2) int array (read-only)."""
        array = np.array(self.edges, dtype=int).reshape(-1, 2)
        array.setflags(write=False)
        return array

    @cached_property
    def topology_key(self) -> object:
        """A token standing for this network's labels, roles and edges. Copies made by ``with_conductances``
        share it, so work that depends only on the topology is done once per training run, not per sample."""
        return object()

    @cached_property
    def label_reprs(self) -> tuple[str, ...]:
        """repr() of every node label (for messages and comments; computed once per topology)."""
        return tuple(repr(label) for label in self.labels)

    @cached_property
    def edge_descriptions(self) -> tuple[str, ...]:
        """``'a'-'b'`` for every edge, from the labels (computed once per topology)."""
        r = self.label_reprs
        return tuple(f"{r[i]}-{r[j]}" for i, j in self.edges)

    def edge_label(self, e: int) -> tuple[Hashable, Hashable]:
        i, j = self.edges[e]
        return (self.labels[i], self.labels[j])

    def with_conductances(self, conductance_s: np.ndarray) -> NetworkSpec:
        """The same network with new conductances (validated, not clipped).

        The topology was validated when this spec was built, so only the new values are checked (this runs
        once per training sample).
        """
        g = _frozen(conductance_s)
        if g.shape != self.conductance_s.shape:
            raise GraphError(
                f"conductance_s must have one value per edge ({self.n_edges}), got shape {g.shape}"
            )
        bad = np.flatnonzero(~(np.isfinite(g) & (g > 0)))
        if bad.size:
            i, j = self.edges[bad[0]]
            raise GraphError(
                f"edge {self.labels[i]!r}-{self.labels[j]!r}: conductance must be finite and > 0 siemens, "
                f"got {g[bad[0]]!r}"
            )
        return self._with(conductance_s=g)

    def with_bounds(self, g_min_s: np.ndarray, g_max_s: np.ndarray) -> NetworkSpec:
        """The same network with other per-edge bounds (validated; conductances clipped into them)."""
        lo, hi = _frozen(g_min_s), _frozen(g_max_s)
        if lo.shape != self.g_min_s.shape or hi.shape != self.g_max_s.shape:
            raise GraphError(f"bounds must have one value per edge ({self.n_edges})")
        bad = np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hi >= lo)))
        if bad.size:
            i, j = self.edges[bad[0]]
            raise GraphError(
                f"edge {self.labels[i]!r}-{self.labels[j]!r}: bounds must be finite with 0 < g_min <= g_max, "
                f"got [{lo[bad[0]]!r}, {hi[bad[0]]!r}]"
            )
        return self._with(g_min_s=lo, g_max_s=hi, conductance_s=_frozen(np.clip(self.conductance_s, lo, hi)))

    def _with(self, **arrays: np.ndarray) -> NetworkSpec:
        """A copy with some arrays replaced, already validated (the topology is this spec's)."""
        copy = object.__new__(NetworkSpec)
        copy.__dict__.update(self.__dict__)
        for name, value in arrays.items():
            object.__setattr__(copy, name, value)
        return copy

    def clip(self, conductance_s: np.ndarray) -> np.ndarray:
        """Conductances clipped to each edge's bounds."""
        return np.clip(conductance_s, self.g_min_s, self.g_max_s)


def _validate(spec: NetworkSpec) -> None:
    n = len(spec.labels)
    if len(spec.roles) != n:
        raise GraphError(f"{len(spec.roles)} roles for {n} nodes")
    if len(set(spec.labels)) != n:
        raise GraphError("node labels must be unique")
    for label, role in zip(spec.labels, spec.roles, strict=True):
        if not isinstance(role, Role):
            raise GraphError(f"node {label!r}: role must be a Role, got {role!r}")
    E = len(spec.edges)
    for name in ("conductance_s", "g_min_s", "g_max_s"):
        if getattr(spec, name).shape != (E,):
            raise GraphError(
                f"{name} must have one value per edge ({E}), got shape {getattr(spec, name).shape}"
            )
    seen = set()
    for e, (i, j) in enumerate(spec.edges):
        if not (0 <= i < n and 0 <= j < n):
            raise GraphError(f"edge {e} refers to a node index outside 0..{n - 1}")
        if i == j:
            raise GraphError(f"edge {spec.labels[i]!r}-{spec.labels[j]!r} is a self-loop")
        key = (min(i, j), max(i, j))
        if key in seen:
            raise GraphError(f"edge {spec.labels[i]!r}-{spec.labels[j]!r} appears twice")
        seen.add(key)
        g, lo, hi = spec.conductance_s[e], spec.g_min_s[e], spec.g_max_s[e]
        where = f"edge {spec.labels[i]!r}-{spec.labels[j]!r}"
        if not (math.isfinite(g) and g > 0):
            raise GraphError(f"{where}: conductance must be finite and > 0 siemens, got {g!r}")
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise GraphError(f"{where}: need finite bounds 0 < g_min <= g_max, got {lo!r}, {hi!r}")
        if not lo <= g <= hi:
            raise GraphError(
                f"{where}: conductance {g:g} S lies outside the edge's bounds g_min {lo:g} S .. g_max {hi:g} S "
                f"(defaults {DEFAULT_G_MIN_S:g} .. {DEFAULT_G_MAX_S:g} S unless the edge sets its own)"
            )
    if not spec.input_nodes:
        raise GraphError("the network has no node with role 'input'")
    if not spec.output_nodes:
        raise GraphError("the network has no node with role 'output'")
    if spec.input_voltage_v.shape != (len(spec.input_nodes),):
        raise GraphError("input_voltage_v must have one value per input node")
    if spec.target_v.shape != (len(spec.output_nodes),):
        raise GraphError("target_v must have one value per output node")
    if spec.bias_voltage_v.shape != (len(spec.bias_nodes),):
        raise GraphError(f"bias_voltage_v must have one value per bias node ({len(spec.bias_nodes)})")
    bad = np.flatnonzero(~np.isfinite(spec.bias_voltage_v))
    if bad.size:
        raise GraphError(
            f"bias node {spec.labels[spec.bias_nodes[bad[0]]]!r} needs a finite 'voltage' (volts)"
        )
    if len(spec.edge_groups) != E:
        raise GraphError(f"edge_groups must have one name per edge ({E}), got {len(spec.edge_groups)}")
    amplified = set(spec.amplified_nodes)
    driven_by: dict[int, AmplifierSpec] = {}
    for amplifier in spec.amplifiers:
        if not isinstance(amplifier, AmplifierSpec) or amplifier.output not in amplified:
            raise GraphError(f"amplifier {amplifier!r} must drive a node of role 'amplified'")
        if amplifier.output in driven_by:
            raise GraphError(f"node {spec.labels[amplifier.output]!r} is driven by two amplifiers")
        if not 0 <= amplifier.source < n or spec.roles[amplifier.source] not in (Role.HIDDEN, Role.OUTPUT):
            raise GraphError(
                f"amplifier into {spec.labels[amplifier.output]!r} must take a hidden or output node"
            )
        driven_by[amplifier.output] = amplifier
    missing = amplified - set(driven_by)
    if missing:
        raise GraphError(
            f"node {spec.labels[min(missing)]!r} has role 'amplified' but no amplifier drives it"
        )
    for diode in spec.diodes:
        if not isinstance(diode, DiodeSpec) or not (0 <= diode.anode < n and 0 <= diode.cathode < n):
            raise GraphError(f"diode {diode!r} must be a DiodeSpec between node indices 0..{n - 1}")
        if diode.anode == diode.cathode:
            raise GraphError(f"diode at node {spec.labels[diode.anode]!r} connects the node to itself")
    # every free node must be reached from a driven node (input, bias or ground), else its voltage is undefined
    driven = set(spec.input_nodes) | set(spec.ground_nodes) | set(spec.bias_nodes)
    adjacency: list[list[int]] = [[] for _ in range(n)]
    links = [
        *spec.edges,
        *((d.anode, d.cathode) for d in spec.diodes),
        *((a.output, a.source) for a in spec.amplifiers),
    ]
    for i, j in links:
        adjacency[i].append(j)
        adjacency[j].append(i)
    reached = set(driven)
    stack = list(driven)
    while stack:
        for k in adjacency[stack.pop()]:
            if k not in reached:
                reached.add(k)
                stack.append(k)
    floating = [spec.labels[i] for i in range(n) if i not in reached]
    if floating:
        raise GraphError(
            f"node {floating[0]!r} is not connected to any input, bias or ground node (floating)"
            + (f"; {len(floating) - 1} more" if len(floating) > 1 else "")
        )
