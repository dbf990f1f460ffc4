"""Memristor training streams in ngspice: reads vs programming, gating, in-cycle feedback, loop gain,
checkpoints and resumption, energy, held-out evaluation, the CLI entry point."""

import json

import numpy as np
import pytest

from tcl_circuits.backends.base import SimResult
from tcl_circuits.backends.ngspice import check_reached_end
from tcl_circuits.circuit import compile_stream
from tcl_circuits.circuit.compile_stream import compile_chunk
from tcl_circuits.circuit.ir import MemristorCell
from tcl_circuits.cli.main import main
from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    GateMode,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    StreamConfig,
)
from tcl_circuits.devices import ProgrammingConfig, ProgrammingMode
from tcl_circuits.errors import ConfigError, ConvergenceError, LearningError
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.memristor import build_network, free_losses_ngspice, run_chunk, wanted_vectors
from tcl_circuits.learning.rules import TclRule, calibrate_threshold_v
from tcl_circuits.learning.run_config import MemristorConfig, RunConfig, parse_device
from tcl_circuits.learning.tasks import TaskConfig, teacher_task
from tcl_circuits.physics.loop_gain import check_loop_gain, loop_gains
from tcl_circuits.physics.steady import SteadyState
from tcl_circuits.spice.writer import write_netlist

RESISTOR_SUMMARY_KEYS = {
    "rule",
    "backend",
    "initial_test_loss",
    "final_test_loss",
    "loss_ratio",
    "samples",
    "seconds",
    "energy_per_update_j",
    "time_per_update_s",
}


@pytest.fixture(scope="module")
def task():
    return teacher_task("lattice:3x3", train_samples=12, test_samples=6, seed=4)


def _config(task, device="vteam", lr=1e-6, mode=None, epochs=1, **changes):
    drive = changes.pop("drive", SawtoothConfig())
    # the threshold always sits over the contrasts of the default drive (a tiny beta_max keeps it)
    theta = calibrate_threshold_v(task.student, task.x_train, task.y_train, SawtoothConfig(), 5e-6)
    if mode is None:
        mode = (
            ProgrammingMode.CELL_THRESHOLD
            if device in ("hp", "biolek", "joglekar")
            else ProgrammingMode.DEVICE_THRESHOLD
        )
    programming = changes.pop("programming", ProgrammingConfig())
    stream = changes.pop("stream", StreamConfig())
    return RunConfig(
        task=TaskConfig(network="lattice:3x3", train_samples=12, test_samples=6),
        device=f"memristor:{device}:{mode.value}",
        drive=drive,
        cell=FeedbackCellConfig(threshold_v=theta),
        sim=SimulatorConfig(),
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=lr, epochs=epochs, seed=2),
        memristor=MemristorConfig(programming=programming, stream=stream, **changes),
    )


def _net(task, config):
    return build_network(
        task.student,
        config,
        task.x_train,
        task.y_train,
        cell=config.cell,
        learning_rate_s2_per_v2=config.learning.learning_rate_s2_per_v2,
    )


def _chunk(ngspice, net, config, x, y, *, gate=GateMode.CYCLES, frozen_read=False):
    circuit, timeline = compile_chunk(
        net,
        x,
        y,
        (x[0], y[0]),
        drive=config.drive,
        cell=config.cell,
        sim=config.sim,
        stream=StreamConfig(gate=gate),
        frozen_read=frozen_read,
    )
    chunk = run_chunk(ngspice, net, circuit, timeline, np.atleast_2d(y), config.drive, config.cell)
    return chunk.result, chunk


# --- reading and programming do not disturb each other more than the physics says -----------------------


@pytest.mark.ngspice
def test_reads_below_threshold_never_move_a_vteam_state(ngspice, task):
    config = _config(task)
    net = _net(task, config)
    assert net.read_scale_v == pytest.approx(
        0.25 * 0.02 / np.max(np.abs(np.r_[task.x_train.ravel(), task.y_train.ravel()]))
    )
    result, chunk = _chunk(ngspice, net, config, task.x_train[:4], task.y_train[:4], gate=GateMode.CLOSED)
    for e in range(task.student.n_edges):
        x = result.v(f"x{e}")
        # the state source is exactly 0 below threshold; what remains is the LU solve's roundoff
        assert np.abs(x - x[0]).max() < 1e-14
        assert x[0] == pytest.approx(net.states[e], rel=1e-14)  # .ic carries 15 significant digits


