"""The ngspice backend: the shared library (through PySpice) inside worker processes.

The worker is ``python -m tcl_circuits.backends.ngspice_worker`` (the only module that imports PySpice),
started as a plain subprocess so that it works from any script or notebook. Why a worker: threads sharing the
library segfault, some decks kill the host process, and a run can hang; a process can be killed and replaced.
Each worker starts in an empty temporary directory with HOME pointing there (ngspice executes a
``.spiceinit`` found in either), runs one deck at a time and frees all plots after each run (flat memory).
ngspice's return codes carry no information, so failure is read from its output text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection

import numpy as np

from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.ir import Circuit, DcSweep, Transient
from tcl_circuits.errors import ConvergenceError, SimulationError, SimulationTimeoutError, WorkerCrashedError
from tcl_circuits.spice.writer import check_deck, write_netlist

_FAILURE_PATTERNS = (
    (re.compile(r"timestep too small", re.I), ConvergenceError),
    (re.compile(r"singular matrix", re.I), ConvergenceError),
    (re.compile(r"gmin stepping failed|source stepping failed", re.I), ConvergenceError),
    (re.compile(r"aborted", re.I), ConvergenceError),
    (re.compile(r"not parsed", re.I), SimulationError),
    (re.compile(r"\berror\b", re.I), SimulationError),
)


class NgspiceBackend:
    """Runs circuits in an ngspice worker process; replaces the worker when it crashes or times out."""

    def __init__(self, *, timeout_s: float = 120.0, retries_after_crash: int = 1) -> None:
        self.timeout_s = timeout_s
        self.retries_after_crash = retries_after_crash
        self.restarts = 0
        self._started = False
        self.runs = 0
        self._process = None
        self._conn = None
        self._send = None
        self._workdir: str | None = None

    # --- worker lifecycle --------------------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            self.restarts += 1
        self._started = True
        self._workdir = tempfile.mkdtemp(prefix="tcl_ngspice_")
        env = {**os.environ, "HOME": self._workdir}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tcl_circuits.backends.ngspice_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self._workdir,
            env=env,
        )
        self._send = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._conn = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        if not self._conn.poll(60.0):
            self._stop(kill=True)
            raise WorkerCrashedError("the ngspice worker did not start within 60 s")
        try:
            self._conn.recv()
        except (EOFError, OSError):
            self._stop(kill=True)
            raise WorkerCrashedError(
                "the ngspice worker died while starting: is libngspice installed (Debian libngspice0-dev)?"
            ) from None

    def _stop(self, *, kill: bool = False) -> None:
        if self._process is not None:
            if not kill and self._process.poll() is None:
                try:
                    self._send.send(None)
                    self._process.wait(5.0)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait(5.0)
            for end in (self._send, self._conn, self._process.stdin, self._process.stdout):
                end.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._process = self._conn = self._send = self._workdir = None

    @property
    def worker_pid(self) -> int | None:
        """PID of the current worker process (None before the first run)."""
        return None if self._process is None else self._process.pid

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> NgspiceBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running -----------------------------------------------------------------------------
    def _exchange(self, netlist: str, wanted: frozenset[str] | None) -> tuple[dict[str, np.ndarray], str]:
        if self._process is None or self._process.poll() is not None:
            self._stop(kill=True)
            self._start()
        try:
            self._send.send((netlist, wanted))
            if not self._conn.poll(self.timeout_s):
                self._stop(kill=True)
                raise SimulationTimeoutError(
                    f"ngspice did not finish within {self.timeout_s} s", netlist=netlist
                )
            _, vectors, log = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._process.poll() if self._process is not None else None
            self._stop(kill=True)
            raise WorkerCrashedError(f"the ngspice worker died (exit code {code})", netlist=netlist) from None
        return vectors, log

    def run_netlist(self, netlist: str, *, wanted: frozenset[str] | None = None) -> SimResult:
        """Run a deck (checked with the writer's safety scan first) and return its vectors."""
        check_deck(netlist)
        attempts = 1 + self.retries_after_crash
        for attempt in range(attempts):
            try:
                started = time.perf_counter()
                vectors, log = self._exchange(netlist, wanted)
                break
            except SimulationTimeoutError:
                raise
            except WorkerCrashedError:
                if attempt == attempts - 1:
                    raise
        self.runs += 1
        result = SimResult(
            vectors=vectors, log=log, netlist=netlist, stats={"seconds": time.perf_counter() - started}
        )
        for pattern, error in _FAILURE_PATTERNS:
            match = pattern.search(log)
            if match:
                line = next((ln for ln in log.splitlines() if pattern.search(ln)), match.group(0))
                raise error(f"ngspice failed: {line.strip()}", netlist=netlist, log=log)
        if not vectors:
            raise SimulationError("ngspice produced no results", netlist=netlist, log=log)
        return result

    def run(self, circuit: Circuit) -> SimResult:
        """Write the circuit's netlist, run it, and check that the analysis reached its end."""
        result = self.run_netlist(write_netlist(circuit))
        analysis = circuit.analysis
        axis = result.axis
        if isinstance(analysis, Transient) and not np.isclose(axis[-1], analysis.stop_s, rtol=1e-9, atol=0):
            raise ConvergenceError(
                f"transient stopped at t = {axis[-1]!r} s before tstop = {analysis.stop_s!r} s",
                netlist=result.netlist,
                log=result.log,
            )
        if isinstance(analysis, DcSweep):
            expected = int(round((analysis.stop - analysis.start) / analysis.step)) + 1
            if axis.size != expected:
                raise ConvergenceError(
                    f"DC sweep returned {axis.size} points, expected {expected}",
                    netlist=result.netlist,
                    log=result.log,
                )
        return result
