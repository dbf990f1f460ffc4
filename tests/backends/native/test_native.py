"""The native engine without ngspice: exact network states, exact cell kernels, convergence, errors."""

import dataclasses

import numpy as np
import pytest

from tcl_circuits.backends import open_backend
from tcl_circuits.backends.native.cell_dynamics import integrate_cells, threshold_step_integral
from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.circuit.compile import compile_phases, compile_tcl
from tcl_circuits.circuit.drive import beta_at
from tcl_circuits.circuit.ir import Circuit, Clamp, DcSweep, FeedbackCell, Resistor, Transient, VoltageSource
from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    SawtoothConfig,
    SimulatorConfig,
    ThresholdShape,
)
from tcl_circuits.errors import ConfigError, ConvergenceError, NetlistError, SimulationError
from tcl_circuits.kernels.window import LearningWindow
from tcl_circuits.learning.rules import TclRule, calibrate_cell, calibrate_threshold_v, linear_contrasts
from tcl_circuits.learning.tasks import teacher_task
from tcl_circuits.physics.steady import SteadyState


@pytest.fixture(scope="module")
def sample():
    task = teacher_task("lattice:4x4", train_samples=4, test_samples=1, seed=0)
    return task.student, task.x_train, task.y_train


def _cell(spec, x, y, drive, *, headroom=1.0, shape=ThresholdShape.HARD):
    theta = calibrate_threshold_v(spec, x, y, drive, 5e-6, headroom=headroom)
    return FeedbackCellConfig(threshold_v=theta, threshold_shape=shape)


def _accumulators(result, circuit):
    return np.array([result.v(c.accumulator)[-1] for c in circuit.cells])


def _voltages(result, spec):
    return np.array([result.v("0" if r.value == "ground" else f"n{i}") for i, r in enumerate(spec.roles)]).T


# --- the network: exact quasi-static states --------------------------------------------------------
def test_dc_sweep_gives_the_exact_free_and_clamped_states(sample):
    spec, x, y = sample
    drive = SawtoothConfig()
    circuit = compile_phases(spec, drive=drive, inputs_v=x[0], targets_v=y[0])
    result = NativeBackend().run(circuit)
    np.testing.assert_array_equal(result.axis, [0.0, drive.beta_max])
    free = SteadyState(spec).solve(x[0])[0]
    clamped = SteadyState(spec, drive.peak_clamp_conductance_s).solve(x[0], y[0])[0]
    np.testing.assert_allclose(_voltages(result, spec), np.stack([free, clamped]), rtol=0, atol=1e-13)
    for k, target in enumerate(y[0]):
        np.testing.assert_array_equal(result.v(f"t{k}"), [target, target])


def test_transient_node_voltages_are_the_dc_states_of_the_momentary_beta(sample):
    spec, x, y = sample
    drive, cell = SawtoothConfig(), FeedbackCellConfig()
    circuit = compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[1], targets_v=y[1])
    result = NativeBackend().run(circuit)
    t = result.axis
    np.testing.assert_allclose(result.v("beta"), beta_at(drive, t), rtol=0, atol=1e-15)
    for index in (0, 7, 20, 33, t.size - 1):
        beta = beta_at(drive, t[index])
        exact = SteadyState(spec, beta * drive.clamp_conductance_s).solve(x[1], y[1])[0]
        np.testing.assert_allclose(_voltages(result, spec)[index], exact, rtol=0, atol=1e-13)


def test_signal_is_the_squared_edge_drop_and_cells_start_at_rest(sample):
    spec, x, y = sample
    circuit = compile_tcl(
        spec, drive=SawtoothConfig(), cell=FeedbackCellConfig(), inputs_v=x[0], targets_v=y[0]
    )
    result = NativeBackend().run(circuit)
    volts = _voltages(result, spec)
    for e, (i, j) in enumerate(spec.edges):
        np.testing.assert_allclose(result.v(f"s{e}"), (volts[:, i] - volts[:, j]) ** 2, rtol=1e-14, atol=0)
        assert result.v(f"u{e}")[0] == 0.0 and result.v(f"w{e}")[0] == 0.0


