"""Diodes and the damped Newton solve of a network's nodal equations with them.

A diode with series resistance R_s obeys I = I_s (exp((V - I R_s) / (n V_t)) - 1); solved for I exactly with
the Wright omega function, which stays finite far into forward bias. The free-node equations of a network
with diodes, K clamps and driven nodes are

    F(v) = L v - R d + U (gamma o (U^T v + e)) + Q^T i(Q v + f) = 0,

L the free-node Laplacian (with amplifier coefficients), R the couplings to the driven voltages d, U the
clamp columns with conductances gamma and fixed parts e, Q the diode incidence on the free nodes (with
coefficients) and f the diodes' driven parts. The Jacobian is L + U diag(gamma) U^T + Q^T diag(i'(.)) Q: a
co-content's Hessian, symmetric positive definite, so Newton's method with a line search on |F| converges
from any start; along a time grid each point starts from the previous solution and reuses the last
factorisation (chord steps) until convergence slows, then refactorises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from tcl_circuits.errors import ConfigError, ConvergenceError
from tcl_circuits.network.spec import THERMAL_VOLTAGE_V
from tcl_circuits.physics.quasistatic import NetworkTopology

VOLTAGE_TOLERANCE_V = 1e-10
"""Newton stops when no node moves by more than this (relative to 1 V + the largest node voltage)."""
MAX_ITERATIONS = 60
MAX_DENSE_FREE_NODES = 6000
"""Diode networks are solved with dense matrices over their free nodes (a DRN has few: its hidden and output
nodes); beyond this many the memory (8 n^2 bytes, twice) is refused with a clear error."""


@numba.njit(cache=True)
def _omega_from(z: float, w: float) -> float:
    """Wright's omega (the w > 0 with w + ln w = z) from a start w > 0: Fritsch-Shafer-Crowley steps, each
    raising the relative error to the fourth power; from a previous Newton iterate one step is enough."""
    for _ in range(12):
        r = z - w - math.log(w)
        wp = 1.0 + w
        q = wp * (wp + 2.0 * r / 3.0)
        w_next = w * (1.0 + r / wp * (q - 0.5 * r) / (q - r))
        if not w_next > 0.0:  # a start too far off: halve toward zero, where ln w pulls it back
            w_next = 0.5 * w
        converged = abs(r) < 1e-4  # |relative error| < ~1e-4 before the step: ~1e-16 after
        w = w_next
        if converged:
            break
    return w


@numba.njit(cache=True)
def _wright_omega(z: float) -> float:
    """Wright's omega for real z: exact series far left, else FSC steps from a start good to ~10 %."""
    if z < -20.0:
        e = math.exp(z)
        return e * (1.0 - e)  # w = e^z - e^{2z} + O(e^{3z}): exact in double precision here
    if z <= 1.0:
        start = math.exp(z - 0.7615 * math.log1p(math.exp(z)))
    else:
        lz = math.log(z)
        start = z - lz + lz / z
    return _omega_from(z, start)


@numba.njit(cache=True)
def _diode(v: float, is_a: float, n: float, rs_ohm: float, hint: float = -1.0) -> tuple[float, float, float]:
    """(current, conductance, omega) of one diode; ``hint``: omega at a nearby voltage, or <= 0 for none."""
    nvt = n * THERMAL_VOLTAGE_V
    z = math.log(is_a * rs_ohm / nvt) + (v + is_a * rs_ohm) / nvt
    near = hint > 0.0 and z >= -20.0 and abs(z - hint - math.log(hint)) < 0.1  # hint within ~10 %
    w = _omega_from(z, hint) if near else _wright_omega(z)
    shifted = nvt / rs_ohm * w  # I + I_s >= 0
    return shifted - is_a, shifted / (rs_ohm * shifted + nvt), w


@numba.njit(cache=True)
def _diode_array(v, is_a, n, rs_ohm, current, conductance):
    for k in range(v.size):
        current[k], conductance[k], _ = _diode(v[k], is_a[k], n[k], rs_ohm[k])


