"""Exact steady states of a linear resistor network with clamps, the loss, and its adjoint gradient.

Used for teacher targets, held-out evaluation in the free state, the explicit-contrastive and gradient rules,
the loop gain, and as the reference the simulators are checked against. Kirchhoff's current law on the free
(hidden and output) nodes, L_ff V_f = R V_x + c e_O T, with L the weighted Laplacian, x the driven nodes
(inputs; ground at 0 V) and c the clamp conductance on each output. Assembled and factorised by the one
network solve (``physics.quasistatic``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tcl_circuits.errors import ConfigError
from tcl_circuits.network import NetworkSpec
from tcl_circuits.physics.quasistatic import GROUND, NetworkTopology, factorize

_TOPOLOGIES: dict[object, tuple[NetworkTopology, np.ndarray]] = {}


def _topology(spec: NetworkSpec) -> tuple[NetworkTopology, np.ndarray]:
    """The network's topology (inputs driven, ground-role nodes at 0 V) and the spec index of each of its
    free nodes; built once per topology (``spec.topology_key``)."""
    found = _TOPOLOGIES.get(spec.topology_key)
    if found is None:
        ground = set(spec.ground_nodes)
        kept = np.array([i for i in range(spec.n_nodes) if i not in ground], dtype=int)
        index = np.full(spec.n_nodes, GROUND)
        index[kept] = np.arange(kept.size)
        edges = spec.edge_array
        none = np.zeros(0, dtype=int)
        topology = NetworkTopology(
            kept.size, index[edges[:, 0]], index[edges[:, 1]], index[list(spec.input_nodes)], none, none
        )
        found = (topology, kept[topology.free])
        if len(_TOPOLOGIES) >= 32:
            _TOPOLOGIES.pop(next(iter(_TOPOLOGIES)))
        _TOPOLOGIES[spec.topology_key] = found
    return found


class LinearNetwork:
    """Factorised free-node Laplacian of one NetworkSpec at one clamp conductance (reuse it for many samples)."""

    def __init__(self, spec: NetworkSpec, clamp_s: float = 0.0) -> None:
        self.spec = spec
        self.clamp_s = float(clamp_s)
        topology, free = _topology(spec)
        self.free = free  # spec index of each free node, in solve order
        self.inputs = np.array(spec.input_nodes, dtype=int)
        self.outputs = np.array(spec.output_nodes, dtype=int)
        position = np.full(spec.n_nodes, -1)
        position[free] = np.arange(free.size)
        self._outputs_in_free = position[self.outputs]
        g = spec.conductance_s
        l_ff = topology.laplacian_ff(g)
        if self.clamp_s:
            diagonal = np.zeros(free.size)
            diagonal[self._outputs_in_free] = self.clamp_s
            l_ff = l_ff + sp.diags(diagonal)
        self._coupling = topology.coupling(g)
        self._lu = factorize(l_ff)

    def solve(self, inputs_v: np.ndarray, targets_v: np.ndarray | None = None) -> np.ndarray:
        """Node voltages, shape (samples, nodes), for inputs of shape (samples, n_inputs) or (n_inputs,)."""
        x = np.atleast_2d(np.asarray(inputs_v, dtype=float))
        rhs = np.asarray(self._coupling @ x.T)
        if self.clamp_s:
            if targets_v is None:
                raise ConfigError("a clamped solve needs the targets of its samples")
            t = np.atleast_2d(np.asarray(targets_v, dtype=float))
            rhs[self._outputs_in_free] += self.clamp_s * t.T
        v = np.zeros((x.shape[0], self.spec.n_nodes))
        v[:, self.inputs] = x
        v[:, self.free] = self._lu.solve(np.ascontiguousarray(rhs)).T
        return v

    def edge_drops(self, voltages: np.ndarray) -> np.ndarray:
        """V_a - V_b for every edge, shape (samples, edges)."""
        e = self.spec.edge_array
        return voltages[..., e[:, 0]] - voltages[..., e[:, 1]]

    def loss(self, inputs_v: np.ndarray, targets_v: np.ndarray) -> np.ndarray:
        """Per-sample cost C = sum_o (V_o - T_o)^2 in the free state (this object must be unclamped), V^2."""
        v = self.solve(inputs_v)
        return np.sum((v[:, self.outputs] - np.atleast_2d(targets_v)) ** 2, axis=1)

    def gradient(self, inputs_v: np.ndarray, targets_v: np.ndarray) -> np.ndarray:
        """dC/dG_e of one sample by the adjoint method, V^2/S (this object must be unclamped).

        With L_ff lambda = dC/dV_f (lambda = 0 on driven nodes): dC/dG_e = -(V_a - V_b)(lambda_a - lambda_b).
        """
        v = self.solve(inputs_v)[0]
        dc_dv = np.zeros(len(self.free))
        dc_dv[self._outputs_in_free] = 2.0 * (v[self.outputs] - np.asarray(targets_v, dtype=float))
        lam = np.zeros(self.spec.n_nodes)
        lam[self.free] = self._lu.solve(dc_dv)
        e = self.spec.edge_array
        return -(v[e[:, 0]] - v[e[:, 1]]) * (lam[e[:, 0]] - lam[e[:, 1]])

    def transfer_resistance(self) -> np.ndarray:
        """K = B L_ff^-1 B^T, edges x edges, ohms: the drop across edge e per unit current injected across edge
        f (B the edge-node incidence on the free nodes, driven nodes held, clamps as factorised here).

        dV_e/dG_f = -K_ef V_f, so K carries every edge's influence on every other edge's signal.
        """
        e = self.spec.edge_array
        position = np.full(self.spec.n_nodes, -1)
        position[self.free] = np.arange(self.free.size)
        incidence = np.zeros((self.spec.n_edges, self.free.size))
        rows = np.arange(self.spec.n_edges)
        for column, sign in ((0, 1.0), (1, -1.0)):
            on_free = position[e[:, column]] >= 0
            incidence[rows[on_free], position[e[on_free, column]]] = sign
        return incidence @ self._lu.solve(np.ascontiguousarray(incidence.T))


def mean_loss(spec: NetworkSpec, inputs_v: np.ndarray, targets_v: np.ndarray) -> float:
    """Mean free-state cost over a set of samples, V^2."""
    return float(np.mean(LinearNetwork(spec).loss(inputs_v, targets_v)))
