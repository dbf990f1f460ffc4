"""Sweeps: configs derived by nested changes, jobs run side by side in processes, each in its own folder."""

import pytest

from tcl_circuits.config import RuleKind
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.studies.sweep import Job, row_digest, run_jobs


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


# --- sweeps of a spec on a Dask LocalCluster ----------------------------------------------------------------

SPEC = {
    "seeds": [0, 1],
    "base": {
        "task": {"network": "lattice:3x3", "train_samples": 8, "test_samples": 4},
        "backend": "native",
        "learning": {"epochs": 1, "alignment_every": 0},
    },
    "grid": {"drive.tau_fall_s": [9e-5, 9e-4]},
}


def _rows(folder):
    import csv

    return list(csv.DictReader((folder / "results.csv").read_text().splitlines()))


def test_sweep_runs_every_point_appends_rows_aggregates_over_seeds_and_resumes(tmp_path):
    from tcl_circuits.studies.sweep import run_sweep
    from tcl_circuits.studies.sweep_spec import parse_spec

    spec = parse_spec(SPEC)
    out = tmp_path / "sweep"
    outcome = run_sweep(spec, out, workers=2, progress=False)
    assert (outcome["points"], outcome["ran"], outcome["skipped"], outcome["failed"]) == (4, 4, 0, 0)
    rows = _rows(out)
    assert sorted(r["point"] for r in rows) == sorted(p.name for p in spec.points)
    assert all(r["status"] == "done" and float(r["loss_ratio"]) > 0 for r in rows)
    for point in spec.points:
        assert (out / "points" / point.name / "summary.json").is_file()
        assert not (out / "points" / point.name / "learning_curve.png").exists()  # the sweep draws its own
    import csv

    aggregate = list(csv.DictReader((out / "aggregate.csv").read_text().splitlines()))
    assert sorted(a["drive.tau_fall_s"] for a in aggregate) == ["0.0009", "9e-05"]
    for entry in aggregate:
        ratios = [float(r["loss_ratio"]) for r in rows if r["drive.tau_fall_s"] == entry["drive.tau_fall_s"]]
        assert entry["runs"] == "2"
        assert float(entry["loss_ratio_mean"]) == pytest.approx(sum(ratios) / 2)
        assert float(entry["loss_ratio_std"]) == pytest.approx(abs(ratios[0] - ratios[1]) / 2**0.5)
    assert (out / "loss_ratio.png").stat().st_size > 1000

    with pytest.raises(ConfigError, match="add --resume"):
        run_sweep(spec, out, workers=2, progress=False)
    assert run_sweep(spec, out, workers=2, resume=True, progress=False)["ran"] == 0

    # killed while one point ran and while its row was being written: only that point runs again
    text = (out / "results.csv").read_text()
    lines = text.splitlines(keepends=True)
    lost = lines[-1].split(",")[0]
    (out / "results.csv").write_text("".join(lines[:-1]) + lines[-1][:25])
    outcome = run_sweep(spec, out, workers=1, resume=True, progress=False)
    assert (outcome["ran"], outcome["skipped"]) == (1, 3)
    again = _rows(out)
    assert len(again) == 4 and again[-1]["point"] == lost
    before = next(r for r in rows if r["point"] == lost)
    timing = ("seconds", "seconds_per_sample", "row_sha256")
    # the same run, continued from its own folder: the same numbers (wall times aside)
    assert {k: v for k, v in again[-1].items() if k not in timing} == {
        k: v for k, v in before.items() if k not in timing
    }


