"""Learning networks: the validated NetworkSpec, builders (``lattice:4x4``), and graph files.

``spec`` holds the NetworkSpec itself (no networkx); ``builders`` and ``io`` are the only modules of the
package that import networkx.
"""

from tcl_circuits.network.builders import build, drn, erdos_renyi, lattice, layered, random_regular, triangle
from tcl_circuits.network.io import (
    from_graph,
    graph_from_argument,
    graphml_text,
    load_edgelist,
    load_graph,
    load_graphml,
    save_graphml,
    to_graph,
)
from tcl_circuits.network.spec import DEFAULT_G_MAX_S, DEFAULT_G_MIN_S, NetworkSpec

__all__ = [
    "DEFAULT_G_MAX_S",
    "DEFAULT_G_MIN_S",
    "NetworkSpec",
    "build",
    "drn",
    "erdos_renyi",
    "from_graph",
    "graph_from_argument",
    "graphml_text",
    "lattice",
    "layered",
    "load_edgelist",
    "load_graph",
    "load_graphml",
    "save_graphml",
    "random_regular",
    "to_graph",
    "triangle",
]
