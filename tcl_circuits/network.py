"""Learning networks: a validated, immutable NetworkSpec built from a networkx graph, plus builders and loaders.

This is the only module that imports networkx. A NetworkSpec fixes the node order (index i is SPICE node
``n<i>``), the node roles, the edge list and the per-edge conductances and bounds; everything downstream
works on indices, and user labels are kept only for messages and sanitised comments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import networkx as nx
import numpy as np

from .config import Role
from .errors import GraphError

DEFAULT_G_MIN_S = 1e-5
DEFAULT_G_MAX_S = 1e-2


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
    edges : (i, j) index pairs, i < j, one per learning edge (edge e is ``re<e>``).
    conductance_s : conductance of each edge, siemens.
    g_min_s, g_max_s : per-edge bounds that learning clips to, siemens.
    input_voltage_v : default voltage of each input node (NaN where the graph gives none).
    target_v : default target of each output node (NaN where the graph gives none).
    """

    labels: tuple[Hashable, ...]
    roles: tuple[Role, ...]
    edges: tuple[tuple[int, int], ...]
    conductance_s: np.ndarray
    g_min_s: np.ndarray
    g_max_s: np.ndarray
    input_voltage_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    target_v: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        for name in ("conductance_s", "g_min_s", "g_max_s", "input_voltage_v", "target_v"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
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
        copy = object.__new__(NetworkSpec)
        copy.__dict__.update({k: v for k, v in self.__dict__.items()})
        object.__setattr__(copy, "conductance_s", g)
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
    if not spec.input_nodes:
        raise GraphError("the network has no node with role 'input'")
    if not spec.output_nodes:
        raise GraphError("the network has no node with role 'output'")
    if spec.input_voltage_v.shape != (len(spec.input_nodes),):
        raise GraphError("input_voltage_v must have one value per input node")
    if spec.target_v.shape != (len(spec.output_nodes),):
        raise GraphError("target_v must have one value per output node")
    # every free node must be reached from a driven node (input or ground), else its voltage is undefined
    driven = set(spec.input_nodes) | set(spec.ground_nodes)
    adjacency: list[list[int]] = [[] for _ in range(n)]
    for i, j in spec.edges:
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
            f"node {floating[0]!r} is not connected to any input or ground node (floating)"
            + (f"; {len(floating) - 1} more" if len(floating) > 1 else "")
        )


