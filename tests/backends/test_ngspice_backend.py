"""The ngspice worker: results, typed failures from the output text, crash and timeout recovery, memory."""

import os
import signal

import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.backends.ngspice import NgspiceBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.errors import (
    ConvergenceError,
    NetlistError,
    SimulationError,
    SimulationTimeoutError,
    WorkerCrashedError,
)

pytestmark = pytest.mark.ngspice

DIVIDER = "divider\nv1 a 0 DC 1.0\nr1 a b 1000.0\nr2 b 0 3000.0\n.op\n.end\n"


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return int(next(line for line in handle if line.startswith("VmRSS")).split()[1])


def test_operating_point_values(ngspice):
    result = ngspice.run_netlist(DIVIDER)
    assert result.vectors["b"][0] == pytest.approx(0.75)
    assert result.vectors["v1#branch"][0] == pytest.approx(-1.0 / 4000.0)


def test_tcl_cycle_runs_to_tstop_and_returns_every_cell(ngspice, triangle, drive, cell):
    circuit = compile_tcl(network.from_graph(triangle), drive=drive, cell=cell)
    result = ngspice.run(circuit)
    assert result.axis[-1] == pytest.approx(drive.period_s)
    for c in circuit.cells:
        assert result.v(c.accumulator)[0] == 0.0
        # at t=0 the operating point charged C_K to the free-state signal: u starts at 0
        assert result.v(c.feedback)[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(result.v("beta").max(), drive.beta_max)


@pytest.mark.parametrize(
    ("deck", "error", "match"),
    [
        ("bad\nr1 a 0 1000.0\nq1 a b\n.op\n.end\n", SimulationError, "ngspice failed"),
        ("bad\nr1 a b 1000.0 foo=3\nv1 a 0 1\n.op\n.end\n", SimulationError, "ngspice failed"),
        ("loop\nv1 a 0 DC 1.0\nv2 a 0 DC 2.0\nr1 a 0 1.0\n.op\n.end\n", ConvergenceError, "ngspice failed"),
        (
            "sqrt\nv1 a 0 DC 1.0\nb1 b 0 V = sqrt(-v(a))\nr1 b 0 1.0\n.op\n.end\n",
            SimulationError,
            "ngspice failed",
        ),
    ],
)
def test_failures_are_typed_and_carry_the_netlist(ngspice, deck, error, match):
    with pytest.raises(error, match=match) as info:
        ngspice.run_netlist(deck)
    assert info.value.netlist == deck and info.value.log
    assert ngspice.run_netlist(DIVIDER).vectors["b"][0] == pytest.approx(0.75)  # library still usable


def test_unstable_circuit_reports_timestep_too_small(ngspice):
    deck = (
        "runaway\nv1 a 0 DC 1.0\nb1 0 x I = 1e12*exp(v(x))\ncx x 0 1e-12\nr1 a 0 1.0\n.tran 1e-6 1e-3\n.end\n"
    )
    with pytest.raises(ConvergenceError):
        ngspice.run_netlist(deck)


def test_unsafe_decks_are_refused_before_reaching_ngspice(ngspice, tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(NetlistError):
        ngspice.run_netlist(f"x\n.control\nshell touch {target}\n.endc\n.end\n")
    assert not target.exists()


def test_killed_worker_is_replaced_and_runs_continue():
    with NgspiceBackend(timeout_s=30) as backend:
        backend.run_netlist(DIVIDER)
        first = backend.worker_pid
        os.kill(first, signal.SIGKILL)
        result = backend.run_netlist(DIVIDER)
        assert result.vectors["b"][0] == pytest.approx(0.75)
        assert backend.worker_pid != first and backend.restarts == 1


def test_timeout_kills_the_worker_retries_once_and_the_next_run_works():
    slow = "slow\nv1 a 0 SIN(0 1 1e6)\nr1 a b 1000.0\nc1 b 0 1e-9\n.tran 1e-10 1e-2 0 1e-10\n.end\n"
    with NgspiceBackend(timeout_s=1.0, retries=1) as backend:
        with pytest.raises(
            SimulationTimeoutError,
            match=r"did not finish within 1 s \(also on 1 fresh worker\(s\)\); .*--timeout",
        ):
            backend.run_netlist(slow)
        assert backend.restarts == 1  # one retry on a fresh worker
        assert backend.run_netlist(DIVIDER).vectors["b"][0] == pytest.approx(0.75)
        assert backend.restarts == 2


def test_worker_runs_in_an_empty_directory_with_empty_home(ngspice):
    ngspice.run_netlist(DIVIDER)
    with open(f"/proc/{ngspice.worker_pid}/environ", "rb") as handle:
        env = dict(item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item)
    cwd = os.readlink(f"/proc/{ngspice.worker_pid}/cwd")
    assert env[b"HOME"].decode() == cwd
    assert os.listdir(cwd) == []


def test_memory_stays_flat_over_many_runs(ngspice, triangle, drive, cell):
    deck_result = ngspice.run(compile_tcl(network.from_graph(triangle), drive=drive, cell=cell))
    deck = deck_result.netlist
    for _ in range(50):
        ngspice.run_netlist(deck)
    before = _rss_kb(ngspice.worker_pid)
    for _ in range(600):
        ngspice.run_netlist(deck)
    grown_kb = _rss_kb(ngspice.worker_pid) - before
    assert grown_kb < 4000, f"worker memory grew by {grown_kb} kB over 600 runs"


def test_a_stopped_worker_is_replaced_and_the_run_retried():
    with NgspiceBackend(timeout_s=3.0) as backend:
        backend.run_netlist(DIVIDER)
        stuck = backend.worker_pid
        os.kill(stuck, signal.SIGSTOP)
        try:
            result = backend.run_netlist(DIVIDER)  # times out on the stopped worker, then runs on a fresh one
        finally:
            try:
                os.kill(stuck, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert result.vectors["b"][0] == pytest.approx(0.75)
        assert backend.worker_pid != stuck and backend.restarts == 1


def test_a_deck_that_crashes_every_worker_is_reported_as_such():
    crashing = (
        "crash\nvx a 0 dc 0 external\nr1 a 0 1.0\n.tran 1e-6 1e-5\n.end\n"  # segfaults ngspice 39 in run
    )
    with NgspiceBackend(timeout_s=30) as backend:
        with pytest.raises(
            WorkerCrashedError, match=r"killed by SIGSEGV \(also on 1 fresh worker\(s\)\)"
        ) as info:
            backend.run_netlist(crashing)
        assert "libngspice" not in str(info.value)
        assert backend.run_netlist(DIVIDER).vectors["b"][0] == pytest.approx(0.75)


@pytest.mark.parametrize("line", ["*# shell touch pwned", "*ng_script", ".param x={1}"])
def test_control_comments_scripts_and_parameters_are_refused(ngspice, line):
    deck = (
        f"{line}\nv1 a 0 DC 1.0\nr1 a 0 1.0\n.op\n.end\n"
        if line == "*ng_script"
        else f"t\n{line}\n{DIVIDER.split(chr(10), 1)[1]}"
    )
    with pytest.raises(NetlistError):
        ngspice.run_netlist(deck)
