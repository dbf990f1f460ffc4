"""ngspice in batch mode (``ngspice -b -r out.raw``) behind the Backend protocol.

The same decks as the shared-library backend, run as a fresh process per circuit in an empty directory
(also HOME); results are read back from the binary rawfile (``spice.rawfile``) under the shared-mode vector
names (``v(acc)`` -> ``acc``, ``i(vs)`` -> ``vs#branch``). Slower by the process start (~10 ms), useful for
isolation and as the naive baseline in ``scripts/bench_engines.py``.

``behavior`` runs ngspice in one of its compatibility modes (``set ngbehavior=...`` in a ``.spiceinit`` this
backend writes into the run's directory; decks may not carry control lines): ``ltpsa`` reads LTspice-dialect
decks (``spice.syntax.Dialect``), translating their ``if()``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from tcl_circuits.backends.base import SimResult
from tcl_circuits.backends.ngspice import _points, check_reached_end, failure_in_log, timeout_for
from tcl_circuits.circuit.ir import Circuit
from tcl_circuits.errors import SimulationError, SimulationTimeoutError
from tcl_circuits.spice.rawfile import read_rawfile
from tcl_circuits.spice.syntax import check_deck
from tcl_circuits.spice.writer import write_netlist

BEHAVIORS = ("lt", "lta", "ltps", "ltpsa", "ps", "psa")
"""ngspice 39 compatibility modes a run may ask for (``ltpsa``: LTspice and PSpice syntax, the whole deck)."""
_VOLTAGE = re.compile(r"^v\((.+)\)$")
_CURRENT = re.compile(r"^i\((.+)\)$")


def shared_name(raw_name: str) -> str:
    """The shared-mode name of a rawfile vector: ``v(n1)`` -> ``n1``, ``i(v1)`` -> ``v1#branch``."""
    if match := _VOLTAGE.match(raw_name):
        return match[1]
    if match := _CURRENT.match(raw_name):
        return f"{match[1]}#branch"
    return raw_name


class NgspiceBatchBackend:
    """Runs each circuit with ``ngspice -b`` in a fresh temporary directory."""

    def __init__(
        self, *, timeout_s: float | None = None, executable: str = "ngspice", behavior: str | None = None
    ) -> None:
        if behavior is not None and behavior not in BEHAVIORS:
            raise SimulationError(f"ngspice behavior must be one of {', '.join(BEHAVIORS)}, got {behavior!r}")
        self.timeout_s = timeout_s
        self.executable = executable
        self.behavior = behavior
        self.runs = 0

    def run_netlist(self, netlist: str, *, points: float = 1.0) -> SimResult:
        """Run a deck (after the safety scan) and return the last plot's vectors."""
        check_deck(netlist)
        timeout = self.timeout_s if self.timeout_s is not None else timeout_for(netlist, points)
        workdir = Path(tempfile.mkdtemp(prefix="tcl_ngspice_batch_"))
        started = time.perf_counter()
        try:
            (workdir / "deck.cir").write_text(netlist)
            if self.behavior:
                (workdir / ".spiceinit").write_text(f"set ngbehavior={self.behavior}\n")
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "LC_ALL": "C"}
            try:
                proc = subprocess.run(
                    [self.executable, "-b", "-r", "out.raw", "deck.cir"],
                    cwd=workdir,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SimulationTimeoutError(
                    f"ngspice -b did not finish within {timeout:.3g} s", netlist=netlist
                ) from None
            except OSError as exc:
                raise SimulationError(
                    f"cannot start ngspice ({self.executable!r}): {exc}", netlist=netlist
                ) from None
            log = proc.stdout + proc.stderr
            if proc.returncode != 0:
                raise SimulationError(f"ngspice exited with code {proc.returncode}", netlist=netlist, log=log)
            error = failure_in_log(log, netlist)
            if error is not None:
                raise error
            try:
                raw = read_rawfile(workdir / "out.raw")
            except SimulationError as exc:
                raise SimulationError(str(exc), netlist=netlist, log=log) from None
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.runs += 1
        vectors = {shared_name(key): np.real(value).astype(float) for key, value in raw.items()}
        return SimResult(
            vectors=vectors, log=log, netlist=netlist, stats={"seconds": time.perf_counter() - started}
        )

    def run(self, circuit: Circuit) -> SimResult:
        result = self.run_netlist(write_netlist(circuit), points=_points(circuit))
        check_reached_end(circuit, result)
        return result

    def close(self) -> None:
        """Nothing to release (each run is its own process)."""

    def __enter__(self) -> NgspiceBatchBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
