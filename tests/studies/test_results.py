"""Run and sweep folders read back as DataFrames: finished or not, edited rows refused, wrong folders named."""

import json

import pytest

import tcl_circuits as tcl
from tcl_circuits.config import LearningConfig, RuleKind
from tcl_circuits.errors import DataError
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig, teacher_task
from tcl_circuits.studies.sweep import METRICS, ResultsTable, aggregate


def _config():
    return RunConfig(
        task=TaskConfig(network="lattice:3x3", train_samples=6, test_samples=3),
        learning=LearningConfig(rule=RuleKind.GRADIENT, epochs=2, checkpoint_every=4),
    )


def test_load_run_reads_a_finished_and_an_unfinished_run(tmp_path):
    task = teacher_task("lattice:3x3", train_samples=6, test_samples=3, seed=0)
    train(task, _config(), tmp_path / "cut", progress=False, plots=False, stop_after_samples=11)
    unfinished = tcl.load_run(tmp_path / "cut")
    assert not unfinished.finished and unfinished.summary is None
    assert len(unfinished.samples) == 10  # those of the last checkpoint (epoch 2, position 4)
    assert list(unfinished.epochs["epoch"]) == [0, 1]
    assert unfinished.config["learning"]["epochs"] == 2

    summary = train(task, _config(), tmp_path / "cut", resume=True, progress=False, plots=False)
    run = tcl.load_run(tmp_path / "cut")
    assert run.finished and run.summary == json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert len(run.samples) == summary["samples"] == 12
    assert run.epochs["test_loss"].iloc[-1] == pytest.approx(summary["final_test_loss"])
    assert {"epoch", "position", "sample", "update_norm_s"} <= set(run.samples.columns)


def _sweep_folder(path, rows):
    path.mkdir()
    (path / "run.json").write_text('{"fingerprint": {}}')
    (path / "sweep.json").write_text(json.dumps({"axes": ["x"], "base": {}, "points": {}}))
    table = ResultsTable(path / "results.csv", ["point", "x", "status", "error", *METRICS, "run"])
    for row in rows:
        table.append(row)
    return table


def test_load_sweep_reads_results_and_aggregate_and_refuses_an_edited_row(tmp_path):
    rows = [
        {"point": f"p{k}", "x": x, "status": "done", "error": "", "loss_ratio": 0.1 * (k + 1), "run": f"p{k}"}
        for k, x in enumerate([1.0, 1.0, 2.0])
    ]
    table = _sweep_folder(tmp_path / "sweep", rows)
    sweep = tcl.load_sweep(tmp_path / "sweep")
    assert sweep.aggregate is None  # not written yet
    assert list(sweep.results["point"]) == ["p0", "p1", "p2"] and "row_sha256" not in sweep.results
    assert sweep.results["loss_ratio"].tolist() == pytest.approx([0.1, 0.2, 0.3])
    import csv

    means = aggregate(table.rows, ["x"])
    with open(tmp_path / "sweep" / "aggregate.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(means[0]))
        writer.writeheader()
        writer.writerows(means)
    assert tcl.load_sweep(tmp_path / "sweep").aggregate["loss_ratio_mean"].tolist() == pytest.approx(
        [0.15, 0.3]
    )

    text = (tmp_path / "sweep" / "results.csv").read_text()
    (tmp_path / "sweep" / "results.csv").write_text(text.replace(",0.30000000000000004,", ",0.01,"))
    with pytest.raises(
        DataError, match=r"results.csv:4: the row of point 'p2' does not match its row_sha256"
    ):
        tcl.load_sweep(tmp_path / "sweep")


def test_a_folder_that_is_not_a_run_or_a_sweep_is_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is not a run folder \\(it has no run.json\\)"):
        tcl.load_run(tmp_path / "empty")
    with pytest.raises(DataError, match="is not a folder"):
        tcl.load_run(tmp_path / "missing")
    _sweep_folder(tmp_path / "sweep", [])
    with pytest.raises(DataError, match="is a sweep folder: read it with load_sweep"):
        tcl.load_run(tmp_path / "sweep")
    assert tcl.load_sweep(tmp_path / "sweep").results.empty
    task = teacher_task("lattice:3x3", train_samples=6, test_samples=3, seed=0)
    train(task, _config(), tmp_path / "run", progress=False, plots=False)
    with pytest.raises(DataError, match="is not a sweep folder .*read a run with load_run"):
        tcl.load_sweep(tmp_path / "run")


def test_load_run_opens_a_summary_written_before_the_whole_bill_in_todays_shape(tmp_path):
    """An older summary.json's energy_per_sample_j (network and clamps) and feedback_energy_per_sample_j
    (R_K) become energy_per_update_j, the blocks it never priced named unpriced; a current one is untouched."""
    from tcl_circuits.studies.results import upgraded_summary

    task = teacher_task("lattice:3x3", train_samples=6, test_samples=3, seed=0)
    summary = train(task, _config(), tmp_path / "run", progress=False, plots=False)
    assert upgraded_summary(summary) is summary
    old = {k: v for k, v in summary.items() if k not in ("energy_per_update_j", "time_per_update_s")}
    old.update(energy_per_sample_j=2e-9, feedback_energy_per_sample_j=0.0)
    (tmp_path / "run" / "summary.json").write_text(json.dumps(old))
    bill = tcl.load_run(tmp_path / "run").summary
    assert "energy_per_sample_j" not in bill and bill["time_per_update_s"] is None
    assert bill["energy_per_update_j"] == {
        "total": 2e-9,
        "per_edge": 2e-9 / summary["edges"],
        "by_block": {"network_and_clamps": 2e-9, "writes": None},
        "unpriced": ["writes"],
        "pulses_per_update": None,
        "technology": None,
    }
    tcl_old = {
        **old,
        "rule": "tcl",
        "energy_by_block_j": {"network": 1e-9, "clamp": 1e-10, "feedback_rk": 1e-15},
    }
    upgraded = upgraded_summary(tcl_old)["energy_per_update_j"]
    assert upgraded["unpriced"] == ["quiescent", "dynamic", "readout", "writes"]
    assert upgraded["total"] == pytest.approx(1.1e-9 + 1e-15) and "clamps" in upgraded["by_block"]
