"""Graphs in and out: networkx graph <-> NetworkSpec, and the GraphML and edge-list file formats.

Every input is read strictly: numbers are plain decimals or SPICE suffixes (never ``0_8``, never ``inf``),
units are fixed (voltages and targets in volts, conductances in siemens), a duplicate node or edge, an
unknown attribute or an unknown edge element is an error naming the file and line (or node id), never a
silent choice.

Attributes. Nodes: ``role`` (input, output, hidden, ground, bias, amplified; required), ``voltage``
(inputs and bias nodes, V), ``target`` (outputs, V), ``source`` and ``gain`` (amplified nodes: the node they
copy and the voltage gain). Edges: ``element`` ``resistor`` (the default: a learning conductance) with
``conductance`` (S), ``g_min`` and ``g_max`` (S, the bounds learning clips to) and ``group`` (edges of a group
share their automatic threshold); or ``diode`` with ``anode`` (one of the edge's two node ids), ``is_a``
(saturation current, A), ``n`` (emission coefficient) and ``rs_ohm`` (series resistance, ohm).
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Hashable
from pathlib import Path

import networkx as nx
import numpy as np

from tcl_circuits.config import Role
from tcl_circuits.errors import ConfigError, GraphError
from tcl_circuits.network.spec import (
    DEFAULT_G_MAX_S,
    DEFAULT_G_MIN_S,
    MAX_AMPLIFIER_GAIN,
    AmplifierSpec,
    DiodeSpec,
    NetworkSpec,
    gain_problem,
)
from tcl_circuits.units import parse_quantity

NODE_ATTRIBUTES = {"role": "", "voltage": "V", "target": "V", "source": "", "gain": ""}
"""Node attributes and their units."""
EDGE_ELEMENTS = {
    "resistor": {"conductance": "S", "g_min": "S", "g_max": "S", "group": ""},
    "diode": {"anode": "", "is_a": "A", "n": "", "rs_ohm": "ohm"},
}
"""Edge elements and the attributes (with units) each takes besides ``element``."""
_ROLE_ATTRIBUTES = {
    "voltage": (Role.INPUT, Role.BIAS),
    "target": (Role.OUTPUT,),
    "source": (Role.AMPLIFIED,),
    "gain": (Role.AMPLIFIED,),
}
MAX_FILE_BYTES = 256 * 2**20


def _number(value: object, where: str, name: str, unit: str) -> float:
    """A finite number from a file or graph attribute (floats as they are; text strictly)."""
    if isinstance(value, bool):
        raise GraphError(f"{where}: attribute {name!r} must be a number ({unit}), got {value!r}")
    if isinstance(value, int | float | np.floating | np.integer):
        number = float(value)
        if not np.isfinite(number) or 0 < abs(number) < sys.float_info.min:
            raise GraphError(f"{where}: attribute {name!r} must be finite and not denormal, got {value!r}")
        return number
    try:
        return parse_quantity(str(value), unit)
    except ConfigError as error:
        raise GraphError(
            f"{where}: attribute {name!r} must be a number in {unit or 'no unit'}: {error}"
        ) from None


def _edge_conductance(text: str, where: str) -> float:
    """An edge list's third column: siemens, but a SPICE user reads ``1k`` there as 1 kΩ, not 1 kS. So a
    scale suffix needs its unit: ``1kohm`` / ``1kΩ`` is a resistance (its conductance 1/R), ``1mS`` a
    conductance; a bare ``1k`` is refused. Plain numbers (``1e-3``) are siemens."""
    if text.lower().endswith("ohm") or text.endswith(("Ω", "Ω")):
        ohms = _number(text, where, "conductance", "ohm")
        if not ohms > 0:
            raise GraphError(f"{where}: a resistance must be > 0, got {text!r}")
        return _number(1.0 / ohms, where, "conductance", "S")
    if text[-1:].isalpha():
        try:
            parse_quantity(text)  # a number with a scale suffix and no unit
        except ConfigError:
            pass
        else:
            raise GraphError(
                f"{where}: {text!r} has a SPICE scale suffix but no unit: write {text}ohm for a resistance "
                f"or a conductance in siemens ({text}S, or a plain number such as 1e-3)"
            )
    return _number(text, where, "conductance", "S")


def _check_keys(data: dict, allowed: dict, where: str, what: str) -> None:
    unknown = sorted(set(data) - set(allowed), key=str)
    if unknown:
        known = ", ".join(f"{k} ({u})" if u else k for k, u in allowed.items())
        raise GraphError(f"{where}: unknown {what} attribute {unknown[0]!r} (known: {known})")


# --- from networkx --------------------------------------------------------------------------------
def from_graph(
    graph: nx.Graph,
    *,
    g_min_s: float = DEFAULT_G_MIN_S,
    g_max_s: float = DEFAULT_G_MAX_S,
    default_conductance_s: float | None = None,
) -> NetworkSpec:
    """Validate a networkx graph and turn it into a NetworkSpec (attributes: see the module docstring).

    ``conductance`` is required unless ``default_conductance_s`` is given. Node order is the graph's
    insertion order.
    """
    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise GraphError("expected an undirected networkx.Graph (not directed, not a multigraph)")
    labels = tuple(graph.nodes)
    index = {label: i for i, label in enumerate(labels)}
    roles = []
    for label in labels:
        data = graph.nodes[label]
        _check_keys(data, NODE_ATTRIBUTES, f"node {label!r}", "node")
        raw = data.get("role")
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
    for label, role in zip(labels, roles, strict=True):
        for name, wanted in _ROLE_ATTRIBUTES.items():
            if name in graph.nodes[label] and role not in wanted:
                owners = " and ".join(r.value for r in wanted)
                raise GraphError(
                    f"node {label!r}: attribute {name!r} belongs to {owners} nodes, this is {role.value}"
                )
    inputs = [label for label, r in zip(labels, roles, strict=True) if r is Role.INPUT]
    outputs = [label for label, r in zip(labels, roles, strict=True) if r is Role.OUTPUT]

    def node_values(nodes: list[Hashable], name: str) -> list[float]:
        return [
            _number(graph.nodes[x][name], f"node {x!r}", name, "V") if name in graph.nodes[x] else np.nan
            for x in nodes
        ]

    biases = [label for label, r in zip(labels, roles, strict=True) if r is Role.BIAS]
    amplifiers = []
    for label, role in zip(labels, roles, strict=True):
        if role is Role.AMPLIFIED:
            data = graph.nodes[label]
            if "source" not in data or "gain" not in data:
                raise GraphError(f"amplified node {label!r} needs 'source' (a node id) and 'gain'")
            source = _node_ref(data["source"], index, f"amplified node {label!r}", "source")
            gain = _number(data["gain"], f"node {label!r}", "gain", "V/V")
            if not 1 / MAX_AMPLIFIER_GAIN <= abs(gain) <= MAX_AMPLIFIER_GAIN:
                raise GraphError(f"amplified node {label!r}: {gain_problem(gain)}")
            amplifiers.append(AmplifierSpec(index[label], source, gain))
    edges, g, lo, hi, groups, diodes = [], [], [], [], [], []
    for a, b, data in graph.edges(data=True):
        where = f"edge {a!r}-{b!r}"
        if a == b:
            raise GraphError(f"{where} is a self-loop")
        element = str(data.get("element", "resistor")).strip().lower()
        if element not in EDGE_ELEMENTS:
            raise GraphError(
                f"{where}: unknown element {data.get('element')!r} (known: {', '.join(EDGE_ELEMENTS)})"
            )
        _check_keys({k: v for k, v in data.items() if k != "element"}, EDGE_ELEMENTS[element], where, element)
        if element == "diode":
            anode = _node_ref(data.get("anode"), index, where, "anode")
            if anode not in (index[a], index[b]):
                raise GraphError(f"{where}: 'anode' must be one of its two nodes, got {data.get('anode')!r}")
            cathode = index[b] if anode == index[a] else index[a]
            values = {
                k: _number(data[k], where, k, EDGE_ELEMENTS["diode"][k])
                for k in ("is_a", "n", "rs_ohm")
                if k in data
            }
            diodes.append(DiodeSpec(anode, cathode, **values))
            continue
        groups.append(str(data.get("group", "")))
        if "conductance" in data:
            g.append(_number(data["conductance"], where, "conductance", "S"))
        elif default_conductance_s is not None:
            g.append(float(default_conductance_s))
        else:
            raise GraphError(f"{where} has no 'conductance' attribute (siemens)")
        lo.append(_number(data["g_min"], where, "g_min", "S") if "g_min" in data else g_min_s)
        hi.append(_number(data["g_max"], where, "g_max", "S") if "g_max" in data else g_max_s)
        i, j = index[a], index[b]
        edges.append((min(i, j), max(i, j)))
    return NetworkSpec(
        labels=labels,
        roles=tuple(roles),
        edges=tuple(edges),
        conductance_s=np.array(g, dtype=float),
        g_min_s=np.array(lo, dtype=float),
        g_max_s=np.array(hi, dtype=float),
        input_voltage_v=np.array(node_values(inputs, "voltage"), dtype=float),
        target_v=np.array(node_values(outputs, "target"), dtype=float),
        bias_voltage_v=np.array(node_values(biases, "voltage"), dtype=float),
        diodes=tuple(diodes),
        amplifiers=tuple(amplifiers),
        edge_groups=tuple(groups),
    )


def _node_ref(value: object, index: dict, where: str, name: str) -> int:
    """The index of the node a 'source' or 'anode' attribute names (by its id, also when the id is text)."""
    try:
        if value in index:
            return index[value]
    except TypeError:  # an unhashable value names no node
        pass
    matches = [i for label, i in index.items() if str(label) == str(value)]
    if len(matches) != 1:
        raise GraphError(f"{where}: attribute {name!r} must name one of the graph's nodes, got {value!r}")
    return matches[0]


def to_graph(spec: NetworkSpec) -> nx.Graph:
    """The inverse of from_graph: a networkx graph carrying roles, voltages, targets, conductances, groups,
    diodes and amplifiers."""
    graph = nx.Graph()
    for label, role in zip(spec.labels, spec.roles, strict=True):
        graph.add_node(label, role=role.value)
    for k, i in enumerate(spec.bias_nodes):
        graph.nodes[spec.labels[i]]["voltage"] = float(spec.bias_voltage_v[k])
    for amplifier in spec.amplifiers:
        graph.nodes[spec.labels[amplifier.output]].update(
            source=spec.labels[amplifier.source], gain=amplifier.gain
        )
    for d in spec.diodes:
        graph.add_edge(
            spec.labels[d.anode],
            spec.labels[d.cathode],
            element="diode",
            anode=spec.labels[d.anode],
            is_a=d.is_a,
            n=d.n,
            rs_ohm=d.rs_ohm,
        )
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
            **({"group": spec.edge_groups[e]} if spec.edge_groups[e] else {}),
        )
    return graph


def graphml_text(spec: NetworkSpec) -> str:
    """A network as GraphML that ``load_graphml`` reads back: node ids (and the ``anode`` and ``source``
    attributes that name nodes) become their ``str``, since GraphML has no tuple ids."""
    graph = nx.relabel_nodes(to_graph(spec), str)
    for _, data in graph.nodes(data=True):
        if "source" in data:
            data["source"] = str(data["source"])
    for _, _, data in graph.edges(data=True):
        if "anode" in data:
            data["anode"] = str(data["anode"])
    return "<?xml version='1.0' encoding='utf-8'?>\n" + "\n".join(nx.generate_graphml(graph)) + "\n"


def save_graphml(spec: NetworkSpec, path: str | Path) -> None:
    """Write a network as GraphML (``graphml_text``)."""
    Path(path).write_text(graphml_text(spec), encoding="utf-8")


# --- files -----------------------------------------------------------------------------------------
def _read_text(path: Path, what: str) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise GraphError(f"{what} {str(path)!r} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphError(f"cannot read {what} {str(path)!r}: {exc}") from None


_GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def load_graphml(path: str | Path) -> nx.Graph:
    """Read a GraphML file strictly (attributes: see the module docstring).

    Duplicate node ids, duplicate edges (in either direction), nested graphs, hyperedges, unknown
    attributes and ill-formed numbers are errors naming the id or line. Document type declarations are
    refused (no entity expansion).
    """
    file = Path(path)
    name = file.name
    text = _read_text(file, "GraphML file")
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise GraphError(f"{name}: document type declarations are not accepted in GraphML files")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise GraphError(f"{name}: not well-formed XML ({exc})") from None
    if _local(root.tag) != "graphml":
        raise GraphError(f"{name}: the root element is <{_local(root.tag)}>, expected <graphml>")
    keys: dict[str, tuple[str, str]] = {}  # key id -> (for, attr.name)
    for key in root.iter(f"{_GRAPHML_NS}key"):
        keys[key.get("id", "")] = (key.get("for", "all"), key.get("attr.name", key.get("id", "")))
    graphs = root.findall(f"{_GRAPHML_NS}graph")
    if len(graphs) != 1:
        raise GraphError(f"{name}: expected exactly one <graph>, found {len(graphs)}")
    graph_element = graphs[0]
    for unsupported in ("hyperedge", "port"):
        if graph_element.find(f".//{_GRAPHML_NS}{unsupported}") is not None:
            raise GraphError(f"{name}: <{unsupported}> elements are not supported")
    if graph_element.find(f"./{_GRAPHML_NS}node/{_GRAPHML_NS}graph") is not None:
        raise GraphError(f"{name}: nested graphs are not supported")

    def attributes(element: ElementTree.Element, kind: str, where: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for data in element.findall(f"{_GRAPHML_NS}data"):
            key = data.get("key", "")
            if key not in keys:
                raise GraphError(f"{name}: {where} uses the undeclared key {key!r}")
            scope, attr = keys[key]
            if scope not in (kind, "all"):
                raise GraphError(f"{name}: {where} uses key {key!r}, which is declared for {scope}")
            if attr in values:
                raise GraphError(f"{name}: {where} gives attribute {attr!r} twice")
            values[attr] = (data.text or "").strip()
        for key, (scope, attr) in keys.items():  # defaults declared with the key
            if scope in (kind, "all") and attr not in values:
                default = root.find(f"{_GRAPHML_NS}key[@id='{key}']/{_GRAPHML_NS}default")
                if default is not None and default.text is not None:
                    values[attr] = default.text.strip()
        return values

    graph = nx.Graph()
    for node in graph_element.findall(f"{_GRAPHML_NS}node"):
        node_id = node.get("id")
        if node_id is None:
            raise GraphError(f"{name}: a <node> has no id")
        if node_id in graph:
            raise GraphError(f"{name}: node id {node_id!r} appears twice")
        values = attributes(node, "node", f"node {node_id!r}")
        _check_keys(values, NODE_ATTRIBUTES, f"{name}: node {node_id!r}", "node")
        graph.add_node(node_id, **values)
    for edge in graph_element.findall(f"{_GRAPHML_NS}edge"):
        a, b = edge.get("source"), edge.get("target")
        where = f"edge {a!r}-{b!r}"
        for end in (a, b):
            if end not in graph:
                raise GraphError(f"{name}: {where} names node {end!r}, which is not declared")
        if graph.has_edge(a, b):
            raise GraphError(f"{name}: {where} appears twice")
        if a == b:
            raise GraphError(f"{name}: {where} is a self-loop")
        values = attributes(edge, "edge", where)
        graph.add_edge(a, b, **values)
    return graph


_NODE_DIRECTIVE = re.compile(r"^#@\s*node\s+(\S+)(?:\s+(.*))?$")


def load_edgelist(path: str | Path) -> nx.Graph:
    """Read an edge list strictly: lines ``a b conductance [key=value ...]``, the conductance in siemens or,
    with its unit, a resistance (``1kohm``; a scale suffix needs its unit: ``_edge_conductance``); node
    attributes in ``#@ node LABEL role=.. voltage=.. target=..`` lines; other ``#`` lines are comments.

    Example::

        #@ node in1 role=input voltage=0.8
        #@ node out role=output target=0.3
        #@ node gnd role=ground
        in1 h 1e-3
        h out 2mS
        h gnd 1kohm
    """
    file = Path(path)
    name = file.name
    text = _read_text(file, "edge list")
    graph = nx.Graph()
    declared: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    edge_line: dict[frozenset, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{name}:{number}"
        directive = _NODE_DIRECTIVE.match(line)
        if directive:
            label = directive.group(1)
            if label in declared:
                raise GraphError(
                    f"{where}: node {label!r} is declared again (first on line {declared[label]})"
                )
            attrs: dict[str, object] = {}
            for item in (directive.group(2) or "").split():
                key, sep, value = item.partition("=")
                if not sep or not value:
                    raise GraphError(f"{where}: expected key=value, got {item!r}")
                if key in attrs:
                    raise GraphError(f"{where}: {key!r} given twice")
                attrs[key] = value
            _check_keys(attrs, NODE_ATTRIBUTES, where, "node")
            for key in ("voltage", "target"):
                if key in attrs:
                    attrs[key] = _number(attrs[key], where, key, "V")
            declared[label] = number
            graph.add_node(label, **attrs)
            first_seen.setdefault(label, number)
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 3:
            raise GraphError(f"{where}: expected 'node_a node_b conductance', got {line!r}")
        a, b = parts[0], parts[1]
        if a == b:
            raise GraphError(f"{where}: edge {a!r}-{b!r} is a self-loop")
        pair = frozenset((a, b))
        if pair in edge_line:
            raise GraphError(f"{where}: edge {a!r}-{b!r} appears again (first on line {edge_line[pair]})")
        attrs = {"conductance": _edge_conductance(parts[2], where)}
        for item in parts[3:]:
            key, sep, value = item.partition("=")
            if not sep or not value or key in attrs:
                raise GraphError(f"{where}: expected key=value after the conductance, got {item!r}")
            attrs[key] = value
        element = str(attrs.get("element", "resistor"))
        if element != "resistor":
            raise GraphError(
                f"{where}: unknown element {element!r}: edge lists hold resistors (use GraphML for diodes)"
            )
        _check_keys(
            {k: v for k, v in attrs.items() if k != "element"}, EDGE_ELEMENTS[element], where, element
        )
        for key in ("g_min", "g_max"):
            if key in attrs:
                attrs[key] = _number(attrs[key], where, key, "S")
        edge_line[pair] = number
        for end in (a, b):
            first_seen.setdefault(end, number)
        graph.add_edge(a, b, **attrs)
    for label in graph.nodes:
        if "role" not in graph.nodes[label]:
            raise GraphError(
                f"{name}:{first_seen[label]}: node {label!r} has no role: declare it with '#@ node {label} role=...'"
                " (input, output, hidden or ground)"
            )
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