@pytest.mark.ngspice
def test_reads_above_threshold_drift_the_state_as_the_device_law_says(ngspice, task):
    config = _config(task, read_scale_v=0.3)  # edge drops up to ~0.3 V against v_off = 0.02 V, v_on = -0.2 V
    net = _net(task, config)
    result, chunk = _chunk(ngspice, net, config, task.x_train[:2], task.y_train[:2], gate=GateMode.CLOSED)
    e_arr = task.student.edge_array
    nodes = [
        n
        for n in (f"n{i}" if i not in task.student.ground_nodes else "0" for i in range(task.student.n_nodes))
    ]
    moved = 0
    for e, (i, j) in enumerate(e_arr):
        vab = result.v(nodes[i]) - result.v(nodes[j])
        dx = result.v(f"x{e}")[-1] - net.states[e]
        device = net.devices[e]
        if vab.max() > device.v_off_v * 1.05:
            assert dx > 0  # above v_off: x rises toward OFF
            moved += 1
        elif vab.min() < device.v_on_v * 1.05:
            assert dx < 0
            moved += 1
        elif vab.max() < device.v_off_v and vab.min() > device.v_on_v:
            assert abs(dx) < 1e-14
    assert moved >= 3


@pytest.mark.ngspice
def test_drift_device_reads_move_the_state_only_through_the_read_coupling(ngspice, task):
    for coupling, moves in ((1.0, True), (0.0, False)):
        config = _config(
            task,
            device="biolek",
            programming=ProgrammingConfig(read_coupling=coupling),
        )
        net = _net(task, config)
        _, chunk = _chunk(ngspice, net, config, task.x_train[:2], task.y_train[:2], gate=GateMode.CLOSED)
        change = np.abs(chunk.final_states - net.states).max()
        assert (change > 1e-6) == moves, (coupling, change)


@pytest.mark.ngspice
def test_gate_keeps_transitions_from_programming(ngspice, task):
    """With no contrast in the cycles (beta_max tiny) only the moving inputs could program the devices."""
    # a driver with rails (3 x threshold): unlimited, the ungated transitions drive the states out of bounds
    config = _config(
        task,
        lr=1e-8,
        drive=SawtoothConfig(beta_max=1e-9),
        programming=ProgrammingConfig(voltage_saturation=3.0),
    )
    net = _net(task, config)
    x, y = task.x_train[:3], task.y_train[:3]
    _, gated = _chunk(ngspice, net, config, x, y, gate=GateMode.CYCLES)
    assert np.abs(gated.final_states - net.states).max() < 1e-14
    assert np.abs(gated.states_after - net.states).max() < 1e-14
    _, open_ = _chunk(ngspice, net, config, x, y, gate=GateMode.ALWAYS)
    # the first sample has no transition (it starts from its own inputs); the next two do
    assert np.abs(open_.states_after[0] - net.states).max() < 1e-9
    assert np.abs(open_.final_states - net.states).max() > 0.1  # spurious learning from the transitions


@pytest.mark.ngspice
def test_in_cycle_conductance_change_alters_the_update_by_an_amount_that_grows_with_the_loop_gain(
    ngspice, task
):
    """Live read path (G moves while it programs) vs frozen read path, and vs the resistor-mode cell.

    The loop is positive feedback, so the live update is the larger one; to first order edge e's update
    is multiplied by 1 / (1 - L_e). Edges that barely cross the hard threshold change more (the feedback
    keeps u above theta longer), so the measured difference exceeds the linear estimate at small L.
    """
    rows = []
    for lr in (3e-7, 1.5e-6):
        config = _config(
            task,
            device="hp",
            lr=lr,
            programming=ProgrammingConfig(read_coupling=0.0),
        )
        net = _net(task, config)
        g0 = net.conductance_s()
        for k in (1, 3):
            x, y = task.x_train[k : k + 1], task.y_train[k : k + 1]
            gain = loop_gains(net, x, y, config.drive, config.cell)
            _, live = _chunk(ngspice, net, config, x, y)
            _, frozen = _chunk(ngspice, net, config, x, y, frozen_read=True)
            d_live = net.with_states(live.final_states).conductance_s() - g0
            d_frozen = net.with_states(frozen.final_states).conductance_s() - g0
            relative = np.linalg.norm(d_live - d_frozen) / np.linalg.norm(d_frozen)
            rows.append((lr, k, gain.network, relative, np.linalg.norm(d_live) / np.linalg.norm(d_frozen)))
            if lr == 3e-7:
                resistor = TclRule(ngspice, config.drive, config.cell, config.sim, lr).update(
                    task.student, x[0], y[0]
                )
                cos = (
                    d_live @ resistor.delta_g_s / np.linalg.norm(d_live) / np.linalg.norm(resistor.delta_g_s)
                )
                assert cos > 0.8, (
                    cos
                )  # same direction as the resistor-mode cell (the device weights edges by G^2)
    small = [r for r in rows if r[0] == 3e-7]
    large = [r for r in rows if r[0] == 1.5e-6]
    assert all(0 < r[2] < 0.2 and r[3] < 0.1 for r in small), rows  # L < 0.2: the update changes by < 10 %
    assert all(r[2] > 0.3 and r[3] > 0.3 and r[4] > 1 for r in large), rows  # L > 0.3: > 30 %, amplified
    for a, b in zip(small, large, strict=True):
        assert b[2] == pytest.approx(5 * a[2], rel=1e-6)  # the loop gain is linear in the learning rate


