"""Numerical core of the native engine: the quasi-static network solve and the exact per-edge cell update.

Two pieces, both on plain index arrays (``backends.native`` maps the circuit IR onto them):

- ``LowRankNetwork``: node voltages of a linear resistor network at many sweep or time points when the only
  thing that changes between points is a set of K clamp conductances (and the driven voltages). The network
  is factorised once; each clamp is a rank-one term gamma_k(t) c_k c_k^T, so every point costs a K x K
  solve plus O(N K) (Sherman-Morrison-Woodbury), instead of a sparse factorisation.
- ``highpass_foh`` and ``threshold_step_integral``: the feedback cell of every edge, vectorised over edges.
  The signal s(t) is taken piecewise linear between grid points (first-order hold), under which the series
  C_K / R_K high-pass and the integral of the thresholded output over a step are exact closed forms.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .errors import ConvergenceError

GROUND = -1
"""Index that stands for node 0 (ground) in every index array of this module."""


class LowRankNetwork:
    """A factorised linear resistor network with K clamp conductances as low-rank updates.

    Nodes are 0..n_nodes-1; index ``GROUND`` (-1) is node 0. ``driven`` nodes have imposed voltages (voltage
    sources to ground); all others are free and obey Kirchhoff's current law.

    Parameters
    ----------
    n_nodes : number of non-ground nodes.
    res_a, res_b : end nodes of each resistor (``GROUND`` allowed).
    conductance_s : conductance of each resistor, siemens.
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
        conductance_s: np.ndarray,
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
        n_free = self.free.size
        # internal order: free nodes, then driven nodes, then ground (so ground is column -1 of a full row)
        position = np.empty(n_nodes + 1, dtype=int)
        position[self.free] = np.arange(n_free)
        position[driven] = n_free + np.arange(driven.size)
        position[GROUND] = n_nodes
        self.position = position
        a = position[np.asarray(res_a, dtype=int)]
        b = position[np.asarray(res_b, dtype=int)]
        g = np.asarray(conductance_s, dtype=float)
        size = n_nodes + 1
        rows = np.concatenate([a, b, a, b])
        cols = np.concatenate([a, b, b, a])
        laplacian = sp.csc_matrix((np.concatenate([g, g, -g, -g]), (rows, cols)), shape=(size, size))
        self._check_connected(laplacian, n_free, names)
        self._l_fd = laplacian[:n_free, n_free:n_nodes].tocsr()
        self._driven_connected = np.flatnonzero(np.diff(self._l_fd.tocsc().indptr))
        l_ff = laplacian[:n_free, :n_free].tocsc()
        try:
            self._lu = spla.splu(
                l_ff, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
            )
        except RuntimeError as error:  # exactly singular despite the connectivity check
            raise ConvergenceError(f"the resistor network is singular: {error}") from None
        self.clamp_a = position[np.asarray(clamp_a, dtype=int)]
        self.clamp_b = position[np.asarray(clamp_b, dtype=int)]
        self.n_clamps = self.clamp_a.size
        u_f = np.zeros((n_free, self.n_clamps))
        for column, (i, j) in enumerate(zip(self.clamp_a, self.clamp_b, strict=True)):
            if i < n_free:
                u_f[i, column] += 1.0
            if j < n_free:
                u_f[j, column] -= 1.0
        self._u_f = u_f
        self._z: np.ndarray | None = None

    def _check_connected(self, laplacian: sp.csc_matrix, n_free: int, names: list[str] | None) -> None:
        """Every free node needs a resistive path to a driven node or ground."""
        if n_free == 0:
            return
        _, label = sp.csgraph.connected_components(laplacian, directed=False)
        anchored = np.unique(label[n_free:])
        floating = self.free[~np.isin(label[:n_free], anchored)]
        if floating.size:
            shown = [names[i] if names is not None else str(i) for i in floating[:5]]
            raise ConvergenceError(
                f"{floating.size} node(s) have no resistive path to a source or ground (singular network), "
                f"e.g. {', '.join(shown)}"
            )

    @property
    def n_free(self) -> int:
        return self.free.size

    def _base_solution(self, driven_v: np.ndarray) -> np.ndarray:
        """Free-node voltages with every clamp off, shape (P, n_free), for driven voltages (P, n_driven)."""
        connected = self._driven_connected
        n_free = self.n_free
        if n_free == 0:
            return np.zeros((driven_v.shape[0], 0))
        columns = driven_v[:, connected]
        constant = bool(np.all(columns == columns[:1]))
        if constant:
            rhs = -(self._l_fd[:, connected] @ columns[0])
            solved = self._lu.solve(np.column_stack([rhs, self._u_f]))
            self._z = solved[:, 1:]
            return np.broadcast_to(solved[:, 0], (driven_v.shape[0], n_free))
        rhs = -self._l_fd[:, connected].toarray()
        solved = self._lu.solve(np.column_stack([rhs, self._u_f]))
        self._z = solved[:, connected.size :]
        return columns @ solved[:, : connected.size].T

    def solve(
        self,
        driven_v: np.ndarray,
        clamp_s: np.ndarray | None = None,
        *,
        waveform: np.ndarray | None = None,
        clamp_conductance_s: np.ndarray | None = None,
    ) -> np.ndarray:
        """Node voltages at P points, shape (P, n_nodes + 1) in internal order (free, driven, ground).

        Give either ``clamp_s``, the (P, K) clamp conductances at every point (batched K x K solves), or
        ``waveform`` (P,) and ``clamp_conductance_s`` (K,) > 0 with clamp k at waveform * conductance_k (one
        eigendecomposition serves every point: the case of one sawtooth beta driving every clamp).

        Parameters
        ----------
        driven_v : (P, n_driven) voltages of the driven nodes, in the order given to the constructor.
        """
        driven_v = np.asarray(driven_v, dtype=float)
        points = driven_v.shape[0]
        n_free = self.n_free
        full = np.empty((points, self.n_nodes + 1))
        full[:, n_free : self.n_nodes] = driven_v
        full[:, self.n_nodes] = 0.0
        full[:, :n_free] = self._base_solution(driven_v)
        if self.n_clamps == 0 or n_free == 0:
            return full
        z = self._z
        delta0 = full[:, self.clamp_a] - full[:, self.clamp_b]  # clamp voltages with every clamp off
        s_matrix = self._u_f.T @ z
        if waveform is not None:
            j = _clamp_currents_common(
                s_matrix, delta0, np.asarray(waveform, dtype=float), clamp_conductance_s
            )
        else:
            j = _clamp_currents_general(s_matrix, delta0, np.asarray(clamp_s, dtype=float))
        full[:, :n_free] += j @ z.T
        return full


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
    return -(((delta0 * d) @ q) * factor) @ q.T * d


