"""Networks with diodes and amplifiers: the diode law, Kirchhoff's law at the solution, the gradient, and
agreement with ngspice's own diode and controlled-source models."""

import dataclasses

import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.circuit.compile import compile_phases
from tcl_circuits.config import SawtoothConfig
from tcl_circuits.learning.tasks import input_voltages, target_voltages
from tcl_circuits.network.spec import THERMAL_VOLTAGE_V, Role
from tcl_circuits.physics.nonlinear import diode_current
from tcl_circuits.physics.steady import SteadyState


@pytest.fixture(scope="module")
def small_drn():
    spec = network.from_graph(network.drn([3, 5, 2], seed=4))
    rng = np.random.default_rng(7)
    x = input_voltages(rng.random((3, 3)), 3.0)
    y = target_voltages(np.array([0, 1, 1]), 2, 0.2, 0.0)
    return spec, x, y


def test_thermal_voltage_is_ngspices_at_its_default_temperature():
    # ngspice: k T / q at 27 C = 300.15 K with the constants it compiles in (k 1.38064852e-23 J/K,
    # q 1.6021766208e-19 C); a diode's current is exponential in 1/V_t, so 1e-9 of it matters at the uV level
    assert THERMAL_VOLTAGE_V == pytest.approx(0.02586491700715746, rel=1e-12)


@pytest.mark.parametrize("rs_ohm", [1.0, 10.0, 1e3])
def test_diode_current_solves_the_series_resistance_law(rs_ohm):
    v = np.linspace(-2.0, 3.0, 101)
    ones = np.ones_like(v)
    current, conductance = diode_current(v, 1e-6 * ones, 1.2 * ones, rs_ohm * ones)
    nvt = 1.2 * THERMAL_VOLTAGE_V
    law = 1e-6 * np.expm1((v - current * rs_ohm) / nvt)
    np.testing.assert_allclose(current, law, rtol=1e-9, atol=1e-15)
    h = 1e-6
    numeric = (diode_current(v + h, 1e-6 * ones, 1.2 * ones, rs_ohm * ones)[0] - current) / h
    np.testing.assert_allclose(conductance, numeric, rtol=1e-4, atol=1e-12)
    assert np.all(np.diff(current) >= 0)  # monotonic, so the network equations have one solution
    assert np.all(np.diff(current[v > -0.3]) > 0)
    assert conductance[-1] < 1 / rs_ohm  # far forward: the series resistance limits the slope


def test_kirchhoffs_law_holds_at_every_free_node_of_a_drn(small_drn):
    spec, x, _ = small_drn
    v = SteadyState(spec).solve(x)
    follows, gain = spec.node_map
    node_v = v[:, follows] * gain  # amplified nodes carry gain x their source
    np.testing.assert_allclose(node_v, v, atol=1e-12)
    edges = spec.edge_array
    current_into = np.zeros_like(v)
    flow = (v[:, edges[:, 0]] - v[:, edges[:, 1]]) * spec.conductance_s  # a -> b
    np.add.at(current_into.T, edges[:, 1], flow.T)
    np.add.at(current_into.T, edges[:, 0], -flow.T)
    for d in spec.diodes:
        i_d, _ = diode_current(
            v[:, d.anode] - v[:, d.cathode], *(np.full(len(v), p) for p in (d.is_a, d.n, d.rs_ohm))
        )
        current_into[:, d.cathode] += i_d
        current_into[:, d.anode] -= i_d
    # an amplified node's current is drawn from its source times the gain (an ideal transformer)
    for node in spec.amplified_nodes:
        current_into[:, follows[node]] += gain[node] * current_into[:, node]
        current_into[:, node] = 0.0
    free = [i for i, role in enumerate(spec.roles) if role in (Role.HIDDEN, Role.OUTPUT)]
    np.testing.assert_allclose(current_into[:, free], 0.0, atol=1e-12)


def test_diodes_compress_hidden_excursions_outside_the_clip_range(small_drn):
    # soft, not hard: the amplifiers load a hidden node with gain^2 x the next layer's conductance, so the
    # node's source resistance is comparable to the diodes' series resistance
    spec, x, _ = small_drn
    hidden = list(spec.nodes_with(Role.HIDDEN))
    linear = dataclasses.replace(spec, diodes=())

    def excursion(v):
        return np.maximum(np.maximum(-v, 0), np.maximum(v - 0.5, 0))  # distance outside (0, 0.5) V

    for scale in (10.0, 100.0):  # inputs of 30 V and 300 V
        clipped = excursion(SteadyState(spec).solve(x * scale)[:, hidden])
        free = excursion(SteadyState(linear).solve(x * scale)[:, hidden])
        outside = free > 0.2
        assert outside.any()
        assert np.all(clipped[outside] < 0.5 * free[outside])


def test_drn_gradient_matches_finite_differences(small_drn):
    spec, x, y = small_drn
    grad = SteadyState(spec).gradient(x[:1], y[:1])
    fd = np.empty_like(grad)
    for e in range(spec.n_edges):
        h = 1e-6 * spec.conductance_s[e]
        g_up, g_dn = spec.conductance_s.copy(), spec.conductance_s.copy()
        g_up[e] += h
        g_dn[e] -= h
        c_up = SteadyState(spec.with_conductances(g_up)).loss(x[:1], y[:1])[0]
        c_dn = SteadyState(spec.with_conductances(g_dn)).loss(x[:1], y[:1])[0]
        fd[e] = (c_up - c_dn) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-6 * np.abs(fd).max())


@pytest.mark.ngspice
def test_drn_free_and_clamped_states_agree_with_ngspice(ngspice, small_drn):
    spec, x, y = small_drn
    drive = SawtoothConfig()
    for k in range(len(x)):
        circuit = compile_phases(spec, drive=drive, inputs_v=x[k], targets_v=y[k])
        result = ngspice.run(circuit)
        simulated = np.stack([result.v(node) for node in circuit.network_nodes], axis=1)
        free = SteadyState(spec).solve(x[k])[0]
        clamped = SteadyState(spec, drive.peak_clamp_conductance_s).solve(x[k], y[k])[0]
        np.testing.assert_allclose(simulated, np.stack([free, clamped]), rtol=0, atol=2e-6)