def test_result_carries_the_vector_names_ngspice_uses(sample):
    spec, x, y = sample
    circuit = compile_tcl(
        spec, drive=SawtoothConfig(), cell=FeedbackCellConfig(), inputs_v=x[0], targets_v=y[0]
    )
    result = NativeBackend().run(circuit)
    expected = {"time", "beta"} | {n for n in circuit.network_nodes if n != "0"}
    expected |= {f"t{k}" for k in range(len(spec.output_nodes))}
    expected |= {f"{p}{e}" for e in range(spec.n_edges) for p in "suw"}
    assert set(result.vectors) == expected
    assert all(v.shape == result.axis.shape for v in result.vectors.values())
    assert result.axis[0] == 0.0 and result.axis[-1] == circuit.analysis.stop_s


def test_time_grid_has_the_ramp_corner_and_the_requested_step(sample):
    spec, x, y = sample
    drive = SawtoothConfig(tau_rise_s=1.03e-4)  # not a multiple of the step
    circuit = compile_tcl(spec, drive=drive, cell=FeedbackCellConfig(), inputs_v=x[0], targets_v=y[0])
    for refine in (1, 3):
        times, steps = NativeBackend(refine=refine).time_grid(circuit.analysis, None)
        assert np.all(steps <= circuit.analysis.max_step_s / refine * (1 + 1e-12))
        np.testing.assert_allclose(np.diff(times), steps, rtol=1e-9)
    t = NativeBackend().run(circuit).axis
    assert drive.tau_rise_s in t


def test_clamps_on_separate_beta_sources_match_the_shared_one(sample):
    """The general path (batched K x K solves) agrees with the eigendecomposition of the common-beta path."""
    spec, x, y = sample
    circuit = compile_tcl(
        spec, drive=SawtoothConfig(), cell=FeedbackCellConfig(), inputs_v=x[2], targets_v=y[2]
    )
    beta = next(el for el in circuit.elements if isinstance(el, VoltageSource) and el.pos == "beta")
    elements = []
    for el in circuit.elements:
        if isinstance(el, Clamp):
            node = f"beta{el.name}"
            elements.append(dataclasses.replace(beta, name=f"v{node}", pos=node))
            elements.append(dataclasses.replace(el, beta=node))
        else:
            elements.append(el)
    separate = dataclasses.replace(circuit, elements=tuple(elements))
    a, b = NativeBackend().run(circuit), NativeBackend().run(separate)
    for node in ("n5", "n10", "s3", "u3", "w3"):
        np.testing.assert_allclose(b.v(node), a.v(node), rtol=1e-10, atol=1e-15)


def test_time_varying_input_sources_follow_their_pwl(sample):
    spec, x, y = sample
    circuit = compile_tcl(
        spec, drive=SawtoothConfig(), cell=FeedbackCellConfig(), inputs_v=x[0], targets_v=y[0]
    )
    ramp = ((0.0, 0.2), (5e-4, 0.9), (1e-3, 0.4))
    elements = tuple(
        dataclasses.replace(el, pwl=ramp) if isinstance(el, VoltageSource) and el.name == "in1" else el
        for el in circuit.elements
    )
    result = NativeBackend().run(dataclasses.replace(circuit, elements=elements))
    t = result.axis
    assert 5e-4 in t
    for index in (0, 50, 100, 160, t.size - 1):
        inputs = x[0].copy()
        inputs[1] = np.interp(t[index], *zip(*ramp, strict=True))
        beta = result.v("beta")[index]
        exact = SteadyState(spec, beta * 1e-3).solve(inputs, y[0])[0]
        np.testing.assert_allclose(_voltages(result, spec)[index], exact, rtol=0, atol=1e-13)


