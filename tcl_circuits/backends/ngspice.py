"""The ngspice backend: the shared library (through PySpice) inside supervised worker processes.

The worker is ``python -m tcl_circuits.backends.ngspice_worker`` (the only module that imports PySpice),
started as a plain subprocess so that it works from any script or notebook. Why a worker: threads sharing the
library segfault, some decks kill the host process, and a run can hang; a process can be killed and replaced.

Supervision: each run has a time limit (``timeout_s``, or by default one scaled by the deck's size and time
points); a worker that crashes or does not answer in time is killed and the run is retried once on a fresh
worker; a worker is replaced every ``restart_every`` runs so that its memory stays flat whatever the library
keeps. Each worker starts in an empty temporary directory with HOME pointing there (ngspice executes a
``.spiceinit`` found in either), runs one deck at a time and frees all plots after each run. ngspice's return
codes carry no information, so failure is read from its output text (``failure_in_log``).
"""

from __future__ import annotations

import ctypes.util
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection

import numpy as np

from tcl_circuits.backends.base import SimResult
from tcl_circuits.circuit.ir import Circuit, DcSweep, Transient
from tcl_circuits.errors import (
    ConvergenceError,
    SimulationError,
    SimulationTimeoutError,
    WorkerCrashedError,
)
from tcl_circuits.spice.syntax import check_deck
from tcl_circuits.spice.writer import write_netlist

_FAILURE_PATTERNS = (
    (re.compile(r"timestep too small", re.I), ConvergenceError),
    (re.compile(r"singular matrix", re.I), ConvergenceError),
    (re.compile(r"gmin stepping failed|source stepping failed", re.I), ConvergenceError),
    (re.compile(r"aborted", re.I), ConvergenceError),
    (re.compile(r"not parsed", re.I), SimulationError),
    (re.compile(r"\berror\b", re.I), SimulationError),
)

BASE_TIMEOUT_S = 60.0
"""Time limit of the smallest deck; larger decks get more (``timeout_for``)."""
SECONDS_PER_LINE_POINT = 2e-4
"""Allowance per deck line per output time point: measured cost is ~1.5 us per B-source per Newton iteration
and ~4 iterations per point, so this leaves a margin of about 30x (ngspice-notes section 3)."""


def failure_in_log(log: str, netlist: str = "") -> SimulationError | None:
    """The typed error ngspice's output text reports (its exit codes are always 0), or None."""
    for pattern, error in _FAILURE_PATTERNS:
        match = pattern.search(log)
        if match:
            line = next((ln for ln in log.splitlines() if pattern.search(ln)), match.group(0))
            return error(f"ngspice failed: {line.strip()}", netlist=netlist, log=log)
    return None


def timeout_for(netlist: str, points: float) -> float:
    """A time limit for one run of ``netlist`` with ``points`` output time points, seconds."""
    lines = netlist.count("\n") + 1
    return BASE_TIMEOUT_S + SECONDS_PER_LINE_POINT * lines * max(points, 1.0)


def check_reached_end(circuit: Circuit, result: SimResult) -> None:
    """Raise ConvergenceError unless a transient reached tstop / a DC sweep returned every point."""
    analysis, axis = circuit.analysis, result.axis
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


