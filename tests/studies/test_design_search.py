"""The design search: a tiny study end to end, its files and recommended design (which train --design takes),
a resume after a kill, infeasible designs marked with the constraint they break."""

from __future__ import annotations

import csv
import json
import math

import pytest
from design_fixtures import NEAR_DEFAULTS, TINY_RUN, lenient_tech

from tcl_circuits.cli.main import main, parse_command
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.design_file import load_design
from tcl_circuits.studies import design_search
from tcl_circuits.studies.design_search import open_study, run_design
from tcl_circuits.studies.design_trial import OBJECTIVES, Problem, evaluate


def _problem(tmp_path) -> Problem:
    args = ["design", *TINY_RUN, "--tech", lenient_tech(tmp_path), "--out", str(tmp_path / "unused")]
    problem = parse_command(args)
    assert problem.base.task.network == "lattice:4x4" and problem.base.task.train_samples == 24
    return problem


def _rows(path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines()))


def test_a_tiny_search_writes_its_front_and_a_design_train_takes(tmp_path, capsys):
    problem = _problem(tmp_path)
    out = tmp_path / "search"
    outcome = run_design(problem, out, trials=4, workers=1, progress=False, knobs=NEAR_DEFAULTS)
    assert outcome["trials"] == 4 and outcome["feasible"] >= 1
    rows = _rows(out / "trials.csv")
    assert [row["trial"] for row in rows] == ["0", "1", "2", "3"]
    for row in rows:
        assert row["status"] in ("feasible", "infeasible")
        if row["status"] == "feasible":
            assert float(row["energy_per_edge_j"]) > 0 and float(row["relative_loss"]) > 0
            tau = float(row["drive.tau_rise_s"]) + float(row["drive.tau_fall_s"])
            assert float(row["time_per_update_s"]) == pytest.approx(tau)
            assert (out / "trials" / f"t{int(row['trial']):05d}" / "noisy" / "summary.json").exists()
        else:
            assert row["failing_constraint"]
    front = _rows(out / "pareto.csv")
    assert front and all(row["status"] == "feasible" for row in front)
    assert (out / "pareto.png").stat().st_size > 0
    design = load_design(out / "recommended.toml")
    # every design of the front has its own file, the recommended one among them
    files = sorted(p.name for p in (out / "front").glob("*.toml"))
    assert files == sorted(f"t{int(row['trial']):05d}.toml" for row in front)
    assert load_design(out / "front" / f"t{design.provenance['trial']:05d}.toml").values == design.values
    for row in front:
        on_front = load_design(out / "front" / f"t{int(row['trial']):05d}.toml")
        assert on_front.values == {knob.field: float(row[knob.field]) for knob in NEAR_DEFAULTS}
    best = next(row for row in rows if int(row["trial"]) == design.provenance["trial"])
    assert best["trial"] in {row["trial"] for row in front}
    assert design.values == {knob.field: float(best[knob.field]) for knob in NEAR_DEFAULTS}
    assert design.provenance["objectives"]["relative_loss"] == pytest.approx(float(best["relative_loss"]))
    # the recommended design round-trips through train --design
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                *TINY_RUN,
                "--design",
                str(out / "recommended.toml"),
                "--out",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["drive"]["tau_rise_s"] == design.values["drive.tau_rise_s"]
    assert (
        config["cell"]["analog"]["integrator_quiescent_a"]
        == design.values["cell.analog.integrator_quiescent_a"]
    )
    # a second search never writes into the folder of this one
    with pytest.raises(ConfigError, match="already holds this run; add --resume"):
        run_design(problem, out, trials=4, workers=1, progress=False, knobs=NEAR_DEFAULTS)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not empty and is not a run folder"):
        run_design(problem, tmp_path / "other", trials=1, workers=1, progress=False)


