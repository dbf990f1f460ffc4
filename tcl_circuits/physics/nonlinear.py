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

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.special import wrightomega

from tcl_circuits.errors import ConvergenceError
from tcl_circuits.network.spec import THERMAL_VOLTAGE_V
from tcl_circuits.physics.quasistatic import NetworkTopology

VOLTAGE_TOLERANCE_V = 1e-10
"""Newton stops when no node moves by more than this."""
MAX_ITERATIONS = 60


def diode_current(
    v: np.ndarray, is_a: np.ndarray, n: np.ndarray, rs_ohm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Current (A) and small-signal conductance dI/dV (S) of diodes at voltages ``v`` (V), series resistance
    included exactly: I = (n V_t / R_s) W(ln(I_s R_s / (n V_t)) + (V + I_s R_s) / (n V_t)) - I_s, W Wright's omega."""
    nvt = n * THERMAL_VOLTAGE_V
    argument = np.log(is_a * rs_ohm / nvt) + (v + is_a * rs_ohm) / nvt
    current = nvt / rs_ohm * np.real(wrightomega(argument)) - is_a
    shifted = current + is_a  # >= 0; 0 deep in reverse bias, where the conductance is 0
    conductance = shifted / (rs_ohm * shifted + nvt)
    return current, conductance


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


class NodalEquations:
    """The free-node equations of a network with diodes (see the module docstring), solved point by point."""

    def __init__(self, topology: NetworkTopology, conductance_s: np.ndarray, diodes: DiodeArrays) -> None:
        self.topology = topology
        g = np.asarray(conductance_s, dtype=float)
        self.laplacian = topology.laplacian_ff(g).toarray()
        self.coupling = topology.coupling(g).toarray()
        n_free, n_nodes = topology.n_free, topology.n_nodes
        self.diodes = diodes
        # Q (diodes x free) and the driven part (diodes x driven)
        q = np.zeros((diodes.count, n_free))
        fixed = np.zeros((diodes.count, topology.driven.size))
        rows = np.arange(diodes.count)
        for position, coef in ((diodes.anode, diodes.anode_coef), (diodes.cathode, -diodes.cathode_coef)):
            on_free = position < n_free
            np.add.at(q, (rows[on_free], position[on_free]), coef[on_free])
            on_driven = (position >= n_free) & (position < n_nodes)
            np.add.at(fixed, (rows[on_driven], position[on_driven] - n_free), coef[on_driven])
        self.q = q
        self.q_fixed = fixed
        self._lu: tuple | None = None

    def _parts(self, driven: np.ndarray, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(A, b, f): the linear part A v - b of F at one point and the diodes' driven voltages f."""
        top = self.topology
        u = top.clamp_columns
        a = self.laplacian + (u * gamma) @ u.T
        e = top.fixed_clamp_v(driven[None])[0]
        b = self.coupling @ driven - u @ (gamma * e)
        return a, b, self.q_fixed @ driven

    def residual(
        self, v: np.ndarray, a: np.ndarray, b: np.ndarray, f: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """F(v) and the diodes' conductances at v."""
        d = self.diodes
        current, conductance = diode_current(self.q @ v + f, d.is_a, d.n, d.rs_ohm)
        return a @ v - b + self.q.T @ current, conductance

    def jacobian(self, a: np.ndarray, conductance: np.ndarray) -> np.ndarray:
        return a + (self.q.T * conductance) @ self.q

    def solve_point(self, driven: np.ndarray, gamma: np.ndarray, v0: np.ndarray, where: str) -> np.ndarray:
        """The free voltages at one point from the guess v0: chord steps with the kept factorisation while they
        contract fast, Newton steps (refactorised) otherwise, each with a backtracking line search on |F|."""
        a, b, f = self._parts(driven, gamma)
        v = np.array(v0, dtype=float)
        residual, conductance = self.residual(v, a, b, f)
        norm = float(np.max(np.abs(residual))) if residual.size else 0.0
        previous_step = np.inf
        for _ in range(MAX_ITERATIONS):
            if self._lu is None:
                self._lu = sla.lu_factor(self.jacobian(a, conductance), check_finite=False)
            step = -sla.lu_solve(self._lu, residual, check_finite=False)
            size = float(np.max(np.abs(step))) if step.size else 0.0
            if size <= VOLTAGE_TOLERANCE_V * (1.0 + float(np.max(np.abs(v), initial=0.0))):
                return v + step
            alpha = 1.0
            while True:
                trial = v + alpha * step
                trial_residual, trial_conductance = self.residual(trial, a, b, f)
                trial_norm = float(np.max(np.abs(trial_residual)))
                if trial_norm < norm or alpha < 1e-6:
                    break
                alpha *= 0.5
            slow = alpha < 1.0 or size > 0.3 * previous_step
            v, residual, conductance, norm = trial, trial_residual, trial_conductance, trial_norm
            previous_step = size
            if slow:  # the kept factorisation no longer describes the Jacobian well: refactorise
                self._lu = None
        raise ConvergenceError(
            f"Newton's method did not converge at {where} (last step {previous_step:.3g} V)"
        )

    def solve(
        self,
        driven_v: np.ndarray,
        clamp_s: np.ndarray,
        initial: np.ndarray | None = None,
        label: str = "point",
    ) -> np.ndarray:
        """Free voltages (n_free, P) at P points (driven voltages (P, n_driven), clamp conductances (P, K)), each
        point started from the previous solution (the first from ``initial``, else the diode-free solution)."""
        points = driven_v.shape[0]
        out = np.empty((self.topology.n_free, points))
        if initial is None:
            a, b, _ = self._parts(driven_v[0], clamp_s[0])
            initial = np.linalg.solve(a, b) if a.size else np.zeros(0)
        v = np.asarray(initial, dtype=float)
        for p in range(points):
            v = self.solve_point(driven_v[p], clamp_s[p], v, f"{label} {p}")
            out[:, p] = v
        return out

    def jacobian_at(self, v: np.ndarray, driven: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """The Jacobian at a solution (for implicit differentiation)."""
        a, b, f = self._parts(driven, gamma)
        _, conductance = self.residual(v, a, b, f)
        return self.jacobian(a, conductance)
