"""Energy per cycle from simulated voltages equals the quasi-static power integrated over the sawtooth."""

import numpy as np
import pytest
from scipy.integrate import trapezoid

from tcl_circuits import network
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.circuit.drive import beta_at
from tcl_circuits.physics.energy import feedback_energy_j, network_energy_j
from tcl_circuits.physics.steady import SteadyState

pytestmark = pytest.mark.ngspice


def test_network_energy_matches_the_integrated_quasi_static_power(ngspice, drive, cell, rng):
    spec = network.from_graph(network.lattice(4, 4, seed=3))
    x, y = rng.uniform(0, 1, 3), rng.uniform(0.2, 0.5, 2)
    circuit = compile_tcl(spec, drive=drive, cell=cell, inputs_v=x, targets_v=y)
    result = ngspice.run(circuit)
    t = np.linspace(0, drive.period_s, 2001)
    power = []
    for beta in beta_at(drive, t):
        clamp = beta * drive.clamp_conductance_s
        v = SteadyState(spec, clamp).solve(x, y if clamp else None)[0]
        dv = v[spec.edge_array[:, 0]] - v[spec.edge_array[:, 1]]
        power.append(spec.conductance_s @ dv**2 + clamp * np.sum((v[list(spec.output_nodes)] - y) ** 2))
    expected = trapezoid(power, t)
    assert network_energy_j(circuit, result) == pytest.approx(expected, rel=1e-3)
    # the feedback resistors dissipate C_K^2 R_K (ds/dt)^2 per edge: tiny against the network, but not zero
    assert 0 < feedback_energy_j(circuit, result) < 1e-6 * expected
