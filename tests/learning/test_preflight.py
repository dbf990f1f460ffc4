"""The pre-run estimate: it counts the cells the native engine really integrates (equal cells once)."""

import pytest

from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.learning.preflight import cells_integrated, estimate
from tcl_circuits.learning.rules import calibrate_cell
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.learning.tasks import make_task


@pytest.mark.parametrize(
    ("changes", "cell"),
    [
        ({"task": "digits"}, {}),
        ({"task": "iris"}, {}),
        ({"network": "lattice:6x6"}, {}),
        ({"task": "digits"}, {"spread_gain": 0.1}),  # mismatched cells are each their own
    ],
)
def test_the_estimate_counts_the_cells_the_engine_integrates(changes, cell):
    config = with_changes(RunConfig(), {"task": changes, "cell": cell})
    task = make_task(config.task, 0)
    x, y = task.x_train[:3], task.y_train[:3]
    cell = calibrate_cell(config.for_task(task).cell, task.student, x, y, config.drive)
    circuit = compile_tcl(task.student, drive=config.drive, cell=cell, inputs_v=x[0], targets_v=y[0])
    result = NativeBackend().run(circuit)
    assert cells_integrated(task.student, x[0], cell.config) == result.stats["cells_integrated"]


def test_the_mnist_estimate_is_near_the_measured_time_and_memory():
    """bench_tasks measured 45 ms a sample on this machine; the estimate once said 227 ms and 1 GiB."""
    config = with_changes(RunConfig(), {"task": {"task": "mnist"}})
    found = estimate(config, make_task(config.task, 0))
    assert 0.02 < found.seconds_per_sample < 0.1
    assert found.memory_bytes < 300 * 2**20
