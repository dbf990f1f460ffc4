"""Simulator backends behind one protocol: ``run(circuit) -> SimResult``.

Concrete backends are imported lazily so that importing tcl_circuits never loads ngspice.
"""

from __future__ import annotations

from ..config import BackendKind, SimulatorConfig
from .base import Backend, SimResult

__all__ = ["Backend", "SimResult", "open_backend"]


def open_backend(kind: BackendKind, sim: SimulatorConfig | None = None) -> Backend:
    """Start a backend of the given kind (close it, or use it as a context manager)."""
    sim = sim or SimulatorConfig()
    if kind is BackendKind.NGSPICE:
        from .ngspice import NgspiceBackend

        return NgspiceBackend(timeout_s=sim.timeout_s)
    if kind is BackendKind.NATIVE:
        from .native import NativeBackend

        return NativeBackend()
    raise TypeError(f"unknown backend kind {kind!r}")
