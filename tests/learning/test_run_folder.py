"""Run folders: one run at a time, nothing deleted or overwritten that the run did not create, resume only
by the same run, checkpoints and records verified."""

import json
import os

import numpy as np
import pytest

from tcl_circuits.cli.main import main
from tcl_circuits.config import FeedbackCellConfig, LearningConfig, RuleKind
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.run_folder import RecordLog, RunFolder, dumps, sha256
from tcl_circuits.learning.tasks import TaskConfig, teacher_task

FINGERPRINT = {"config": {"a": 1}, "data_sha256": "x", "code_version": "0"}


def _records(n, start=0):
    return [{"sample": k, "loss": 0.5 * k} for k in range(start, start + n)]


def test_record_log_appends_at_flush_and_resume_cuts_after_the_checkpoint(tmp_path):
    log = RecordLog(tmp_path / "r.jsonl")
    log.start()
    for record in _records(4):
        log.append(record)
    count, digest = log.flush()
    assert count == 4
    for record in _records(3, start=4):
        log.append(record)
    log.flush()  # written, but the run died before its checkpoint
    with open(tmp_path / "r.jsonl", "a") as handle:
        handle.write('{"sample": 7, "lo')  # and a crash in the middle of a line
    resumed = RecordLog(tmp_path / "r.jsonl")
    resumed.resume(count, digest)
    assert resumed.records == _records(4)
    resumed.append(_records(1, start=4)[0])
    assert resumed.flush()[0] == 5
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == _records(5)


def test_record_log_refuses_edited_or_short_records(tmp_path):
    log = RecordLog(tmp_path / "r.jsonl")
    log.start()
    for record in _records(3):
        log.append(record)
    count, digest = log.flush()
    text = (tmp_path / "r.jsonl").read_text()
    (tmp_path / "r.jsonl").write_text(text.replace('"loss": 1.0', '"loss": 9.0'))
    with pytest.raises(DataError, match="does not match its checkpoint"):
        RecordLog(tmp_path / "r.jsonl").resume(count, digest)
    (tmp_path / "r.jsonl").write_text(text.splitlines()[0] + "\n")
    with pytest.raises(DataError, match="1 complete records, its checkpoint 3"):
        RecordLog(tmp_path / "r.jsonl").resume(count, digest)


