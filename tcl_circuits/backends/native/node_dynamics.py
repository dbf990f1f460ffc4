"""The network with capacitance from its free nodes to ground: finite relaxation, integrated by TR-BDF2.

Without capacitance the node voltages follow the sources and clamps instantly (``quasistatic``). With a
capacitance C_i on free node i they obey

    C dv/dt = b(t) - A(t) v,   A(t) = L_ff + U Gamma(t) U^T,   b(t) = R v_d(t) - U Gamma(t) e(t),

L_ff the free-node Laplacian, R the couplings to the driven nodes, U the clamp columns on the free nodes,
Gamma(t) the clamp conductances and e(t) the part of each clamp's voltage set by driven nodes. Node time
constants C/G can be far shorter than the grid step (stiff), so the integrator must be L-stable: TR-BDF2
(Bank et al., IEEE Trans. Electron Devices 32, 1985), one trapezoidal stage to t + gamma h and one BDF2 stage
to t + h, with gamma = 2 - sqrt(2). Second order, and both stages solve with the same matrix C + d A(t),
d = (1 - 1/sqrt(2)) h: C + d L_ff is factorised once per distinct step length and the clamps enter each
stage as a rank-K correction (Woodbury), like the quasi-static solve.

A free node without capacitance is an algebraic equation in the same system.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from tcl_circuits.physics.quasistatic import NetworkTopology, factorize

GAMMA = 2.0 - math.sqrt(2.0)
"""Where the TR stage ends, as a fraction of the step."""
_D = 1.0 - 1.0 / math.sqrt(2.0)  # d / h, the same in both stages
_BDF_NEW = 1.0 / (GAMMA * (2.0 - GAMMA))
_BDF_OLD = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))


class _StageSolver:
    """Solves (C + d A(t)) x = r for one step length: C + d L_ff factorised, the clamps by Woodbury."""

    def __init__(self, c_plus_dl: sp.csc_matrix, clamp_columns: np.ndarray, d: float) -> None:
        self.lu = factorize(c_plus_dl, "capacitive network")
        self.u = clamp_columns
        self.z = self.lu.solve(clamp_columns) if clamp_columns.shape[1] else np.zeros_like(clamp_columns)
        self.s = clamp_columns.T @ self.z
        self.d = d

    def woodbury(self, gamma: np.ndarray) -> np.ndarray:
        """(points, K, K) matrices (I + d Gamma S)^-1 d Gamma for clamp conductances (points, K), all at once."""
        dg = self.d * gamma
        k = gamma.shape[1]
        return np.linalg.solve(np.eye(k) + dg[:, :, None] * self.s[None], dg[:, :, None] * np.eye(k)[None])

    def solve(self, rhs: np.ndarray, woodbury: np.ndarray) -> np.ndarray:
        """x with (M + U d Gamma U^T) x = rhs: x = y - Z (I + d Gamma S)^-1 d Gamma U^T y, y = M^-1 rhs."""
        y = self.lu.solve(rhs)
        if not self.u.shape[1]:
            return y
        return y - self.z @ (woodbury @ (self.u.T @ y))


def relaxing_free_voltages(
    topology: NetworkTopology,
    conductance_s: np.ndarray,
    capacitance_f: np.ndarray,
    initial_free_v: np.ndarray,
    step_s: np.ndarray,
    driven_v: np.ndarray,
    clamp_s: np.ndarray,
    stage_driven_v: np.ndarray,
    stage_clamp_s: np.ndarray,
) -> np.ndarray:
    """Free-node voltages at the P grid points, (n_free, P), from the state at the first point.

    Parameters
    ----------
    topology : the network's connections; conductance_s : its resistor conductances (S).
    capacitance_f : (n_free,) capacitance of each free node to ground, F (>= 0, not all 0).
    initial_free_v : (n_free,) the state at the first point (the DC operating point there).
    step_s : (P - 1,) step lengths, s.
    driven_v, clamp_s : (P, n_driven) driven voltages and (P, K) clamp conductances at the grid points.
    stage_driven_v, stage_clamp_s : the same at the TR stage ends, t_n + GAMMA * h_n, (P - 1, ...).
    """
    n_free = topology.n_free
    points = driven_v.shape[0]
    out = np.empty((n_free, points))
    out[:, 0] = initial_free_v
    if n_free == 0 or points < 2:
        return out
    laplacian = topology.laplacian_ff(np.asarray(conductance_s, dtype=float))
    coupling = topology.coupling(np.asarray(conductance_s, dtype=float))
    u = topology.clamp_columns
    c = np.asarray(capacitance_f, dtype=float)

    def b(driven: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """b at many points, (n_free, points), from (points, n_driven) and (points, K)."""
        return coupling @ driven.T - u @ (gamma * topology.fixed_clamp_v(driven)).T

    b_grid, b_stage = b(driven_v, clamp_s), b(stage_driven_v, stage_clamp_s)
    steps = step_s.tolist()
    solvers: dict[float, tuple[_StageSolver, np.ndarray, np.ndarray]] = {}
    for h in set(steps):
        solver = _StageSolver((sp.diags(c) + _D * h * laplacian).tocsc(), u, _D * h)
        # Woodbury factors of every stage and grid point (only those of steps of length h are used)
        solvers[h] = (solver, solver.woodbury(stage_clamp_s), solver.woodbury(clamp_s))
    v = out[:, 0].copy()
    for n, h in enumerate(steps):
        solver, stage_factors, grid_factors = solvers[h]
        d = _D * h
        # TR stage to t + gamma h: (C + d A_g) v_g = C v + d f_n + d b_g, f_n = b_n - A_n v
        f_n = b_grid[:, n] - laplacian @ v - u @ (clamp_s[n] * (u.T @ v))
        v_stage = solver.solve(c * v + d * (f_n + b_stage[:, n]), stage_factors[n])
        # BDF2 stage to t + h: (C + d A_1) v_1 = C (BDF_NEW v_g - BDF_OLD v) + d b_1
        v = solver.solve(c * (_BDF_NEW * v_stage - _BDF_OLD * v) + d * b_grid[:, n + 1], grid_factors[n + 1])
        out[:, n + 1] = v
    return out
