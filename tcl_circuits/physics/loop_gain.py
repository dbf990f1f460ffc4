"""The in-cycle loop gain of memristor learning: how strongly an edge's programming feeds back on its own
signal within one cycle. Above 1 the learning loop runs away (docs/memristor.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign, as_design
from tcl_circuits.config import FeedbackCellConfig, ProgrammingMode, SawtoothConfig
from tcl_circuits.devices import Device, ProgrammingPlan, dg_dx
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.nonlinearity import threshold_g
from tcl_circuits.network import NetworkSpec
from tcl_circuits.physics.steady import SteadyState


@dataclass(frozen=True)
class LoopGain:
    """In-cycle loop gains of a set of samples."""

    network: float
    """Largest spectral radius of tau_k * diag(eta) * ds/dG over samples (free and clamped states)."""
    edges: np.ndarray
    """Largest self term eta_e tau_k |ds_e/dG_e| of each edge."""


class ProgrammedNetwork(Protocol):
    """What the loop gain reads of a memristor network (``learning.memristor.MemristorNetwork``)."""

    @property
    def devices(self) -> Sequence[Device]: ...
    @property
    def states(self) -> np.ndarray: ...
    @property
    def plan(self) -> ProgrammingPlan: ...

    def frozen_spec(self) -> NetworkSpec: ...


def loop_gains(
    net: ProgrammedNetwork,
    inputs_v: np.ndarray,
    targets_v: np.ndarray,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
) -> LoopGain:
    """The in-cycle loop gain of the learning loop over these samples.

    While edges program, their conductance changes alter the signals: u_e = tau_k ds_e/dt picks up
    tau_k sum_f (ds_e/dG_f) dG_f/dt, and dG_f/dt = -eta_f(u_f) u_f. ds_e/dG_f = -2 V_e K_ef V_f (K the
    transfer resistance), so the loop matrix tau_k diag(eta) ds/dG has real eigenvalues (diag(eta) times a
    symmetric positive semi-definite matrix) and the loop is unstable once its spectral radius reaches 1
    (positive feedback: a rising s lowers G, which raises s). Per sample the steepest u of each edge is
    estimated from the quasi-static network (ds/dbeta at the start and at the top of the fast ramp); eta_e
    is the largest slope |dG/dt| / |u| of the calibrated drive and device over |u| up to that value (0 for
    an edge whose u stays below the threshold: it never closes the loop; the hard threshold's step is a
    relay, not a gain, so slopes are taken on either side of it).
    """
    x = np.atleast_2d(inputs_v)
    y = np.atleast_2d(targets_v)
    spec = net.frozen_spec()
    cell = as_design(cell, drive, spec)
    e_arr = spec.edge_array
    delta = 1e-3 * drive.beta_max

    def drops(beta: float) -> np.ndarray:
        if beta == 0:
            v = SteadyState(spec).solve(x)
        else:
            v = SteadyState(spec, beta * drive.clamp_conductance_s).solve(x, y)
        return v[:, e_arr[:, 0]] - v[:, e_arr[:, 1]]  # (samples, edges), task volts

    v0, v_top = drops(0.0), drops(drive.beta_max)
    slope_beta = (
        np.maximum(np.abs(drops(delta) ** 2 - v0**2), np.abs(v_top**2 - drops(drive.beta_max - delta) ** 2))
        / delta
    )
    u_max = cell.tau_k_s * slope_beta * drive.beta_max / drive.tau_rise_s
    theta = cell.theta_v
    plan = net.plan
    fractions = np.linspace(0.0, 1.0, 65)[1:]
    eta = np.zeros_like(u_max)
    for e, device in enumerate(net.devices):
        for n in np.flatnonzero(u_max[:, e] >= theta).tolist():
            u = np.concatenate([-u_max[n, e] * fractions[::-1], u_max[n, e] * fractions])
            if plan.mode is ProgrammingMode.DEVICE_THRESHOLD:
                w = u
            else:
                w = threshold_g(u, theta, cell.shape)
            rate = device.rate_per_s(plan.drive(w), np.full_like(u, net.states[e]))
            same_side = (np.abs(u[1:]) >= theta) == (np.abs(u[:-1]) >= theta)
            slopes = np.abs(np.diff(rate) / np.diff(u))[same_side]
            eta[n, e] = (slopes.max() if slopes.size else 0.0) * abs(
                float(dg_dx(device, np.array(net.states[e])))
            )
    network = 0.0
    self_terms = np.zeros(spec.n_edges)
    for k_matrix, v in (
        (SteadyState(spec).transfer_resistance(), v0),
        (SteadyState(spec, drive.peak_clamp_conductance_s).transfer_resistance(), v_top),
    ):
        for n in range(x.shape[0]):
            root = np.sqrt(eta[n] * cell.tau_k_s)
            scaled = (root * v[n])[:, None] * (2.0 * k_matrix) * (root * v[n])[None, :]
            network = max(network, float(np.linalg.eigvalsh(scaled)[-1]))
            self_terms = np.maximum(self_terms, np.diag(scaled))
    return LoopGain(network, self_terms)


def check_loop_gain(gain: LoopGain, limit: float, spec: NetworkSpec, learning_rate: float) -> None:
    """Raise ConfigError if the in-cycle loop gain reaches ``limit``."""
    if gain.network >= limit:
        e = int(np.argmax(gain.edges))
        raise ConfigError(
            f"in-cycle loop gain {gain.network:.3g} (largest edge term {gain.edges[e]:.3g}, edge "
            f"{spec.edge_label(e)!r}) reaches the bound {limit:.3g}: the learning loop would go unstable; lower "
            f"the learning rate below about {learning_rate * limit / gain.network:.3g} S^2/V^2"
        )
