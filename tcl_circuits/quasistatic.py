"""Numerical core of the native engine: the quasi-static network solve and the exact per-edge cell update.

Two pieces, both on plain index arrays (``backends.native`` maps the circuit IR onto them):

- ``NetworkTopology`` (what depends only on the connections, cached across samples) and ``LowRankNetwork``:
  node voltages of a linear resistor network at many sweep or time points when the only
  thing that changes between points is a set of K clamp conductances (and the driven voltages). The network
  is factorised once; each clamp is a rank-one term gamma_k(t) c_k c_k^T, so every point costs a K x K
  solve plus O(N K) (Sherman-Morrison-Woodbury), instead of a sparse factorisation.
- ``highpass_foh``, ``threshold_area`` (with ``threshold_step_integral``) and ``accumulate_rows``: the
  feedback cell of every edge, vectorised over edges.
  The signal s(t) is taken piecewise linear between grid points (first-order hold), under which the series
  C_K / R_K high-pass and the integral of the thresholded output over a step are exact closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .errors import ConvergenceError

GROUND = -1
"""Index that stands for node 0 (ground) in every index array of this module."""


class NetworkTopology:
    """What depends only on a network's connections, not its conductances: node ordering, the sparsity
    pattern of the free-node Laplacian, the clamp columns and the connectivity check. Built once per
    topology and reused for every sample (``NativeBackend`` caches it).

    Nodes are 0..n_nodes-1; index ``GROUND`` (-1) is node 0. ``driven`` nodes have imposed voltages (voltage
    sources to ground); all others are free and obey Kirchhoff's current law. Internally nodes are ordered
    free, driven, ground, so ground is the last column of a full voltage row (``position`` maps).

    Parameters
    ----------
    n_nodes : number of non-ground nodes.
    res_a, res_b : end nodes of each resistor (``GROUND`` allowed).
    driven : indices of the driven nodes.
    clamp_a, clamp_b : end nodes of each clamp conductance (``GROUND`` allowed).
    names : node names, used only in error messages.

    Raises
    ------
    ConvergenceError
        When the resistors leave a free node without a path to a driven node or ground (the DC operating
        point with all clamps off would be singular).
    """

    def __init__(
        self,
        n_nodes: int,
        res_a: np.ndarray,
        res_b: np.ndarray,
        driven: np.ndarray,
        clamp_a: np.ndarray,
        clamp_b: np.ndarray,
        names: list[str] | None = None,
    ) -> None:
        driven = np.asarray(driven, dtype=int)
        is_driven = np.zeros(n_nodes, dtype=bool)
        is_driven[driven] = True
        self.n_nodes = n_nodes
        self.free = np.flatnonzero(~is_driven)
        self.driven = driven
        n_free = self.n_free = self.free.size
        position = np.empty(n_nodes + 1, dtype=int)
        position[self.free] = np.arange(n_free)
        position[driven] = n_free + np.arange(driven.size)
        position[GROUND] = n_nodes
        self.position = position
        a = position[np.asarray(res_a, dtype=int)]
        b = position[np.asarray(res_b, dtype=int)]
        self._check_connected(a, b, names)
        # L_ff in CSC: entries (row, col) <- resistor values; duplicates summed through ``_slot``
        both = np.flatnonzero((a < n_free) & (b < n_free))
        end_a = np.flatnonzero(a < n_free)
        end_b = np.flatnonzero(b < n_free)
        rows = np.concatenate([a[both], b[both], a[end_a], b[end_b]])
        cols = np.concatenate([b[both], a[both], a[end_a], b[end_b]])
        self._sources = np.concatenate([both, both, end_a, end_b])  # resistor behind each entry
        self._signs = np.concatenate([-np.ones(2 * both.size), np.ones(end_a.size + end_b.size)])
        unique, self._slot = np.unique(cols * max(n_free, 1) + rows, return_inverse=True)
        self._indices = (unique % max(n_free, 1)).astype(np.int32)
        self._indptr = np.searchsorted(unique // max(n_free, 1), np.arange(n_free + 1)).astype(np.int32)
        self._entries = unique.size
        # couplings free node <- driven node (ground couples to nothing: it is at 0 V)
        forward = np.flatnonzero((a < n_free) & (b >= n_free) & (b < n_nodes))
        backward = np.flatnonzero((b < n_free) & (a >= n_free) & (a < n_nodes))
        self.coupling_row = np.concatenate([a[forward], b[backward]])
        self.coupling_driven = np.concatenate([b[forward], a[backward]]) - n_free
        self.coupling_resistor = np.concatenate([forward, backward])
        self.driven_connected = np.unique(self.coupling_driven)
        self.clamp_a = position[np.asarray(clamp_a, dtype=int)]
        self.clamp_b = position[np.asarray(clamp_b, dtype=int)]
        self.n_clamps = self.clamp_a.size
        u_f = np.zeros((n_free, self.n_clamps))
        for column, (i, j) in enumerate(zip(self.clamp_a.tolist(), self.clamp_b.tolist(), strict=True)):
            if i < n_free:
                u_f[i, column] += 1.0
            if j < n_free:
                u_f[j, column] -= 1.0
        self.clamp_columns = u_f

    def _check_connected(self, a: np.ndarray, b: np.ndarray, names: list[str] | None) -> None:
        """Every free node needs a resistive path to a driven node or ground (internal positions a, b)."""
        n_free = self.free.size
        if n_free == 0:
            return
        size = self.n_nodes + 1
        graph = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(size, size))
        _, label = sp.csgraph.connected_components(graph, directed=False)
        anchored = np.zeros(label.max() + 1, dtype=bool)
        anchored[label[n_free:]] = True
        floating = self.free[~anchored[label[:n_free]]]
        if floating.size:
            shown = [names[i] if names is not None else str(i) for i in floating[:5]]
            raise ConvergenceError(
                f"{floating.size} node(s) have no resistive path to a source or ground (singular network), "
                f"e.g. {', '.join(shown)}"
            )

    def laplacian_ff(self, conductance_s: np.ndarray) -> sp.csc_matrix:
        """The free-node block of the weighted Laplacian for these resistor conductances."""
        data = np.bincount(self._slot, conductance_s[self._sources] * self._signs, minlength=self._entries)
        return sp.csc_matrix((data, self._indices, self._indptr), shape=(self.n_free, self.n_free))


class LowRankNetwork:
    """A factorised linear resistor network with K clamp conductances as low-rank updates.

    Parameters
    ----------
    topology : the network's connections (``NetworkTopology``).
    conductance_s : conductance of each resistor, siemens, in the topology's resistor order.
    """

    def __init__(self, topology: NetworkTopology, conductance_s: np.ndarray) -> None:
        self.topology = topology
        self.n_nodes = topology.n_nodes
        self.position = topology.position
        self.n_clamps = topology.n_clamps
        self._g = np.asarray(conductance_s, dtype=float)
        self._lu = None
        if topology.n_free:
            try:
                self._lu = spla.splu(
                    topology.laplacian_ff(self._g),
                    permc_spec="MMD_AT_PLUS_A",
                    diag_pivot_thresh=0.0,
                    options={"SymmetricMode": True},
                )
            except RuntimeError as error:  # exactly singular despite the connectivity check
                raise ConvergenceError(f"the resistor network is singular: {error}") from None
        self._z: np.ndarray | None = None

    @property
    def n_free(self) -> int:
        return self.topology.n_free

    def _base_solution(self, driven_v: np.ndarray) -> np.ndarray:
        """Free-node voltages with every clamp off for driven voltages (P, n_driven): shape (n_free, 1) when
        the sources connected to the resistors are the same at every point, else (n_free, P).

        Also solves Z = L_ff^-1 U (the clamp columns) in the same call to the factorisation.
        """
        top = self.topology
        n_free = top.n_free
        if n_free == 0:
            self._z = np.zeros((0, self.n_clamps))
            return np.zeros((0, 1))
        connected = top.driven_connected
        columns = driven_v[:, connected]
        g = self._g[top.coupling_resistor]
        if bool(np.all(columns == columns[:1])):  # sources constant over the points: one right-hand side
            rhs = np.bincount(top.coupling_row, g * driven_v[0, top.coupling_driven], minlength=n_free)
            solved = self._lu.solve(np.column_stack([rhs, top.clamp_columns]))
            self._z = solved[:, 1:]
            return solved[:, :1]
        response = np.zeros((n_free, connected.size))  # one right-hand side per connected driven node
        np.add.at(response, (top.coupling_row, np.searchsorted(connected, top.coupling_driven)), g)
        solved = self._lu.solve(np.column_stack([response, top.clamp_columns]))
        self._z = solved[:, connected.size :]
        return blocked_matmul(solved[:, : connected.size], np.ascontiguousarray(columns.T))

    def solve(
        self,
        driven_v: np.ndarray,
        clamp_s: np.ndarray | None = None,
        *,
        waveform: np.ndarray | None = None,
        clamp_conductance_s: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Node voltages at P points, shape (n_nodes + 1, P): one row per node in internal order (free,
        driven, ground), so each node's trajectory is contiguous.

        Give either ``clamp_s``, the (P, K) clamp conductances at every point (batched K x K solves), or
        ``waveform`` (P,) and ``clamp_conductance_s`` (K,) > 0 with clamp k at waveform * conductance_k (one
        eigendecomposition serves every point: the case of one sawtooth beta driving every clamp).

        Parameters
        ----------
        driven_v : (P, n_driven) voltages of the driven nodes, in the order given to the constructor.
        out : optional (n_nodes + 1, P) array to fill and return.
        """
        driven_v = np.asarray(driven_v, dtype=float)
        points = driven_v.shape[0]
        n_free = self.n_free
        full = np.empty((self.n_nodes + 1, points)) if out is None else out
        full[n_free : self.n_nodes] = driven_v.T
        full[self.n_nodes] = 0.0
        base = self._base_solution(driven_v)
        if self.n_clamps == 0 or n_free == 0:
            full[:n_free] = base
            return full
        z = self._z
        top = self.topology
        # the K x K clamp system: S = U^T Z, U's columns are +-unit vectors on the clamp ends
        z_rows = np.zeros((self.n_nodes + 1, self.n_clamps))
        z_rows[:n_free] = z
        s_matrix = z_rows[top.clamp_a] - z_rows[top.clamp_b]
        delta0 = np.empty((points, self.n_clamps))  # clamp voltages with every clamp off
        for column, (i, j) in enumerate(zip(top.clamp_a.tolist(), top.clamp_b.tolist(), strict=True)):
            end_i = base[i] if i < n_free else full[i]
            end_j = base[j] if j < n_free else full[j]
            np.subtract(end_i, end_j, out=delta0[:, column])
        if waveform is not None:
            j = _clamp_currents_common(
                s_matrix, delta0, np.asarray(waveform, dtype=float), clamp_conductance_s
            )
        else:
            j = _clamp_currents_general(s_matrix, delta0, np.asarray(clamp_s, dtype=float))
        free_part = full[:n_free]
        blocked_matmul(z, np.ascontiguousarray(j.T), out=free_part)
        free_part += base
        return full