def test_a_plain_resistor_divider_and_a_sweep_of_its_source():
    circuit = Circuit(
        title="divider",
        elements=(
            VoltageSource("1", "a", "0", dc_v=1.0),
            Resistor("1", "a", "b", 1000.0),
            Resistor("2", "b", "0", 3000.0),
        ),
        analysis=DcSweep("1", 0.0, 2.0, 0.5),
        network_nodes=("a", "b"),
        edge_resistors=("1", "2"),
    )
    result = NativeBackend().run(circuit)
    np.testing.assert_allclose(result.axis, [0.0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(result.v("b"), 0.75 * result.axis, rtol=1e-15)


# --- the cells: exact kernels ------------------------------------------------------------------------
def test_highpass_of_a_ramp_is_the_exact_exponential_approach():
    tau, slope = 5e-6, 3.0
    t = np.linspace(0.0, 4e-5, 17)
    signal = np.ones((2, 1)) * (slope * t)[None, :]
    u, w = integrate_cells(signal, np.diff(t), np.array([tau, 2 * tau]), np.inf, 1.0, False)
    np.testing.assert_allclose(u[0], tau * slope * (1 - np.exp(-t / tau)), rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(u[1], 2 * tau * slope * (1 - np.exp(-t / (2 * tau))), rtol=1e-12, atol=1e-20)
    assert not np.any(w)  # never past an infinite threshold


def _numeric_area(u0, u_inf, h, tau, theta, dead_zone, n=200_001):
    x = np.linspace(0.0, h, n)
    u = u_inf + (u0 - u_inf) * np.exp(-x / tau)
    g = np.where(np.abs(u) >= theta, u - (np.sign(u) * theta if dead_zone else 0.0), 0.0)
    return np.trapezoid(g, x) if hasattr(np, "trapezoid") else np.trapz(g, x)


@pytest.mark.parametrize("dead_zone", [False, True])
def test_threshold_step_integral_matches_quadrature(dead_zone):
    rng = np.random.default_rng(7)
    tau, theta, h = 5e-6, 1.0, 4e-6
    u0 = rng.uniform(-3, 3, 60)
    u_inf = rng.uniform(-3, 3, 60)
    u0[:4] = [0.5, -0.5, 2.0, -2.0]  # inside the band and fully outside
    u_inf[:4] = [0.2, 0.7, 2.5, -1.5]
    exact = threshold_step_integral(
        u0, u_inf, np.full(60, h), np.full(60, tau), np.full(60, theta), np.full(60, dead_zone)
    )
    numeric = np.array(
        [_numeric_area(a, b, h, tau, theta, dead_zone) for a, b in zip(u0, u_inf, strict=True)]
    )
    # trapezoid quadrature misplaces each jump of the hard threshold by up to one sample: theta * dx
    np.testing.assert_allclose(exact, numeric, rtol=0, atol=2 * theta * h / 200_000)
    assert exact[0] == 0.0


@pytest.mark.parametrize("offset_of_theta", [0.0, 0.7])
@pytest.mark.parametrize("theta_v", [2e-4, 2e-3])  # most steps outside the band, few
def test_whole_step_shortcut_equals_the_general_step_integral(theta_v, offset_of_theta):
    """A step with both ends past the threshold is integrated by charge balance; one that straddles it by
    the crossing time. Both must equal the general closed form on every step, for g(u - offset) too."""
    rng = np.random.default_rng(3)
    t = np.linspace(0, 1e-4, 41)
    signal = np.cumsum(rng.normal(size=(30, 41)), axis=1) * 1e-3
    tau, theta, gain = np.full(30, 5e-6), np.full(30, theta_v), np.linspace(1.0, 3.0, 30)
    dead = np.arange(30) % 2 == 0
    steps = np.diff(t)
    offset = offset_of_theta * theta_v * rng.normal(size=30)
    u, w = integrate_cells(signal, steps, tau, theta, gain, dead, offset_v=offset)
    area = -np.diff(w, axis=1) / gain[:, None]
    e, k = np.indices(area.shape).reshape(2, -1)
    slope = (signal[e, k + 1] - signal[e, k]) / steps[k]
    shifted = u[e, k] - offset[e], tau[e] * slope - offset[e]
    general = threshold_step_integral(*shifted, steps[k], tau[e], theta[e], dead[e])
    np.testing.assert_allclose(area[e, k], general, rtol=1e-9, atol=1e-14 * 1e-6)
    outside = np.count_nonzero(area) / area.size
    if offset_of_theta:  # an offset moves some edges' quiet u past the threshold
        assert np.count_nonzero(area[np.abs(offset) > theta_v]) > 0
    else:
        assert outside > 0.2 if theta_v < 1e-3 else 0 < outside < 0.1


# --- the cycle: convergence and TCL behaviour ----------------------------------------------------------
@pytest.mark.parametrize("shape", [ThresholdShape.HARD, ThresholdShape.DEAD_ZONE])
def test_update_converges_at_second_order_in_the_step(sample, shape):
    spec, x, y = sample
    drive = SawtoothConfig()
    cell = _cell(spec, x, y, drive, headroom=0.5, shape=shape)
    circuit = compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[0], targets_v=y[0])
    reference = _accumulators(NativeBackend(refine=64).run(circuit), circuit)
    assert np.count_nonzero(reference) >= 6
    errors = [
        np.linalg.norm(_accumulators(NativeBackend(refine=r).run(circuit), circuit) - reference)
        / np.linalg.norm(reference)
        for r in (1, 2, 4)
    ]
    assert errors[0] < 5e-3
    assert errors[1] < errors[0] / 2.5 and errors[2] < errors[1] / 2.5


def test_update_is_the_contrast_inside_the_window_and_zero_below(sample):
    spec, x, y = sample
    drive = SawtoothConfig()
    cell = _cell(spec, x[:1], y[:1], drive, headroom=1.5)
    circuit = compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[0], targets_v=y[0])
    w = _accumulators(NativeBackend().run(circuit), circuit)
    contrast = linear_contrasts(spec, x[:1], y[:1], drive)[0]
    window = LearningWindow(cell.theta_v, drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s)
    lo, hi = window.lower_v2, window.upper_v2
    inside = (np.abs(contrast) > 1.3 * lo) & (np.abs(contrast) < hi)
    assert inside.sum() >= 4
    ratio = w[inside] / (-cell.accumulator_gain * contrast[inside])
    assert np.all((ratio > 0.8) & (ratio < 1.0))
    assert np.all(w[np.abs(contrast) < 0.5 * lo] == 0.0)


def test_reversed_sawtooth_flips_and_triangle_cancels(sample):
    spec, x, y = sample
    drive = SawtoothConfig()
    cell = _cell(spec, x, y, drive)

    def update(d, c=cell):
        circuit = compile_tcl(spec, drive=d, cell=c, inputs_v=x[0], targets_v=y[0])
        return _accumulators(NativeBackend().run(circuit), circuit)

    normal = update(drive)
    reversed_ = update(dataclasses.replace(drive, tau_rise_s=9e-4, tau_fall_s=1e-4))
    assert normal @ reversed_ < -0.99 * np.linalg.norm(normal) * np.linalg.norm(reversed_)
    triangle = dataclasses.replace(drive, tau_rise_s=5e-4, tau_fall_s=5e-4)
    low = dataclasses.replace(cell, threshold_v=1e-7)
    reference = -cell.accumulator_gain * linear_contrasts(spec, x[:1], y[:1], triangle)[0]
    assert np.linalg.norm(update(triangle, low)) < 0.02 * np.linalg.norm(reference)


def test_dead_zone_loses_theta_times_the_time_outside(sample):
    spec, x, y = sample
    drive = SawtoothConfig()
    hard = _cell(spec, x, y, drive)
    dead = dataclasses.replace(hard, threshold_shape=ThresholdShape.DEAD_ZONE)
    backend = NativeBackend(refine=8)
    results = []
    for cell in (hard, dead):
        circuit = compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[0], targets_v=y[0])
        results.append(backend.run(circuit))
    gain = hard.accumulator_gain / hard.tau_k_s
    for e in range(spec.n_edges):
        u, t = results[0].v(f"u{e}"), results[0].axis
        outside = np.abs(u) >= hard.threshold_v
        signed_time = np.sum(np.sign(u[1:]) * (outside[1:] & outside[:-1]) * np.diff(t))
        difference = results[1].v(f"w{e}")[-1] - results[0].v(f"w{e}")[-1]
        # up to the partial steps at the crossings (at most 2 per crossing)
        crossings = np.count_nonzero(outside[1:] != outside[:-1])
        bound = gain * hard.threshold_v * (crossings + 1) * np.diff(t).max()
        assert difference == pytest.approx(gain * hard.threshold_v * signed_time, abs=bound)


