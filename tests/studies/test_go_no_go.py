"""feasibility --tech: one design in one technology, go or no-go."""

import csv
import json
import math

import pytest

from tcl_circuits.cli.main import main
from tcl_circuits.studies.go_no_go import energy_requirement, learning_requirement

TINY = [
    "feasibility",
    "--tech",
    "cmos65+reram",
    "--network",
    "lattice:3x3",
    "--train-samples",
    "12",
    "--test-samples",
    "4",
    "--epochs",
    "2",
    "--signal-gain",
    "100",
    "--r-k",
    "100k",
    "--tau-fall",
    "90u",
    "--no-progress",
]


def test_learning_passes_within_the_tolerance_of_the_ideal_run():
    ideal, on = {"loss_ratio": 0.1}, {"loss_ratio": 0.14}
    found = learning_requirement(ideal, on, 1.5, 2.0)
    assert found.offered == pytest.approx(1.4) and found.margin == pytest.approx(1.5 / 1.4) and found.passes
    assert not learning_requirement(ideal, {"loss_ratio": 0.16}, 1.5, 2.0).passes
    # classification: accuracy points lost against the ideal run
    lost = learning_requirement({"final_test_accuracy": 0.964}, {"final_test_accuracy": 0.95}, 1.5, 2.0)
    assert lost.offered == pytest.approx(1.4) and lost.unit == "points" and lost.passes
    assert not learning_requirement(
        {"final_test_accuracy": 0.964}, {"final_test_accuracy": 0.94}, 1.5, 2.0
    ).passes
    assert learning_requirement(
        {"final_test_accuracy": 0.9}, {"final_test_accuracy": 0.92}, 1.5, 2.0
    ).margin == (math.inf)


def test_an_unpriced_bill_fails_the_energy_budget():
    whole = {"per_edge": 50e-12, "unpriced": []}
    assert energy_requirement(whole, 100e-12).margin == pytest.approx(2.0)
    assert not energy_requirement({"per_edge": 50e-12, "unpriced": ["writes"]}, 100e-12).passes
    assert not energy_requirement({"per_edge": 150e-12, "unpriced": []}, 100e-12).passes


@pytest.mark.ngspice
def test_a_go_no_go_report_of_a_small_design(tmp_path, capsys):
    out = tmp_path / "g"
    assert main([*TINY, "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(("GO: cmos65+reram", "NO-GO: cmos65+reram")) and "per edge per update" in line
    for name in (
        "go_no_go.csv",
        "energy.csv",
        "analog_check.csv",
        "noise_check.csv",
        "report.md",
        "go_no_go.png",
    ):
        assert (out / name).stat().st_size > 0
    with (out / "go_no_go.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    names = [r["requirement"] for r in rows]
    assert len(rows) == 8 and any("noise at u" in n for n in names) and any("learns" in n for n in names)
    assert all(r["passes"] in ("True", "False") for r in rows)
    # the threshold: 100 x today's over kT/C_K at 5 pF (28.8 uV) stands above 10 sigma
    assert float(rows[0]["offered"]) > 10 and rows[0]["passes"] == "True"
    # the bill is whole, priced by the technology, and the learning runs sit beside the report
    summary = json.loads((out / "all_on" / "summary.json").read_text())
    bill = summary["energy_per_update_j"]
    assert bill["unpriced"] == [] and bill["technology"] == "cmos65+reram"
    assert bill["total"] == pytest.approx(sum(v for v in bill["by_block"].values()))
    ideal = json.loads((out / "ideal" / "summary.json").read_text())
    assert ideal["energy_per_update_j"]["technology"] is None  # the ideal run: nothing of the technology
    # the analog cell's stages in ngspice within 5 % of their bias currents' figure
    with (out / "analog_check.csv").open() as handle:
        checks = list(csv.DictReader(handle))
    assert {c["stage"] for c in checks} == {"multiplier", "threshold", "integrator"}
    for check in checks:
        assert float(check["ratio"]) == pytest.approx(1.0, abs=0.05), check
    # R_K's noise on u with no signal: ngspice's noisy cycle against kT/C_K (5 pF at 300 K: 28.8 uV)
    with (out / "noise_check.csv").open() as handle:
        (noise,) = list(csv.DictReader(handle))
    assert float(noise["analytic_v"]) == pytest.approx(math.sqrt(1.380649e-23 * 300 / 5e-12), rel=0.01)
    assert float(noise["ratio"]) == pytest.approx(1.0, abs=0.05)
    report = (out / "report.md").read_text()
    assert "| requirement | needed | offered | margin | verdict |" in report
    assert "per learning edge" in report and "ideal run" in report
    # resumed: the finished report is read again, the same verdict
    assert main([*TINY, "--out", str(out), "--resume"]) == 0
    assert capsys.readouterr().out == line


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--energy-budget", "-1p"], "--energy-budget"),
        (["--energy-budget", "1pV"], "--energy-budget"),
        (["--accuracy-points", "nan"], "--accuracy-points"),
        (["--tech", "cmos65+unobtainium"], "no technology preset 'unobtainium'"),
        (["--tech", ""], "PROCESS+DEVICE"),
        (["--tolerance", "0"], "--tolerance must be"),
    ],
)
def test_bad_go_no_go_settings_are_one_line(tmp_path, capsys, flags, message):
    argv = [*TINY, *flags, "--out", str(tmp_path / "bad")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "bad").exists()
