"""The network solve: node voltages of a resistor network, with time-varying clamps as low-rank terms.

The one place the nodal equations of a network are assembled (``NetworkTopology``) and factorised
(``factorize``): the native engine, its capacitive integrator and the exact steady states of
``physics.linear`` all solve through it.

On plain index arrays (``backends.native`` maps the circuit IR onto them): ``NetworkTopology`` (what depends
only on the connections, cached across samples) and ``LowRankNetwork``: node voltages of a linear resistor
network at many sweep or time points when the only thing that changes between points is a set of K clamp
conductances (and the driven voltages). The network is factorised once; each clamp is a rank-one term
gamma_k(t) c_k c_k^T, so every point costs a K x K solve plus O(N K) (Sherman-Morrison-Woodbury), instead of
a sparse factorisation. The cells on the edges are ``cell_dynamics``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from tcl_circuits.errors import ConvergenceError

GROUND = -1
"""Index that stands for node 0 (ground) in every index array of this module."""


def factorize(matrix: sp.spmatrix, what: str = "resistor network") -> spla.SuperLU:
    """Sparse LU of a symmetric positive-definite nodal matrix (Laplacian block plus clamps or capacitors):
    the one factorisation every network solve uses (minimum-degree ordering on A + A^T, diagonal pivots)."""
    try:
        return spla.splu(
            sp.csc_matrix(matrix),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError as error:  # exactly singular despite the connectivity check
        raise ConvergenceError(f"the {what} is singular: {error}") from None


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
    coef_a, coef_b : the voltage coefficient of each resistor end (default 1): a resistor at the output of an
        amplifier of gain A sees A times the voltage of the amplifier's source node, and its current acts on
        the source times A, so it enters the equations as G (c_a v_a - c_b v_b) with end coefficients c.

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
        coef_a: np.ndarray | None = None,
        coef_b: np.ndarray | None = None,
    ) -> None:
        driven = np.asarray(driven, dtype=int)
        ca = np.ones(len(res_a)) if coef_a is None else np.asarray(coef_a, dtype=float)
        cb = np.ones(len(res_b)) if coef_b is None else np.asarray(coef_b, dtype=float)
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
        self._weights = np.concatenate(
            [-ca[both] * cb[both], -ca[both] * cb[both], ca[end_a] ** 2, cb[end_b] ** 2]
        )
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
        self.coupling_weight = np.concatenate([ca[forward] * cb[forward], cb[backward] * ca[backward]])
        self.driven_connected = np.unique(self.coupling_driven)
        self._coupling_pattern: tuple | None = None
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
        # the driven ends of each clamp: clamp_fixed @ v_driven is the part of v(a) - v(b) they set
        fixed = np.zeros((self.n_clamps, driven.size))
        for column, (i, j) in enumerate(zip(self.clamp_a.tolist(), self.clamp_b.tolist(), strict=True)):
            if n_free <= i < n_nodes:
                fixed[column, i - n_free] += 1.0
            if n_free <= j < n_nodes:
                fixed[column, j - n_free] -= 1.0
        self.clamp_fixed = fixed

    def fixed_clamp_v(self, driven_v: np.ndarray) -> np.ndarray:
        """(P, K): the part of each clamp's voltage v(a) - v(b) set by its driven ends (ground sets 0)."""
        return driven_v @ self.clamp_fixed.T

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

    def coupling(self, conductance_s: np.ndarray) -> sp.csr_matrix:
        """R (n_free, n_driven): the current into each free node per volt on each driven node, so that
        L_ff v_free = R v_driven with every clamp off. The sparsity pattern is built once per topology (a
        MNIST network has 157,000 couplings: sorting them every sample cost more than the solve)."""
        if self._coupling_pattern is None:
            rows, cols = self.coupling_row, self.coupling_driven
            unique, slot = np.unique(
                rows.astype(np.int64) * max(self.driven.size, 1) + cols, return_inverse=True
            )
            indices = (unique % max(self.driven.size, 1)).astype(np.int32)
            indptr = np.searchsorted(unique // max(self.driven.size, 1), np.arange(self.n_free + 1)).astype(
                np.int32
            )
            self._coupling_pattern = (slot, unique.size, indices, indptr)
        slot, entries, indices, indptr = self._coupling_pattern
        data = np.bincount(
            slot, conductance_s[self.coupling_resistor] * self.coupling_weight, minlength=entries
        )
        return sp.csr_matrix((data, indices, indptr), shape=(self.n_free, self.driven.size))

    def laplacian_ff(self, conductance_s: np.ndarray) -> sp.csc_matrix:
        """The free-node block of the weighted Laplacian for these resistor conductances."""
        data = np.bincount(self._slot, conductance_s[self._sources] * self._weights, minlength=self._entries)
        return sp.csc_matrix((data, self._indices, self._indptr), shape=(self.n_free, self.n_free))