def _clamp_currents_general(s_matrix: np.ndarray, delta0: np.ndarray, clamp_s: np.ndarray) -> np.ndarray:
    """Clamp currents j from (I + Gamma S) j = -Gamma delta0 at every point (batched K x K solves)."""
    k = s_matrix.shape[0]
    system = np.eye(k)[None] + clamp_s[:, :, None] * s_matrix[None]
    try:
        return np.linalg.solve(system, (-clamp_s * delta0)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ConvergenceError("the clamp conductances make the network singular") from None


def highpass_foh(signal: np.ndarray, step_s: np.ndarray, tau_s: np.ndarray) -> np.ndarray:
    """Output u of the series C / shunt R high-pass (du/dt = ds/dt - u/tau, u(0) = 0) at the grid points.

    With s linear on each step (first-order hold), the step update is exact:
    u(t+h) = u(t) e^{-h/tau} + tau * slope * (1 - e^{-h/tau}). The recursion runs over time with every
    operation vectorised over edges (T is a few hundred; E can be thousands).

    Parameters
    ----------
    signal : (T, E) s at the grid points.
    step_s : (T-1,) step lengths, seconds.
    tau_s : (E,) time constant R_K * C_K of each edge, seconds.
    """
    points, edges = signal.shape
    out = np.empty((points, edges))
    out[0] = 0.0
    if points < 2:
        return out
    drive = np.diff(signal, axis=0)  # becomes tau * slope * (1 - rho) per step, in place
    rho_of: dict[float, np.ndarray] = {}
    rho_rows = []
    for h in step_s.tolist():
        rho = rho_of.get(h)
        if rho is None:
            rho = rho_of[h] = np.exp(-h / tau_s)
        rho_rows.append(rho)
    for h, rho in rho_of.items():
        rows = step_s == h
        drive[rows] *= tau_s * (1.0 - rho) / h
    for n in range(points - 1):
        np.multiply(out[n], rho_rows[n], out=out[n + 1])
        out[n + 1] += drive[n]
    return out


def threshold_area(
    signal: np.ndarray,
    feedback: np.ndarray,
    step_s: np.ndarray,
    tau_s: np.ndarray,
    theta_v: np.ndarray,
    dead_zone: np.ndarray,
) -> np.ndarray:
    """Exact integral of g(u) over every step, (T-1, E) in V*s, for u from ``highpass_foh`` on s.

    Within a step u(x) = u_inf + (u0 - u_inf) e^{-x/tau} is monotone, so a step whose two ends are on the
    same side of a threshold lies entirely there: inside the dead band it contributes nothing, outside it the
    whole step, int u = tau * (delta s - delta u) (charge balance of C_K, no exponential needed). Only the
    few steps whose ends straddle +-theta need the crossing time (``threshold_step_integral``).
    """
    u0, u1 = feedback[:-1], feedback[1:]
    up0, up1 = u0 >= theta_v, u1 >= theta_v
    lo0, lo1 = u0 <= -theta_v, u1 <= -theta_v
    whole = (up0 & up1) | (lo0 & lo1)
    area = np.diff(signal, axis=0)
    area -= np.diff(feedback, axis=0)
    area *= tau_s
    area[~whole] = 0.0
    if np.any(dead_zone):
        for inside, sign in ((up0 & up1), 1.0), ((lo0 & lo1), -1.0):
            k, e = np.nonzero(inside & dead_zone)
            area[k, e] -= sign * theta_v[e] * step_s[k]
    k, e = np.nonzero((up0 != up1) | (lo0 != lo1))
    if k.size:
        slope = (signal[k + 1, e] - signal[k, e]) / step_s[k]
        tau = tau_s[e]
        area[k, e] = threshold_step_integral(u0[k, e], tau * slope, step_s[k], tau, theta_v[e], dead_zone[e])
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
        inside0 = sign * u0 >= theta_v
        inside1 = sign * u1 >= theta_v
        cross = inside0 != inside1
        x_c = np.zeros_like(u0)
        if np.any(cross):
            x_c[cross] = _crossing_at(level, u_inf, amplitude, rho, tau_s, cross)
        x1 = np.where(inside0, 0.0, x_c)
        x2 = np.where(inside1, h_s, x_c)
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