_BLOCK_MULTIPLY_ADDS = 1 << 17
"""Largest product, in multiply-adds, handed to BLAS in one call by ``blocked_matmul``."""


def blocked_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b in row blocks small enough that BLAS runs each on one thread.

    These products (N x K by K x P, K the clamp count) are far too small to gain from threads, and a
    threaded BLAS on a busy machine made one 50x slower (16 ms against 0.3 ms, docs/native.md).
    """
    out = np.empty((a.shape[0], b.shape[1])) if out is None else out
    rows = max(1, _BLOCK_MULTIPLY_ADDS // max(1, a.shape[1] * b.shape[1]))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def _clamp_currents_common(
    s_matrix: np.ndarray, delta0: np.ndarray, waveform: np.ndarray, conductance_s: np.ndarray
) -> np.ndarray:
    """Clamp currents j for gamma_k(t) = waveform(t) * G_k with G_k > 0, by one eigendecomposition.

    (I + w D S) j = -w D delta0 with D = diag(G); j = D^1/2 y turns it into a symmetric problem
    (I + w M) y = -w D^1/2 delta0, M = D^1/2 S D^1/2 = Q diag(lambda) Q^T, solved for every w at once.
    """
    d = np.sqrt(conductance_s)
    eigenvalues, q = np.linalg.eigh(d[:, None] * s_matrix * d[None, :])
    denominator = 1.0 + waveform[:, None] * eigenvalues[None, :]
    if np.any(denominator <= 0):
        raise ConvergenceError("a negative clamp conductance makes the network singular")
    factor = waveform[:, None] / denominator
    return -(((delta0 * d) @ q) * factor) @ q.T * d  # (P x K)(K x K): below BLAS's threading size


def _clamp_currents_general(s_matrix: np.ndarray, delta0: np.ndarray, clamp_s: np.ndarray) -> np.ndarray:
    """Clamp currents j from (I + Gamma S) j = -Gamma delta0 at every point (batched K x K solves)."""
    k = s_matrix.shape[0]
    system = np.eye(k)[None] + clamp_s[:, :, None] * s_matrix[None]
    try:
        return np.linalg.solve(system, (-clamp_s * delta0)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ConvergenceError("the clamp conductances make the network singular") from None


SMALL_EDGE_COUNT = 256
"""Below this many edges the time recursions run as C loops (scipy lfilter, numpy cumsum) over each edge;
above it, as a Python loop over time with each step vectorised over edges (those C loops stride badly
through a (T, E) array, and the per-step Python overhead is then negligible)."""


def highpass_foh(
    signal: np.ndarray, step_s: np.ndarray, tau_s: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Output u of the series C / shunt R high-pass (du/dt = ds/dt - u/tau, u(0) = 0) at the grid points.

    With s linear on each step (first-order hold), the step update is exact:
    u(t+h) = u(t) e^{-h/tau} + tau * slope * (1 - e^{-h/tau}).

    Parameters
    ----------
    signal : (T, E) s at the grid points.
    step_s : (T-1,) step lengths, seconds (runs of equal steps share their exponentials).
    tau_s : (E,) time constant R_K * C_K of each edge, seconds.
    out : optional (T, E) array to fill and return.
    """
    points, edges = signal.shape
    out = np.empty((points, edges)) if out is None else out
    out[0] = 0.0
    if points < 2 or edges == 0:
        return out
    drive = out[1:]  # holds tau * slope * (1 - rho) of each step until the recursion overwrites it
    np.subtract(signal[1:], signal[:-1], out=drive)
    steps = step_s.tolist()
    bounds = [0] + [n for n in range(1, len(steps)) if steps[n] != steps[n - 1]] + [len(steps)]
    runs = list(zip(bounds[:-1], bounds[1:], strict=True))
    if edges <= SMALL_EDGE_COUNT:
        from scipy.signal import lfilter

        taus, group = np.unique(tau_s, return_inverse=True)
        for start, stop in runs:
            h = steps[start]
            for g, tau in enumerate(taus.tolist()):
                cols = slice(None) if taus.size == 1 else group == g
                rho = math.exp(-h / tau)
                x = drive[start:stop, cols] * (tau * (1.0 - rho) / h)
                initial = (rho * out[start, cols])[None, :]
                out[start + 1 : stop + 1, cols] = lfilter([1.0], [1.0, -rho], x, axis=0, zi=initial)[0]
        return out
    carried = np.empty(edges)
    for start, stop in runs:
        h = steps[start]
        rho = np.exp(-h / tau_s)
        drive[start:stop] *= tau_s * (1.0 - rho) / h
        for n in range(start, stop):
            np.multiply(out[n], rho, out=carried)
            out[n + 1] += carried
    return out


