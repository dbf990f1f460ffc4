import json

import numpy as np
import pytest

from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.errors import ConfigError, LearningError
from tcl_circuits.learning import controller
from tcl_circuits.learning.controller import RunConfig, train
from tcl_circuits.learning.rules import RuleStep, calibrate_threshold_v
from tcl_circuits.learning.tasks import teacher_task

SUMMARY_KEYS = {
    "rule",
    "backend",
    "initial_test_loss",
    "final_test_loss",
    "samples",
    "seconds",
    "energy_per_sample_j",
    "feedback_energy_per_sample_j",
}


def _config(task, rule=RuleKind.GRADIENT, epochs=2, lr=5e-6, backend=BackendKind.NGSPICE, **learning):
    drive = SawtoothConfig()
    theta = calibrate_threshold_v(task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6)
    return RunConfig(
        task.name,
        backend,
        drive,
        FeedbackCellConfig(threshold_v=theta),
        SimulatorConfig(),
        LearningConfig(rule=rule, learning_rate_s2_per_v2=lr, epochs=epochs, **learning),
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
    assert (
        json.loads((tmp_path / "summary.json").read_text())["final_test_loss"] == summary["final_test_loss"]
    )


def test_existing_run_is_not_overwritten_and_resume_needs_the_same_config(task, tmp_path):
    train(task, _config(task, epochs=1), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(task, _config(task, epochs=1), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="another configuration"):
        train(task, _config(task, epochs=1, lr=1e-6), tmp_path, resume=True, progress=False)


def test_interrupted_run_resumes_where_it_stopped(task, tmp_path, monkeypatch):
    straight = train(task, _config(task, checkpoint_every=7), tmp_path / "straight", progress=False)
    final_straight = np.load(tmp_path / "straight" / "final_conductance_s.npy")

    real_make_rule = controller.make_rule
    calls = {"n": 0}

    def interrupting_make_rule(config, backend):
        rule = real_make_rule(config, backend)
        update = rule.update

        def update_then_interrupt(spec, x, y):
            calls["n"] += 1
            if calls["n"] == 40:
                raise KeyboardInterrupt
            return update(spec, x, y)

        rule.update = update_then_interrupt
        return rule

    monkeypatch.setattr(controller, "make_rule", interrupting_make_rule)
    with pytest.raises(KeyboardInterrupt):
        train(task, _config(task, checkpoint_every=7), tmp_path / "cut", progress=False)
    state = json.loads((tmp_path / "cut" / "checkpoint.json").read_text())
    assert (state["epoch"], state["position"]) == (1, 7)  # 30 + 7 samples done: the last checkpoint
    monkeypatch.setattr(controller, "make_rule", real_make_rule)
    resumed = train(task, _config(task, checkpoint_every=7), tmp_path / "cut", resume=True, progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "cut" / "final_conductance_s.npy"), final_straight)
    assert resumed["samples"] == straight["samples"] == 60
    assert resumed["final_test_loss"] == straight["final_test_loss"]
    # the 2 samples run after the last checkpoint are recorded once, not twice
    for name in ("samples.csv", "samples.jsonl"):
        assert (tmp_path / "cut" / name).read_text() == (tmp_path / "straight" / name).read_text()


def test_non_finite_update_is_a_learning_error(task, tmp_path, monkeypatch):
    class Broken:
        def update(self, spec, x, y):
            from tcl_circuits.learning.rules import _check

            return _check(
                RuleStep(delta_g_s=np.full(spec.n_edges, np.nan), dc_dg_estimate=np.zeros(spec.n_edges))
            )

    monkeypatch.setattr(controller, "make_rule", lambda config, backend: Broken())
    with pytest.raises(LearningError, match="non-finite"):
        train(task, _config(task), tmp_path, progress=False)


@pytest.mark.ngspice
def test_contrastive_rule_in_ngspice_learns(task, tmp_path):
    summary = train(task, _config(task, rule=RuleKind.CONTRASTIVE), tmp_path, progress=False)
    assert summary["final_test_loss"] < 0.3 * summary["initial_test_loss"]
    assert summary["energy_per_sample_j"] > 0


@pytest.mark.ngspice
def test_tcl_in_ngspice_learns_and_records_energy_and_window(task, tmp_path):
    summary = train(task, _config(task, rule=RuleKind.TCL), tmp_path, progress=False)
    assert summary["backend"] == "ngspice" and summary["rule"] == "tcl"
    assert summary["final_test_loss"] < 0.5 * summary["initial_test_loss"]
    assert summary["energy_per_sample_j"] > 0 and summary["feedback_energy_per_sample_j"] > 0
    assert summary["feedback_energy_per_sample_j"] < 1e-3 * summary["energy_per_sample_j"]
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
def test_verify_every_reruns_samples_in_ngspice_and_records_the_disagreement(tmp_path):
    task = teacher_task("lattice:4x4", train_samples=20, test_samples=5, seed=0)
    config = _config(task, rule=RuleKind.TCL, epochs=1, backend=BackendKind.NATIVE)
    config = RunConfig(**{**config.__dict__, "sim": SimulatorConfig(verify_every=5)})
    summary = train(task, config, tmp_path, progress=False)
    assert summary["verified_samples"] == 4
    assert summary["verify_update_rel_error_max"] < 0.02
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert "verify_update_rel_error" in rows[0]
