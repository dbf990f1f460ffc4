"""What a cell design asks of a technology: noise at u, margins, the stages sized from the process and their
energy against the ngspice analog-cell cycle."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from tcl_circuits.circuit.cell_design import Calibration, resolve
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import CellKind, FeedbackCellConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.learning.rules import calibrate_cell
from tcl_circuits.network import from_graph
from tcl_circuits.network.builders import build
from tcl_circuits.physics.cell_budget import (
    NOISE_MARGIN,
    bandwidth_requirements,
    cell_area_m2,
    needed_bandwidth_hz,
    noise_at_u_v,
    quiescent_energy_j,
    requirements,
    sized_analog,
    stage_bandwidths_hz,
)
from tcl_circuits.physics.energy import energy_bill_j
from tcl_circuits.technology.model import preset

KT = 1.380649e-23 * 300.0
DRIVE = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)


def test_the_noise_at_u_is_kt_over_c_plus_the_integrated_flicker_part():
    assert noise_at_u_v(np.array([1e-12]), np.array([1e3]), 300.0, 0.0, 1e-3)[0] == pytest.approx(
        math.sqrt(KT / 1e-12)
    )
    # 1/f: integrate 4kTR (1 + fc/f) |high-pass on R|^2 numerically, in log frequency from one cycle's frequency
    # up, and the white part from 0
    r, c, fc, period = 1e3, 0.5e-9, 1e5, 9.1e-4
    pole = 1 / (2 * math.pi * r * c)

    def per_log_f(x):
        f = math.exp(x)
        return f * 4 * KT * r * (1 + fc / f) / (1 + (f / pole) ** 2)

    variance = quad(per_log_f, math.log(1 / period), math.log(pole) + 25, limit=500)[0]
    variance += quad(lambda f: 4 * KT * r / (1 + (f / pole) ** 2), 0, 1 / period)[0]
    found = noise_at_u_v(np.array([c]), np.array([r]), 300.0, fc, period)[0]
    assert found == pytest.approx(math.sqrt(variance), rel=1e-3)


def _design(c_k_f: float, theta_v: float):
    cell = FeedbackCellConfig(tau_k_s=5e-7, r_k_ohm=5e-7 / c_k_f)
    return resolve(cell, Calibration(theta_v), DRIVE, ("w",) * 4, outputs=1)


def test_requirements_hold_the_threshold_against_noise_and_offset_and_c_k_against_the_limit():
    cmos = preset("cmos65")
    today = requirements(_design(0.5e-9, 4.8e-6), cmos, comparator="auto_zeroed", resistor="metal")
    noise, offset, capacitor = today
    sigma = math.sqrt(KT / 0.5e-9)  # 2.9 uV
    assert noise.offered == pytest.approx(4.8e-6 / sigma) and noise.needed == NOISE_MARGIN
    assert noise.margin == pytest.approx(4.8e-6 / sigma / 10) and not noise.passes
    assert offset.needed == pytest.approx(100e-6) and offset.margin == pytest.approx(0.048)
    assert capacitor.margin == pytest.approx(2e-12 / 0.5e-9) and not capacitor.passes
    # a threshold of 1 mV on 1 pF: 15.5 sigma, 100 x the auto-zeroed offset, within 2 pF
    good = requirements(_design(1e-12, 1e-3), cmos, comparator="auto_zeroed", resistor="metal")
    assert all(r.passes for r in good)
    latch = requirements(_design(1e-12, 1e-3), cmos, comparator="latch", resistor="metal")[1]
    assert not latch.passes  # 3.4 mV offset against a 1 mV threshold


def test_the_area_is_the_capacitors_over_the_process_density():
    design = _design(1e-12, 1e-3)
    assert cell_area_m2(design, preset("cmos65")) == pytest.approx(4e-12 / 2e-3)


@pytest.mark.ngspice
def test_the_stages_sized_from_the_process_draw_the_energy_ngspice_measures(ngspice):
    """Sized from cmos65 for the kernel's bandwidth, each stage kind's energy over one cycle is its bias current
    on both rails, within 5 % of what the analog cell's rail sources deliver in ngspice (the rest is the
    stages' output current: 4.3 % in the multipliers, 1.8 % in the threshold stages, 2e-6 in the op-amps)."""
    spec = from_graph(build("lattice:3x3", seed=1))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, len(spec.input_nodes)), rng.uniform(-0.3, 0.3, len(spec.output_nodes))
    cmos = preset("cmos65")
    base = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=20.0, kind=CellKind.ANALOG)
    first = calibrate_cell(base, spec, x, y, DRIVE)
    assert first.integrator_c_f is not None
    analog = sized_analog(cmos, first, float(np.max(first.integrator_c_f)))
    assert analog.supply_v == pytest.approx(0.6) and analog.threshold_bandwidth_hz == needed_bandwidth_hz(
        first
    )
    design = calibrate_cell(base.replace(analog=analog), spec, x, y, DRIVE)
    circuit = compile_tcl(spec, drive=DRIVE, cell=design, sim=SimulatorConfig(), inputs_v=x, targets_v=y)
    bill = energy_bill_j(circuit, ngspice.run(circuit))
    for stage, energy in quiescent_energy_j(analog, spec.n_edges, DRIVE.period_s).items():
        assert bill[stage] == pytest.approx(energy, rel=0.05), stage
        assert bill[stage] >= energy * (1 - 1e-6)  # the stages' outputs only add


def test_the_bandwidth_a_bias_current_buys_inverts_the_sizing():
    """Sized for the kernel, every stage gets exactly the bandwidth it needs back; a tenth of the current, a
    tenth of the bandwidth (a margin of 0.1)."""
    cmos = preset("cmos65")
    design = _design(1e-12, 1e-3)
    c_int = 3e-12
    analog = sized_analog(cmos, design, c_int)
    needed = needed_bandwidth_hz(design)
    for stage, found in stage_bandwidths_hz(cmos, analog, c_int).items():
        assert found == pytest.approx(needed, rel=1e-12), stage
    starved = analog.replace(threshold_quiescent_a=analog.threshold_quiescent_a / 10)
    margins = {r.name.split()[0]: r.margin for r in bandwidth_requirements(design, cmos, starved, c_int)}
    assert margins["threshold"] == pytest.approx(0.1) and margins["multiplier"] == pytest.approx(1.0)
