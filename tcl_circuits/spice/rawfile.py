"""Reader for ngspice rawfiles (binary and ASCII): ``ngspice -b -r out.raw`` output as numpy arrays.

Names are lower-case as ngspice writes them (``time``, ``v(acc)``, ``i(vs)``); a malformed or short file is a
:class:`~tcl_circuits.errors.SimulationError`. ``backends.ngspice_batch`` runs the batch mode.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tcl_circuits.errors import SimulationError

__all__ = ["RawPlot", "parse_rawfile", "read_rawfile"]

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