def test_loop_gain_bound_raises_before_simulating(task, tmp_path):
    config = _config(task, device="hp", lr=1e-3, mode=ProgrammingMode.CELL_THRESHOLD)

    class NoBackend:
        def run(self, *args, **kwargs):
            raise AssertionError("must not simulate")

        def close(self):
            pass

    with pytest.raises(ConfigError, match="in-cycle loop gain"):
        train(task, config, tmp_path, backend=NoBackend(), progress=False)
    gain = loop_gains(
        _net(task, config),
        task.x_train,
        task.y_train,
        config.drive,
        config.cell,
    )
    assert gain.network >= gain.edges.max() > 1  # the network loop is at least as strong as any single edge
    with pytest.raises(ConfigError, match="below about"):
        check_loop_gain(gain, 1.0, task.student, 1e-3)
    check_loop_gain(gain, gain.network * 1.01, task.student, 1e-3)


# --- stream, checkpoints, records --------------------------------------------------------------------


@pytest.mark.ngspice
@pytest.mark.slow
def test_interrupted_stream_resumes_to_the_same_states(ngspice, task, tmp_path):
    config = _config(task, device="hp", lr=1.5e-6, stream=StreamConfig(chunk_samples=4), epochs=2)
    whole = train(task, config, tmp_path / "whole", backend=ngspice, progress=False)
    partial = train(task, config, tmp_path / "split", backend=ngspice, progress=False, stop_after_samples=16)
    assert partial == {"stopped": True, "epoch": 1, "position": 4}
    with pytest.raises(ConfigError, match="already holds this run"):
        train(task, config, tmp_path / "split", backend=ngspice, progress=False)
    other = config.replace(memristor=config.memristor.replace(spread_cv=0.1))
    with pytest.raises(ConfigError, match="holds a different run .*spread_cv: 0.0 -> 0.1"):
        train(task, other, tmp_path / "split", backend=ngspice, progress=False, resume=True)
    resumed = train(task, config, tmp_path / "split", backend=ngspice, progress=False, resume=True)
    a = np.load(tmp_path / "whole" / "final_states.npy")
    b = np.load(tmp_path / "split" / "final_states.npy")
    np.testing.assert_array_equal(b, a)  # bit for bit
    assert resumed["final_test_loss"] == whole["final_test_loss"]
    assert np.load(tmp_path / "split" / "states.npy").shape == (24, task.student.n_edges)
    assert RESISTOR_SUMMARY_KEYS <= set(whole)
    for name in (
        "config.json",
        "summary.json",
        "samples.csv",
        "epochs.csv",
        "checkpoint.json",
        "learning_curve.png",
        "first_sample.cir",
    ):
        assert (tmp_path / "whole" / name).exists(), name
    assert json.loads((tmp_path / "whole" / "summary.json").read_text())["device"] == "memristor:hp:cell"


