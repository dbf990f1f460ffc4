"""Ctrl-C during the commands that run on Dask: one line, exit code 130, no traceback from any process.

A terminal sends SIGINT to the whole foreground process group (the client, the scheduler's and nannies'
threads and the LocalCluster's worker processes alike), so each test starts the command in a process group
of its own and signals the group, as a Ctrl-C does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tcl_circuits

INTERRUPTED = "interrupted; rerun with --resume to continue from the last checkpoint"


def _command(argv: list[str]) -> dict:
    """Popen arguments running ``tcl-circuits argv`` from this checkout's package, whatever the folder."""
    path = os.pathsep.join(
        filter(None, [str(Path(tcl_circuits.__file__).parents[1]), os.environ.get("PYTHONPATH")])
    )
    return {
        "args": [sys.executable, "-m", "tcl_circuits.cli.main", *argv],
        "env": {**os.environ, "PYTHONPATH": path},
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }


def _default_sigint() -> None:
    """SIGINT at its default in the command, as in a terminal, even when the tests run in the background of a
    shell without job control (which ignores it there, and Python keeps an ignored SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(argv: list[str], started: Path, rows: int, cwd: Path) -> tuple[int, str, str]:
    """Run ``tcl-circuits argv`` until ``started`` holds at least ``rows`` lines, then Ctrl-C it."""
    process = subprocess.Popen(**_command(argv), cwd=cwd, start_new_session=True, preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 240
        while process.poll() is None and time.monotonic() < deadline:
            if started.exists() and len(started.read_text().splitlines()) >= rows:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the command ended before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, out, err


def _assert_one_line(code: int, out: str, err: str) -> None:
    assert code == 130, (code, out, err)
    assert "Traceback" not in out + err, err
    assert err.strip().splitlines() == [INTERRUPTED], err


SPEC = """seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
[base]
backend = "native"
task = { network = "lattice:4x4", train_samples = 60, test_samples = 10 }
learning = { epochs = 2, alignment_every = 0 }
"""


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_prints_one_line_exits_130_and_resumes(tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    for attempt in range(3):
        out_dir = tmp_path / f"sweep{attempt}"
        argv = ["sweep", "spec.toml", "--out", out_dir.name, "--workers", "2", "--no-progress"]
        code, out, err = _interrupt(argv, out_dir / "results.csv", 2, tmp_path)  # a point has finished
        _assert_one_line(code, out, err)
    again = subprocess.run(**_command([*argv, "--resume"]), cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    assert '"skipped": ' in again.stdout and '"skipped": 0' not in again.stdout


@pytest.mark.slow
def test_ctrl_c_during_feasibility_prints_one_line_and_exits_130(tmp_path):
    argv = [
        "feasibility",
        "--out",
        "report",
        "--trials",
        "2",
        "--network",
        "lattice:3x3",
        "--train-samples",
        "6",
        "--test-samples",
        "3",
        "--epochs",
        "1",
        "--alignment-every",
        "0",
        "--no-progress",
    ]
    code, out, err = _interrupt(argv, tmp_path / "report" / "spread" / "results.csv", 3, tmp_path)
    _assert_one_line(code, out, err)
    assert out.startswith("estimate: about ")  # the time estimate comes first


@pytest.mark.slow
def test_ctrl_c_during_a_design_search_prints_one_line_and_resume_keeps_every_finished_trial(tmp_path):
    import csv

    sys.path.insert(0, str(Path(__file__).parents[1] / "studies"))
    from design_fixtures import LENIENT_CMOS

    (tmp_path / "lenient.toml").write_text(LENIENT_CMOS)
    run = ["--network", "lattice:4x4", "--train-samples", "16", "--test-samples", "6", "--epochs", "1"]
    argv = ["design", *run, "--tech", "lenient.toml+ideal", "--out", "search", "--no-progress"]
    code, out, err = _interrupt(
        [*argv, "--trials", "60", "--workers", "2"], tmp_path / "search" / "trials.csv", 2, tmp_path
    )
    _assert_one_line(code, out, err)

    def rows() -> list[dict]:
        return list(csv.DictReader((tmp_path / "search" / "trials.csv").read_text().splitlines()))

    done = ("feasible", "infeasible", "failed")
    before = [row for row in rows() if row["status"] in done]
    in_flight = [row["trial"] for row in rows() if row["status"] == "running"]
    again = subprocess.run(
        **_command([*argv, "--trials", str(len(before) + 2), "--workers", "1", "--resume"]),
        cwd=tmp_path,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    after = rows()
    finished = [row for row in after if row["status"] in done]
    assert finished[: len(before)] == before and len(finished) == len(before) + 2  # none redone, none lost
    interrupted = [row for row in after if row["status"] == "interrupted"]
    # the trials in flight, at most one per worker (trials.csv is written as trials are told, so it may not
    # list the last one asked)
    assert set(in_flight) <= {row["trial"] for row in interrupted} and len(interrupted) <= 2
    retried = {row["drive.tau_rise_s"] for row in finished[len(before) :]}
    # asked again with their knobs (a trial killed between its asking and its knobs' drawing has none to keep)
    assert all(row["drive.tau_rise_s"] in retried for row in interrupted if row["drive.tau_rise_s"])
