"""Array elements of the IR (ResistorArray, FeedbackCellArray) mean the same circuit as single elements, and
the native engine's vectors (rows of blocks) read like any other backend's."""

import dataclasses
import platform

import numpy as np
import pytest

from tcl_circuits.backends.base import SimResult
from tcl_circuits.backends.native import allocator
from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.circuit.ir import FeedbackCell, FeedbackCellArray, Resistor, ResistorArray
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig
from tcl_circuits.errors import NetlistError, SimulationError
from tcl_circuits.learning.tasks import teacher_task
from tcl_circuits.spice.writer import write_netlist


@pytest.fixture(scope="module")
def circuit():
    task = teacher_task("lattice:3x3", train_samples=1, test_samples=1, seed=1)
    return compile_tcl(
        task.student,
        drive=SawtoothConfig(),
        cell=FeedbackCellConfig(threshold_v=2e-6),
        inputs_v=task.x_train[0],
        targets_v=task.y_train[0],
    )


def _singles(circuit):
    """The same circuit with every array element spelled out as single elements."""
    elements = []
    for element in circuit.elements:
        elements.extend(element if isinstance(element, ResistorArray | FeedbackCellArray) else [element])
    return dataclasses.replace(circuit, elements=tuple(elements))


def test_compiled_circuits_hold_one_array_each_of_resistors_and_cells(circuit):
    kinds = [type(e) for e in circuit.elements]
    assert kinds.count(ResistorArray) == 1 and kinds.count(FeedbackCellArray) == 1
    assert Resistor not in kinds and FeedbackCell not in kinds
    assert circuit.cells is next(e for e in circuit.elements if isinstance(e, FeedbackCellArray))


def test_array_and_single_elements_write_the_same_netlist_and_simulate_the_same(circuit):
    singles = _singles(circuit)
    assert all(isinstance(e, FeedbackCell) for e in singles.cells)
    assert write_netlist(singles) == write_netlist(circuit)
    assert singles.cells.accumulator == circuit.cells.accumulator
    np.testing.assert_array_equal(
        singles.resistor_table.resistance_ohm, circuit.resistor_table.resistance_ohm
    )
    a, b = NativeBackend().run(circuit), NativeBackend().run(singles)
    assert a.vectors.keys() == b.vectors.keys()
    for name in a.vectors:
        np.testing.assert_array_equal(a.vectors[name], b.vectors[name])


def test_array_columns_must_agree_and_values_are_read_only(circuit):
    with pytest.raises(NetlistError, match="differ in length"):
        ResistorArray(("1", "2"), ("a", "b"), ("0", "0"), [1.0])
    cells = circuit.cells
    with pytest.raises(NetlistError, match="threshold_v has shape"):
        dataclasses.replace(cells, threshold_v=cells.threshold_v[:2])
    with pytest.raises(ValueError, match="read-only"):
        cells.threshold_v[0] = 1.0
    assert list(cells)[3] == cells[3] and cells[-1].index == len(cells) - 1
    with pytest.raises(IndexError, match="cell 12 of 12"):  # the sequence protocol's own error
        cells[len(cells)]


def test_rows_of_blocks_are_views_and_gathers_equal_to_stacking(circuit):
    result = NativeBackend().run(circuit)
    cells = circuit.cells
    block = result.rows(cells.signal)
    assert block.shape == (len(cells), result.axis.size)
    assert np.shares_memory(block, result.v(cells.signal[0]))  # the whole block, not a copy
    picked = [cells.feedback[4], "n3", cells.accumulator[1], "beta"]
    np.testing.assert_array_equal(result.rows(picked), np.stack([result.v(n) for n in picked]))
    nodes = tuple(circuit.network_nodes[1:4])
    first = result.rows(nodes)
    np.testing.assert_array_equal(result.rows(nodes), first)  # memoised lookup
    np.testing.assert_array_equal(result.rows(list(nodes)), first)
    plain = SimResult(vectors=dict(result.vectors.items()))
    np.testing.assert_array_equal(plain.rows(picked), result.rows(picked))
    with pytest.raises(SimulationError, match="no vector for node 'nope'"):
        result.rows(["n3", "nope"])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the malloc settings exist only in glibc")
def test_the_allocator_takes_the_thresholds_on_glibc():
    assert allocator.keep_freed_memory() is True