def test_a_different_spec_is_refused_in_a_sweeps_folder_and_failed_points_are_rows(tmp_path):
    from tcl_circuits.studies.sweep import run_sweep
    from tcl_circuits.studies.sweep_spec import parse_spec

    out = tmp_path / "sweep"
    broken = {**SPEC, "base": {**SPEC["base"], "task": {"network": "nowhere.graphml"}}, "seeds": [0]}
    outcome = run_sweep(parse_spec(broken), out, workers=1, progress=False)
    assert (outcome["ran"], outcome["failed"]) == (2, 2)
    rows = _rows(out)
    assert {r["status"] for r in rows} == {"failed"}
    assert all(r["error"].startswith("GraphError: unknown network 'nowhere.graphml'") for r in rows)
    assert not (out / "aggregate.csv").exists()
    with pytest.raises(ConfigError, match="holds a different run"):
        run_sweep(parse_spec(SPEC), out, workers=1, resume=True, progress=False)
    with pytest.raises(ConfigError, match="--metric"):
        run_sweep(parse_spec(SPEC), tmp_path / "other", metric="accuracy")


def _entry(**values):
    return {**values, "runs": 2, "loss_ratio_mean": values.pop("m"), "loss_ratio_std": 0.01}


@pytest.mark.parametrize(
    ("rows", "axes", "drawn"),
    [
        ([_entry(a="0.1", m=0.5), _entry(a="10", m=0.05)], ["a"], True),
        ([_entry(a="tcl", m=0.5), _entry(a="contrastive", m=0.2)], ["a"], True),
        ([_entry(a=str(x), b=str(y), m=0.1 + x * y) for x in (1, 2) for y in (3, 4)], ["a", "b"], True),
        ([_entry(a=str(1.5**i), b=str(2.0**i), m=0.1 * i + 0.1) for i in range(12)], ["a", "b"], True),
        ([_entry(a="1", b="2", c="3", m=0.1)], ["a", "b", "c"], False),
        ([], ["a"], False),
    ],
)
def test_sweep_plots_one_or_two_axes_as_curves_maps_or_points(rows, axes, drawn, tmp_path):
    from tcl_circuits.learning.plots import plot_sweep

    path = tmp_path / "plot.png"
    assert plot_sweep(rows, axes, "loss_ratio", path) is drawn
    assert path.exists() is drawn


def test_aggregate_averages_over_the_named_axes_and_leaves_out_failed_points():
    from tcl_circuits.studies.sweep import aggregate

    rows = [
        {"point": "a", "s": "0.1", "t": "0", "status": "done", "loss_ratio": "0.2"},
        {"point": "b", "s": "0.1", "t": "1", "status": "done", "loss_ratio": "0.4"},
        {"point": "c", "s": "0.1", "t": "2", "status": "failed", "loss_ratio": ""},
        {"point": "d", "s": "0.2", "t": "0", "status": "done", "loss_ratio": "0.5"},
    ]
    out = {r["s"]: r for r in aggregate(rows, ["s", "t"], average_over=["t"])}
    assert out["0.1"]["runs"] == 2 and out["0.1"]["loss_ratio_mean"] == pytest.approx(0.3)
    assert out["0.1"]["loss_ratio_std"] == pytest.approx(0.1414213562)
    assert out["0.2"]["runs"] == 1 and out["0.2"]["loss_ratio_std"] == 0.0
    assert out["0.2"]["final_test_accuracy_mean"] is None


def test_a_sweep_runs_on_an_existing_scheduler_and_an_unreachable_one_is_one_error(tmp_path, monkeypatch):
    from distributed import LocalCluster

    from tcl_circuits.studies import sweep
    from tcl_circuits.studies.sweep_spec import parse_spec

    spec = parse_spec({**SPEC, "seeds": [0], "grid": {"drive.tau_fall_s": [9e-4]}})
    with LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=sweep.LOOPBACK_ANY_PORT
    ) as cluster:
        outcome = sweep.run_sweep(spec, tmp_path / "a", scheduler=cluster.scheduler_address, progress=False)
    assert (outcome["ran"], outcome["failed"]) == (1, 0)
    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT_S", 1)
    with pytest.raises(ConfigError, match="--scheduler tcp://127.0.0.1:9: cannot connect"):
        sweep.run_sweep(spec, tmp_path / "b", scheduler="tcp://127.0.0.1:9", progress=False)