@pytest.mark.ngspice
def test_energy_is_the_power_of_the_frozen_network_integrated_over_the_slot(ngspice, task):
    """Reads only (gate closed), the same sample repeated, no clamp: energy = c^2 P_task T_slot."""
    config = _config(task, drive=SawtoothConfig(beta_max=1e-9))
    net = _net(task, config)
    x = np.repeat(task.x_train[:1], 2, axis=0)
    y = np.repeat(task.y_train[:1], 2, axis=0)
    _, chunk = _chunk(ngspice, net, config, x, y, gate=GateMode.CLOSED)
    spec = net.frozen_spec()
    v = SteadyState(spec).solve(x[:1])
    drops = SteadyState(spec).edge_drops(v)[0]
    power = net.read_scale_v**2 * float(np.sum(spec.conductance_s * drops**2))
    slot = StreamConfig().sample_period_s(config.drive)
    for record in chunk.records:
        line = record.as_record()
        assert line["energy_network_j"] == pytest.approx(power * slot, rel=1e-3)
        assert line["energy_feedback_j"] < 1e-6 * line["energy_network_j"]
        network, clamp = line["block_energy_network_j"], line["block_energy_clamp_j"]
        assert network + clamp == pytest.approx(line["energy_network_j"], rel=1e-12)
        assert abs(clamp) < 1e-9 * network  # no clamp
        assert line["block_energy_write_j"] < 1e-9 * line["energy_network_j"]  # the gate held the drive


@pytest.mark.ngspice
@pytest.mark.parametrize("device", ["vteam_symmetric", "hp"])
def test_write_energy_is_the_programming_drive_dissipated_in_the_device(ngspice, task, device):
    """With the gate open in the cycles, each sample's write energy is the integral over its slot of the
    programming drive (v(p) less the read coupling) times the current it would drive through the device: v I(v)
    for a voltage-driven (symmetric) VTEAM, i^2 R for a current-driven HP device; recomputed from the raw vectors."""
    config = _config(task, device=device)
    net = _net(task, config)
    x, y = task.x_train[:2], task.y_train[:2]
    circuit, timeline = compile_chunk(
        net, x, y, (x[0], y[0]), drive=config.drive, cell=config.cell, sim=config.sim, stream=StreamConfig()
    )
    chunk = run_chunk(ngspice, net, circuit, timeline, y, config.drive, config.cell)
    result, t = chunk.result, chunk.result.axis
    cells = sorted((el for el in circuit.elements if isinstance(el, MemristorCell)), key=lambda c: c.index)
    slot = timeline.period_s
    expected = np.zeros(2)
    for cell, device_e in zip(cells, net.devices, strict=True):
        a, b = (result.v(n) if n != "0" else np.zeros_like(t) for n in (cell.a, cell.b))
        x_e = result.v(cell.state)
        voltage = device.startswith("vteam")
        read = (a - b) if voltage else device_e.current_a(a - b, x_e)
        drive = result.v(cell.drive) - cell.read_coupling * read
        power = drive * device_e.current_a(drive, x_e) if voltage else drive**2 / device_e.conductance_s(x_e)
        for k in range(2):
            inside = (t >= k * slot - 1e-15) & (t <= (k + 1) * slot + 1e-15)
            expected[k] += np.trapezoid(power[inside], t[inside])
    written = np.array([r.energy_write_j for r in chunk.records])
    assert np.all(written > 0)
    np.testing.assert_allclose(written, expected, rtol=0.02)


@pytest.mark.ngspice
def test_yakopcic_small_signal_evaluation_agrees_with_ngspice(ngspice, task):
    """Held-out loss uses G = (a1+a2)/2 b x; the sinh I-V differs by (b V)^2/6 at the read voltages."""
    for scale in (None, 1.0):  # the default read scale (below threshold) and 1 V per task volt
        config = _config(task, device="yakopcic", read_scale_v=scale)
        net = _net(task, config)
        spice = free_losses_ngspice(
            ngspice, net, task.x_test, task.y_test, drive=config.drive, cell=config.cell, sim=config.sim
        )
        small = SteadyState(net.frozen_spec()).loss(task.x_test, task.y_test)
        limit = 2e-3 if scale else 2e-4
        np.testing.assert_allclose(spice, small, rtol=limit)


# --- validation ----------------------------------------------------------------------------------------