DENSE_RESPONSE_FILL = 64
"""``LowRankNetwork.response`` multiplies by the dense inverse while n_free^2 is at most this many times the
nonzeros of the sparse LU factors: a dense product does that much more arithmetic per right-hand side than the
triangular solves, but at a far higher rate (see ``response`` for the times measured)."""


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
        self._lu: spla.SuperLU | None = None
        if topology.n_free:
            self._lu = factorize(topology.laplacian_ff(self._g))
        self._z: np.ndarray = np.zeros((0, self.n_clamps))

    @property
    def n_free(self) -> int:
        return self.topology.n_free

    def response(self, injected_a: np.ndarray, *, dense: bool | None = None) -> np.ndarray:
        """L_ff^-1 injected_a: free-node voltages (n_free, P) of currents injected into the free nodes.

        Many right-hand sides (one per noise knot) go faster through the dense inverse and one matrix
        product than through the sparse triangular solves: on a 16x16 lattice (240 free nodes, 20,001
        points) 0.06 s against 0.38 s, on 32x32 (992 nodes) 0.76 s against 1.64 s. ``dense`` None chooses by
        ``DENSE_RESPONSE_FILL`` (True/False force one way; both agree to round-off).
        """
        assert self._lu is not None
        n_free, points = injected_a.shape
        if dense is None:
            fill = self._lu.L.nnz + self._lu.U.nnz
            dense = points > n_free and n_free * n_free <= DENSE_RESPONSE_FILL * fill
        if not dense:
            return self._lu.solve(injected_a)
        return self._lu.solve(np.eye(n_free)) @ injected_a

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
        g = self._g[top.coupling_resistor] * top.coupling_weight
        if bool(np.all(columns == columns[:1])):  # sources constant over the points: one right-hand side
            rhs = np.bincount(top.coupling_row, g * driven_v[0, top.coupling_driven], minlength=n_free)
            assert self._lu is not None
            solved = self._lu.solve(np.column_stack([rhs, top.clamp_columns]))
            self._z = solved[:, 1:]
            return solved[:, :1]
        response = np.zeros((n_free, connected.size))  # one right-hand side per connected driven node
        np.add.at(response, (top.coupling_row, np.searchsorted(connected, top.coupling_driven)), g)
        assert self._lu is not None
        solved = self._lu.solve(np.column_stack([response, top.clamp_columns]))
        self._z = solved[:, connected.size :]
        return solved[:, : connected.size] @ columns.T

    def solve(
        self,
        driven_v: np.ndarray,
        clamp_s: np.ndarray | None = None,
        *,
        waveform: np.ndarray | None = None,
        clamp_conductance_s: np.ndarray | None = None,
        injected_a: np.ndarray | None = None,
    ) -> QuasiStaticSolution:
        """The network's state at P points, in low-rank form (``QuasiStaticSolution``).

        Give either ``clamp_s``, the (P, K) clamp conductances at every point (batched K x K solves), or
        ``waveform`` (P,) and ``clamp_conductance_s`` (K,) > 0 with clamp k at waveform * conductance_k (one
        eigendecomposition serves every point: the case of one sawtooth beta driving every clamp).

        Parameters
        ----------
        driven_v : (P, n_driven) voltages of the driven nodes, in the order given to the constructor.
        injected_a : (n_free, P) currents into the free nodes (topology order), e.g. resistor noise; they
            add by superposition before the clamps respond.
        """
        driven_v = np.asarray(driven_v, dtype=float)
        points = driven_v.shape[0]
        n_free = self.n_free
        top = self.topology
        base = self._base_solution(driven_v)
        if injected_a is not None and n_free:
            base = base + self.response(np.asarray(injected_a, dtype=float))
        if self.n_clamps == 0 or n_free == 0:
            return QuasiStaticSolution(top, driven_v, base, self._z, np.zeros((points, self.n_clamps)))
        z = self._z
        # the K x K clamp system: S = U^T Z, U's columns are +-unit vectors on the clamp ends
        z_rows = np.zeros((self.n_nodes + 1, self.n_clamps))
        z_rows[:n_free] = z
        s_matrix = z_rows[top.clamp_a] - z_rows[top.clamp_b]
        delta0 = (top.clamp_columns.T @ base).T + top.fixed_clamp_v(driven_v)  # clamp voltages, clamps off
        if waveform is not None:
            j = _clamp_currents_common(
                s_matrix,
                delta0,
                np.asarray(waveform, dtype=float),
                np.asarray(clamp_conductance_s, dtype=float),
            )
        else:
            j = _clamp_currents_general(s_matrix, delta0, np.asarray(clamp_s, dtype=float))
        return QuasiStaticSolution(top, driven_v, base, z, j)


