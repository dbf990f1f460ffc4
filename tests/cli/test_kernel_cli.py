"""The ``kernel`` CLI: wiring into a host parser, JSON output, and error reporting."""

from __future__ import annotations

import json

import pytest

from tcl_circuits.cli.kernel import KernelName, KernelOptions, build_kernel
from tcl_circuits.cli.main import main
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import EColiKernel
from tcl_circuits.kernels.synapse import Sawtooth, delta_w

BASE = ["--amplitude", "50", "--mean", "0", "--tau-fast", "1", "--tau-slow", "9", "--threshold", str(100 / 9)]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ecoli_update_json_matches_the_library(capsys):
    code, out, _ = _run(
        capsys, ["kernel", "update", "--kernel", "ecoli", "--area", "0", *BASE, "--dt", "1e-4", "--json"]
    )
    assert code == 0
    dw = json.loads(out)["dw"]
    assert set(json.loads(out)) == {"dw"}
    assert dw / 50 == pytest.approx(0.955, abs=0.001)
    assert dw == pytest.approx(delta_w(EColiKernel(0.0), Sawtooth(50, 0, 1, 9), 100 / 9, dt=1e-4))


def test_below_window_amplitude_gives_exactly_zero(capsys):
    argv = [
        "kernel",
        "update",
        "--kernel",
        "ecoli",
        "--amplitude",
        "10",
        "--tau-fast",
        "1",
        "--tau-slow",
        "9",
    ]
    code, out, _ = _run(capsys, [*argv, "--threshold", str(100 / 9), "--json"])
    assert code == 0 and json.loads(out) == {"dw": 0.0}


@pytest.mark.parametrize(
    ("extra", "low", "high"),
    [
        (["--kernel", "rc", "--tau-k", "0.05"], 0.97, 0.98),
        (["--kernel", "derivative"], 0.999, 1.001),
        (["--kernel", "second-order", "--tau-u", "0.01", "--tau-z", "1.0"], 0.2, 1.1),
        (["--kernel", "markov", "--gamma", "1e-4"], 0.5, 1.1),
        (["--kernel", "sine"], -1e-6, 1e-6),
    ],
)
def test_other_kernels_by_name(capsys, extra, low, high):
    code, out, _ = _run(capsys, ["kernel", "update", *extra, *BASE, "--json"])
    assert code == 0
    assert low <= json.loads(out)["dw"] / 50 <= high


def test_human_readable_output_and_info(capsys):
    code, out, _ = _run(capsys, ["kernel", "update", "--kernel", "derivative", *BASE])
    assert code == 0 and out.startswith("dw = 50")
    code, out, _ = _run(capsys, ["kernel", "info", "--kernel", "markov", "--gamma", "0.1", "--json"])
    info = json.loads(out)
    assert code == 0 and info["area"] == pytest.approx(0.667, abs=0.001)
    assert info["entropy_production_kt_per_markov_time"] == pytest.approx(1.76, abs=0.01)
    assert info["derivative_like"] is True
    code, out, _ = _run(capsys, ["kernel", "info", "--kernel", "ecoli", "--area", "0.5"])
    assert code == 0 and "first_moment: -1.0" in out


def test_errors_print_a_message_and_return_2(capsys):
    code, _, err = _run(capsys, ["kernel", "update", "--kernel", "rc", *BASE])
    assert code == 2 and "--tau-k is required for --kernel rc" in err
    code, _, err = _run(capsys, ["kernel", "update", "--kernel", "ecoli", *BASE[:-1], "-1"])
    assert code == 2 and err == "error: --threshold must be >= 0, got -1.0 signal/T\n"
    code, _, err = _run(capsys, ["kernel", "info", "--kernel", "markov", "--gamma", "2"])
    assert code == 2 and err == "error: --gamma must be > 0 and <= 1, got 2.0\n"
    code, _, err = _run(capsys, ["kernel", "info", "--kernel", "bogus"])
    assert code == 2 and "--kernel" in err and "ecoli" in err and err.count("\n") == 1
    code, _, err = _run(capsys, ["kernel", "update", "--kernel", "ecoli", "--amplitude", "5"])
    assert code == 2 and "--tau-fast is required" in err


def test_build_kernel_requires_the_parameters_of_its_family():
    assert build_kernel(KernelOptions(kernel=KernelName.RC, tau_k=0.05)).describe()["area"] == pytest.approx(
        0, abs=1e-9
    )
    with pytest.raises(ConfigError, match="--tau-u is required for --kernel second-order"):
        build_kernel(KernelOptions(kernel=KernelName.SECOND_ORDER))


@pytest.mark.parametrize("command", ["update", "info"])
def test_kernel_help_gives_every_number_flag_its_unit_and_default(command):
    from tcl_circuits.cli.main import build_parser

    kernel = build_parser()._subparsers._group_actions[0].choices["kernel"]
    parser = kernel._subparsers._group_actions[0].choices[command]
    numbers = [a for a in parser._actions if a.metavar == "X"]
    assert len(numbers) >= 12
    for action in numbers:
        assert " [" in action.help and "] (default: " in action.help, action.option_strings
    assert "T is the kernel's time unit" in " ".join(parser.format_help().split())
