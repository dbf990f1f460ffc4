import json

import numpy as np
import pytest

from tcl_circuits.config import (
    BackendKind,
    CellKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.errors import ConfigError, DataError, LearningError
from tcl_circuits.learning import resistor
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.rules import RuleStep, calibrate_threshold_v
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig, teacher_task

SUMMARY_KEYS = {
    "rule",
    "backend",
    "initial_test_loss",
    "final_test_loss",
    "samples",
    "seconds",
    "energy_per_update_j",
    "time_per_update_s",
}


def _config(task, rule=RuleKind.GRADIENT, epochs=2, lr=5e-6, backend=BackendKind.NGSPICE, **learning):
    drive = SawtoothConfig()
    theta = calibrate_threshold_v(task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6)
    return RunConfig(
        task=TaskConfig(
            network="lattice:3x3", train_samples=len(task.x_train), test_samples=len(task.x_test)
        ),
        backend=backend,
        drive=drive,
        cell=FeedbackCellConfig(threshold_v=theta),
        learning=LearningConfig(rule=rule, learning_rate_s2_per_v2=lr, epochs=epochs, **learning),
    )


@pytest.fixture
def task():
    return teacher_task("lattice:3x3", train_samples=30, test_samples=10, seed=4)


def test_gradient_training_lowers_the_loss_and_writes_a_self_describing_folder(task, tmp_path):
    summary = train(task, _config(task), tmp_path, progress=False)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["final_test_loss"] < 0.3 * summary["initial_test_loss"]
    assert summary["samples"] == 60
    for name in (
        "config.json",
        "summary.json",
        "samples.csv",
        "epochs.csv",
        "checkpoint.json",
        "learning_curve.png",
        "first_sample.cir",
    ):
        assert (tmp_path / name).exists(), name
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["seed"] == 0 and "numpy" in config["versions"]
    deck = (tmp_path / "first_sample.cir").read_text().splitlines()
    assert deck[1].startswith("* training sample 0 in data order") and deck[2].startswith(
        "* one sawtooth cycle"
    )
    assert (
        json.loads((tmp_path / "summary.json").read_text())["final_test_loss"] == summary["final_test_loss"]
    )


def test_lr_decay_scales_each_epoch_s_updates(task, tmp_path):
    config = _config(task, backend=BackendKind.NATIVE, epochs=3)
    config = config.replace(learning=config.learning.replace(lr_decay=1e-9))
    train(task, config, tmp_path, progress=False)
    rows = [r.split(",") for r in (tmp_path / "epochs.csv").read_text().splitlines()]
    loss = [float(r[rows[0].index("test_loss")]) for r in rows[1:]]
    assert loss[1] < 0.9 * loss[0]  # the first epoch learns at the full step
    assert loss[3] == pytest.approx(loss[2], rel=1e-6)  # the third at 1e-18 of it
    norms = [r.split(",") for r in (tmp_path / "samples.csv").read_text().splitlines()]
    column, n = norms[0].index("update_norm_s"), len(task.x_train)
    first, second = (np.mean([float(r[column]) for r in norms[1 + k * n : 1 + (k + 1) * n]]) for k in (0, 1))
    assert second < 1e-6 * first


def test_existing_run_is_not_overwritten_and_resume_needs_the_same_config(task, tmp_path):
    train(task, _config(task, epochs=1), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="already holds this run"):
        train(task, _config(task, epochs=1), tmp_path, progress=False)
    with pytest.raises(
        ConfigError,
        match=r"holds a different run \(config.learning.learning_rate_s2_per_v2: 5e-06 -> 1e-06\)",
    ):
        train(task, _config(task, epochs=1, lr=1e-6), tmp_path, resume=True, progress=False)
    other_data = teacher_task("lattice:3x3", train_samples=30, test_samples=10, seed=5)
    with pytest.raises(ConfigError, match="data_sha256"):
        train(other_data, _config(task, epochs=1), tmp_path, resume=True, progress=False)


def test_interrupted_run_resumes_where_it_stopped(task, tmp_path):
    straight = train(task, _config(task, checkpoint_every=7), tmp_path / "straight", progress=False)
    final_straight = np.load(tmp_path / "straight" / "final_conductance_s.npy")
    stopped = train(
        task, _config(task, checkpoint_every=7), tmp_path / "cut", progress=False, stop_after_samples=39
    )
    assert stopped == {"stopped": True, "epoch": 1, "position": 9}
    state = json.loads((tmp_path / "cut" / "checkpoint.json").read_text())
    assert (state["epoch"], state["position"]) == (1, 7)  # 30 + 7 samples done: the last checkpoint
    # the finished epochs can be read while the run is unfinished, and they are the uninterrupted run's
    so_far = (tmp_path / "cut" / "epochs.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in so_far[1:]] == ["0", "1"]
    whole = (tmp_path / "straight" / "epochs.csv").read_text().splitlines()
    assert [row.split(",")[:-1] for row in so_far] == [
        row.split(",")[:-1] for row in whole[:3]
    ]  # but seconds
    resumed = train(task, _config(task, checkpoint_every=7), tmp_path / "cut", resume=True, progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "cut" / "final_conductance_s.npy"), final_straight)
    assert resumed["samples"] == straight["samples"] == 60
    assert resumed["final_test_loss"] == straight["final_test_loss"]
    # the 2 samples run after the last checkpoint are recorded once, not twice
    for name in ("samples.csv", "samples.jsonl"):
        assert (tmp_path / "cut" / name).read_text() == (tmp_path / "straight" / name).read_text()


def test_a_run_stores_its_design_and_folders_from_before_the_design_resume(task, tmp_path):
    """design.json holds what was built beside config.json's what was asked; a folder whose fingerprint still
    holds the retired cell.group_thresholds_v (empty) resumes, and gets its design.json then."""
    from tcl_circuits.learning.run_folder import dumps, sha256

    config = _config(task, rule=RuleKind.TCL, backend=BackendKind.NATIVE)
    folder = tmp_path / "old"
    train(task, config, folder, progress=False, stop_after_samples=5)
    design = json.loads((folder / "design.json").read_text())
    assert design["calibration"]["threshold_v"] == config.cell.threshold_v
    assert design["edges"] == task.student.n_edges and design["kind"] == "behavioural"
    marker = json.loads((folder / "run.json").read_text())
    marker["fingerprint"]["config"]["cell"]["group_thresholds_v"] = []
    marker["fingerprint_sha256"] = sha256(dumps(marker["fingerprint"]))
    (folder / "run.json").write_text(json.dumps(marker))
    (folder / "design.json").unlink()
    resumed = train(task, config, folder, resume=True, progress=False)
    assert resumed["samples"] == 60 and (folder / "design.json").exists()


def test_a_run_from_before_the_technology_was_recorded_resumes_and_opens(task, tmp_path):
    """A folder whose run.json and config.json hold no ``technology`` (written before it existed) resumes
    with it at its default and keeps its identity; its config.json reads back (as ``open_run`` reads it); its
    bill names what it left unpriced."""
    from tcl_circuits.checked import from_dict
    from tcl_circuits.learning.run_folder import dumps, sha256

    config = _config(task, rule=RuleKind.TCL, backend=BackendKind.NATIVE, checkpoint_every=4)
    folder = tmp_path / "old"
    train(task, config, folder, progress=False, stop_after_samples=5)
    assert (folder / "checkpoint.json").exists()
    marker = json.loads((folder / "run.json").read_text())
    del marker["fingerprint"]["config"]["technology"]
    marker["fingerprint_sha256"] = sha256(dumps(marker["fingerprint"]))
    (folder / "run.json").write_text(json.dumps(marker))
    checkpoint = json.loads((folder / "checkpoint.json").read_text())
    body = {k: v for k, v in checkpoint.items() if k != "checksum"}
    body["fingerprint_sha256"] = marker["fingerprint_sha256"]  # as the older run wrote it
    (folder / "checkpoint.json").write_text(dumps({**body, "checksum": sha256(dumps(body))}))
    saved = json.loads((folder / "config.json").read_text())
    del saved["config"]["technology"]
    (folder / "config.json").write_text(json.dumps(saved))
    assert from_dict(RunConfig, saved["config"]).technology.name is None
    resumed = train(task, config, folder, resume=True, progress=False)
    assert resumed["samples"] == 60
    assert resumed["energy_per_update_j"]["unpriced"] == ["quiescent", "dynamic", "readout", "writes"]
    assert "technology" not in json.loads((folder / "run.json").read_text())["fingerprint"]["config"]
    assert "technology" not in json.loads((folder / "config.json").read_text())["config"]


@pytest.mark.parametrize("noisy", ["R_K", "network"])
def test_a_noisy_tcl_run_draws_new_noise_per_sample_and_resumes_exactly(task, tmp_path, noisy):
    config = _config(task, rule=RuleKind.TCL, epochs=1, backend=BackendKind.NATIVE, checkpoint_every=5)
    if noisy == "R_K":
        config = config.replace(cell=config.cell.replace(noise_temperature_k=3e4))
    else:
        config = config.replace(sim=config.sim.replace(network_noise_temperature_k=3e4))
    straight = train(task, config, tmp_path / "straight", progress=False)
    train(task, config, tmp_path / "cut", progress=False, stop_after_samples=12)
    resumed = train(task, config, tmp_path / "cut", resume=True, progress=False)
    assert resumed["final_test_loss"] == straight["final_test_loss"]
    quiet = train(
        task,
        config.replace(
            cell=config.cell.replace(noise_temperature_k=0.0),
            sim=config.sim.replace(network_noise_temperature_k=0.0),
        ),
        tmp_path / "q",
        progress=False,
    )
    assert quiet["final_test_loss"] != straight["final_test_loss"]


def test_non_finite_update_is_a_learning_error(task, tmp_path, monkeypatch):
    class Broken:
        kind = RuleKind.GRADIENT

        def update(self, spec, x, y, cycle):
            from tcl_circuits.learning.rules import _check

            return _check(
                RuleStep(delta_g_s=np.full(spec.n_edges, np.nan), dc_dg_estimate=np.zeros(spec.n_edges))
            )

    monkeypatch.setattr(resistor, "make_rule", lambda *args: Broken())
    with pytest.raises(LearningError, match="non-finite"):
        train(task, _config(task), tmp_path, progress=False)


@pytest.mark.ngspice
def test_contrastive_rule_in_ngspice_learns(task, tmp_path):
    summary = train(task, _config(task, rule=RuleKind.CONTRASTIVE), tmp_path, progress=False)
    assert summary["final_test_loss"] < 0.3 * summary["initial_test_loss"]
    bill = summary["energy_per_update_j"]["by_block"]
    assert bill["network"] > 0 and bill["clamps"] > 0


@pytest.mark.ngspice
def test_tcl_in_ngspice_learns_and_records_energy_and_window(task, tmp_path):
    summary = train(task, _config(task, rule=RuleKind.TCL), tmp_path, progress=False)
    assert summary["backend"] == "ngspice" and summary["rule"] == "tcl"
    assert summary["final_test_loss"] < 0.5 * summary["initial_test_loss"]
    bill = summary["energy_per_update_j"]["by_block"]
    assert bill["network"] > 0 and bill["clamps"] > 0 and bill["feedback_rk"] > 0
    assert bill["feedback_rk"] < 1e-3 * (bill["network"] + bill["clamps"])
    fractions = [summary[f"frac_{k}_last50"] for k in ("below", "window", "above")]
    assert sum(fractions) == pytest.approx(1.0)


@pytest.mark.ngspice
@pytest.mark.slow
def test_acceptance_tcl_in_ngspice_reaches_one_twentieth_of_the_initial_loss(tmp_path):
    """The issue's acceptance run: 4x4 lattice teacher task, TCL simulated in ngspice, 500 samples."""
    big = teacher_task("lattice:4x4", train_samples=100, test_samples=50, seed=0)
    summary = train(big, _config(big, rule=RuleKind.TCL, epochs=5), tmp_path, progress=False)
    assert summary["loss_ratio"] <= 1 / 20, summary


@pytest.mark.ngspice
@pytest.mark.slow
def test_the_analog_cell_learns_as_the_behavioural_one_and_bills_its_stages(tmp_path):
    """4x4 teacher task, one epoch of 100 samples in ngspice with each cell, the same samples and seed."""
    big = teacher_task("lattice:4x4", train_samples=100, test_samples=50, seed=0)
    base = RunConfig(task=TaskConfig(network="lattice:4x4"), backend=BackendKind.NGSPICE)
    base = base.replace(learning=base.learning.replace(epochs=1))
    summaries = {
        kind: train(
            big, base.replace(cell=base.cell.replace(kind=kind)), tmp_path / kind.value, progress=False
        )
        for kind in CellKind
    }
    ideal, analog = summaries[CellKind.BEHAVIOURAL], summaries[CellKind.ANALOG]
    assert analog["loss_ratio"] < 0.4
    assert analog["final_test_loss"] == pytest.approx(ideal["final_test_loss"], rel=0.05)
    shared = {"network", "clamps", "writes", "dynamic", "readout"}
    assert set(analog["energy_per_update_j"]["by_block"]) == shared | {
        "multiplier",
        "threshold",
        "integrator",
    }
    assert set(ideal["energy_per_update_j"]["by_block"]) == shared | {"feedback_rk", "quiescent"}
    assert analog["energy_per_update_j"]["unpriced"] == ["dynamic", "readout", "writes"]


@pytest.mark.ngspice
def test_verify_every_reruns_samples_in_ngspice_and_records_the_disagreement(tmp_path):
    task = teacher_task("lattice:4x4", train_samples=20, test_samples=5, seed=0)
    config = _config(task, rule=RuleKind.TCL, epochs=1, backend=BackendKind.NATIVE)
    config = config.replace(sim=SimulatorConfig(verify_every=5))
    summary = train(task, config, tmp_path, progress=False)
    assert summary["verified_samples"] == 4
    assert summary["verify_update_rel_error_max"] < 0.02
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert "verify_update_rel_error" in rows[0]


@pytest.mark.ngspice
def test_verify_every_works_on_a_deep_resistive_network(tmp_path):
    """Diodes and amplifiers in both engines: every 30th iris sample re-run in ngspice agrees within 2 %."""
    from tcl_circuits.config import LearningConfig
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig, TaskKind, classification_task

    task = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=6), seed=0)
    config = RunConfig().replace(
        sim=RunConfig().sim.replace(verify_every=30),
        learning=LearningConfig(epochs=1, learning_rate_s2_per_v2=None, alignment_every=0),
    )
    summary = train(task, config, tmp_path, progress=False)
    assert summary["verified_samples"] == 4
    assert summary["verify_update_rel_error_max"] < 0.02


