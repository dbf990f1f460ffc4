"""The network resistors' noise currents (``circuit.noise.NetworkNoise``) as currents into the free nodes at
the native engine's grid points.

The network is linear and has no capacitance here, so its node voltages are the noiseless solution plus the
response to these currents (superposition, ``quasistatic.LowRankNetwork.solve``'s ``injected_a``); the grid
holds every noise knot (``NativeBackend.time_grid``), between which the currents are linear.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse

from tcl_circuits.backends.native.parsed import ParsedCircuit
from tcl_circuits.physics.quasistatic import NetworkTopology


def noise_injection(parsed: ParsedCircuit, topology: NetworkTopology, axis_s: np.ndarray) -> np.ndarray:
    """(n_free, P): the network noise currents into each free node at the axis times, linear between knots;
    each resistor's current leaves its a end and enters its b end. The knots are summed into the nodes first
    (a sparse incidence product), then interpolated: fewer rows than resistors."""
    noise = parsed.network_noise
    assert noise is not None
    samples = noise.samples()
    count = parsed.noise_a.size
    rows = topology.position[np.concatenate([parsed.noise_b, parsed.noise_a])]
    signs = np.repeat([1.0, -1.0], count)
    resistors = np.tile(np.arange(count), 2)
    free = rows < topology.n_free
    incidence = scipy.sparse.csr_matrix(
        (signs[free], (rows[free], resistors[free])), shape=(topology.n_free, count)
    )
    per_node = np.ascontiguousarray(incidence @ samples)  # (n_free, knots)
    where = axis_s / noise.step_s
    k = np.clip(np.floor(where * (1 + 1e-12)).astype(np.int64), 0, samples.shape[1] - 2)
    frac = np.minimum(where - k, 1.0)  # past the last knot the current holds, as a PWL source does
    out = np.empty((per_node.shape[0], axis_s.size))
    _interpolate_rows(per_node, k, frac, out)
    return out


@numba.njit(cache=True)
def _interpolate_rows(values, k, frac, out):
    """out[:, p] = values[:, k_p] (1 - frac_p) + values[:, k_p + 1] frac_p, one pass per row."""
    for row in range(values.shape[0]):
        source, target = values[row], out[row]
        for p in range(k.size):
            target[p] = source[k[p]] * (1 - frac[p]) + source[k[p] + 1] * frac[p]
