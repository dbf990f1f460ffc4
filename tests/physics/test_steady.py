import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.circuit.compile import compile_phases
from tcl_circuits.physics.steady import SteadyState, mean_loss


def test_kirchhoff_current_law_holds(triangle):
    spec = network.from_graph(triangle)
    v = SteadyState(spec).solve(np.array([1.0]))[0]
    # hidden node: (1 - vh) G1 = (vh - vo) G2 + vh G3 ; output: (vh - vo) G2 = vo G4
    vh, vo = v[1], v[2]
    assert (1.0 - vh) * 1e-3 == pytest.approx((vh - vo) * 2e-3 + vh * 5e-4)
    assert (vh - vo) * 2e-3 == pytest.approx(vo * 1e-3)


def test_adjoint_gradient_matches_finite_differences(rng):
    spec = network.from_graph(network.lattice(4, 4, seed=5))
    x, y = rng.uniform(0, 1, 3), rng.uniform(0.2, 0.4, 2)
    grad = SteadyState(spec).gradient(x, y)
    fd = np.empty_like(grad)
    for e in range(spec.n_edges):
        h = 1e-7 * spec.conductance_s[e]
        g_up, g_dn = spec.conductance_s.copy(), spec.conductance_s.copy()
        g_up[e] += h
        g_dn[e] -= h
        c_up = SteadyState(spec.with_conductances(g_up)).loss(x, y)[0]
        c_dn = SteadyState(spec.with_conductances(g_dn)).loss(x, y)[0]
        fd[e] = (c_up - c_dn) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-9 * np.abs(fd).max())


def test_clamped_state_moves_outputs_toward_targets(rng):
    spec = network.from_graph(network.lattice(4, 4, seed=5))
    x, y = rng.uniform(0, 1, 3), np.array([0.9, 0.9])
    free = SteadyState(spec).solve(x)[0][list(spec.output_nodes)]
    clamped = SteadyState(spec, 1e-3).solve(x, y)[0][list(spec.output_nodes)]
    assert np.all(np.abs(clamped - y) < np.abs(free - y))
    with pytest.raises(ValueError, match="targets"):
        SteadyState(spec, 1e-3).solve(x)


def test_mean_loss_is_zero_for_a_perfect_student(rng):
    spec = network.from_graph(network.lattice(3, 3, seed=2))
    x = rng.uniform(0, 1, (5, 2))
    y = SteadyState(spec).solve(x)[:, list(spec.output_nodes)]
    assert mean_loss(spec, x, y) == pytest.approx(0.0, abs=1e-25)


@pytest.mark.ngspice
def test_exact_solves_agree_with_ngspice_dc(ngspice, drive, rng):
    spec = network.from_graph(network.lattice(5, 5, seed=7))
    x, y = rng.uniform(0, 1, 4), rng.uniform(0.1, 0.5, 2)
    result = ngspice.run(compile_phases(spec, drive=drive, inputs_v=x, targets_v=y))
    simulated = np.stack(
        [result.v(node) for node in compile_phases(spec, drive=drive, inputs_v=x, targets_v=y).network_nodes],
        axis=1,
    )
    free = SteadyState(spec).solve(x)[0]
    clamped = SteadyState(spec, drive.peak_clamp_conductance_s).solve(x, y)[0]
    np.testing.assert_allclose(simulated[0], free, atol=1e-6)
    np.testing.assert_allclose(simulated[1], clamped, atol=1e-6)
