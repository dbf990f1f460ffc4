"""Sweeps: configs derived by nested changes, jobs run side by side in processes, each in its own folder."""

import pytest

from tcl_circuits.config import RuleKind
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.sweep import Job, run_jobs, with_changes


def test_with_changes_sets_nested_fields_and_checks_names():
    config = with_changes(RunConfig(), {"drive": {"tau_fall_s": 9e-3}, "learning": {"rule": "gradient"}})
    assert config.drive.tau_fall_s == 9e-3 and config.learning.rule is RuleKind.GRADIENT
    assert config.drive.tau_rise_s == RunConfig().drive.tau_rise_s
    with pytest.raises(ConfigError, match="drive.'tau_fal'"):
        with_changes(RunConfig(), {"drive": {"tau_fal": 1.0}})


def _small(rule: str) -> RunConfig:
    return with_changes(
        RunConfig(),
        {
            "task": {"network": "lattice:3x3", "train_samples": 8, "test_samples": 4},
            "learning": {"rule": rule, "epochs": 1, "alignment_every": 0},
        },
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_jobs_run_in_their_own_folders_and_return_in_order(tmp_path, workers):
    jobs = [Job("tcl", _small("tcl")), Job("gradient", _small("gradient"))]
    results = run_jobs(jobs, tmp_path, workers=workers)
    assert [r["name"] for r in results] == ["tcl", "gradient"]
    assert [r["summary"]["rule"] for r in results] == ["tcl", "gradient"]
    for r in results:
        assert (tmp_path / r["name"] / "summary.json").is_file()
        assert [e["epoch"] for e in r["epochs"]] == [0.0, 1.0]
        assert r["epochs"][1]["test_loss"] < r["epochs"][0]["test_loss"]


def test_bad_job_names_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="distinct"):
        run_jobs([Job("a", _small("tcl")), Job("a", _small("tcl"))], tmp_path)
    with pytest.raises(ConfigError, match="'../x'"):
        run_jobs([Job("../x", _small("tcl"))], tmp_path)