def test_tcl_rule_runs_on_the_native_backend(sample):
    spec, x, y = sample
    drive = SawtoothConfig()
    with open_backend(BackendKind.NATIVE) as backend:
        assert isinstance(backend, NativeBackend)
        step = TclRule(backend, drive, _cell(spec, x, y, drive), SimulatorConfig(), 1e-7).update(
            spec, x[0], y[0]
        )
    assert np.all(np.isfinite(step.delta_g_s)) and np.count_nonzero(step.delta_g_s) > 0
    assert step.energy_network_j > 0 and step.energy_feedback_j > 0


# --- errors ------------------------------------------------------------------------------------------
def _divider(*elements, analysis=None):
    base = (
        VoltageSource("1", "a", "0", dc_v=1.0),
        Resistor("1", "a", "b", 1e3),
        Resistor("2", "b", "0", 1e3),
    )
    return Circuit(
        title="t",
        elements=base + elements,
        analysis=analysis or Transient(1e-6, 1e-5, 1e-6),
        network_nodes=("a", "b"),
        edge_resistors=("1", "2"),
    )


def _cell_element(**changes):
    cell = FeedbackCell(0, "a", "b", "s0", "u0", "w0", 5e-9, 1e3, 1e-3, ThresholdShape.HARD, 2e7)
    return dataclasses.replace(cell, **changes)


