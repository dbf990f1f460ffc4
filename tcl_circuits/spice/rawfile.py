"""Reader for ngspice rawfiles (binary and ASCII) and a checked batch run of ngspice.

Owns: parsing ``ngspice -b -r out.raw`` output into numpy arrays (dict name → array, names lower-case as
ngspice writes them, e.g. ``time``, ``v(acc)``, ``i(vs)``), and the checks that turn ngspice's silent
failures (exit code 0 with an error in the text) into :class:`~tcl_circuits.errors.SimulationError`:
error words in the log, a missing or short rawfile, and a transient that stopped before ``tstop``.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tcl_circuits.errors import ConvergenceError, SimulationError

__all__ = ["RawPlot", "parse_rawfile", "read_rawfile", "check_log", "check_tstop", "run_ngspice_batch"]

_CONVERGENCE_PATTERNS = ("timestep too small", "singular matrix", "aborted")
_ERROR_RE = re.compile(r"\berror\b", re.IGNORECASE)


@dataclass(frozen=True)
class RawPlot:
    """One plot of a rawfile: its header fields and one array per variable (complex if the plot is)."""

    title: str
    plotname: str
    flags: str
    variables: dict[str, np.ndarray] = field(default_factory=dict)


def _parse_header(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    head: dict[str, str] = {}
    names: list[str] = []
    in_vars = False
    for line in lines:
        if in_vars and line[:1] in ("\t", " ") and line.strip():
            parts = line.split()
            names.append(parts[1].lower())
            continue
        in_vars = False
        key, _, value = line.partition(":")
        head[key.strip().lower()] = value.strip()
        if key.strip().lower() == "variables":
            in_vars = True
    return head, names


def parse_rawfile(data: bytes) -> list[RawPlot]:
    """All plots of a rawfile given as bytes.

    Raises
    ------
    SimulationError
        The header is malformed or the data section is shorter than announced.
    """
    plots: list[RawPlot] = []
    pos = 0
    while pos < len(data):
        lines: list[str] = []
        mode = ""
        while pos < len(data):
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            line = data[pos:end].decode("latin-1").rstrip("\r")
            pos = end + 1
            if line.strip().lower() in ("binary:", "values:"):
                mode = line.strip().lower()
                break
            if line.strip():
                lines.append(line)
        if not mode:
            if lines:
                raise SimulationError(
                    "rawfile header without a 'Binary:' or 'Values:' section", log="\n".join(lines)
                )
            break
        head, names = _parse_header(lines)
        try:
            n_vars = int(head["no. variables"])
            n_points = int(head["no. points"])
        except (KeyError, ValueError):
            raise SimulationError(
                "rawfile header lacks 'No. Variables'/'No. Points'", log="\n".join(lines)
            ) from None
        if len(names) != n_vars:
            raise SimulationError(
                f"rawfile announces {n_vars} variables but lists {len(names)}", log="\n".join(lines)
            )
        flags = head.get("flags", "real").lower()
        is_complex = "complex" in flags
        width = 2 if is_complex else 1
        if mode == "binary:":
            n_bytes = n_points * n_vars * width * 8
            if pos + n_bytes > len(data):
                raise SimulationError(
                    f"rawfile data section is short: {len(data) - pos} of {n_bytes} bytes",
                    log="\n".join(lines),
                )
            arr = np.frombuffer(data, dtype="<f8", count=n_points * n_vars * width, offset=pos)
            pos += n_bytes
            arr = arr.reshape(n_points, n_vars * width)
            if is_complex:
                arr = arr[:, 0::2] + 1j * arr[:, 1::2]
        else:
            values: list[complex | float] = []
            need = n_points * n_vars
            while len(values) < need and pos < len(data):
                end = data.find(b"\n", pos)
                if end < 0:
                    end = len(data)
                tokens = data[pos:end].decode("latin-1").split()
                pos = end + 1
                if not tokens:
                    continue
                tok = tokens[-1]
                if is_complex:
                    re_s, _, im_s = tok.partition(",")
                    values.append(complex(float(re_s), float(im_s or 0.0)))
                else:
                    values.append(float(tok))
            if len(values) < need:
                raise SimulationError(f"rawfile ASCII data is short: {len(values)} of {need} values")
            arr = np.asarray(values).reshape(n_points, n_vars)
        variables = {name: np.ascontiguousarray(arr[:, i]) for i, name in enumerate(names)}
        plots.append(RawPlot(head.get("title", ""), head.get("plotname", ""), flags, variables))
    if not plots:
        raise SimulationError("rawfile holds no plot")
    return plots


def read_rawfile(path: str | os.PathLike[str], plot: int = -1) -> dict[str, np.ndarray]:
    """Variables of one plot (default: the last, i.e. the transient) of the rawfile at ``path``."""
    p = Path(path)
    if not p.is_file():
        raise SimulationError(f"rawfile {p.name!r} was not written")
    return parse_rawfile(p.read_bytes())[plot].variables


def check_log(log: str, netlist: str = "") -> None:
    """Raise if ngspice's output text reports an error (its exit code is 0 regardless)."""
    low = log.lower()
    for pattern in _CONVERGENCE_PATTERNS:
        if pattern in low:
            raise ConvergenceError(f"ngspice reported {pattern!r}", netlist=netlist, log=log)
    if _ERROR_RE.search(log):
        line = next(ln for ln in log.splitlines() if _ERROR_RE.search(ln))
        raise SimulationError(f"ngspice reported an error: {line.strip()}", netlist=netlist, log=log)


def check_tstop(variables: dict[str, np.ndarray], tstop: float, netlist: str = "", log: str = "") -> None:
    """Raise unless the transient's last time point equals ``tstop`` (relative tolerance 1e-9)."""
    t = variables.get("time")
    if t is None or t.size == 0:
        raise SimulationError("rawfile has no 'time' vector", netlist=netlist, log=log)
    last = float(np.real(t[-1]))
    if not math.isclose(last, tstop, rel_tol=1e-9, abs_tol=0.0):
        raise SimulationError(
            f"transient stopped at t={last!r}, expected tstop={tstop!r}", netlist=netlist, log=log
        )


def run_ngspice_batch(
    netlist: str,
    workdir: str | os.PathLike[str],
    tstop: float,
    timeout_s: float = 120.0,
    executable: str = "ngspice",
) -> dict[str, np.ndarray]:
    """Run ``ngspice -b -r out.raw deck.cir`` in ``workdir`` (also used as HOME) and return the checked
    transient vectors."""
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "deck.cir").write_text(netlist)
    raw = wd / "out.raw"
    if raw.exists():
        raw.unlink()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(wd), "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            [executable, "-b", "-r", raw.name, "deck.cir"],
            cwd=wd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SimulationError(
            f"ngspice exceeded {timeout_s} s", netlist=netlist, log=str(exc.output or "")
        ) from None
    except OSError as exc:
        raise SimulationError(f"cannot start ngspice ({executable!r}): {exc}", netlist=netlist) from None
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SimulationError(f"ngspice exited with code {proc.returncode}", netlist=netlist, log=log)
    check_log(log, netlist)
    try:
        variables = read_rawfile(raw)
    except SimulationError as exc:
        raise SimulationError(str(exc), netlist=netlist, log=log) from None
    check_tstop(variables, tstop, netlist, log)
    return variables