class QuasiStaticSolution:
    """Node voltages at P points as v_free = base + Z j(t): ``base`` (n_free, 1 or P) with every clamp off,
    ``z`` = L_ff^-1 U (n_free, K) and the clamp currents ``j`` (P, K); driven nodes at ``driven_v``.

    The full node voltages are one product (n_free x K by K x P) away (``node_voltages``).
    """

    def __init__(
        self,
        topology: NetworkTopology,
        driven_v: np.ndarray,
        base: np.ndarray,
        z: np.ndarray,
        clamp_currents: np.ndarray,
    ) -> None:
        self.topology = topology
        self.driven_v = driven_v
        self.base = base
        self.z = z
        self.clamp_currents = clamp_currents

    @property
    def points(self) -> int:
        return self.driven_v.shape[0]

    def node_voltages(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every node voltage, (n_nodes + 1, P): one row per node in internal order (free, driven, ground),
        so each node's trajectory is contiguous."""
        top = self.topology
        n_free, n_nodes = top.n_free, top.n_nodes
        full = np.empty((n_nodes + 1, self.points)) if out is None else out
        full[n_free:n_nodes] = self.driven_v.T
        full[n_nodes] = 0.0
        if top.n_clamps == 0 or n_free == 0:
            full[:n_free] = self.base
            return full
        free_part = full[:n_free]
        np.matmul(self.z, self.clamp_currents.T, out=free_part)
        free_part += self.base
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
    return -(((delta0 * d) @ q) * factor) @ q.T * d  # (P x K)(K x K): below BLAS's threading size


def _clamp_currents_general(s_matrix: np.ndarray, delta0: np.ndarray, clamp_s: np.ndarray) -> np.ndarray:
    """Clamp currents j from (I + Gamma S) j = -Gamma delta0 at every point (batched K x K solves)."""
    k = s_matrix.shape[0]
    system = np.eye(k)[None] + clamp_s[:, :, None] * s_matrix[None]
    try:
        return np.linalg.solve(system, (-clamp_s * delta0)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ConvergenceError("the clamp conductances make the network singular") from None
