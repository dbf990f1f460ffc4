"""How flags read numbers and choices: micro signs, units after the SPICE suffix, and one-line refusals of
underscores, non-ASCII digits, non-finite and underflowing values."""

from __future__ import annotations

import pytest

from tcl_circuits.cli.main import main


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("micro", ["μ", "µ"])  # U+03BC Greek mu, U+00B5 micro sign
def test_both_micro_characters_are_micro_on_flags(micro, capsys):
    assert main(["compile", "lattice:3x3", "--tau-k", f"1{micro}", "--r-k", "1k"]) == 0
    assert "tau_k = R_K*C_K = 1e-06 s" in capsys.readouterr().out
    argv = ["kernel", "info", "--kernel", "rc", "--tau-k", f"2{micro}", "--json"]
    assert main(argv) == 0
    assert main(["kernel", "info", "--kernel", "rc", "--tau-k", "2e-6", "--json"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == second


def test_time_flags_take_a_trailing_seconds_unit(capsys):
    assert (
        main(["compile", "lattice:3x3", "--tau-rise", "10us", "--tau-fall", "1ms", "--threshold", "20uV"])
        == 0
    )
    out = capsys.readouterr().out
    assert "beta 0 -> 0.5 in 1e-05 s, back to 0 in 0.001 s" in out and "threshold 2e-05 V" in out


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["compile", "lattice:3x3", "--tau-k", "١"], "--tau-k"),
        (["compile", "lattice:3x3", "--tau-k", "１u"], "--tau-k"),
        (["compile", "lattice:3x3", "--seed", "١"], "--seed"),
        (["compile", "lattice:3x3", "--tau-fall", "1mV"], "--tau-fall"),
        (["compile", "lattice:3x3", "--node-capacitance", "1f"], "--node-capacitance"),
        (["sweep", "spec.toml", "--out", "x", "--workers", "1_0"], "--workers"),
        (["sweep", "spec.toml", "--out", "x", "--workers", "١"], "--workers"),
        (["feasibility", "--out", "x", "--trials", "1_0"], "--trials"),
        (["feasibility", "--out", "x", "--trials", "٣٢"], "--trials"),
        (["feasibility", "--out", "x", "--tolerance", "inf"], "--tolerance"),
        (["feasibility", "--out", "x", "--tolerance", "1e400"], "--tolerance"),
        (["feasibility", "--out", "x", "--tolerance", "1_5"], "--tolerance"),
        (["train", "--out", "x", "--write-noise", "1e-400"], "--write-noise"),
        (["train", "--out", "x", "--lr", "1e-320"], "--lr"),
        (["train", "--out", "x", "--task", "iris", "--diode-rs", "1e-320"], "--diode-rs"),
        (
            ["train", "--out", "x", "--backend", "native", "--tau-fall", "1e300"],
            "--tau-fall must be > 0 and <= 1000",
        ),
        (
            ["train", "--out", "x", "--backend", "native", "--tau-rise", "2k"],
            "--tau-rise must be > 0 and <= 1000",
        ),
    ],
)
def test_confusable_underscored_non_finite_and_underflowing_numbers_are_refused_naming_the_flag(
    argv, flag, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text('[grid]\n"drive.tau_fall_s" = [9e-4]\n')
    assert flag in _error(capsys, argv)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "command", [["compare"], ["train"], ["feasibility"], ["sweep"], ["kernel", "update"], ["kernel", "info"]]
)
def test_choice_flags_show_their_values_not_enum_names(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Kind." not in out and "Name." not in out and "Shape." not in out
    if command == ["compare"]:
        assert "--backend {ngspice,native}" in out
    err = _error(capsys, ["compare", "--backend", "spice"])
    assert "--backend: expected one of ngspice, native, got 'spice'" in err


def test_every_help_states_the_number_syntax(capsys):
    for command in (["train"], ["compile"], ["kernel", "update"]):
        assert main([*command, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "SPICE scale suffix" in out and "1ms" in out and "m is milli, meg mega" in out
