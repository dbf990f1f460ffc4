"""Graphs in and out: networkx graph <-> NetworkSpec, and the GraphML and edge-list file formats."""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np

from tcl_circuits.config import Role
from tcl_circuits.errors import GraphError
from tcl_circuits.network.spec import DEFAULT_G_MAX_S, DEFAULT_G_MIN_S, NetworkSpec


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
    from tcl_circuits.network.builders import build

    return build(argument, seed=seed)
