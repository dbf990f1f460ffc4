import json
import subprocess

import pytest

from tcl_circuits.cli.main import main


@pytest.mark.ngspice
def test_compile_writes_a_netlist_that_runs_standalone(tmp_path, capsys):
    out = tmp_path / "lattice.cir"
    assert main(["compile", "lattice:3x3", "-o", str(out)]) == 0
    assert "12 learning edges" in capsys.readouterr().out
    run = subprocess.run(
        ["ngspice", "-b", out.name], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0
    assert run.stdout.count("acc") >= 12 and "Error" not in run.stdout


def test_compile_graph_file(tmp_path, capsys):
    graph = tmp_path / "net.edges"
    graph.write_text(
        "#@ node in role=input voltage=0.9\n#@ node out role=output target=0.2\n#@ node g role=ground\n#@ node h role=hidden\n"
        "in h 1e-3\nh out 1e-3\nout g 1e-3\nh g 1e-3\n"
    )
    assert main(["compile", str(graph), "--threshold", "1e-5"]) == 0
    text = capsys.readouterr().out
    assert "vin0 n0 0 DC 0.9" in text and "vt0 t0 0 DC 0.2" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compile", "torus:3"], "unknown network 'torus:3'"),
        (["compile", "lattice:3x3", "--threshold", "big"], "--threshold must be a number"),
        (["compile", "lattice:3x3", "--tau-rise", "-1"], "tau_rise_s"),
        (["train", "--task", "mnist", "--out", "x"], "unknown task 'mnist'"),
    ],
)
def test_bad_input_gives_a_clear_error_and_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_train_gradient_prints_summary(tmp_path, capsys):
    argv = [
        "train",
        "--network",
        "lattice:3x3",
        "--rule",
        "gradient",
        "--epochs",
        "1",
        "--train-samples",
        "10",
        "--test-samples",
        "5",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rule"] == "gradient" and summary["samples"] == 10
    assert main(argv) == 2  # the folder holds a run now
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.ngspice
def test_compare_reports_cosines_as_json(capsys):
    assert main(["compare", "--network", "lattice:4x4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cos_tcl_contrastive"] >= 0.95
    assert len(result["tcl"]) == len(result["gradient"]) == 24


def test_kernel_subcommand_is_wired_into_the_main_command(capsys):
    argv = ["kernel", "update", "--kernel", "ecoli", "--area", "0", "--amplitude", "50", "--mean", "0"]
    assert main([*argv, "--tau-fast", "1", "--tau-slow", "9", "--threshold", "11.111", "--json"]) == 0
    dw = json.loads(capsys.readouterr().out)["dw"]
    assert dw / 50 == pytest.approx(0.955, abs=0.005)  # physics.md section 7, item 1


@pytest.mark.ngspice
def test_train_memristor_device_picks_a_stable_rate_and_learns(tmp_path, capsys):
    argv = [
        "train",
        "--device",
        "memristor:vteam_symmetric",
        "--network",
        "lattice:3x3",
        "--epochs",
        "1",
        "--train-samples",
        "30",
        "--test-samples",
        "10",
        "--out",
        str(tmp_path / "m"),
        "--no-progress",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["backend"] == "ngspice" and summary["max_loop_gain"] < 1.0
    assert summary["final_test_loss"] < summary["initial_test_loss"]