def diode_current(
    v: np.ndarray, is_a: np.ndarray, n: np.ndarray, rs_ohm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Current (A) and small-signal conductance dI/dV (S) of diodes at voltages ``v`` (V), series resistance
    included exactly: I = (n V_t / R_s) W(ln(I_s R_s / (n V_t)) + (V + I_s R_s) / (n V_t)) - I_s, W Wright's omega."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (v, is_a, n, rs_ohm)))
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    current, conductance = np.empty_like(flat[0]), np.empty_like(flat[0])
    _diode_array(flat[0], flat[1], flat[2], flat[3], current, conductance)
    return current.reshape(arrays[0].shape), conductance.reshape(arrays[0].shape)


@dataclass(frozen=True)
class DiodeArrays:
    """Diodes on a topology's internal positions (free, then driven, then ground): anode and cathode position
    and coefficient (amplified nodes), and the model parameters."""

    anode: np.ndarray
    cathode: np.ndarray
    anode_coef: np.ndarray
    cathode_coef: np.ndarray
    is_a: np.ndarray
    n: np.ndarray
    rs_ohm: np.ndarray

    @property
    def count(self) -> int:
        return int(self.anode.size)


@numba.njit(cache=True)
def _residual(v, a, b, q_pos, q_coef, fixed, is_a, n, rs_ohm, r, g, omega):
    """r = A v - b + Q^T i(Q v + f) and the diode conductances g; Q as (diodes, 2) free positions (-1: none)
    and coefficients; ``omega`` holds each diode's last Wright omega (the start of the next evaluation)."""
    r[:] = a @ v - b
    for d in range(fixed.size):
        drop = fixed[d]
        for side in range(2):
            if q_pos[d, side] >= 0:
                drop += q_coef[d, side] * v[q_pos[d, side]]
        current, g[d], omega[d] = _diode(drop, is_a[d], n[d], rs_ohm[d], omega[d])
        for side in range(2):
            if q_pos[d, side] >= 0:
                r[q_pos[d, side]] += q_coef[d, side] * current


@numba.njit(cache=True)
def _stamp(matrix, pos, coef, weight):
    """matrix += sum_k weight[k] c_k c_k^T, each c_k with at most two free entries (pos[k], coef[k]; -1: none):
    a diode's conductance, or a clamp's."""
    for k in range(weight.size):
        for s1 in range(2):
            p1 = pos[k, s1]
            if p1 < 0:
                continue
            for s2 in range(2):
                p2 = pos[k, s2]
                if p2 >= 0:
                    matrix[p1, p2] += coef[k, s1] * coef[k, s2] * weight[k]


@numba.njit(cache=True)
def _jacobian(a, q_pos, q_coef, g):
    j = a.copy()
    _stamp(j, q_pos, q_coef, g)
    return j


@numba.njit(cache=True)
def _solve_path(laplacian, clamp_pos, clamp_coef, gamma, b, fixed, q_pos, q_coef, is_a, n, rs_ohm, v0, out):
    """Free voltages at P points (out: (n_free, P)), each started from the previous solution: chord steps with
    the kept inverse Jacobian while they contract fast, a fresh Jacobian otherwise, each step with a
    backtracking line search on max |F|. Returns -1, or the first point that did not converge."""
    n_free = laplacian.shape[0]
    points = b.shape[0]
    v = v0.copy()
    r = np.empty(n_free)
    g = np.empty(fixed.shape[1])
    trial_r = np.empty(n_free)
    trial_g = np.empty(fixed.shape[1])
    omega = np.full(fixed.shape[1], -1.0)
    inverse = np.empty((n_free, n_free))
    have_inverse = False
    earlier = v0.copy()
    for p in range(points):
        a = laplacian.copy()
        _stamp(a, clamp_pos, clamp_coef, gamma[p])  # the clamps at this point
        _residual(v, a, b[p], q_pos, q_coef, fixed[p], is_a, n, rs_ohm, r, g, omega)
        norm = np.max(np.abs(r)) if n_free else 0.0
        if p >= 2 and n_free:  # along a ramp the solution moves steadily: try the linear extrapolation
            guess = 2.0 * v - earlier
            _residual(guess, a, b[p], q_pos, q_coef, fixed[p], is_a, n, rs_ohm, trial_r, trial_g, omega)
            guess_norm = np.max(np.abs(trial_r))
            if guess_norm < norm:
                v, norm = guess, guess_norm
                r[:] = trial_r
                g[:] = trial_g
        previous_step = np.inf
        converged = n_free == 0
        for _ in range(MAX_ITERATIONS):
            if converged:
                break
            if not have_inverse:
                inverse[:, :] = np.linalg.inv(_jacobian(a, q_pos, q_coef, g))
                have_inverse = True
            step = -(inverse @ r)
            size = np.max(np.abs(step))
            if size <= VOLTAGE_TOLERANCE_V * (1.0 + np.max(np.abs(v))):
                v += step
                converged = True
                break
            alpha = 1.0
            while True:
                trial = v + alpha * step
                _residual(trial, a, b[p], q_pos, q_coef, fixed[p], is_a, n, rs_ohm, trial_r, trial_g, omega)
                trial_norm = np.max(np.abs(trial_r))
                if trial_norm < norm or alpha < 1e-6:
                    break
                alpha *= 0.5
            slow = alpha < 1.0 or size > 0.3 * previous_step
            v = trial
            r[:] = trial_r
            g[:] = trial_g
            norm = trial_norm
            previous_step = size
            if slow:  # the kept inverse no longer describes the Jacobian well
                have_inverse = False
        if not converged:
            return p
        out[:, p] = v
        earlier = out[:, p - 1] if p >= 1 else v
    return -1


def _two_columns(rows: np.ndarray, entries: list[list[tuple[int, float]]]) -> tuple[np.ndarray, np.ndarray]:
    pos, coef = np.full((rows.size, 2), -1, dtype=np.int64), np.zeros((rows.size, 2))
    for k, row in enumerate(entries):
        for side, (p, c) in enumerate(row):
            pos[k, side], coef[k, side] = p, c
    return pos, coef


class NodalEquations:
    """The free-node equations of a network with diodes (see the module docstring), solved along a path of
    points by a compiled damped Newton (``_solve_path``)."""

    def __init__(self, topology: NetworkTopology, conductance_s: np.ndarray, diodes: DiodeArrays) -> None:
        n_free, n_nodes = topology.n_free, topology.n_nodes
        if n_free > MAX_DENSE_FREE_NODES:
            raise ConfigError(
                f"a network with diodes is solved densely over its free nodes: {n_free:,} free nodes is over the "
                f"limit of {MAX_DENSE_FREE_NODES:,}"
            )
        self.topology = topology
        g = np.asarray(conductance_s, dtype=float)
        self.laplacian = np.ascontiguousarray(topology.laplacian_ff(g).toarray())
        self.coupling = topology.coupling(g).tocsr()
        self.diodes = diodes
        # Q: at most two free entries per diode; the driven part maps driven voltages to each diode's drop
        entries: list[list[tuple[int, float]]] = [[] for _ in range(diodes.count)]
        fixed = np.zeros((diodes.count, topology.driven.size))
        for position, coef in ((diodes.anode, diodes.anode_coef), (diodes.cathode, -diodes.cathode_coef)):
            for d in range(diodes.count):
                if position[d] < n_free:
                    entries[d].append((int(position[d]), float(coef[d])))
                elif position[d] < n_nodes:
                    fixed[d, position[d] - n_free] += coef[d]
        self.q_pos, self.q_coef = _two_columns(np.arange(diodes.count), entries)
        self.q_fixed = fixed
        u = topology.clamp_columns
        clamp_entries = [
            [(int(i), float(u[i, k])) for i in np.flatnonzero(u[:, k])] for k in range(u.shape[1])
        ]
        if any(len(row) > 2 for row in clamp_entries):
            raise ConfigError("a clamp joins at most two nodes")
        self.clamp_pos, self.clamp_coef = _two_columns(np.arange(u.shape[1]), clamp_entries)

    def _right_hand_side(self, driven_v: np.ndarray, clamp_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(b, f) at every point: the driven part of A v - b and the diodes' driven voltages."""
        top = self.topology
        e = top.fixed_clamp_v(driven_v)  # (P, K)
        # most driven voltages hold still over a cycle: couple the first point's, then only the changes
        varying = np.flatnonzero(np.any(driven_v != driven_v[:1], axis=0))
        varying = varying[np.isin(varying, top.driven_connected)]  # the clamp drive beta couples no resistor
        b = np.tile(self.coupling @ driven_v[0], (driven_v.shape[0], 1))
        if varying.size:
            b += np.asarray(self.coupling[:, varying] @ (driven_v[:, varying] - driven_v[:1, varying]).T).T
        b -= (clamp_s * e) @ top.clamp_columns.T
        return np.ascontiguousarray(b), np.ascontiguousarray(driven_v @ self.q_fixed.T)

    def solve(
        self,
        driven_v: np.ndarray,
        clamp_s: np.ndarray,
        initial: np.ndarray | None = None,
        label: str = "point",
    ) -> np.ndarray:
        """Free voltages (n_free, P) at P points (driven voltages (P, n_driven), clamp conductances (P, K)), each
        point started from the previous solution (the first from ``initial``, else the diode-free solution)."""
        driven_v = np.ascontiguousarray(driven_v, dtype=float)
        clamp_s = np.ascontiguousarray(clamp_s, dtype=float)
        points = driven_v.shape[0]
        b, f = self._right_hand_side(driven_v, clamp_s)
        if initial is None:
            a0 = self.laplacian + (self.topology.clamp_columns * clamp_s[0]) @ self.topology.clamp_columns.T
            initial = np.linalg.solve(a0, b[0]) if a0.size else np.zeros(0)
        out = np.empty((self.topology.n_free, points))
        d = self.diodes
        failed = _solve_path(
            self.laplacian,
            self.clamp_pos,
            self.clamp_coef,
            clamp_s,
            b,
            f,
            self.q_pos,
            self.q_coef,
            np.ascontiguousarray(d.is_a, dtype=float),
            np.ascontiguousarray(d.n, dtype=float),
            np.ascontiguousarray(d.rs_ohm, dtype=float),
            np.asarray(initial, dtype=float).copy(),
            out,
        )
        if failed >= 0:
            raise ConvergenceError(f"Newton's method did not converge at {label} {failed}")
        return out

    def jacobian_at(self, v: np.ndarray, driven: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """The Jacobian at a solution (for implicit differentiation)."""
        clamp_s = np.atleast_2d(np.asarray(gamma, dtype=float))
        b, f = self._right_hand_side(np.atleast_2d(np.asarray(driven, dtype=float)), clamp_s)
        u = self.topology.clamp_columns
        a = self.laplacian + (u * clamp_s[0]) @ u.T
        r, g = np.empty(v.size), np.empty(self.diodes.count)
        d = self.diodes
        omega = np.full(self.diodes.count, -1.0)
        _residual(
            np.asarray(v, dtype=float),
            a,
            b[0],
            self.q_pos,
            self.q_coef,
            f[0],
            d.is_a,
            d.n,
            d.rs_ohm,
            r,
            g,
            omega,
        )
        return _jacobian(a, self.q_pos, self.q_coef, g)
