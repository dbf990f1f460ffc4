"""Exact steady states of a network (resistors, clamps, bias sources, amplifiers, diodes), the loss, and its
gradient by implicit differentiation.

Used for teacher targets, held-out evaluation in the free state, the explicit-contrastive and gradient rules,
the loop gain, and as the reference the simulators are checked against. Kirchhoff's current law on the free
(hidden and output) nodes: L_ff V_f = R V_x + c e_O T for a linear network, with L the weighted Laplacian
(amplified nodes enter through their source with the gain as coefficient), x the driven nodes (inputs and
bias sources; ground at 0 V) and c the clamp conductance on each output; with diodes the same equations
plus the diode currents, solved by damped Newton (``physics.nonlinear``). Assembled and factorised by the one
network solve (``physics.quasistatic``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tcl_circuits.errors import ConfigError
from tcl_circuits.memo import BoundedCache
from tcl_circuits.network import NetworkSpec
from tcl_circuits.physics.nonlinear import DiodeArrays, NodalEquations
from tcl_circuits.physics.quasistatic import GROUND, NetworkTopology, factorize

_TOPOLOGIES: BoundedCache[tuple] = BoundedCache(32)


def _topology(spec: NetworkSpec) -> tuple:
    """(topology, spec index of each free node, topology index of each spec node, coefficient of each spec
    node, diodes); the driven nodes are the inputs, the bias nodes and one target node per output (clamp k
    joins output k to target k); built once per topology (``spec.topology_key``)."""
    return _TOPOLOGIES.get(spec.topology_key, lambda: _build_topology(spec))


def _build_topology(spec: NetworkSpec) -> tuple:
    follows, coefficient = spec.node_map
    ground = set(spec.ground_nodes)
    kept = np.array(
        [i for i in range(spec.n_nodes) if i not in ground and i not in set(spec.amplified_nodes)],
        dtype=int,
    )
    own = np.full(spec.n_nodes, GROUND)
    own[kept] = np.arange(kept.size)
    index = own[follows]  # amplified nodes act through their source
    edges = spec.edge_array
    outputs = own[list(spec.output_nodes)]
    targets = kept.size + np.arange(outputs.size)  # one driven target node per output, after the network's
    driven = np.concatenate([own[[*spec.input_nodes, *spec.bias_nodes]], targets])
    topology = NetworkTopology(
        kept.size + outputs.size,
        index[edges[:, 0]],
        index[edges[:, 1]],
        driven,
        outputs,
        targets,
        coef_a=coefficient[edges[:, 0]],
        coef_b=coefficient[edges[:, 1]],
    )
    diodes = DiodeArrays(
        anode=topology.position[index[[d.anode for d in spec.diodes]]],
        cathode=topology.position[index[[d.cathode for d in spec.diodes]]],
        anode_coef=coefficient[[d.anode for d in spec.diodes]],
        cathode_coef=coefficient[[d.cathode for d in spec.diodes]],
        is_a=np.array([d.is_a for d in spec.diodes]),
        n=np.array([d.n for d in spec.diodes]),
        rs_ohm=np.array([d.rs_ohm for d in spec.diodes]),
    )
    return (topology, kept[topology.free], index, coefficient, diodes)


class SteadyState:
    """Steady states of one NetworkSpec at one clamp conductance on its outputs (reuse it for many samples)."""

    def __init__(self, spec: NetworkSpec, clamp_s: float = 0.0) -> None:
        self.spec = spec
        self.clamp_s = float(clamp_s)
        topology, free, index, coefficient, diodes = _topology(spec)
        self.topology = topology
        self.free = free  # spec index of each free node, in solve order
        self._index, self._coefficient = index, coefficient
        self.inputs = np.array(spec.input_nodes, dtype=int)
        self.outputs = np.array(spec.output_nodes, dtype=int)
        position = np.full(spec.n_nodes, -1)
        position[free] = np.arange(free.size)
        self._position = position
        self._outputs_in_free = position[self.outputs]
        g = spec.conductance_s
        self._gamma = np.full(self.outputs.size, self.clamp_s)
        self._coupling = topology.coupling(g)
        self._equations = NodalEquations(topology, g, diodes) if spec.nonlinear else None
        self._lu = None
        if self._equations is None:
            u = topology.clamp_columns
            self._lu = factorize(topology.laplacian_ff(g) + sp.csc_matrix((u * self._gamma) @ u.T))

    def _driven(self, x: np.ndarray, targets: np.ndarray | None = None) -> np.ndarray:
        """Driven voltages (samples, inputs + bias nodes + targets); targets 0 where none are given."""
        bias = np.broadcast_to(self.spec.bias_voltage_v, (x.shape[0], self.spec.bias_voltage_v.size))
        t = np.zeros((x.shape[0], self.outputs.size)) if targets is None else np.atleast_2d(targets)
        return np.hstack([x, bias, t])

    def _all_nodes(self, x: np.ndarray, free_v: np.ndarray) -> np.ndarray:
        """Every node's voltage (samples, nodes) from the free voltages (samples, free)."""
        v = np.zeros((x.shape[0], self.spec.n_nodes))
        v[:, self.inputs] = x
        v[:, list(self.spec.bias_nodes)] = self.spec.bias_voltage_v
        v[:, self.free] = free_v
        for amplifier in self.spec.amplifiers:
            v[:, amplifier.output] = amplifier.gain * v[:, amplifier.source]
        return v

    def solve(self, inputs_v: np.ndarray, targets_v: np.ndarray | None = None) -> np.ndarray:
        """Node voltages, shape (samples, nodes), for inputs of shape (samples, n_inputs) or (n_inputs,)."""
        x = np.atleast_2d(np.asarray(inputs_v, dtype=float))
        if self.clamp_s and targets_v is None:
            raise ConfigError("a clamped solve needs the targets of its samples")
        driven = self._driven(x, None if targets_v is None else np.asarray(targets_v, dtype=float))
        if self._equations is None:
            assert self._lu is not None
            top = self.topology
            u = top.clamp_columns
            rhs = np.asarray(self._coupling @ driven.T) - u @ (self._gamma * top.fixed_clamp_v(driven)).T
            return self._all_nodes(x, self._lu.solve(np.ascontiguousarray(rhs)).T)
        gamma = np.broadcast_to(self._gamma, (x.shape[0], self._gamma.size))
        free_v = self._equations.solve(driven, np.ascontiguousarray(gamma), label="sample")
        return self._all_nodes(x, free_v.T)

    def edge_drops(self, voltages: np.ndarray) -> np.ndarray:
        """V_a - V_b for every edge, shape (samples, edges) (an amplified end reads its own node's voltage)."""
        e = self.spec.edge_array
        return voltages[..., e[:, 0]] - voltages[..., e[:, 1]]

    def loss(self, inputs_v: np.ndarray, targets_v: np.ndarray) -> np.ndarray:
        """Per-sample cost C = sum_o (V_o - T_o)^2 in the free state (this object must be unclamped), V^2."""
        v = self.solve(inputs_v)
        return np.sum((v[:, self.outputs] - np.atleast_2d(targets_v)) ** 2, axis=1)

    def gradient(self, inputs_v: np.ndarray, targets_v: np.ndarray) -> np.ndarray:
        """dC/dG_e of one sample by implicit differentiation of the free steady state, V^2/S (unclamped).

        With J lambda = dC/dV_f at the solution (J the Jacobian of the nodal equations, the Laplacian for a
        linear network; lambda = 0 on driven nodes): dC/dG_e = -(V_a - V_b)(lambda_a - lambda_b), an
        amplified end counting its source's lambda times the gain.
        """
        x = np.atleast_2d(np.asarray(inputs_v, dtype=float))
        v = self.solve(x)[0]
        dc_dv = np.zeros(len(self.free))
        dc_dv[self._outputs_in_free] = 2.0 * (v[self.outputs] - np.asarray(targets_v, dtype=float))
        if self._equations is None:
            assert self._lu is not None
            lam_free = self._lu.solve(dc_dv)
        else:
            driven = self._driven(x)[0]
            jacobian = self._equations.jacobian_at(v[self.free], driven, np.zeros(self.outputs.size))
            lam_free = np.linalg.solve(jacobian, dc_dv)
        lam = np.zeros(self.spec.n_nodes)
        lam[self.free] = lam_free
        for amplifier in self.spec.amplifiers:
            lam[amplifier.output] = amplifier.gain * lam[amplifier.source]
        e = self.spec.edge_array
        return -(v[e[:, 0]] - v[e[:, 1]]) * (lam[e[:, 0]] - lam[e[:, 1]])

    def transfer_resistance(self) -> np.ndarray:
        """K = B L_ff^-1 B^T, edges x edges, ohms (linear networks): the drop across edge e per unit current
        injected across edge f (B the edge-node incidence on the free nodes, driven nodes held, clamps as
        factorised here). dV_e/dG_f = -K_ef V_f, so K carries every edge's influence on every other edge's
        signal."""
        if self._lu is None:
            raise ConfigError("the transfer resistance is defined for networks without diodes")
        e = self.spec.edge_array
        incidence = np.zeros((self.spec.n_edges, self.free.size))
        rows = np.arange(self.spec.n_edges)
        for column, sign in ((0, 1.0), (1, -1.0)):
            node = e[:, column]
            target = self._position[self._index_follow(node)]
            on_free = target >= 0
            incidence[rows[on_free], target[on_free]] = sign * self._coefficient[node[on_free]]
        return incidence @ self._lu.solve(np.ascontiguousarray(incidence.T))

    def _index_follow(self, nodes: np.ndarray) -> np.ndarray:
        follows, _ = self.spec.node_map
        return follows[nodes]


def mean_loss(spec: NetworkSpec, inputs_v: np.ndarray, targets_v: np.ndarray) -> float:
    """Mean free-state cost over a set of samples, V^2."""
    return float(np.mean(SteadyState(spec).loss(inputs_v, targets_v)))
