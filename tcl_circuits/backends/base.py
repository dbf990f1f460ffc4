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
        row_maps: Mapping[int, np.ndarray] | None = None,
    ) -> None:
        self.index = index
        self.blocks = blocks
        self.whole = whole
        """(names, block): name sequences that are a whole block in order, answered by ``rows`` at once."""
        self.memo = {} if memo is None else memo
        """Located rows of name tuples asked for before (shared across runs of one topology)."""
        self.row_maps = row_maps or {}
        """Per block, the stored row of each indexed row: vectors that are equal by construction (cells with
        the same inputs and parameters) share one stored row."""

    def __getitem__(self, name: str) -> np.ndarray:
        block, row = self.index[name]
        mapped = self.row_maps.get(block)
        return self.blocks[block][row if mapped is None else mapped[row]]

    def _located(self, names: Sequence[str]) -> tuple[int, np.ndarray] | None:
        """(block, stored rows) when every name lies in one block, else None."""
        for group, block in self.whole:
            if names is group or (len(names) == len(group) and tuple(names) == group):
                mapped = self.row_maps.get(block)
                return block, np.arange(self.blocks[block].shape[0]) if mapped is None else mapped
        known = self.memo.get(id(names))
        if known is not None and known[0] is names:
            located = known[1]
        else:
            located = np.array([self.index[name] for name in names], dtype=int)
            if isinstance(names, tuple) and len(self.memo) < 64:  # immutable: the located rows stay valid
                self.memo[id(names)] = (names, located)  # holding ``names`` keeps its id unique
        if not np.all(located[:, 0] == located[0, 0]):
            return None
        block = int(located[0, 0])
        mapped = self.row_maps.get(block)
        return block, located[:, 1] if mapped is None else mapped[located[:, 1]]

    def at(self, names: Sequence[str], columns: Sequence[int]) -> np.ndarray:
        """(len(names), len(columns)): the vectors at a few points, without gathering whole rows."""
        found = self._located(names)
        if found is None:
            return np.stack([self[name][list(columns)] for name in names])
        block, rows = found
        return self.blocks[block][:, list(columns)][rows]

    def weighted_sum(self, names: Sequence[str], weights: np.ndarray, *, square: bool = False) -> np.ndarray:
        """sum_i weights_i * vector_i (or vector_i^2), (points,): shared rows are summed once, weighted."""
        found = self._located(names)
        if found is None:
            rows = np.stack([self[name] for name in names])
            return weights @ (rows * rows if square else rows)
        block, stored = found
        data = self.blocks[block]
        per_row = np.bincount(stored, weights, minlength=data.shape[0])
        used = np.flatnonzero(per_row)
        picked = data[used] if used.size < data.shape[0] else data
        scale = per_row[used] if used.size < data.shape[0] else per_row
        return np.einsum("i,ij,ij->j", scale, picked, picked) if square else scale @ picked

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
            if (names is group or (len(names) == len(group) and tuple(names) == group)) and (
                block not in self.row_maps
            ):
                return self.blocks[block]
        found = self._located(names)
        if found is not None:
            return np.take(self.blocks[found[0]], found[1], axis=0)
        return np.stack([self[name] for name in names])


@dataclass
class SimResult:
    """Simulated vectors keyed by lower-case SPICE vector name.

    Node voltages are keyed by node name (``n3``, ``w7``), branch currents by the source's SPICE name
    (``spice.names.branch_vector``: ``vbeta#branch`` for the IR's source ``beta``). The sweep
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

    def at(self, nodes: Sequence[str], columns: Sequence[int]) -> np.ndarray:
        """Vectors of many nodes at a few points, (len(nodes), len(columns)); cheaper than ``rows`` when a
        native run holds 10^5 cell vectors."""
        if isinstance(self.vectors, BlockVectors) and nodes:
            try:
                return self.vectors.at(nodes, columns)
            except KeyError:
                pass
        return self.rows(nodes)[:, list(columns)]

    def weighted_sum(self, nodes: Sequence[str], weights: np.ndarray, *, square: bool = False) -> np.ndarray:
        """sum_i weights_i * v(nodes_i) (or its square) over the axis: a power summed over many elements."""
        weights = np.asarray(weights, dtype=float)
        if isinstance(self.vectors, BlockVectors) and nodes:
            try:
                return self.vectors.weighted_sum(nodes, weights, square=square)
            except KeyError:
                pass
        rows = self.rows(nodes)
        return weights @ (rows * rows if square else rows)

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
