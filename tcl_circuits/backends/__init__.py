"""Simulator backends behind one protocol: ``run(circuit) -> SimResult``.

Concrete backends are imported lazily so that importing tcl_circuits never loads ngspice.
"""

from __future__ import annotations

from tcl_circuits.backends.base import Backend, SimResult
from tcl_circuits.config import BackendKind, SimulatorConfig
from tcl_circuits.errors import ConfigError

__all__ = ["Backend", "SimResult", "open_backend"]


def open_backend(kind: BackendKind, sim: SimulatorConfig | None = None) -> Backend:
    """Start a backend of the given kind (close it, or use it as a context manager)."""
    sim = sim or SimulatorConfig()
    if kind is BackendKind.NGSPICE:
        from tcl_circuits.backends.ngspice import NgspiceBackend

        return NgspiceBackend(timeout_s=sim.timeout_s)
    if kind is BackendKind.NATIVE:
        from tcl_circuits.backends.native.engine import NativeBackend

        return NativeBackend(
            max_time_points=sim.max_time_points, max_points_per_segment=sim.max_points_per_ramp
        )
    raise ConfigError(
        f"unknown backend {kind!r}; expected one of {', '.join(k.value for k in BackendKind)}",
        field="backend",
    )
