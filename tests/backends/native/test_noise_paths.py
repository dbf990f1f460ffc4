"""The native engine's fast noise paths against the plain ones: the network noise response through the dense
inverse against the sparse triangular solves, its interpolation between knots against np.interp, and the cell
integration cut at the noise knots against the same integration on a grid holding every knot."""

from __future__ import annotations

import numpy as np
import pytest

from tcl_circuits.backends.native.cell_dynamics import NoiseCurrents, integrate_cells
from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.backends.native.network_noise import noise_injection
from tcl_circuits.backends.native.parsed import ParsedCircuit
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.learning.rules import calibrate_threshold_v
from tcl_circuits.learning.tasks import teacher_task
from tcl_circuits.physics import quasistatic


@pytest.fixture(scope="module")
def noisy_circuit():
    """A 4x4 teacher sample with R_K's and the network's noise at 300 K, the threshold calibrated (so the
    noise crosses it often) and the drive shortened to keep the test quick."""
    task = teacher_task("lattice:4x4", train_samples=5, test_samples=1, seed=0)
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=1e-4)
    theta_v = calibrate_threshold_v(task.student, task.x_train, task.y_train, drive, 5e-7)
    cell = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=theta_v, noise_temperature_k=300.0)
    sim = SimulatorConfig(network_noise_temperature_k=300.0)
    x, y = task.x_train[0], task.y_train[0]
    return compile_tcl(
        task.student, drive=drive, cell=cell, sim=sim, inputs_v=x, targets_v=y, noise_seed=(5,)
    )


def test_dense_noise_response_gives_the_sparse_solves_result_to_round_off(monkeypatch, noisy_circuit):
    """The same noisy cycle with the network's noise response forced through the sparse LU solves (the
    former path) and through the dense inverse: node voltages, u and w agree to round-off."""
    cells = noisy_circuit.cells
    runs = {}
    for label, fill in (("sparse", 0), ("dense", 10**9)):
        monkeypatch.setattr(quasistatic, "DENSE_RESPONSE_FILL", fill)
        result = NativeBackend().run(noisy_circuit)
        runs[label] = [
            result.rows(noisy_circuit.network_nodes).copy(),
            result.rows(cells.feedback).copy(),
            result.rows(cells.accumulator)[:, -1].copy(),
        ]
    for sparse, dense in zip(runs["sparse"], runs["dense"], strict=True):
        assert np.abs(sparse).max() > 0
        np.testing.assert_allclose(dense, sparse, rtol=0, atol=1e-9 * np.abs(sparse).max())
    w_end = runs["dense"][2]
    assert np.count_nonzero(w_end) > w_end.size // 2  # the noise crossed the threshold: w moved


def test_network_noise_currents_are_the_knots_summed_into_nodes_and_interpolated(noisy_circuit):
    """noise_injection at the knots, between them and past the last one against np.interp of each node's
    summed knot currents (out of a resistor's a end, into its b end; held past the last knot)."""
    parsed = ParsedCircuit(noisy_circuit)
    topology = NativeBackend()._topology(parsed)
    noise = parsed.network_noise
    assert noise is not None
    samples = noise.samples()
    per_node = np.zeros((topology.n_free, samples.shape[1]))
    for r in range(samples.shape[0]):
        for end, sign in ((parsed.noise_a[r], -1.0), (parsed.noise_b[r], 1.0)):
            row = topology.position[end]
            if end >= 0 and row < topology.n_free:
                per_node[row] += sign * samples[r]
    knots_s = noise.step_s * np.arange(samples.shape[1])
    between = np.random.default_rng(0).uniform(0.0, 1.01 * knots_s[-1], 3000)
    axis = np.union1d(knots_s, between)
    expected = np.array([np.interp(axis, knots_s, row) for row in per_node])
    np.testing.assert_allclose(
        noise_injection(parsed, topology, axis), expected, rtol=0, atol=1e-12 * np.abs(expected).max()
    )


def test_noisy_cells_cut_at_the_knots_give_the_exact_u_and_what_a_grid_holding_every_knot_gives():
    """The noisy cell integration splits each grid step at the noise knots (sub-steps computed once for all
    cells). On a coarse grid with s linear between its points it must give what it gives on the grid with
    every knot added (s interpolated onto it): the same sub-steps either way, so u and w at the coarse
    points agree to round-off; and u is exact (against RK4)."""
    rng = np.random.default_rng(3)
    edges, knots, step_s = 6, 401, 5e-8
    stop_s = step_s * (knots - 1) * 0.9993  # the last knot interval cut short
    coarse = np.linspace(0.0, stop_s, 23)
    fine = np.union1d(coarse, step_s * np.arange(knots)[step_s * np.arange(knots) < stop_s])
    s_coarse = rng.uniform(0, 4e-5, (edges, coarse.size))
    s_fine = np.array([np.interp(fine, coarse, row) for row in s_coarse])
    tau_s = np.array([5e-7, 5e-7, 6e-7, 5e-7, 4e-7, 5e-7])
    noise = NoiseCurrents(tau_s / 1e3, rng.normal(0, 4e-8, (edges, knots)), step_s)
    args = (tau_s, np.full(edges, 2e-6), np.full(edges, 100.0), np.array([0.0, 1.0] * 3))
    u_c, w_c = integrate_cells(s_coarse, np.diff(coarse), *args, offset_v=1e-7, noise=noise)
    u_f, w_f = integrate_cells(s_fine, np.diff(fine), *args, offset_v=1e-7, noise=noise)
    at = np.searchsorted(fine, coarse)
    assert np.all(fine[at] == coarse) and fine.size > 10 * coarse.size
    assert np.abs(w_c[:, -1]).min() > 0
    np.testing.assert_allclose(u_c, u_f[:, at], rtol=0, atol=1e-9 * np.abs(u_f).max())
    np.testing.assert_allclose(w_c, w_f[:, at], rtol=0, atol=1e-9 * np.abs(w_f).max())
    # and u is the exact solution of du/dt = ds/dt + i_n / C_K - u / tau_K: here of one cell, by RK4 on each
    # piece between breakpoints (coarse points and knots), where the right-hand side is smooth
    e = 2
    knots_s = step_s * np.arange(knots)

    def du_dt(t, u):
        k = min(np.searchsorted(coarse, t, side="right") - 1, coarse.size - 2)
        slope = (s_coarse[e, k + 1] - s_coarse[e, k]) / (coarse[k + 1] - coarse[k])
        return slope + np.interp(t, knots_s, noise.samples_a[e]) / noise.c_k_f[e] - u / tau_s[e]

    u, reference = 0.0, [0.0]
    for t0, t1 in zip(fine[:-1], fine[1:], strict=True):
        h = (t1 - t0) / 8
        for t in t0 + h * np.arange(8):
            mid = t + h / 2 if t + h / 2 < t1 else t1
            k1 = du_dt(t, u)
            k2 = du_dt(mid, u + h / 2 * k1)
            k3 = du_dt(mid, u + h / 2 * k2)
            k4 = du_dt(min(t + h, np.nextafter(t1, t0)), u + h * k3)
            u += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        reference.append(u)
    np.testing.assert_allclose(u_c[e], np.array(reference)[at], rtol=0, atol=1e-8 * np.abs(u_c[e]).max())
