"""The exception tree: every class is raised by real code for a real reason, each path here by name, and
the package never raises a bare built-in exception for bad input."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import tcl_circuits
from tcl_circuits import errors
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig


def _config_error():
    SawtoothConfig(tau_rise_s=-1.0)


def _graph_error():
    tcl_circuits.build("torus:3x3")


def _netlist_error():
    from tcl_circuits.spice.syntax import number

    number(math.nan)


def _simulation_error():
    from tcl_circuits.backends.native.engine import NativeBackend
    from tcl_circuits.circuit.ir import Circuit, Inductor, Transient

    circuit = Circuit("t", (Inductor("1", "a", "0", 1e-3),), Transient(1e-6, 1e-5, 1e-6), (), ())
    NativeBackend().run(circuit)


def _convergence_error():
    from tcl_circuits.physics.quasistatic import NetworkTopology

    NetworkTopology(
        2, np.array([0]), np.array([-1]), np.array([], dtype=int), np.zeros(0, int), np.zeros(0, int)
    )


def _learning_error():
    from tcl_circuits.learning.rules import calibrate_threshold_v

    spec = tcl_circuits.from_graph(tcl_circuits.triangle())
    x, y = np.zeros((1, 1)), np.zeros((1, 1))  # no input: every contrast is zero
    calibrate_threshold_v(spec, x, y, SawtoothConfig(), 5e-6)


def _data_error(tmp_path):
    from tcl_circuits.learning.run_folder import RecordLog

    (tmp_path / "r.jsonl").write_text("{}\n")
    RecordLog(tmp_path / "r.jsonl").resume(3, "0" * 64)


def _worker_crashed_error():
    from tcl_circuits.backends.ngspice import NgspiceBackend

    with NgspiceBackend(timeout_s=30, retries=0) as backend:
        backend.run_netlist("crash\nvx a 0 dc 0 external\nr1 a 0 1.0\n.tran 1e-6 1e-5\n.end\n")


def _simulation_timeout_error():
    from tcl_circuits.backends.ngspice import NgspiceBackend

    slow = "slow\nv1 a 0 SIN(0 1 1e6)\nr1 a b 1000.0\nc1 b 0 1e-9\n.tran 1e-10 1e-2 0 1e-10\n.end\n"
    with NgspiceBackend(timeout_s=0.5, retries=0) as backend:
        backend.run_netlist(slow)


RAISERS = {
    errors.ConfigError: _config_error,
    errors.GraphError: _graph_error,
    errors.NetlistError: _netlist_error,
    errors.SimulationError: _simulation_error,
    errors.ConvergenceError: _convergence_error,
    errors.LearningError: _learning_error,
    errors.DataError: _data_error,
    errors.WorkerCrashedError: _worker_crashed_error,
    errors.SimulationTimeoutError: _simulation_timeout_error,
}


def test_every_error_class_has_a_raiser_and_derives_from_the_root():
    classes = {
        c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.TclCircuitsError)
    }
    assert classes - {errors.TclCircuitsError} == set(RAISERS)
    assert all(issubclass(c, errors.TclCircuitsError) for c in classes)


@pytest.mark.ngspice
@pytest.mark.parametrize("kind", list(RAISERS), ids=lambda c: c.__name__)
def test_each_error_is_raised_by_real_code(kind, tmp_path):
    raiser = RAISERS[kind]
    with pytest.raises(kind) as info:
        raiser(tmp_path) if "tmp_path" in inspect.signature(raiser).parameters else raiser()
    assert type(info.value) is kind  # the class itself, not only a parent
    assert str(info.value) and "\n" not in str(info.value)


def test_the_package_raises_only_its_own_errors_for_bad_input():
    """No bare ValueError/TypeError/RuntimeError; the root class is never raised directly. Allowed: the
    protocol errors of __getattr__ / __getitem__ and the mutable-default guard of ``param`` (a programming
    error in a config class, not input)."""
    allowed = {"AttributeError", "IndexError"}
    found = []
    for path in Path(tcl_circuits.__file__).parent.rglob("*.py"):
        for line in path.read_text().splitlines():
            match = re.search(r"\braise (\w+)\(", line)
            if (
                match
                and match[1]
                in {"ValueError", "TypeError", "RuntimeError", "KeyError", "TclCircuitsError"} - allowed
            ):
                found.append((path.name, match[1]))
    assert sorted(found) == [("checked.py", "TypeError"), ("options.py", "RuntimeError")], found


def test_feedback_cell_without_a_threshold_names_the_way_out():
    with pytest.raises(errors.ConfigError, match="calibrate it on samples first"):
        _ = FeedbackCellConfig(threshold_v=None).theta_v