def test_points_that_train_the_same_circuit_share_one_run_also_after_an_interruption(tmp_path):
    """Without mismatch the mismatch seed changes nothing: the zero-sigma column of a Monte Carlo is one run;
    its rows carry every trial's values and name the folder that computed them."""
    from tcl_circuits.studies.sweep import run_sweep
    from tcl_circuits.studies.sweep_spec import parse_spec

    spec = parse_spec(
        {
            "base": SPEC["base"],
            "average_over": ["cell.spread_seed"],
            "grid": {"cell.spread_r_k": [0.0, 0.3], "cell.spread_seed": {"range": [0, 3]}},
        }
    )
    out = tmp_path / "sweep"
    outcome = run_sweep(spec, out, workers=1, progress=False)
    assert (outcome["points"], outcome["ran"], outcome["shared"]) == (6, 4, 2)
    rows = _rows(out)
    ideal = [r for r in rows if float(r["cell.spread_r_k"]) == 0.0]
    assert sorted(r["cell.spread_seed"] for r in ideal) == ["0", "1", "2"]
    assert len({r["run"] for r in ideal}) == 1 and len({r["loss_ratio"] for r in ideal}) == 1
    assert sorted(p.name for p in (out / "points").iterdir()) == sorted({r["run"] for r in rows})
    mismatched = [r for r in rows if float(r["cell.spread_r_k"]) == 0.3]
    assert all(r["run"] == r["point"] for r in mismatched)
    assert len({r["loss_ratio"] for r in mismatched}) == 3  # three draws, three circuits

    # interrupted after the shared run's own row: its trials are filled in on resuming, nothing trains
    lines = (out / "results.csv").read_text().splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] == line.rstrip().split(",")[-2]]
    (out / "results.csv").write_text("".join(kept))
    outcome = run_sweep(spec, out, workers=1, resume=True, progress=False)
    assert (outcome["ran"], outcome["shared"], outcome["skipped"]) == (0, 2, 4)
    assert sorted(map(str.split, (out / "results.csv").read_text().splitlines())) == sorted(
        map(str.split, lines)
    )


def test_a_results_table_from_before_the_run_column_resumes_each_point_its_own_run(tmp_path):
    from tcl_circuits.studies.sweep import ResultsTable

    path = tmp_path / "results.csv"
    path.write_text("point,x,status\np1,0.5,done\n")
    table = ResultsTable(path, ["point", "x", "status", "run"])
    digest = row_digest(
        {"point": "p1", "x": "0.5", "status": "done", "run": "p1"}, ["point", "x", "status", "run"]
    )
    assert table.rows == [{"point": "p1", "x": "0.5", "status": "done", "run": "p1", "row_sha256": digest}]
    assert path.read_text() == f"point,x,status,run,row_sha256\np1,0.5,done,p1,{digest}\n"
    with pytest.raises(DataError, match="columns are not this sweep's"):
        ResultsTable(path, ["point", "y", "status", "run"])


def test_an_edited_results_row_is_refused_and_a_table_from_before_digests_still_resumes(tmp_path):
    from tcl_circuits.studies.sweep import ResultsTable

    columns = ["point", "x", "status", "error", "loss_ratio", "run"]
    path = tmp_path / "results.csv"
    path.write_text("point,x,status,error,loss_ratio,run\np1,0.5,done,,0.25,p1\n")  # written before digests
    table = ResultsTable(path, columns)
    assert table.done() == {"p1"} and table.rows[0]["loss_ratio"] == "0.25"
    table.append({"point": "p2", "x": 1.0, "status": "done", "error": "", "loss_ratio": 0.5, "run": "p2"})
    assert ResultsTable(path, columns).done() == {"p1", "p2"}  # digests verify on reopening
    path.write_text(path.read_text().replace(",0.5,p2,", ",0.01,p2,"))  # a better loss, typed in
    with pytest.raises(
        DataError, match=r"results.csv:3: the row of point 'p2' does not match its row_sha256"
    ):
        ResultsTable(path, columns)
