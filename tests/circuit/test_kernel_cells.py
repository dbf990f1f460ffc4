"""SPICE kernel cells: safe text, and ngspice updates and heat matching the analytic periodic values."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tcl_circuits.circuit.kernel_cells import kernel_cell, sawtooth_circuit
from tcl_circuits.errors import ConfigError, NetlistError
from tcl_circuits.kernels.energy import rc_error_energy_sweep, rc_heat_estimate_j, rc_heat_per_cycle_j
from tcl_circuits.kernels.kernel import DerivativeKernel, EColiKernel, RCKernel, SecondOrderKernel
from tcl_circuits.kernels.synapse import Sawtooth, delta_w
from tcl_circuits.spice.syntax import check_deck, number
from tcl_circuits.spice.writer import write_netlist

SAW = Sawtooth(1.0, 1.0, 0.02, 0.18)  # volts, seconds
KERNELS = [
    RCKernel(1000.0, 1e-6),
    RCKernel(1000.0, 1e-6, 20_000.0),
    SecondOrderKernel(2e-4, 1e-3),
    SecondOrderKernel(4e-4, 1e-3, 0.02),  # underdamped RLC with a leak across C
]


def _cells():
    cells = []
    for i, k in enumerate(KERNELS):
        scale = -k.first_moment * SAW.amplitude
        theta = scale * (1 / SAW.tau_fast + 1 / SAW.tau_slow) / 2  # midway between the ramp responses
        cells.append(kernel_cell(k, theta, index=i, gain=1 / scale))
    return cells


def test_cell_text_is_generated_and_safe():
    cells = _cells()
    assert [c.name for c in cells] == ["tclkrc0", "tclkrcl1", "tclkrlc2", "tclkrlcl3"]
    circuit = sawtooth_circuit(cells, SAW)
    deck = write_netlist(circuit)
    assert circuit.analysis.stop_s == pytest.approx(0.4)
    low = deck.lower()
    for token in (".control", ".include", ".lib", "`", ";"):
        assert token not in low
    # every number is a plain float (no SPICE scale suffix such as 1M = milli)
    for tok in re.findall(r"(?<![\w.(])[-+]?\d[\w.+-]*", deck):
        float(tok)
    assert "lk s n1 0.2" in deck and "ck n1 x 1e-06" in deck  # L = τ_u·R, C = τ_z/R
    assert "rleak n1 x 20000" in deck  # R_L = τ_L/C


@pytest.mark.ngspice
def test_ngspice_updates_match_the_analytic_periodic_delta_w(ngspice):
    cells = _cells()
    result = ngspice.run(sawtooth_circuit(cells, SAW, n_cycles=2))
    v = result.vectors
    t = result.axis
    period = SAW.period
    for i, cell in enumerate(cells):
        acc = v[f"acc{i}"]
        spice_dw = acc[-1] - np.interp(period, t, acc)  # second cycle: periodic steady state
        analytic = cell.gain * delta_w(cell.kernel, SAW, cell.threshold, dt=cell.kernel.timescale / 200)
        assert spice_dw == pytest.approx(analytic, rel=0.02), cell.name
        assert 0.8 < analytic < 10  # a real update, not a vacuous match
    # Joule heat in R of the plain RC cell over the second cycle, from the node voltage across R
    rc = cells[0].kernel
    sel = t >= period
    heat_spice = np.trapezoid(v["x0.x"][sel] ** 2 / rc.resistance_ohm, t[sel])
    assert heat_spice == pytest.approx(rc_heat_per_cycle_j(rc, SAW), rel=0.02)


def test_numbers_are_plain_floats():
    assert number(1e6) == "1000000"
    assert number(1e-6) == "1e-06"
    assert number(0.1 + 0.2) == "0.3"
    with pytest.raises(NetlistError, match="non-finite number"):
        number(math.inf)
    with pytest.raises(NetlistError, match="number expected, got str"):
        number("1M")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", [".control\nrun\n.endc", ".include x", ".lib y", "r1 a b `cmd`", "r1 a b 1 ; c", "*# shell ls"]
)
def test_forbidden_tokens_are_rejected(text):
    with pytest.raises(NetlistError, match="forbidden"):
        check_deck(text)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: kernel_cell(EColiKernel(), 1.0), "EColiKernel has no passive R/L/C realisation"),
        (lambda: kernel_cell(DerivativeKernel(), 1.0), "DerivativeKernel has no passive"),
        (lambda: kernel_cell(KERNELS[0], -1.0), "threshold must be >= 0"),
        (lambda: kernel_cell(KERNELS[0], math.nan), "threshold must be a finite number"),
        (lambda: kernel_cell(KERNELS[2], 1.0, resistance_ohm=0.0), "resistance_ohm must be > 0"),
        (lambda: kernel_cell(KERNELS[0], 1.0, index=-1), "index must be a non-negative int"),
        (lambda: kernel_cell(KERNELS[0], 1.0, index="x; rm"), "index must be a non-negative int"),
        (lambda: sawtooth_circuit([], SAW), "cells must not be empty"),
        (
            lambda: sawtooth_circuit([kernel_cell(KERNELS[0], 1.0)], SAW, n_cycles=0),
            "n_cycles must be an int >= 1",
        ),
        (
            lambda: sawtooth_circuit([kernel_cell(KERNELS[0], 1.0)], SAW, max_step_s=-1.0),
            "max_step_s must be",
        ),
    ],
)
def test_invalid_cell_requests_raise(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_rc_joule_heat_matches_the_quasi_static_estimate_and_converges():
    saw = Sawtooth(1.0, 1.0, 0.01, 0.09)
    for r in (10.0, 100.0):
        k = RCKernel(r, 1e-6)
        assert rc_heat_per_cycle_j(k, saw) == pytest.approx(rc_heat_estimate_j(k, saw), rel=0.02)
    k = RCKernel(100.0, 1e-6)
    assert rc_heat_per_cycle_j(k, saw, dt_s=1e-6) == pytest.approx(
        rc_heat_per_cycle_j(k, saw, dt_s=2e-7), rel=1e-3
    )
    leaky = RCKernel(100.0, 1e-6, 1e5)  # leak dissipation dominates: (s̄² + A²/12)·T/R_L
    assert rc_heat_per_cycle_j(leaky, saw) == pytest.approx(rc_heat_estimate_j(leaky, saw), rel=0.01)


def test_rc_error_energy_sweep_trends():
    saw = Sawtooth(1.0, 1.0, 0.01, 0.09)
    by_r = rc_error_energy_sweep(np.geomspace(10, 2000, 5), np.full(5, math.inf), 1e-6, saw)
    assert np.all(np.diff(by_r.heat_j) > 0) and np.all(np.diff(by_r.relative_error) > 0)
    assert by_r.relative_error[0] < 0.002 and by_r.ideal_c == pytest.approx(1e-6)
    assert by_r.heat_kt[0] == pytest.approx(by_r.heat_j[0] / (1.380649e-23 * 300))
    by_leak = rc_error_energy_sweep(np.full(3, 100.0), np.array([1e3, 1e4, 1e5]), 1e-6, saw)
    assert np.all(np.diff(by_leak.heat_j) < 0) and np.all(np.diff(by_leak.relative_error) < 0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rc_heat_per_cycle_j(EColiKernel(), SAW), "kernel must be an RCKernel"),
        (lambda: rc_heat_estimate_j(EColiKernel(), SAW), "kernel must be an RCKernel"),
        (lambda: rc_error_energy_sweep([1.0], [], 1e-6, SAW), "equal length"),
    ],
)
def test_invalid_energy_requests_raise(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_rc_realisation_reference_values():
    """physics.md §7.7: R = 1, C = 0.05, A = 50, τ_f = 1, τ_s = 9: peak 2.5, slow −0.278, ∫g(i)dt = 2.38."""
    from tcl_circuits.kernels.kernel import periodic_convolve

    k = RCKernel(1.0, 0.05)
    saw = Sawtooth(50.0, 0.0, 1.0, 9.0)
    _, s, step = saw.sample(1e-4)
    i = periodic_convolve(k, s, step)
    assert i.max() == pytest.approx(2.5, abs=1e-3)
    assert i[int(5.0 / step)] == pytest.approx(-0.05 * 50 / 9, abs=1e-6)
    theta = (2.5 + 0.05 * 50 / 9) / 2
    assert delta_w(k, saw, theta, dt=1e-4) == pytest.approx(2.38, abs=0.005)