@pytest.mark.parametrize("name", ["", "file", "file/under"])
def test_out_must_be_a_folder(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a user's file")
    with pytest.raises(ConfigError, match="--out"):
        RunFolder(tmp_path / name if name else "", FINGERPRINT, resume=False)
    assert (tmp_path / "file").read_text() == "a user's file"


def test_unwritable_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot create or write the folder"):
        RunFolder("/proc/tcl_circuits_run", FINGERPRINT, resume=False)


def test_a_folder_with_other_files_is_refused_and_left_untouched(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1,2")
    with pytest.raises(ConfigError, match="is not empty and is not a run folder"):
        RunFolder(tmp_path, FINGERPRINT, resume=False)
    assert (tmp_path / "thesis.tex").read_text() == "years of work"
    assert (tmp_path / "data" / "x.csv").read_text() == "1,2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "data", "thesis.tex"]


def test_one_run_at_a_time_and_the_same_run_only(tmp_path):
    with RunFolder(tmp_path, FINGERPRINT, resume=False):
        with pytest.raises(ConfigError, match="in use by another run \\(pid"):
            RunFolder(tmp_path, FINGERPRINT, resume=True)
    with pytest.raises(ConfigError, match="already holds this run; add --resume"):
        RunFolder(tmp_path, FINGERPRINT, resume=False)
    other = {**FINGERPRINT, "config": {"a": 2}}
    with pytest.raises(ConfigError, match=r"holds a different run \(config.a: 1 -> 2\)"):
        RunFolder(tmp_path, other, resume=True)
    with RunFolder(tmp_path, FINGERPRINT, resume=True) as folder:
        assert not folder.resuming  # no checkpoint yet: a fresh start


def _config(**changes):
    return RunConfig(
        task=TaskConfig(network="lattice:3x3", train_samples=8, test_samples=4),
        cell=FeedbackCellConfig(threshold_v=None),
        learning=LearningConfig(rule=RuleKind.GRADIENT, epochs=2, checkpoint_every=3, **changes),
    )


@pytest.fixture
def task():
    return teacher_task("lattice:3x3", train_samples=8, test_samples=4, seed=0)


def _interrupted(task, out):
    assert train(task, _config(), out, progress=False, stop_after_samples=10)["stopped"]
    return json.loads((out / "checkpoint.json").read_text())


def test_edited_or_damaged_checkpoints_are_refused(task, tmp_path):
    out = tmp_path / "run"
    state = _interrupted(task, out)
    edited = {**state, "position": -5}
    (out / "checkpoint.json").write_text(json.dumps(edited))
    with pytest.raises(DataError, match="checksum does not match"):
        train(task, _config(), out, resume=True, progress=False)
    (out / "checkpoint.json").write_text('{"epoch": 1, "posi')
    with pytest.raises(DataError, match="damaged"):
        train(task, _config(), out, resume=True, progress=False)
    (out / "checkpoint.json").write_text(json.dumps(state))
    (out / "samples.jsonl").write_text("garbage\n" * 20)
    with pytest.raises(DataError, match="samples.jsonl does not match its checkpoint"):
        train(task, _config(), out, resume=True, progress=False)


def test_resume_with_other_sample_counts_is_refused_by_name(task, tmp_path):
    out = tmp_path / "run"
    _interrupted(task, out)
    config = _config().replace(task=TaskConfig(network="lattice:3x3", train_samples=8, test_samples=2))
    with pytest.raises(ConfigError, match="config.task.test_samples: 4 -> 2"):
        train(
            teacher_task("lattice:3x3", train_samples=8, test_samples=2, seed=0),
            config,
            out,
            resume=True,
            progress=False,
        )


def test_summary_is_strict_json_and_a_dollar_sign_in_a_name_plots(tmp_path):
    graph = tmp_path / "g$^^$.edges"
    graph.write_text(
        "#@ node in role=input\n#@ node out role=output\n#@ node g role=ground\n#@ node h role=hidden\n"
        "in h 1e-3\nh out 1e-3\nout g 1e-3\nh g 1e-3\n"
    )
    out = tmp_path / "run"
    argv = ["train", "--network", str(graph), "--rule", "gradient", "--epochs", "1", "--train-samples", "5"]
    assert main([*argv, "--test-samples", "3", "--out", str(out), "--no-progress"]) == 0
    assert (out / "learning_curve.png").stat().st_size > 0
    text = (out / "summary.json").read_text()
    assert "NaN" not in text and json.loads(text)["samples"] == 5


def test_demo_never_deletes_what_it_did_not_create(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "checkpoint.json").write_text("{}")  # looks like a run, is not ours
    (folder / "thesis.tex").write_text("years of work")
    assert main(["demo", "--out", str(folder)]) == 2
    assert "is not empty and is not a run folder" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "checkpoint.json", "thesis.tex"]
    assert main(["demo", "--out", ""]) == 2
    assert "--out must name a folder" in capsys.readouterr().err


def test_files_are_replaced_atomically_without_shared_temporaries(tmp_path):
    from tcl_circuits.files import write_text_atomic

    write_text_atomic(tmp_path / "a.json", "1")
    write_text_atomic(tmp_path / "a.json", "2")
    assert (tmp_path / "a.json").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary left behind
    assert not np.any([name.endswith(".tmp") for name in os.listdir(tmp_path)])


def test_a_run_from_before_a_setting_existed_resumes_while_the_setting_is_at_its_default(tmp_path):
    old = {"config": {"lr": 1.0}}
    with RunFolder(tmp_path / "run", old, resume=False) as folder:
        folder.start_records()
        folder.save_checkpoint({"position": 3})
    defaults = {"config": {"lr": 2.0, "noise": 0.0}}
    with RunFolder(
        tmp_path / "run", {"config": {"lr": 1.0, "noise": 0.0}}, resume=True, defaults=defaults
    ) as f:
        assert f.resuming and f.load_checkpoint()["position"] == 3  # it keeps the run's own identity
    with pytest.raises(ConfigError, match=r"noise: None -> 0.5"):
        RunFolder(tmp_path / "run", {"config": {"lr": 1.0, "noise": 0.5}}, resume=True, defaults=defaults)
    with pytest.raises(ConfigError, match=r"lr: 1.0 -> 2.0"):
        RunFolder(tmp_path / "run", {"config": {"lr": 2.0, "noise": 0.0}}, resume=True, defaults=defaults)


@pytest.mark.parametrize("text", ["[1]", "1", '"run"', "null", '{"fingerprint": [1]}', "{}"])
def test_a_run_json_that_is_not_an_object_with_a_fingerprint_is_one_line_naming_it(tmp_path, capsys, text):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(text)
    argv = [
        "train",
        "--network",
        "lattice:3x3",
        "--epochs",
        "1",
        "--train-samples",
        "4",
        "--test-samples",
        "2",
    ]
    assert main([*argv, "--out", str(tmp_path / "run"), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.json is damaged" in err, err


def test_a_run_json_with_a_key_given_twice_is_refused(tmp_path):
    (tmp_path / "run.json").write_text('{"fingerprint": {"config": {}}, "fingerprint": {"config": {"a": 1}}}')
    with pytest.raises(DataError, match="run.json is damaged.*'fingerprint' is given twice"):
        RunFolder(tmp_path, FINGERPRINT, resume=True)


def _small_run(tmp_path, *extra):
    argv = ["train", "--network", "lattice:3x3", "--train-samples", "4", "--test-samples", "2", *extra]
    return [*argv, "--out", str(tmp_path / "run"), "--no-progress"]


def test_a_run_json_whose_fingerprint_was_edited_is_refused_naming_it(tmp_path, capsys):
    assert main(_small_run(tmp_path, "--epochs", "1")) == 0
    marker = tmp_path / "run" / "run.json"
    stored = json.loads(marker.read_text())
    stored["fingerprint"]["config"]["learning"]["lr_decay"] = 0.5  # the digest is left as it was
    marker.write_text(json.dumps(stored))
    capsys.readouterr()
    assert main([*_small_run(tmp_path, "--epochs", "1", "--lr-decay", "0.5"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.json was edited" in err, err


def test_a_config_json_that_disagrees_with_run_json_is_refused_naming_it(tmp_path, capsys):
    assert main(_small_run(tmp_path, "--epochs", "1")) == 0
    marker = tmp_path / "run" / "run.json"
    stored = json.loads(marker.read_text())
    stored["fingerprint"]["config"]["learning"]["lr_decay"] = 0.5  # and the digest recomputed to match
    stored["fingerprint_sha256"] = sha256(dumps(stored["fingerprint"]))
    marker.write_text(json.dumps(stored))
    capsys.readouterr()
    assert main([*_small_run(tmp_path, "--epochs", "1", "--lr-decay", "0.5"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.json does not match run.json" in err, err
    assert "config.learning.lr_decay: 1.0 -> 0.5" in err


def test_a_resume_message_spells_a_default_as_help_does_not_as_none(tmp_path, capsys):
    assert main(_small_run(tmp_path, "--epochs", "1")) == 0
    capsys.readouterr()
    argv = ["train", "--network", "lattice:3x3", "--epochs", "1", "--out", str(tmp_path / "run"), "--resume"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "config.task.test_samples: 2 -> the task's own (teacher 50, mnist 2,000)" in err, err
    assert "None" not in err


def test_fewer_epochs_on_resume_are_refused_in_one_line(tmp_path, capsys):
    assert main(_small_run(tmp_path, "--epochs", "2")) == 0
    capsys.readouterr()
    assert main([*_small_run(tmp_path, "--epochs", "1"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "--epochs 1: the run in --out" in err and "has 2; it can be extended" in err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["learning"]["epochs"] == 2
