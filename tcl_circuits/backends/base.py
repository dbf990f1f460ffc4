"""The backend protocol and the result every backend returns (vectors keyed by SPICE name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..circuit import Circuit
from ..errors import SimulationError


@dataclass
class SimResult:
    """Simulated vectors keyed by lower-case SPICE vector name.

    Node voltages are keyed by node name (``n3``, ``w7``), branch currents by ``<source>#branch``. The sweep
    variable is ``time`` for transients and the swept source's name for DC sweeps (``v-sweep`` in ngspice).
    """

    vectors: dict[str, np.ndarray]
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