@dataclasses.dataclass(frozen=True)
class _Diode:
    name: str = "d1"


@pytest.mark.parametrize(
    ("circuit", "error", "match"),
    [
        (_divider(_Diode()), SimulationError, "cannot simulate _Diode elements .d1."),
        (
            _divider(VoltageSource("2", "c", "b", dc_v=1.0), Resistor("3", "c", "0", 1.0)),
            SimulationError,
            "to ground",
        ),
        (_divider(VoltageSource("2", "a", "0", dc_v=1.0)), SimulationError, "driven by both sources 1 and 2"),
        (_divider(Resistor("3", "c", "d", 1e3)), ConvergenceError, "no resistive path.*c"),
        (_divider(Resistor("3", "b", "0", float("inf"))), NetlistError, "resistance of resistor 3"),
        (_divider(Resistor("3", "b", "0", -5.0)), NetlistError, "resistance of resistor 3"),
        (_divider(VoltageSource("2", "c", "0", dc_v=float("nan"))), NetlistError, "DC value of source 2"),
        (_divider(VoltageSource("2", "c", "0", pwl=((0.0, 0.0), (0.0, 1.0)))), NetlistError, "increasing"),
        (_divider(Clamp("1", "b", "a", "b", 1e-3)), SimulationError, "beta node 'b' must be driven"),
        (_divider(_cell_element(a="zz")), NetlistError, "senses node 'zz'"),
        (_divider(_cell_element(feedback="s0")), NetlistError, "'s0' is used twice"),
        (_divider(_cell_element(signal="b")), NetlistError, "'b' is used twice"),
        (_divider(_cell_element(r_k_ohm=0.0)), NetlistError, "R_K of cell 0"),
        (_divider(_cell_element(threshold_v=-1.0)), NetlistError, "threshold of cell 0"),
        (_divider(_cell_element(shape="hard")), SimulationError, "threshold shape"),
        (_divider(analysis=DcSweep("9", 0.0, 1.0, 0.5)), SimulationError, "no voltage source"),
        (_divider(analysis=DcSweep("1", 0.0, 1.0, -0.5)), SimulationError, "never reaches"),
        (_divider(analysis="ac"), SimulationError, "cannot run analysis"),
        (_divider(analysis=Transient(1e-6, 0.0, 1e-6)), NetlistError, "stop time"),
    ],
)
def test_bad_circuits_raise_clear_errors(circuit, error, match):
    with pytest.raises(error, match=match):
        NativeBackend().run(circuit)


def test_refine_must_be_a_positive_int():
    with pytest.raises(ConfigError, match="refine"):
        NativeBackend(refine=0)
    with NativeBackend(refine=2) as backend:
        assert backend.refine == 2


# --- implementation paths ----------------------------------------------------------------------------
def test_a_kept_result_is_never_overwritten_by_the_next_run(sample):
    spec, x, y = sample
    backend = NativeBackend()
    cell = FeedbackCellConfig()
    first = backend.run(compile_tcl(spec, drive=SawtoothConfig(), cell=cell, inputs_v=x[0], targets_v=y[0]))
    kept = {name: vector.copy() for name, vector in first.vectors.items()}
    second = backend.run(compile_tcl(spec, drive=SawtoothConfig(), cell=cell, inputs_v=x[1], targets_v=y[1]))
    assert not np.array_equal(second.v("n5"), kept["n5"])
    for name, vector in kept.items():
        np.testing.assert_array_equal(first.vectors[name], vector)
    only_one = first.v("s3")  # one view keeps its array alive
    del first
    third = backend.run(compile_tcl(spec, drive=SawtoothConfig(), cell=cell, inputs_v=x[2], targets_v=y[2]))
    np.testing.assert_array_equal(only_one, kept["s3"])
    assert not np.array_equal(third.v("s3"), kept["s3"])


