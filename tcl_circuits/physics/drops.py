"""The squarer of the feedback cells, s = (v(a) - v(b))^2 for many pairs at once, and the drop behind a
resistor's Joule heat: one compiled pass per pair over its samples."""

from __future__ import annotations

import numba
import numpy as np

from tcl_circuits.errors import SimulationError


@numba.njit(cache=True)
def _squared_drops(voltages, ends_a, ends_b, out):
    ground = np.zeros(voltages.shape[1])
    for e in range(ends_a.size):
        row_a = voltages[ends_a[e]] if ends_a[e] >= 0 else ground
        row_b = voltages[ends_b[e]] if ends_b[e] >= 0 else ground
        row = out[e]
        for n in range(row.size):
            drop = row_a[n] - row_b[n]
            row[n] = drop * drop


def squared_drops(
    voltages: np.ndarray, ends_a: np.ndarray, ends_b: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """(v(a_e) - v(b_e))^2 for every pair e, (E, T), from node voltages (nodes, T); an end index < 0 is
    ground (0 V). The squarer of the feedback cells, and the drop behind a resistor's Joule heat."""
    voltages = np.ascontiguousarray(voltages, dtype=float)
    ends_a, ends_b = (np.ascontiguousarray(ends, dtype=np.int64) for ends in (ends_a, ends_b))
    if ends_a.shape != ends_b.shape or ends_a.ndim != 1:
        raise SimulationError(
            f"need two equal 1-D index arrays, got shapes {ends_a.shape} and {ends_b.shape}"
        )
    if ends_a.size and max(ends_a.max(), ends_b.max()) >= voltages.shape[0]:
        raise SimulationError(f"node index beyond the {voltages.shape[0]} rows of voltages")
    out = np.empty((ends_a.size, voltages.shape[1])) if out is None else out
    _squared_drops(voltages, ends_a, ends_b, out)
    return out