def test_a_killed_search_resumes_losing_only_the_trial_in_flight(tmp_path, monkeypatch):
    problem = _problem(tmp_path)
    out = tmp_path / "search"
    run_design(problem, out, trials=2, workers=1, progress=False, knobs=NEAR_DEFAULTS)
    before = _rows(out / "trials.csv")
    # a kill while trial 2 ran: asked and its knobs drawn, never told
    study = open_study(out / design_search.STUDY, "nsga2", 0)
    in_flight = study.ask()
    drawn = design_search._suggest(in_flight, NEAR_DEFAULTS)
    ran = []
    real = design_search.evaluate

    def counting(problem, values, folder):
        ran.append(dict(values))
        return real(problem, values, folder)

    monkeypatch.setattr(design_search, "evaluate", counting)
    outcome = run_design(problem, out, trials=3, workers=1, resume=True, progress=False, knobs=NEAR_DEFAULTS)
    assert ran == [drawn]  # only the trial in flight ran again, with its own knobs
    rows = _rows(out / "trials.csv")
    assert rows[:2] == before  # finished trials untouched
    assert rows[2]["status"] == "interrupted" and rows[3]["status"] in ("feasible", "infeasible")
    assert all(math.isclose(float(rows[3][k]), v) for k, v in drawn.items())
    assert outcome["interrupted"] == 1 and outcome["ran"] == 1


def test_infeasible_designs_name_the_constraint_they_break(tmp_path):
    problem = Problem(base=_problem(tmp_path).base, tech="cmos65+reram")
    today = {"cell.tau_k_s": 5e-7, "cell.r_k_ohm": 1e3, "cell.threshold_headroom": 0.4}
    result = evaluate(problem, today, str(tmp_path / "t"))
    assert result["status"] == "infeasible" and result["failing_constraint"] == "noise"
    assert result["margins"]["noise"] < 1 and result["margins"]["c_k"] < 1  # 0.5 nF against 2 pF
    assert not (tmp_path / "t").exists()  # not trained
    slow_kernel = {"cell.tau_k_s": 2e-5}  # more than half the 10 us rise
    result = evaluate(problem, slow_kernel, str(tmp_path / "t"))
    assert result["failing_constraint"] == "timescales" and result["margins"]["timescales"] == pytest.approx(
        0.25
    )
    starved = {"cell.analog.threshold_quiescent_a": 1e-12}
    lenient = Problem(base=problem.base, tech=_problem(tmp_path).tech)
    result = evaluate(lenient, starved, str(tmp_path / "t"))
    assert result["failing_constraint"] == "threshold_bandwidth"
    assert set(OBJECTIVES).isdisjoint(result)


def test_trials_run_on_dask_workers_and_the_driver_alone_writes_the_study(tmp_path):
    problem = _problem(tmp_path)
    out = tmp_path / "search"
    outcome = run_design(problem, out, trials=2, workers=2, progress=False, knobs=NEAR_DEFAULTS)
    rows = _rows(out / "trials.csv")
    assert outcome["ran"] == 2 and [row["trial"] for row in rows] == ["0", "1"]
    assert all(row["status"] in ("feasible", "infeasible") for row in rows)
    study = open_study(out / design_search.STUDY, "nsga2", 0)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2


def test_a_journal_line_cut_by_a_kill_is_dropped_on_resume(tmp_path):
    problem = Problem(base=_problem(tmp_path).base, tech="cmos65+reram")
    out = tmp_path / "search"
    run_design(problem, out, trials=2, workers=1, progress=False)
    journal = out / design_search.STUDY
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op_code": 4, "worker_id": "x", "tri')  # the kill came mid-line
    outcome = run_design(problem, out, trials=3, workers=1, resume=True, progress=False)
    assert outcome["trials"] == 3 and outcome["ran"] == 1
    assert journal.read_bytes().startswith(whole) and journal.read_bytes().endswith(b"\n")


def test_a_resumed_search_keeps_one_design_file_per_trial_of_its_front(tmp_path):
    from tcl_circuits.studies.design_search import _write_front_designs

    folder = tmp_path / "front"
    _write_front_designs(folder, [{"trial": "1"}, {"trial": "2"}], lambda row: f"trial {row['trial']}\n")
    _write_front_designs(folder, [{"trial": "2"}, {"trial": "3"}], lambda row: f"trial {row['trial']}\n")
    assert sorted(p.name for p in folder.iterdir()) == ["t00002.toml", "t00003.toml"]  # 1 left the front
    assert (folder / "t00003.toml").read_text() == "trial 3\n"