def test_a_reused_backend_gives_the_results_of_a_fresh_one(sample):
    """Node numbering, parsed cells and topology carry over between samples only when they still apply."""
    spec, x, y = sample
    drive, cell = SawtoothConfig(), FeedbackCellConfig(threshold_v=2e-6)
    other = teacher_task("lattice:3x3", train_samples=1, test_samples=1, seed=4)
    changed = spec.with_conductances(spec.conductance_s * np.linspace(0.7, 1.3, spec.n_edges))
    circuits = [
        compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[0], targets_v=y[0]),
        compile_tcl(changed, drive=drive, cell=cell, inputs_v=x[1], targets_v=y[1]),
        compile_tcl(
            spec, drive=drive, cell=dataclasses.replace(cell, threshold_v=4e-6), inputs_v=x[1], targets_v=y[1]
        ),
        compile_tcl(
            other.student, drive=drive, cell=cell, inputs_v=other.x_train[0], targets_v=other.y_train[0]
        ),
        compile_tcl(spec, drive=drive, cell=cell, inputs_v=x[2], targets_v=y[2]),
    ]
    reused = NativeBackend()
    for circuit in circuits:
        kept, fresh = reused.run(circuit), NativeBackend().run(circuit)
        assert kept.vectors.keys() == fresh.vectors.keys()
        for name, vector in fresh.vectors.items():
            np.testing.assert_array_equal(kept.vectors[name], vector)


def test_cells_equal_by_construction_are_integrated_once(monkeypatch):
    """Inputs at repeated voltages make first-layer cells repeat each other: integrated once, read as many,
    with the same updates, signals and energies as integrating every cell."""
    from tcl_circuits import network
    from tcl_circuits.backends.native import engine
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import input_voltages, target_voltages
    from tcl_circuits.physics.energy import feedback_energy_j, network_energy_j

    spec = network.from_graph(network.drn([6, 4, 2], seed=2))
    x = input_voltages(np.array([[0.0, 0.0, 1.0, 0.5, 0.0, 1.0]]), 3.0)[0]
    y = target_voltages(np.array([1]), 2, 0.2, 0.0)[0]
    config = RunConfig()
    cell = config.cell.replace(threshold_v=1e-9)
    circuit = compile_tcl(spec, drive=config.drive, cell=cell, sim=config.sim, inputs_v=x, targets_v=y)
    shared = NativeBackend().run(circuit)
    monkeypatch.setattr(engine, "SHARED_CELL_SHARE", 2.0)  # never deduplicate
    each = NativeBackend().run(circuit)
    assert each.stats["cells_integrated"] == len(circuit.cells)
    assert shared.stats["cells_integrated"] < 0.7 * len(circuit.cells)
    cells = circuit.cells
    for names in (cells.signal, cells.feedback, cells.accumulator):
        np.testing.assert_array_equal(shared.rows(names), each.rows(names))
        np.testing.assert_array_equal(shared.at(names, [0, 5, -1]), each.rows(names)[:, [0, 5, -1]])
    assert np.count_nonzero(shared.rows(cells.accumulator)[:, -1]) > 0.5 * len(cells)
    assert network_energy_j(circuit, shared) == pytest.approx(network_energy_j(circuit, each), rel=1e-12)
    assert feedback_energy_j(circuit, shared) == pytest.approx(feedback_energy_j(circuit, each), rel=1e-12)
    np.testing.assert_array_equal(shared.v(cells.feedback[7]), each.v(cells.feedback[7]))


def test_the_grid_cap_is_chosen_by_the_network_and_drns_need_few_points():
    """Auto cap: 200 steps per ramp for linear networks, 50 with diodes, where the update agrees with a
    1,600-step reference within 0.3 % (0.1 % measured here; 0.06 % on MNIST samples, docs/native.md)."""
    from tcl_circuits import network
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import input_voltages, target_voltages

    config = RunConfig()
    spec = network.from_graph(network.drn([8, 16, 4], seed=3))
    rng = np.random.default_rng(5)
    x = input_voltages(rng.random((3, 8)), 3.0)
    y = target_voltages(np.array([0, 2, 3]), 4, 0.2, 0.0)
    cell = calibrate_cell(config.cell.replace(threshold_headroom=20.0), spec, x, y, config.drive)
    auto, reference = NativeBackend(max_points_per_segment=None), NativeBackend(refine=8)
    for k in range(3):
        circuit = compile_tcl(
            spec, drive=config.drive, cell=cell, sim=config.sim, inputs_v=x[k], targets_v=y[k]
        )
        coarse, fine = auto.run(circuit), reference.run(circuit)
        assert coarse.axis.size == 1 + 20 + 50  # the rise's minimum of 20 steps, the fall capped at 50
        w, w_ref = (r.at(circuit.cells.accumulator, [-1])[:, 0] for r in (coarse, fine))
        assert np.count_nonzero(w_ref) > 0.15 * w_ref.size
        assert np.linalg.norm(w - w_ref) <= 3e-3 * np.linalg.norm(w_ref)
    task = teacher_task("lattice:4x4", train_samples=1, test_samples=1, seed=0)
    linear = compile_tcl(
        task.student,
        drive=config.drive,
        cell=config.cell.replace(threshold_v=cell.theta_v),
        sim=config.sim,
        inputs_v=task.x_train[0],
        targets_v=task.y_train[0],
    )
    assert auto.run(linear).axis.size == 1 + 20 + 200