# --- from networkx --------------------------------------------------------------------------------
def _attr_float(value: object, where: str, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GraphError(f"{where}: attribute {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise GraphError(f"{where}: attribute {name!r} must be finite, got {value!r}")
    return number


def from_graph(
    graph: nx.Graph,
    *,
    g_min_s: float = DEFAULT_G_MIN_S,
    g_max_s: float = DEFAULT_G_MAX_S,
    default_conductance_s: float | None = None,
) -> NetworkSpec:
    """Validate a networkx graph and turn it into a NetworkSpec.

    Node attribute ``role`` (input, output, hidden or ground) is required on every node; inputs may carry
    ``voltage`` (volts) and outputs ``target`` (volts). Edge attribute ``conductance`` (siemens) is required
    unless ``default_conductance_s`` is given; ``g_min`` and ``g_max`` override the bounds per edge. Node
    order is the graph's insertion order.
    """
    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise GraphError("expected an undirected networkx.Graph (not directed, not a multigraph)")
    labels = tuple(graph.nodes)
    index = {label: i for i, label in enumerate(labels)}
    roles = []
    for label in labels:
        raw = graph.nodes[label].get("role")
        if raw is None:
            raise GraphError(
                f"node {label!r} has no 'role' attribute (expected input, output, hidden or ground)"
            )
        try:
            roles.append(Role(str(raw).strip().lower()))
        except ValueError:
            raise GraphError(
                f"node {label!r} has role {raw!r}; expected input, output, hidden or ground"
            ) from None
    inputs = [label for label, r in zip(labels, roles, strict=True) if r is Role.INPUT]
    outputs = [label for label, r in zip(labels, roles, strict=True) if r is Role.OUTPUT]
    voltage = [
        _attr_float(graph.nodes[x]["voltage"], f"node {x!r}", "voltage")
        if "voltage" in graph.nodes[x]
        else np.nan
        for x in inputs
    ]
    target = [
        _attr_float(graph.nodes[x]["target"], f"node {x!r}", "target")
        if "target" in graph.nodes[x]
        else np.nan
        for x in outputs
    ]
    edges, g, lo, hi = [], [], [], []
    for a, b, data in graph.edges(data=True):
        where = f"edge {a!r}-{b!r}"
        if a == b:
            raise GraphError(f"{where} is a self-loop")
        if "conductance" in data:
            g.append(_attr_float(data["conductance"], where, "conductance"))
        elif default_conductance_s is not None:
            g.append(float(default_conductance_s))
        else:
            raise GraphError(f"{where} has no 'conductance' attribute (siemens)")
        lo.append(_attr_float(data["g_min"], where, "g_min") if "g_min" in data else g_min_s)
        hi.append(_attr_float(data["g_max"], where, "g_max") if "g_max" in data else g_max_s)
        i, j = index[a], index[b]
        edges.append((min(i, j), max(i, j)))
    return NetworkSpec(
        labels=labels,
        roles=tuple(roles),
        edges=tuple(edges),
        conductance_s=np.array(g, dtype=float),
        g_min_s=np.array(lo, dtype=float),
        g_max_s=np.array(hi, dtype=float),
        input_voltage_v=np.array(voltage, dtype=float),
        target_v=np.array(target, dtype=float),
    )


def to_graph(spec: NetworkSpec) -> nx.Graph:
    """The inverse of from_graph: a networkx graph carrying roles, voltages, targets and conductances."""
    graph = nx.Graph()
    for label, role in zip(spec.labels, spec.roles, strict=True):
        graph.add_node(label, role=role.value)
    for k, i in enumerate(spec.input_nodes):
        if np.isfinite(spec.input_voltage_v[k]):
            graph.nodes[spec.labels[i]]["voltage"] = float(spec.input_voltage_v[k])
    for k, i in enumerate(spec.output_nodes):
        if np.isfinite(spec.target_v[k]):
            graph.nodes[spec.labels[i]]["target"] = float(spec.target_v[k])
    for e, (i, j) in enumerate(spec.edges):
        graph.add_edge(
            spec.labels[i],
            spec.labels[j],
            conductance=float(spec.conductance_s[e]),
            g_min=float(spec.g_min_s[e]),
            g_max=float(spec.g_max_s[e]),
        )
    return graph


# --- builders --------------------------------------------------------------------------------------
def _random_conductances(graph: nx.Graph, rng: np.random.Generator, g_range_s: tuple[float, float]) -> None:
    lo, hi = g_range_s
    if not (0 < lo <= hi):
        raise GraphError(f"conductance range must satisfy 0 < low <= high, got {g_range_s!r}")
    for a, b in graph.edges:
        graph.edges[a, b]["conductance"] = float(rng.uniform(lo, hi))


def lattice(
    rows: int,
    cols: int,
    *,
    n_inputs: int | None = None,
    n_outputs: int | None = None,
    seed: int = 0,
    g_range_s: tuple[float, float] = (5e-4, 2e-3),
) -> nx.Graph:
    """A rows x cols square lattice: inputs down the left column, ground at its bottom, outputs on the right.

    Nodes are labelled ``(row, col)``. By default rows-1 inputs and rows//2 outputs taken from the middle of
    the right column.
    """
    if rows < 2 or cols < 2:
        raise GraphError(f"a lattice needs at least 2x2 nodes, got {rows}x{cols}")
    n_inputs = rows - 1 if n_inputs is None else n_inputs
    n_outputs = max(1, rows // 2) if n_outputs is None else n_outputs
    if not 1 <= n_inputs <= rows - 1:
        raise GraphError(f"a {rows}x{cols} lattice takes 1..{rows - 1} inputs, got {n_inputs}")
    if not 1 <= n_outputs <= rows:
        raise GraphError(f"a {rows}x{cols} lattice takes 1..{rows} outputs, got {n_outputs}")
    graph = nx.grid_2d_graph(rows, cols)
    for node in graph.nodes:
        graph.nodes[node]["role"] = Role.HIDDEN.value
    for r in range(n_inputs):
        graph.nodes[(r, 0)]["role"] = Role.INPUT.value
    graph.nodes[(rows - 1, 0)]["role"] = Role.GROUND.value
    first = (rows - n_outputs) // 2
    for r in range(first, first + n_outputs):
        graph.nodes[(r, cols - 1)]["role"] = Role.OUTPUT.value
    _random_conductances(graph, np.random.default_rng(seed), g_range_s)
    return graph


def _assign_roles(graph: nx.Graph, n_inputs: int, n_outputs: int, rng: np.random.Generator) -> None:
    nodes = list(graph.nodes)
    if n_inputs + n_outputs + 1 > len(nodes):
        raise GraphError(
            f"{len(nodes)} nodes cannot hold {n_inputs} inputs, {n_outputs} outputs and a ground"
        )
    order = rng.permutation(len(nodes))
    for k, idx in enumerate(order):
        node = nodes[idx]
        if k < n_inputs:
            role = Role.INPUT
        elif k == n_inputs:
            role = Role.GROUND
        elif k <= n_inputs + n_outputs:
            role = Role.OUTPUT
        else:
            role = Role.HIDDEN
        graph.nodes[node]["role"] = role.value


def _with_roles_and_conductances(
    graph: nx.Graph,
    what: str,
    n_inputs: int,
    n_outputs: int,
    rng: np.random.Generator,
    g_range_s: tuple[float, float],
) -> nx.Graph:
    """Refuse a disconnected random graph, then place roles and draw conductances."""
    if not nx.is_connected(graph):
        raise GraphError(f"{what} is not connected; try another seed (or a denser graph)")
    _assign_roles(graph, n_inputs, n_outputs, rng)
    _random_conductances(graph, rng, g_range_s)
    return graph


def random_regular(
    n_nodes: int,
    degree: int,
    *,
    n_inputs: int = 3,
    n_outputs: int = 2,
    seed: int = 0,
    g_range_s: tuple[float, float] = (5e-4, 2e-3),
) -> nx.Graph:
    """A random degree-regular graph with randomly placed inputs, one ground and outputs."""
    if n_nodes * degree % 2 or degree >= n_nodes or degree < 1:
        raise GraphError(f"no {degree}-regular graph on {n_nodes} nodes (need degree < n and n*degree even)")
    rng = np.random.default_rng(seed)
    graph = nx.random_regular_graph(degree, n_nodes, seed=int(rng.integers(2**31)))
    return _with_roles_and_conductances(
        graph, f"the {degree}-regular graph drawn with seed {seed}", n_inputs, n_outputs, rng, g_range_s
    )


def erdos_renyi(
    n_nodes: int,
    edge_probability: float,
    *,
    n_inputs: int = 3,
    n_outputs: int = 2,
    seed: int = 0,
    g_range_s: tuple[float, float] = (5e-4, 2e-3),
) -> nx.Graph:
    """A connected Erdos-Renyi G(n, p) graph with randomly placed inputs, one ground and outputs."""
    if not 0 < edge_probability <= 1:
        raise GraphError(f"edge probability must be in (0, 1], got {edge_probability!r}")
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n_nodes, edge_probability, seed=int(rng.integers(2**31)))
    return _with_roles_and_conductances(
        graph, f"G({n_nodes}, {edge_probability}) drawn with seed {seed}", n_inputs, n_outputs, rng, g_range_s
    )


def layered(
    sizes: Sequence[int],
    *,
    seed: int = 0,
    g_range_s: tuple[float, float] = (5e-4, 2e-3),
) -> nx.Graph:
    """Dense bipartite layers: sizes[0] inputs (plus a ground node acting as bias), hidden layers, outputs.

    Nodes are labelled ``(layer, k)``; the ground node is ``(0, sizes[0])``.
    """
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise GraphError(f"layered networks need at least 2 layers of size >= 1, got {list(sizes)!r}")
    graph = nx.Graph()
    layers: list[list[tuple[int, int]]] = []
    for depth, size in enumerate(sizes):
        layer = [(depth, k) for k in range(int(size))]
        role = Role.INPUT if depth == 0 else Role.OUTPUT if depth == len(sizes) - 1 else Role.HIDDEN
        for node in layer:
            graph.add_node(node, role=role.value)
        if depth == 0:
            ground = (0, int(size))
            graph.add_node(ground, role=Role.GROUND.value)
            layer = [*layer, ground]
        layers.append(layer)
    for upper, lower in zip(layers, layers[1:], strict=False):
        for a in upper:
            for b in lower:
                graph.add_edge(a, b)
    _random_conductances(graph, np.random.default_rng(seed), g_range_s)
    return graph


_BUILDER_PATTERN = re.compile(
    r"^(?:lattice:(?P<rows>\d+)x(?P<cols>\d+)"
    r"|regular:(?P<rn>\d+),(?P<rd>\d+)"
    r"|er:(?P<en>\d+),(?P<ep>[0-9.]+)"
    r"|layered:(?P<sizes>\d+(?:-\d+)+))$"
)


def build(description: str, *, seed: int = 0) -> nx.Graph:
    """Build a graph from a short description: ``lattice:4x4``, ``regular:20,3``, ``er:20,0.2``, ``layered:4-8-2``."""
    match = _BUILDER_PATTERN.match(description.strip())
    if match is None:
        raise GraphError(
            f"unknown network {description!r}; expected lattice:RxC, regular:N,D, er:N,P or layered:A-B-C"
        )
    if match["rows"]:
        return lattice(int(match["rows"]), int(match["cols"]), seed=seed)
    if match["rn"]:
        return random_regular(int(match["rn"]), int(match["rd"]), seed=seed)
    if match["en"]:
        return erdos_renyi(int(match["en"]), float(match["ep"]), seed=seed)
    return layered([int(s) for s in match["sizes"].split("-")], seed=seed)


# --- loaders ---------------------------------------------------------------------------------------
def load_graphml(path: str | Path) -> nx.Graph:
    """Read a GraphML file (node attribute ``role``, optional ``voltage``/``target``; edge ``conductance``)."""
    try:
        graph = nx.read_graphml(Path(path))
    except (OSError, nx.NetworkXError, SyntaxError, ValueError) as exc:
        raise GraphError(f"cannot read GraphML file {str(path)!r}: {exc}") from None
    if graph.is_directed():
        graph = nx.Graph(graph)
    return graph


_NODE_DIRECTIVE = re.compile(r"^#@\s*node\s+(\S+)\s+(.*)$")


def load_edgelist(path: str | Path) -> nx.Graph:
    """Read an edge list: lines ``a b conductance_in_siemens``; node roles in ``#@ node LABEL role=.. voltage=..``.

    Example::

        #@ node in1 role=input voltage=0.8
        #@ node out role=output target=0.3
        #@ node gnd role=ground
        in1 h 1e-3
        h out 2e-3
        h gnd 1e-3
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphError(f"cannot read edge list {str(path)!r}: {exc}") from None
    graph = nx.Graph()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{Path(path).name}:{number}"
        directive = _NODE_DIRECTIVE.match(line)
        if directive:
            attrs: dict[str, object] = {}
            for item in directive.group(2).split():
                key, sep, value = item.partition("=")
                if not sep or key not in ("role", "voltage", "target"):
                    raise GraphError(f"{where}: expected role=.., voltage=.. or target=.., got {item!r}")
                attrs[key] = value
            graph.add_node(directive.group(1), **attrs)
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise GraphError(f"{where}: expected 'node_a node_b conductance', got {line!r}")
        graph.add_edge(parts[0], parts[1], conductance=_attr_float(parts[2], where, "conductance"))
    return graph


def load_graph(path: str | Path) -> nx.Graph:
    """Load a graph file by suffix: .graphml, or anything else as an edge list."""
    return load_graphml(path) if str(path).lower().endswith(".graphml") else load_edgelist(path)


def graph_from_argument(argument: str, *, seed: int = 0) -> nx.Graph:
    """A path to a graph file if one exists, else a builder description (``lattice:4x4``)."""
    if Path(argument).is_file():
        return load_graph(argument)
    return build(argument, seed=seed)