def test_checkpoints_pack_the_conductances_exactly_and_older_list_checkpoints_still_resume(task, tmp_path):
    from tcl_circuits.learning.run_folder import PACKED, dumps, pack_array, sha256, unpack_array

    values = np.random.default_rng(0).random(1000) * 1e-3
    values[:3] = [5e-324, -0.0, 1.7976931348623157e308]
    assert np.array_equal(unpack_array(pack_array(values)), values)  # bit for bit
    assert np.array_equal(unpack_array(values.tolist()), values)

    straight = tmp_path / "straight"
    train(task, _config(task, checkpoint_every=7), straight, progress=False)

    def stopped_with(learner_edit, name):
        folder = tmp_path / name
        train(task, _config(task, checkpoint_every=7), folder, progress=False, stop_after_samples=39)
        data = json.loads((folder / "checkpoint.json").read_text())
        assert set(data["learner"]["conductance_s"]) == {PACKED, "shape"}
        learner_edit(data["learner"])
        body = {k: v for k, v in data.items() if k != "checksum"}
        (folder / "checkpoint.json").write_text(dumps({**body, "checksum": sha256(dumps(body))}))
        return folder

    def as_list(learner):
        learner["conductance_s"] = unpack_array(learner["conductance_s"]).tolist()

    older = stopped_with(as_list, "older")
    train(task, _config(task, checkpoint_every=7), older, resume=True, progress=False)
    np.testing.assert_array_equal(
        np.load(older / "final_conductance_s.npy"), np.load(straight / "final_conductance_s.npy")
    )

    def damaged(learner):
        learner["conductance_s"][PACKED] = "not base64!"

    bad = stopped_with(damaged, "bad")
    with pytest.raises(DataError, match="learner state is damaged"):
        train(task, _config(task, checkpoint_every=7), bad, resume=True, progress=False)