def test_network_noise_puts_4ktr_on_each_edge_and_refuses_diode_networks():
    """Fluctuation-dissipation: with the sources shorted (zero inputs, clamps off), the drop across each edge
    carries 4kT R_eff over the sampled band 1/(2 step), R_eff the two-point resistance between its ends, here
    from this test's own Laplacian."""
    from tcl_circuits.config import SimulatorConfig
    from tcl_circuits.network import from_graph
    from tcl_circuits.network.builders import build

    spec = from_graph(build("lattice:3x3", seed=1))
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=2e-4, beta_max=1e-12)  # clamps as good as off
    cell = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=1.0)
    sim = SimulatorConfig(network_noise_temperature_k=300.0)
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))
    circuit = compile_tcl(spec, drive=drive, cell=cell, sim=sim, inputs_v=zeros[0], targets_v=zeros[1])
    result = NativeBackend().run(circuit)
    v = result.rows([circuit.network_nodes[i] for i in range(spec.n_nodes)])
    a, b = spec.edge_array[:, 0], spec.edge_array[:, 1]
    measured = np.var(v[a] - v[b], axis=1)
    laplacian = np.zeros((spec.n_nodes, spec.n_nodes))
    np.add.at(laplacian, (a, a), spec.conductance_s)
    np.add.at(laplacian, (b, b), spec.conductance_s)
    np.add.at(laplacian, (a, b), -spec.conductance_s)
    np.add.at(laplacian, (b, a), -spec.conductance_s)
    shorted = set(spec.input_nodes) | set(spec.ground_nodes) | set(spec.bias_nodes)
    free = np.array([i for i in range(spec.n_nodes) if i not in shorted])
    inverse = np.zeros_like(laplacian)
    inverse[np.ix_(free, free)] = np.linalg.inv(laplacian[np.ix_(free, free)])
    r_eff = inverse[a, a] + inverse[b, b] - 2 * inverse[a, b]
    step = cell.tau_k_s / 10
    expected = 2 * 1.380649e-23 * 300.0 / step * r_eff
    across = r_eff > 0  # an edge between two shorted nodes has no drop to fluctuate
    assert np.all(measured[~across] < 1e-30) and np.sum(across) >= 10
    ratio = measured[across] / expected[across]
    assert np.mean(ratio) == pytest.approx(1.0, rel=0.03) and np.all(np.abs(ratio - 1) < 0.15)
    diode = from_graph(build("drn:2-3-1", seed=0))
    noisy = compile_tcl(
        diode,
        drive=drive,
        cell=cell,
        sim=sim,
        inputs_v=np.zeros(len(diode.input_nodes)),
        targets_v=np.zeros(len(diode.output_nodes)),
    )
    with pytest.raises(SimulationError, match="network noise on linear networks"):
        NativeBackend().run(noisy)


