"""The backend protocol and the result every backend returns (vectors keyed by SPICE name)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tcl_circuits.circuit.ir import Circuit
from tcl_circuits.errors import SimulationError


class BlockVectors(Mapping[str, np.ndarray]):
    """Vectors by name that are rows of a few 2-D blocks (count, points), without a dict entry each.

    A native run returns thousands of vectors (three per edge cell, one per node); building a dict entry per
    vector would cost more than simulating a large network. ``index`` (fixed per topology, shared across
    runs) maps each name to (block number, row); ``blocks`` are this run's arrays.
    """

    def __init__(
        self,
        index: Mapping[str, tuple[int, int]],
        blocks: Sequence[np.ndarray],
        whole: Sequence[tuple[Sequence[str], int]] = (),
        memo: dict[int, tuple[Sequence[str], np.ndarray]] | None = None,
    ) -> None:
        self.index = index
        self.blocks = blocks
        self.whole = whole
        """(names, block): name sequences that are a whole block in order, answered by ``rows`` at once."""
        self.memo = {} if memo is None else memo
        """Located rows of name tuples asked for before (shared across runs of one topology)."""

    def __getitem__(self, name: str) -> np.ndarray:
        block, row = self.index[name]
        return self.blocks[block][row]

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def rows(self, names: Sequence[str]) -> np.ndarray:
        """(len(names), points) for non-empty names, raising KeyError for an unknown one: the block itself when
        the names are a whole block in order, else a gather of its rows."""
        for group, block in self.whole:
            if names is group or (len(names) == len(group) and tuple(names) == group):
                return self.blocks[block]
        known = self.memo.get(id(names))
        if known is not None and known[0] is names:
            located = known[1]
        else:
            located = np.array([self.index[name] for name in names], dtype=int)
            if isinstance(names, tuple) and len(self.memo) < 64:  # immutable: the located rows stay valid
                self.memo[id(names)] = (names, located)  # holding ``names`` keeps its id unique
        if np.all(located[:, 0] == located[0, 0]):
            return np.take(self.blocks[located[0, 0]], located[:, 1], axis=0)
        return np.stack([self[name] for name in names])


@dataclass
class SimResult:
    """Simulated vectors keyed by lower-case SPICE vector name.

    Node voltages are keyed by node name (``n3``, ``w7``), branch currents by ``<source>#branch``. The sweep
    variable is ``time`` for transients and the swept source's name for DC sweeps (``v-sweep`` in ngspice).
    """

    vectors: Mapping[str, np.ndarray]
    log: str = ""
    netlist: str = ""
    stats: dict[str, float] = field(default_factory=dict)

    def v(self, node: str) -> np.ndarray:
        """Voltage of a node over the sweep (zeros for ground)."""
        if node == "0":
            return np.zeros_like(self.axis)
        try:
            return self.vectors[node]
        except KeyError:
            raise SimulationError(
                f"the simulation returned no vector for node {node!r}", netlist=self.netlist, log=self.log
            ) from None

    def rows(self, nodes: Sequence[str]) -> np.ndarray:
        """Voltages of many nodes stacked, (len(nodes), points); ground reads as zeros. May be a view of the
        result's own arrays: copy before writing into it."""
        if not nodes:
            return np.zeros((0, self.axis.size))
        if isinstance(self.vectors, BlockVectors):
            try:
                return self.vectors.rows(nodes)
            except KeyError:
                pass  # the loop below names the missing node
        return np.stack([self.v(node) for node in nodes])

    @property
    def axis(self) -> np.ndarray:
        """The sweep axis: time for a transient, the swept value for a DC sweep."""
        for key in ("time", "v-sweep"):
            if key in self.vectors:
                return self.vectors[key]
        raise SimulationError(
            "the simulation returned no time or sweep vector", netlist=self.netlist, log=self.log
        )


class Backend(Protocol):
    """What the controller needs from a simulator."""

    def run(self, circuit: Circuit) -> SimResult: ...

    def close(self) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...
