"""--design FILE on train, compile and feasibility: where it stands among the other sources of settings, and
its errors as one line."""

from __future__ import annotations

import pytest

from tcl_circuits.cli.main import main, parse_command
from tcl_circuits.learning.run_config import RunConfig

DESIGN = "[drive]\ntau_rise_s = 2e-5\ntau_fall_s = 1.2e-3\n[cell]\nr_k_ohm = 4e5\nthreshold_headroom = 3.0\n"


@pytest.fixture
def design(tmp_path):
    path = tmp_path / "design.toml"
    path.write_text(DESIGN)
    return str(path)


def _check(config, *, rise: float) -> None:
    assert config.drive.tau_rise_s == rise  # the flag's where given, else the design's
    assert (
        config.drive.tau_fall_s == 1.2e-3
        and config.cell.r_k_ohm == 4e5
        and config.cell.threshold_headroom == 3.0
    )


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--out", "unused"],
        ["compile", "lattice:3x3"],
        ["feasibility", "--out", "unused"],
    ],
)
def test_the_design_replaces_the_defaults_and_flags_override_it(design, command):
    _check(parse_command([*command, "--design", design]), rise=2e-5)
    _check(parse_command([*command, "--design", design, "--tau-rise", "3e-5"]), rise=3e-5)
    assert parse_command(command).drive == (
        parse_command(["feasibility", "--out", "x"]).drive
        if command[0] == "feasibility"
        else RunConfig().drive
    )


def test_on_train_the_design_goes_over_the_config_file_and_under_tech(design, tmp_path):
    config_file = tmp_path / "base.toml"
    config_file.write_text("[drive]\ntau_rise_s = 5e-6\ntau_fall_s = 5e-4\n[learning]\nepochs = 2\n")
    config = parse_command(["train", "--out", "x", "--config", str(config_file), "--design", design])
    _check(config, rise=2e-5)
    assert config.learning.epochs == 2  # not a design setting: the config file's stands
    noisy = parse_command(["train", "--out", "x", "--design", design, "--tech", "cmos65+reram"])
    _check(noisy, rise=2e-5)
    assert noisy.cell.noise_temperature_k == 300.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cell]\nspread_r_k = 0.1\n", "cell.spread_r_k is not a design setting"),
        ("[drive]\ntau_rise_s = nan\n", "drive.tau_rise_s must be a finite number"),
        ("[cell]\ntau_k_s = 1e-4\n", "tau_k_s (0.0001 s) must be at most"),
    ],
)
def test_a_bad_design_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["compile", "lattice:3x3", "--design", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --design {path}: ") and message in err and err.count("\n") == 1


def test_design_help_shows_every_default(capsys):
    assert main(["design", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for shown in (
        "--trials TRIALS finished trials the search ends with (default: 40)",
        "(default: nsga2)",
        "(default: cmos65+reram)",
        "(default: 1.5)",
        "(default: lattice:16x16)",
        "--train-samples N",
        "(default: 100;",
    ):
        assert shown in out, shown


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--trials", "0"], "--trials must be from 1 to 100000"),
        (["--tech", "cmos65"], "--tech must be PROCESS+DEVICE"),
        (["--r-k-type", "carbon"], "--r-k-type must be one of"),
        (["--max-relative-loss", "0.5"], "--max-relative-loss must be >= 1"),
        (["--sampler", "grid"], "argument --sampler: invalid choice"),
    ],
)
def test_bad_design_flags_are_one_line(tmp_path, capsys, argv, message):
    assert main(["design", "--out", str(tmp_path / "s"), "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
