"""Rawfile parsing (binary, complex, ASCII), failure detection and the checked batch run."""

from __future__ import annotations

import numpy as np
import pytest

from tcl_circuits.backends.ngspice import failure_in_log
from tcl_circuits.backends.ngspice_batch import NgspiceBatchBackend, shared_name
from tcl_circuits.errors import ConvergenceError, SimulationError, SimulationTimeoutError
from tcl_circuits.spice.rawfile import parse_rawfile, read_rawfile


def _header(names: list[str], n_points: int, flags: str = "real", plot: str = "Transient Analysis") -> bytes:
    lines = [
        "Title: test deck",
        "Date: today",
        f"Plotname: {plot}",
        f"Flags: {flags}",
        f"No. Variables: {len(names)}",
        f"No. Points: {n_points}",
        "Variables:",
    ]
    lines += [f"\t{i}\t{n}\tvoltage" for i, n in enumerate(names)]
    return ("\n".join(lines) + "\n").encode()


def test_binary_real_plot_round_trip():
    t = np.linspace(0, 1e-3, 7)
    v = np.sin(t * 1e3)
    data = _header(["time", "V(Out)"], 7) + b"Binary:\n" + np.column_stack([t, v]).astype("<f8").tobytes()
    plots = parse_rawfile(data)
    assert len(plots) == 1 and plots[0].plotname == "Transient Analysis" and plots[0].flags == "real"
    np.testing.assert_array_equal(plots[0].variables["time"], t)
    np.testing.assert_array_equal(plots[0].variables["v(out)"], v)


def test_two_plots_and_complex_data(tmp_path):
    op = _header(["v(a)"], 1, plot="Operating Point") + b"Binary:\n" + np.array([2.5]).tobytes()
    f = np.array([1.0, 10.0])
    z = np.array([1 + 2j, 3 - 4j])
    ac_rows = np.column_stack([f, np.zeros(2), z.real, z.imag]).astype("<f8")
    ac = (
        _header(["frequency", "v(b)"], 2, flags="complex", plot="AC Analysis")
        + b"Binary:\n"
        + ac_rows.tobytes()
    )
    path = tmp_path / "two.raw"
    path.write_bytes(op + ac)
    assert read_rawfile(path, plot=0)["v(a)"][0] == 2.5
    last = read_rawfile(path)
    np.testing.assert_array_equal(last["v(b)"], z)
    np.testing.assert_array_equal(last["frequency"], f)


def test_ascii_values_section():
    body = "Values:\n 0\t0.0\n\t1.5\n 1\t1e-3\n\t-2.0\n"
    plots = parse_rawfile(_header(["time", "v(x)"], 2) + body.encode())
    np.testing.assert_array_equal(plots[0].variables["v(x)"], [1.5, -2.0])
    cbody = "Values:\n 0\t1.0,0.0\n\t1.0,2.0\n"
    cplot = parse_rawfile(_header(["frequency", "v(x)"], 1, flags="complex") + cbody.encode())
    assert cplot[0].variables["v(x)"][0] == 1 + 2j


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "rawfile holds no plot"),
        (b"Title: x\nNo. Points: 1\n", "without a 'Binary:' or 'Values:'"),
        (b"Title: x\nVariables:\n\t0\ttime\ttime\nBinary:\n", "lacks 'No. Variables'"),
        (
            _header(["time", "v(x)"], 1)[:-1].rsplit(b"\n", 1)[0] + b"\nBinary:\n",
            "announces 2 variables but lists 1",
        ),
        (_header(["time"], 3) + b"Binary:\n" + np.zeros(2).tobytes(), "data section is short"),
        (_header(["time"], 3) + b"Values:\n 0\t1.0\n", "ASCII data is short"),
    ],
)
def test_malformed_rawfiles_raise(data, match):
    with pytest.raises(SimulationError, match=match):
        parse_rawfile(data)


def test_missing_rawfile_raises(tmp_path):
    with pytest.raises(SimulationError, match="was not written"):
        read_rawfile(tmp_path / "none.raw")


@pytest.mark.parametrize(
    ("log", "exc", "match"),
    [
        ("doAnalyses: TRAN:  Timestep too small; time = 1e-9", ConvergenceError, "Timestep too small"),
        ("Warning: singular matrix:  check node x", ConvergenceError, "singular matrix"),
        ("run simulation(s) aborted", ConvergenceError, "aborted"),
        ("Circuit: t\nError on line 3 : bx 0 a I = (\n", SimulationError, "Error on line 3"),
    ],
)
def test_failure_in_log_detects_failures(log, exc, match):
    error = failure_in_log(log, netlist="deck")
    assert isinstance(error, exc) and match in str(error)
    assert error.log == log and error.netlist == "deck"


def test_a_clean_log_is_no_failure_and_vector_names_map_to_shared_mode():
    assert failure_in_log("Circuit: t\nNo. of Data Rows : 10\nTotal analysis time (seconds) = 0.01\n") is None
    assert (
        shared_name("v(n1)") == "n1" and shared_name("i(vs)") == "vs#branch" and shared_name("time") == "time"
    )


def test_batch_backend_reports_process_failures(tmp_path):
    deck = "t\nr1 a 0 1\n.end\n"
    with pytest.raises(SimulationError, match="exited with code 1"):
        NgspiceBatchBackend(executable="false").run_netlist(deck)
    with pytest.raises(SimulationError, match="was not written"):
        NgspiceBatchBackend(executable="true").run_netlist(deck)
    with pytest.raises(SimulationError, match="cannot start ngspice"):
        NgspiceBatchBackend(executable=str(tmp_path / "no-such-binary")).run_netlist(deck)
    slow = tmp_path / "slow.sh"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    with pytest.raises(SimulationTimeoutError, match="did not finish within 0.3 s"):
        NgspiceBatchBackend(timeout_s=0.3, executable=str(slow)).run_netlist(deck)


@pytest.mark.ngspice
def test_real_ngspice_batch_run_and_its_error_text():
    deck = "rc\nvs a 0 PWL(0 0 1e-3 1)\nr1 a b 1000\nc1 b 0 1e-6\n.tran 1e-5 2e-3\n.end\n"
    v = NgspiceBatchBackend().run_netlist(deck).vectors
    assert v["time"][-1] == pytest.approx(2e-3)
    # RC step-ramp response at t = 2 ms: v(b) = 1 − τ/T·(e^{−(t−T)/τ} − e^{−t/τ}) with τ = 1 ms, T = 1 ms
    tau, ramp = 1e-3, 1e-3
    expected = 1 - tau / ramp * (np.exp(-(2e-3 - ramp) / tau) - np.exp(-2e-3 / tau))
    assert v["b"][-1] == pytest.approx(expected, rel=2e-3)
    bad = "bad\nvs a 0 1\nbx b 0 V = (v(a)\n.tran 1e-5 1e-4\n.end\n"
    with pytest.raises(SimulationError) as info:
        NgspiceBatchBackend().run_netlist(bad)
    assert "bx" in info.value.log.lower() and info.value.netlist == bad