def test_network_noise_holds_its_last_sample_past_the_last_knot():
    """A cycle that is not a whole number of noise steps ends after the last knot; there the currents hold,
    as ngspice's PWL sources do (not extrapolated)."""
    from tcl_circuits.config import SimulatorConfig
    from tcl_circuits.network import from_graph
    from tcl_circuits.network.builders import build

    spec = from_graph(build("lattice:3x3", seed=1))
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=2.0001e-4, beta_max=1e-12)
    cell = FeedbackCellConfig(tau_k_s=3e-7, threshold_v=1.0)  # step 3e-8 s: 7,000.33 steps a cycle
    sim = SimulatorConfig(network_noise_temperature_k=300.0)
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))
    circuit = compile_tcl(spec, drive=drive, cell=cell, sim=sim, inputs_v=zeros[0], targets_v=zeros[1])
    result = NativeBackend().run(circuit)
    v = result.rows([circuit.network_nodes[i] for i in range(spec.n_nodes)])
    last_knot = (7000 * 3e-8) * (1 - 1e-12)
    after = result.axis >= last_knot
    assert 1 < np.sum(after) and result.axis[-1] > 7000 * 3e-8
    held = v[:, after]
    np.testing.assert_allclose(held, np.repeat(held[:, :1], held.shape[1], axis=1), rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize(
    ("cell", "sim", "message"),
    [
        (FeedbackCellConfig(threshold_v=1.0, noise_temperature_k=300.0), SimulatorConfig(), "cell noise"),
        (
            FeedbackCellConfig(threshold_v=1.0),
            SimulatorConfig(network_noise_temperature_k=300.0),
            "network noise",
        ),
    ],
)
def test_noise_beyond_the_sample_limit_is_refused_naming_its_setting(monkeypatch, cell, sim, message):
    import tcl_circuits.circuit.compile as compile_module
    from tcl_circuits.network import from_graph
    from tcl_circuits.network.builders import build

    spec = from_graph(build("lattice:3x3", seed=1))
    monkeypatch.setattr(compile_module, "MAX_NOISE_SAMPLES", 1000)
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))
    with pytest.raises(ConfigError, match=f"{message} would draw 12 x 2,001 samples per cycle") as error:
        compile_tcl(spec, drive=SawtoothConfig(), cell=cell, sim=sim, inputs_v=zeros[0], targets_v=zeros[1])
    assert error.value.field == (
        "noise_temperature_k" if message == "cell noise" else "network_noise_temperature_k"
    )


def test_flicker_noise_of_r_k_adds_its_low_frequencies_to_u_as_r_k_c_k_passes_them():
    """u is R_K's noise through R_K || C_K, a low-pass at 1/(2 pi tau_K): 1/f noise below a corner adds to kT/C_K
    by sum (1 + corner/f) L(f) / sum L(f) over the record's bins, L the low-pass (2.5x for 100 kHz and 16x for
    1 MHz at tau_K = 0.5 us; measured 2.4x and 14.7x, the sampled band again taking a few per cent)."""
    from tcl_circuits.network import from_graph
    from tcl_circuits.network.builders import build
    from tcl_circuits.spice.writer import write_netlist

    spec = from_graph(build("lattice:3x3", seed=1))
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))

    def variance(corner_hz):
        cell = FeedbackCellConfig(
            tau_k_s=5e-7, threshold_v=1.0, noise_temperature_k=300.0, noise_flicker_corner_hz=corner_hz
        )
        found = []
        for seed in range(4):
            circuit = compile_tcl(
                spec, drive=drive, cell=cell, inputs_v=zeros[0], targets_v=zeros[1], noise_seed=(seed,)
            )
            result = NativeBackend().run(circuit)
            found.append(result.rows(circuit.cells.feedback)[:, result.axis > 10 * cell.tau_k_s].var())
        return np.mean(found), circuit

    white, _ = variance(0.0)
    step = 5e-7 / 10
    f = np.fft.rfftfreq(int(drive.period_s / step) + 1, step)
    f[0] = f[1]
    low_pass = 1 / (1 + (2 * np.pi * f * 5e-7) ** 2)
    for corner in (1e5, 1e6):
        found, circuit = variance(corner)
        expected = np.sum((1 + corner / f) * low_pass) / np.sum(low_pass)
        assert found / white == pytest.approx(expected, rel=0.12)
    assert "1/f below 1e+06 Hz" in write_netlist(circuit)


def test_cell_noise_puts_kt_over_c_on_u_and_repeats_with_its_seed():
    """With no signal, u is R_K's thermal noise through C_K: variance kT/C_K (the sampled band takes a few
    per cent off); the same seed draws the same noise, another seed other noise."""
    from tcl_circuits.network import from_graph
    from tcl_circuits.network.builders import build

    spec = from_graph(build("lattice:3x3", seed=1))
    drive = SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4)
    cell = FeedbackCellConfig(tau_k_s=5e-7, threshold_v=1.0, noise_temperature_k=300.0)
    zeros = np.zeros(len(spec.input_nodes)), np.zeros(len(spec.output_nodes))

    def feedback(seed):
        circuit = compile_tcl(
            spec, drive=drive, cell=cell, inputs_v=zeros[0], targets_v=zeros[1], noise_seed=seed
        )
        result = NativeBackend().run(circuit)
        return result.rows(circuit.cells.feedback)[:, result.axis > 10 * cell.tau_k_s]

    u = feedback((3,))
    assert u.std() == pytest.approx(np.sqrt(1.380649e-23 * 300 / cell.c_k_f), rel=0.08)
    np.testing.assert_array_equal(u, feedback((3,)))
    assert not np.allclose(u, feedback((4,)))