def _points(circuit: Circuit) -> float:
    analysis = circuit.analysis
    if isinstance(analysis, Transient):
        return analysis.stop_s / analysis.max_step_s
    return abs(analysis.stop - analysis.start) / abs(analysis.step) + 1 if analysis.step else 1.0


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not answer"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class NgspiceBackend:
    """Runs circuits in an ngspice worker process; replaces the worker when it crashes, hangs or ages.

    Parameters
    ----------
    timeout_s : time limit of one run, seconds; None: scaled by the deck (``timeout_for``).
    retries : runs retried on a fresh worker after a crash or a timeout (1: one retry).
    restart_every : runs after which the worker is replaced (flat memory); 0 never.
    """

    def __init__(
        self, *, timeout_s: float | None = None, retries: int = 1, restart_every: int = 1000
    ) -> None:
        if timeout_s is not None and not (math.isfinite(timeout_s) and timeout_s > 0):
            raise SimulationError(f"timeout_s must be a finite number > 0 or None, got {timeout_s!r}")
        self.timeout_s = timeout_s
        self.retries = retries
        self.restart_every = restart_every
        self.restarts = 0
        self.runs = 0
        self._runs_on_worker = 0
        self._started = False
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._send: Connection | None = None
        self._workdir: str | None = None

    # --- worker lifecycle --------------------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            self.restarts += 1
        self._workdir = tempfile.mkdtemp(prefix="tcl_ngspice_")
        env = {**os.environ, "HOME": self._workdir}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tcl_circuits.backends.ngspice_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self._workdir,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._send = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._conn = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._runs_on_worker = 0
        ready = self._conn.poll(60.0)
        try:
            if not ready:
                raise EOFError
            self._conn.recv()
        except (EOFError, OSError):
            code = self._process.poll()
            self._stop(kill=True)
            if not self._started and ctypes.util.find_library("ngspice") is None:
                raise WorkerCrashedError(
                    "the ngspice worker could not start: libngspice is not installed (Debian: apt-get install "
                    "ngspice libngspice0-dev; ./scripts/setup-env does it)"
                ) from None
            raise WorkerCrashedError(f"the ngspice worker {_describe_exit(code)} while starting") from None
        self._started = True

    def _stop(self, *, kill: bool = False) -> None:
        process = self._process
        if process is not None:
            if not kill and process.poll() is None:
                try:
                    assert self._send is not None
                    self._send.send(None)
                    process.wait(5.0)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if process.poll() is None:
                process.kill()
                process.wait(5.0)
            for end in (self._send, self._conn, process.stdin, process.stdout):
                if end is not None:
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
    def _exchange(
        self, netlist: str, wanted: frozenset[str] | None, timeout_s: float
    ) -> tuple[dict[str, np.ndarray], str]:
        if (
            self._process is None
            or self._process.poll() is not None
            or (self.restart_every and self._runs_on_worker >= self.restart_every)
        ):
            self._stop(kill=self._process is not None and self._process.poll() is not None)
            self._start()
        assert self._send is not None and self._conn is not None and self._process is not None
        try:
            self._send.send((netlist, wanted))
            if not self._conn.poll(timeout_s):
                self._stop(kill=True)
                raise SimulationTimeoutError(
                    f"ngspice did not finish within {timeout_s:.3g} s", netlist=netlist
                )
            _, vectors, log = self._conn.recv()
        except (EOFError, OSError):
            code = None
            if self._process is not None:  # the pipe closed: give the dying worker a moment to be reaped
                try:
                    code = self._process.wait(5.0)
                except subprocess.TimeoutExpired:
                    code = None
            self._stop(kill=True)
            raise WorkerCrashedError(f"the ngspice worker {_describe_exit(code)}", netlist=netlist) from None
        self._runs_on_worker += 1
        return vectors, log

    def run_netlist(
        self, netlist: str, *, wanted: frozenset[str] | None = None, points: float = 1.0
    ) -> SimResult:
        """Run a deck (checked with the safety scan first) and return its vectors.

        ``wanted`` limits the returned vectors (lower-case names); ``points`` (output time points) scales the
        default time limit.
        """
        check_deck(netlist)
        timeout = self.timeout_s if self.timeout_s is not None else timeout_for(netlist, points)
        failures: list[str] = []
        for attempt in range(1 + self.retries):
            try:
                started = time.perf_counter()
                vectors, log = self._exchange(netlist, wanted, timeout)
                break
            except WorkerCrashedError as error:
                failures.append(str(error))
                if attempt == self.retries:
                    kind = (
                        SimulationTimeoutError
                        if isinstance(error, SimulationTimeoutError)
                        else WorkerCrashedError
                    )
                    retried = f" (also on {attempt} fresh worker(s))" if attempt else ""
                    hint = (
                        "; the limit scales with the deck, set it with --timeout"
                        if isinstance(error, SimulationTimeoutError)
                        else ""
                    )
                    raise kind(f"{failures[0]}{retried}{hint}", netlist=netlist) from None
        self.runs += 1
        result = SimResult(
            vectors=vectors, log=log, netlist=netlist, stats={"seconds": time.perf_counter() - started}
        )
        failure = failure_in_log(log, netlist)
        if failure is not None:
            raise failure
        if not vectors:
            raise SimulationError("ngspice produced no results", netlist=netlist, log=log)
        return result

    def run(self, circuit: Circuit) -> SimResult:
        """Write the circuit's netlist, run it, and check that the analysis reached its end."""
        result = self.run_netlist(write_netlist(circuit), wanted=circuit.saves, points=_points(circuit))
        check_reached_end(circuit, result)
        return result
