"""Network builders: lattices, random graphs, layered networks, and the short descriptions (``lattice:4x4``)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import networkx as nx
import numpy as np

from tcl_circuits.config import Role
from tcl_circuits.errors import GraphError
from tcl_circuits.network.spec import THERMAL_VOLTAGE_V


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


DRN_DIODE_RS_OHM = 1.0
"""Series resistance of the drn's clipping diodes. Past the clip a hidden node still follows its input with a
slope of about R_s times its conductance (with the next layer's load seen through the amplifiers): at 10 ohm
about 0.1, and MNIST learned about two points worse than with a hard clip (docs/learning-at-scale.md)."""


def drn(
    sizes: Sequence[int],
    *,
    seed: int = 0,
    node_conductance_s: float = 5e-3,
    gain: float = 4.0,
    clip_v: tuple[float, float] = (0.0, 0.5),
    diode: dict[str, float] | None = None,
) -> nx.Graph:
    """A deep resistive network (Kendall et al. 2020): ``sizes`` = [inputs, hidden..., outputs].

    - Each input k drives a pair of nodes ``("x+", k)``, ``("x-", k)`` (the task applies +v and -v), so that
      positive conductances realise signed weights; a constant pair ``("x+", "1")``, ``("x-", "1")`` acts as
      every layer's bias.
    - Every hidden node ``("h<l>", k)`` has two diodes, to bias nodes set so that its voltage is held softly
      within ``clip_v`` (a bounded, ReLU-like nonlinearity): one from the node to ``("bias", "hi")`` at
      clip_v[1] - V_on, one from ``("bias", "lo")`` at clip_v[0] + V_on to the node, V_on the diodes' forward
      voltage at 5 % of a volt across a node's conductance (default diode: I_s 1e-6 A, n 1, R_s
      DRN_DIODE_RS_OHM).
    - Each hidden node feeds the next layer through two ideal bidirectional amplifiers of gain +gain and
      -gain (``("a<l>+", k)``, ``("a<l>-", k)``), so the next layer's weights are signed as well and the
      signal does not shrink layer after layer.
    - Outputs ``("y", k)`` take the targets.
    - Learning edges: every input pair (and the bias pair) to every first-layer hidden node (group ``w1``),
      every amplifier output of layer l (and the bias pair) to every node of layer l + 1 (group ``w<l+1>``).
      A node with F incoming edges draws them uniformly from (0.2, 1.8) x node_conductance_s / F, so every
      node's total conductance is about node_conductance_s whatever its fan-in; learning bounds them to
      [0.01, 20] x node_conductance_s / F.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3 or any(s < 1 for s in sizes):
        raise GraphError(
            f"a deep resistive network needs inputs, at least one hidden layer and outputs, got {sizes!r}"
        )
    diode = {"is_a": 1e-6, "n": 1.0, "rs_ohm": DRN_DIODE_RS_OHM} | (diode or {})
    rng = np.random.default_rng(seed)
    if not node_conductance_s > 0 or gain == 0 or not clip_v[0] < clip_v[1]:
        raise GraphError("drn needs node_conductance_s > 0, a non-zero gain and clip_v low < high")
    on_current = 0.05 * node_conductance_s
    thermal = diode["n"] * THERMAL_VOLTAGE_V
    diode_on_v = thermal * math.log1p(on_current / diode["is_a"]) + on_current * diode["rs_ohm"]
    graph = nx.Graph()
    pairs = [(("x+", k), ("x-", k)) for k in range(sizes[0])]
    bias_pair = (("x+", "1"), ("x-", "1"))
    for plus, minus in [*pairs, bias_pair]:
        graph.add_node(plus, role=Role.INPUT.value)
        graph.add_node(minus, role=Role.INPUT.value)
    graph.add_node(("bias", "hi"), role=Role.BIAS.value, voltage=clip_v[1] - diode_on_v)
    graph.add_node(("bias", "lo"), role=Role.BIAS.value, voltage=clip_v[0] + diode_on_v)
    previous = [node for pair in pairs for node in pair]
    for layer, size in enumerate(sizes[1:], start=1):
        last = layer == len(sizes) - 1
        nodes = [("y", k) if last else (f"h{layer}", k) for k in range(size)]
        fan_in = len(previous) + 2
        mean = node_conductance_s / fan_in
        for node in nodes:
            graph.add_node(node, role=(Role.OUTPUT if last else Role.HIDDEN).value)
            for upstream in [*previous, *bias_pair]:
                graph.add_edge(
                    upstream,
                    node,
                    conductance=float(rng.uniform(0.2 * mean, 1.8 * mean)),
                    g_min=0.01 * mean,
                    g_max=20.0 * mean,
                    group=f"w{layer}",
                )
        if last:
            break
        previous = []
        for k, node in enumerate(nodes):
            graph.add_edge(node, ("bias", "hi"), element="diode", anode=node, **diode)
            graph.add_edge(("bias", "lo"), node, element="diode", anode=("bias", "lo"), **diode)
            for sign in (+1, -1):
                amplified = (f"a{layer}{'+' if sign > 0 else '-'}", k)
                graph.add_node(amplified, role=Role.AMPLIFIED.value, source=node, gain=sign * gain)
                previous.append(amplified)
    return graph