def accumulate_rows(values: np.ndarray) -> np.ndarray:
    """Running sum down the rows, in place: values[n] becomes values[0] + ... + values[n]."""
    if values.shape[1] <= SMALL_EDGE_COUNT:
        values[:] = np.cumsum(values, axis=0)
        return values
    for n in range(1, values.shape[0]):
        values[n] += values[n - 1]
    return values


def threshold_area(
    signal: np.ndarray,
    feedback: np.ndarray,
    step_s: np.ndarray,
    tau_s: np.ndarray,
    theta_v: np.ndarray,
    dead_zone: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Exact integral of g(u) over every step, (T-1, E) in V*s, for u from ``highpass_foh`` on s.

    Within a step u(x) = u_inf + (u0 - u_inf) e^{-x/tau} is monotone, so a step whose two ends are on the
    same side of a threshold lies entirely there: inside the dead band it contributes nothing, outside it the
    whole step, int u = tau * (delta s - delta u) (charge balance of C_K, no exponential needed). Only the
    few steps whose ends straddle +-theta need the crossing time (``threshold_step_integral``). Work is
    done only on the (step, edge) pairs outside the band, usually a few per cent.
    """
    points, edges = signal.shape
    area = np.empty((points - 1, edges)) if out is None else out
    # side of the dead band at every grid point: +1 above theta, -1 below -theta, 0 inside
    side = (feedback >= theta_v).view(np.int8) - (feedback <= -theta_v).view(np.int8)
    same = side[:-1] == side[1:]
    flat = area.reshape(-1)
    whole_mask = same & (side[:-1] != 0)
    whole = np.flatnonzero(whole_mask)
    if whole.size > 0.1 * whole_mask.size:  # dense: whole-array arithmetic beats gathering
        np.subtract(signal[1:], signal[:-1], out=area)
        area -= feedback[1:]
        area += feedback[:-1]
        area *= tau_s
        area *= whole_mask
        if np.any(dead_zone):
            area -= side[:-1] * whole_mask * (theta_v * dead_zone) * step_s[:, None]
    else:  # sparse: only the listed pairs
        area[...] = 0.0
        k, e = np.divmod(whole, edges)
        value = (signal[k + 1, e] - signal[k, e]) - (feedback[k + 1, e] - feedback[k, e])
        value *= tau_s[e]
        dead = dead_zone[e]
        if np.any(dead):
            value[dead] -= side[k[dead], e[dead]] * theta_v[e[dead]] * step_s[k[dead]]
        flat[whole] = value
    crossing = np.flatnonzero(~same)
    if crossing.size:
        k, e = np.divmod(crossing, edges)
        tau = tau_s[e]
        slope = (signal[k + 1, e] - signal[k, e]) / step_s[k]
        flat[crossing] = threshold_step_integral(
            feedback[k, e], tau * slope, step_s[k], tau, theta_v[e], dead_zone[e]
        )
    return area


def threshold_step_integral(
    u0: np.ndarray,
    u_inf: np.ndarray,
    h_s: np.ndarray,
    tau_s: np.ndarray,
    theta_v: np.ndarray,
    dead_zone: np.ndarray,
) -> np.ndarray:
    """Exact integral over one step of g(u(x)) for u(x) = u_inf + (u0 - u_inf) e^{-x/tau}, 0 <= x <= h.

    g is the hard threshold (g = u where |u| >= theta, else 0) or, where ``dead_zone``, the dead zone
    (g = u - theta sign(u) where |u| >= theta). u is monotone on the step, so {u >= theta} and {u <= -theta}
    are intervals touching the ends of the step; their ends are found in closed form and
    F(x) = int_0^x u = u_inf x + (u0 - u_inf) tau (1 - e^{-x/tau}) integrates u over them. All arguments are
    1-D arrays of equal length (one entry per (step, edge) pair); units V, s, V*s.
    """
    rho = np.exp(-h_s / tau_s)
    amplitude = u0 - u_inf
    u1 = u_inf + amplitude * rho
    total = np.zeros_like(u0)
    for sign in (1.0, -1.0):
        level = sign * theta_v
        beyond0 = sign * u0 >= theta_v  # this end of the step is past the threshold on this side
        beyond1 = sign * u1 >= theta_v
        cross = beyond0 != beyond1
        x_c = np.zeros_like(u0)
        if np.any(cross):
            x_c[cross] = _crossing_at(level, u_inf, amplitude, rho, tau_s, cross)
        x1 = np.where(beyond0, 0.0, x_c)  # the part past the threshold is [x1, x2]
        x2 = np.where(beyond1, h_s, x_c)
        part = u_inf * (x2 - x1) + amplitude * tau_s * (np.exp(-x1 / tau_s) - np.exp(-x2 / tau_s))
        total += part - np.where(dead_zone, level, 0.0) * (x2 - x1)
    return total


def _crossing_at(
    level: np.ndarray,
    u_inf: np.ndarray,
    amplitude: np.ndarray,
    rho: np.ndarray,
    tau_s: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """Time x in [0, h] where u(x) = level, for the masked entries (which do cross the level)."""
    ratio = (level[mask] - u_inf[mask]) / amplitude[mask]
    return -tau_s[mask] * np.log(np.clip(ratio, rho[mask], 1.0))