def test_configs_and_chunks_are_validated(task):
    with pytest.raises(ConfigError, match="TCL only"):
        _config(task).replace(learning=LearningConfig(rule=RuleKind.GRADIENT))
    for changes, message in (
        ({"spread_cv": 2.0}, "spread_cv"),
        ({"range_widening": 0.5}, "range_widening"),
        ({"read_scale_v": -1.0}, "read_scale_v"),
    ):
        with pytest.raises(ConfigError, match=message):
            MemristorConfig(**changes)
    with pytest.raises(ConfigError, match="unknown memristor model"):
        _config(task).replace(device="memristor:nope")
    for changes, message in (
        ({"chunk_samples": 0}, "chunk_samples"),
        ({"settle_s": 0.0}, "settle_s"),
        ({"gate": True}, "gate must be one of cycles"),
    ):
        with pytest.raises(ConfigError, match=message):
            StreamConfig(**changes)
    config = _config(task)
    net = _net(task, config)
    kwargs = dict(drive=config.drive, cell=config.cell, sim=config.sim, stream=config.memristor.stream)
    prev = (task.x_train[0], task.y_train[0])
    with pytest.raises(ConfigError, match="need inputs of shape"):
        compile_chunk(net, task.x_train[:2, :1], task.y_train[:2], prev, **kwargs)
    bad = task.x_train[:2].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ConfigError, match="finite"):
        compile_chunk(net, bad, task.y_train[:2], prev, **kwargs)
    with pytest.raises(ConfigError, match="increase in time"):
        compile_stream._pwl([(0.0, 0.0), (0.0, 1.0)])


class _FakeBackend:
    """Returns crafted waveforms instead of simulating."""

    def __init__(self, vectors):
        self.vectors = vectors

    def run(self, circuit):
        result = SimResult(vectors=self.vectors, netlist=write_netlist(circuit))
        check_reached_end(circuit, result)  # what every backend checks
        return result


def test_run_chunk_refuses_truncated_runs_and_runaway_states(task):
    config = _config(task)
    net = _net(task, config)
    x, y = task.x_train[:1], task.y_train[:1]
    circuit, timeline = compile_chunk(
        net,
        x,
        y,
        (x[0], y[0]),
        drive=config.drive,
        cell=config.cell,
        sim=config.sim,
        stream=config.memristor.stream,
    )
    t = np.linspace(0, timeline.stop_s, 50)
    vectors = {name: np.zeros_like(t) for name in wanted_vectors(circuit)}
    vectors["time"] = t[:25]
    with pytest.raises(ConvergenceError, match="before tstop"):
        run_chunk(_FakeBackend(vectors), net, circuit, timeline, y, config.drive, config.cell)
    vectors["time"] = t
    vectors["x0"] = np.full_like(t, 1.5)
    with pytest.raises(LearningError, match="left \\[0, 1\\]"):
        run_chunk(_FakeBackend(vectors), net, circuit, timeline, y, config.drive, config.cell)


# --- CLI entry point -------------------------------------------------------------------------------------


@pytest.mark.ngspice
@pytest.mark.slow
def test_train_memristor_from_the_command_line_writes_the_resistor_mode_summary_keys(tmp_path, capsys):
    argv = ["train", "--device", "memristor:biolek", "--network", "lattice:3x3", "--epochs", "1"]
    argv += ["--train-samples", "6", "--test-samples", "4", "--lr", "1u", "--seed", "4", "--spread", "0.05"]
    argv += ["--chunk-samples", "3", "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert RESISTOR_SUMMARY_KEYS <= set(summary)
    assert summary["device"] == "memristor:biolek" and summary["spread_cv"] == 0.05
    assert summary["programming_mode"] == "cell" and summary["samples"] == 6
    assert '"loss_ratio"' in capsys.readouterr().out


def test_device_descriptions_and_memristor_settings_are_checked(task):
    assert parse_device("memristor:VTEAM") == ("vteam", ProgrammingMode.DEVICE_THRESHOLD)
    assert parse_device("memristor:joglekar") == ("joglekar", ProgrammingMode.CELL_THRESHOLD)
    assert parse_device("memristor:yakopcic:device") == ("yakopcic", ProgrammingMode.DEVICE_THRESHOLD)
    assert parse_device("resistor") is None
    for text, message in (
        ("vteam", "must be resistor or memristor"),
        ("memristor:vteam:x", "'device' or 'cell'"),
        ("memristor:foo", "unknown"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_device(text)
    config = _config(task)
    for changes, message in (
        ({"learning": LearningConfig(rule=RuleKind.GRADIENT)}, "TCL only"),
        ({"backend": BackendKind.NATIVE}, "ngspice only"),
        ({"sim": SimulatorConfig(node_capacitance_f=1e-9)}, "resistor networks"),
    ):
        with pytest.raises(ConfigError, match=message):
            config.replace(**changes)