def triangle() -> nx.Graph:
    """The 4-edge example network: input 'in' (1 V) - hidden 'h' - output 'out' (target 0.3 V), and ground
    'gnd' below 'h' and 'out', with fixed conductances (the reviewed decks in netlists/ use it)."""
    graph = nx.Graph()
    graph.add_node("in", role=Role.INPUT.value, voltage=1.0)
    graph.add_node("h", role=Role.HIDDEN.value)
    graph.add_node("out", role=Role.OUTPUT.value, target=0.3)
    graph.add_node("gnd", role=Role.GROUND.value)
    graph.add_edge("in", "h", conductance=1e-3)
    graph.add_edge("h", "out", conductance=2e-3)
    graph.add_edge("out", "gnd", conductance=1e-3)
    graph.add_edge("h", "gnd", conductance=5e-4)
    return graph


_BUILDER_PATTERN = re.compile(
    r"(?a)^(?:lattice:(?P<rows>\d{1,7})x(?P<cols>\d{1,7})"
    r"|regular:(?P<rn>\d{1,7}),(?P<rd>\d{1,7})"
    r"|er:(?P<en>\d{1,7}),(?P<ep>(?:0|1)?(?:\.\d+)?|1)"
    r"|layered:(?P<sizes>\d{1,7}(?:-\d{1,7})+)"
    r"|drn:(?P<drn>\d{1,7}(?:-\d{1,7}){2,}))$"
)


def build(description: str, *, seed: int = 0, diode_rs_ohm: float | None = None) -> nx.Graph:
    """Build a graph from a short description: ``lattice:4x4``, ``regular:20,3``, ``er:20,0.2``, ``layered:4-8-2``,
    ``drn:4-6-3`` (``diode_rs_ohm``: its diodes' series resistance, drn only)."""
    match = _BUILDER_PATTERN.match(description.strip())
    if diode_rs_ohm is not None and (match is None or not match["drn"]):
        raise GraphError(f"a diode series resistance applies to drn networks, not {description!r}")
    if match is None or (match["en"] and not match["ep"]):
        raise GraphError(
            f"unknown network {description!r}; expected lattice:RxC, regular:N,D, er:N,P (0 < P <= 1), "
            "layered:A-B-C or drn:IN-H-OUT with whole numbers"
        )
    if match["rows"]:
        rows, cols = int(match["rows"]), int(match["cols"])
        check_size(f"lattice:{rows}x{cols}", rows * cols, 2 * rows * cols)
        return lattice(rows, cols, seed=seed)
    if match["rn"]:
        n, d = int(match["rn"]), int(match["rd"])
        check_size(f"regular:{n},{d}", n, n * d // 2)
        return random_regular(n, d, seed=seed)
    if match["en"]:
        n, p = int(match["en"]), float(match["ep"])
        check_size(f"er:{n},{p}", n, int(p * n * (n - 1) / 2))
        return erdos_renyi(n, p, seed=seed)
    if match["drn"]:
        sizes = [int(s) for s in match["drn"].split("-")]
        nodes = 2 * sizes[0] + 4 + sum(3 * s for s in sizes[1:-1]) + sizes[-1]
        weights = sum((2 * a + 2) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
        check_size(description.strip(), nodes, weights)
        return drn(sizes, seed=seed, diode=None if diode_rs_ohm is None else {"rs_ohm": diode_rs_ohm})
    sizes = [int(s) for s in match["sizes"].split("-")]
    check_size(
        description.strip(),
        sum(sizes) + 1,
        sum(a * b for a, b in zip([sizes[0] + 1, *sizes[1:]], sizes[1:], strict=False)),
    )
    return layered(sizes, seed=seed)


MAX_NODES = 250_000
"""Largest network a builder makes (a 500 x 500 lattice): beyond it one cycle needs tens of GB."""
MAX_EDGES = 2_000_000


def check_size(description: str, nodes: int, edges: int) -> None:
    """Refuse a network beyond MAX_NODES nodes or MAX_EDGES edges before building it."""
    if nodes > MAX_NODES or edges > MAX_EDGES:
        raise GraphError(
            f"network {description} would have {nodes:,} nodes and {edges:,} edges; the limit is {MAX_NODES:,} nodes "
            f"and {MAX_EDGES:,} edges (one native cycle stores every node and edge signal at every time point)"
        )