def test_an_epoch_with_an_empty_window_is_a_one_line_stall_warning_naming_the_knob():
    from tcl_circuits.learning.loop import STALL_FLOOR, stall_warning

    assert stall_warning({"epoch": 1, "frac_window": 0.3, "frac_below": 0.7, "frac_above": 0.0}) is None
    assert stall_warning({"epoch": 1}) is None  # rules without a window record none
    below = stall_warning({"epoch": 4, "frac_window": 0.0, "frac_below": 1.0, "frac_above": 0.0})
    assert below is not None and "\n" not in below
    assert "epoch 4" in below and "lower the threshold (--threshold-headroom" in below
    above = stall_warning({"epoch": 2, "frac_window": STALL_FLOOR / 2, "frac_below": 0.1, "frac_above": 0.9})
    assert above is not None and "raise the threshold" in above


def test_a_stalled_run_says_so_and_records_its_stalled_epochs(tmp_path, capsys):
    """The teacher tasks' headroom of 20 on a 4x4 lattice leaves the window empty from epoch 4 on (the demo's
    earlier defaults); the run prints one line per stalled epoch and summary.json lists them."""
    from tcl_circuits.learning.tasks import make_task

    config = RunConfig(
        task=TaskConfig(network="lattice:4x4", train_samples=100, test_samples=50),
        backend=BackendKind.NATIVE,
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=5e-6, epochs=5),
    )
    summary = train(make_task(config.task, 0), config, tmp_path / "run", progress=True)
    assert summary["stalled_epochs"] == [4, 5]
    warnings = [line for line in capsys.readouterr().err.splitlines() if "learning stalled" in line]
    assert [w.split(":")[0] for w in warnings] == ["epoch 4", "epoch 5"]


@pytest.mark.ngspice
def test_the_demo_learns_through_all_its_epochs(tmp_path):
    """The demo's defaults keep edges in the window in every epoch and end below 1/100 of the initial loss."""
    from tcl_circuits.cli.main import demo_config
    from tcl_circuits.learning.tasks import make_task

    config = demo_config()
    summary = train(make_task(config.task, 0), config, tmp_path / "demo", progress=False)
    assert summary["stalled_epochs"] == [] and summary["loss_ratio"] <= 1 / 100
    epochs = (tmp_path / "demo" / "epochs.csv").read_text().splitlines()[2:]
    header = (tmp_path / "demo" / "epochs.csv").read_text().splitlines()[0].split(",")
    inside = [float(row.split(",")[header.index("frac_window")]) for row in epochs]
    assert len(inside) == 5 and min(inside) > 0.01


@pytest.mark.parametrize("stop_after", [None, 40], ids=["finished", "unfinished"])
def test_a_run_extended_with_more_epochs_is_an_uninterrupted_run_of_that_many(task, tmp_path, stop_after):
    """--resume --epochs N on a run of fewer epochs (finished, or stopped in its second epoch) continues as a
    run started with N epochs: the same final conductances bit for bit, lr_decay by epochs completed; the
    folder records the new count, and a later resume (and a later extension) accepts it."""

    def config(epochs):
        base = _config(task, rule=RuleKind.TCL, backend=BackendKind.NATIVE, epochs=epochs, checkpoint_every=7)
        return base.replace(learning=base.learning.replace(lr_decay=0.7))

    straight = train(task, config(4), tmp_path / "straight", progress=False)
    out = tmp_path / "extended"
    train(task, config(2), out, progress=False, stop_after_samples=stop_after)
    with pytest.raises(ConfigError, match="--epochs 1: the run in --out .* has 2; it can be extended"):
        train(task, config(1), out, resume=True, progress=False)
    train(task, config(3), out, resume=True, progress=False, stop_after_samples=70)  # stopped in epoch 3
    extended = train(task, config(4), out, resume=True, progress=False)
    np.testing.assert_array_equal(
        np.load(out / "final_conductance_s.npy"), np.load(tmp_path / "straight" / "final_conductance_s.npy")
    )
    assert extended["final_test_loss"] == straight["final_test_loss"] and extended["epochs"] == 4
    assert (out / "samples.jsonl").read_text() == (tmp_path / "straight" / "samples.jsonl").read_text()
    assert json.loads((out / "config.json").read_text())["config"]["learning"]["epochs"] == 4
    stored = json.loads((out / "run.json").read_text())
    assert stored["fingerprint"]["config"]["learning"]["epochs"] == 4
    assert [entry["config.learning.epochs"] for entry in stored["extended"]] == [
        {"from": 2, "to": 3},
        {"from": 3, "to": 4},
    ]
    assert train(task, config(4), out, resume=True, progress=False)["samples"] == 4 * len(task.x_train)
