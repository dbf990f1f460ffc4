"""The reviewed example decks of ``netlists/``: how each is generated, and checking or rewriting them.

``tcl-circuits netlists regenerate`` rewrites the generated decks; ``tcl-circuits netlists check`` (and the
tests) compare them with what the code generates now, token by token with numbers within a relative
tolerance (``spice.decks``), so a fresh install with other numpy/scipy patch versions still matches. Tests
never write these files. ``single_cell_regimes.cir`` is written by hand and is only run, not generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign, fixed_design
from tcl_circuits.circuit.compile import compile_phases, compile_tcl
from tcl_circuits.circuit.ir import Measure
from tcl_circuits.config import (
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.files import write_text_atomic
from tcl_circuits.spice.decks import first_difference
from tcl_circuits.spice.writer import write_netlist

NETLISTS_DIR = Path(__file__).resolve().parent.parent / "netlists"
"""The reviewed decks in a source checkout."""
REL_TOL = 1e-9
"""Relative tolerance on numbers when a generated deck is compared with its reviewed copy."""


def cycle_netlist(
    network: str,
    *,
    seed: int = 0,
    drive: SawtoothConfig | None = None,
    cell: FeedbackCellConfig | None = None,
    sim: SimulatorConfig | None = None,
) -> tuple[str, CellDesign, int]:
    """The standalone deck of one TCL cycle on ``network`` (a description or a graph file), as
    ``tcl-circuits compile`` writes it: a file with its own voltages and targets, or a description on the first
    sample of its teacher task. Defaults are a training run's (``RunConfig``), and the cell is resolved as a
    run resolves it (``calibrate_cell``: an automatic threshold on that sample, an analog cell sized to its
    rails). Returns the text, the cell used and the number of learning edges."""
    from tcl_circuits.learning.rules import calibrate_cell
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import RegressionTask, teacher_task
    from tcl_circuits.network import build, from_graph, load_graph

    defaults = RunConfig()
    drive = drive or defaults.drive
    sim = sim or defaults.sim
    if Path(network).is_file():
        spec = from_graph(load_graph(network))
        x, y = spec.input_voltage_v, spec.target_v
    else:
        build(network)  # fails early with a clear message on a bad description
        task = teacher_task(network, train_samples=1, test_samples=1, seed=seed)
        spec, x, y = task.student, task.x_train[0], task.y_train[0]
    # a teacher task's sample, or a file's own: the teacher tasks' headroom when the cell names none
    asked = RegressionTask.with_own_headroom(cell or defaults.cell)
    design = calibrate_cell(asked, spec, np.atleast_2d(x), np.atleast_2d(y), drive)
    circuit = compile_tcl(
        spec,
        drive=drive,
        cell=design,
        sim=sim,
        inputs_v=x,
        targets_v=y,
        title=f"TCL cycle of {network}",
        measure_accumulators=True,
    )
    return write_netlist(circuit), design, spec.n_edges


def _triangle_spec():
    from tcl_circuits.network import from_graph, triangle

    return from_graph(triangle())


def triangle_tcl() -> str:
    """One TCL cycle of the 4-edge triangle network (``network.triangle``) with the default cell."""
    circuit = compile_tcl(
        _triangle_spec(), drive=SawtoothConfig(), cell=FeedbackCellConfig(), measure_accumulators=True
    )
    return write_netlist(circuit)


def triangle_phases() -> str:
    """Free (beta = 0) and clamped (beta = beta_max) states of the triangle network as a DC sweep of beta."""
    return write_netlist(compile_phases(_triangle_spec(), drive=SawtoothConfig()))


def lattice3x3_tcl() -> str:
    """``tcl-circuits compile lattice:3x3 --seed 1 --tau-k 5e-6``: the reviewed deck keeps the 5 us kernel it
    was reviewed with (a run's default is 0.5 us)."""
    return cycle_netlist(
        "lattice:3x3", seed=1, cell=FeedbackCellConfig(threshold_v=None, threshold_headroom=20.0)
    )[0]


def memristor_vteam_cycle() -> str:
    """One TCL cycle of the triangle network built of VTEAM memristors (``memristor_cycle``)."""
    return memristor_cycle()[0]


def memristor_cycle(graph=None) -> tuple[str, dict]:
    """One TCL learning cycle of a network of VTEAM memristors, as a standalone ngspice deck.

    The deck prints every state before and after the cycle (``x<e>_before``, ``x<e>_after``). Returns the
    text and what it should show: the states before and each edge's contrast s_clamped - s_free (the state
    of a VTEAM edge rises, lowering G, where the contrast is positive).
    """
    from tcl_circuits.circuit.compile_stream import compile_chunk
    from tcl_circuits.devices import ProgrammingConfig
    from tcl_circuits.learning.memristor import build_network
    from tcl_circuits.learning.rules import calibrate_threshold_v, linear_contrasts
    from tcl_circuits.learning.run_config import MemristorConfig, RunConfig
    from tcl_circuits.network import from_graph, triangle
    from tcl_circuits.physics.loop_gain import check_loop_gain, loop_gains

    spec = from_graph(graph if graph is not None else triangle())
    x, y = spec.input_voltage_v[None], spec.target_v[None]
    drive = SawtoothConfig()
    cell = FeedbackCellConfig(threshold_v=calibrate_threshold_v(spec, x, y, drive, 5e-6, headroom=1.5))
    learning_rate = 1.5e-7
    config = RunConfig(
        device="memristor:vteam",
        drive=drive,
        cell=cell,
        learning=LearningConfig(rule=RuleKind.TCL, learning_rate_s2_per_v2=learning_rate, epochs=1),
        # the published set's ON branch is cubic: the driver's limit keeps the in-cycle loop gain < 1
        memristor=MemristorConfig(programming=ProgrammingConfig(voltage_saturation=3.0)),
    )
    design = fixed_design(cell, drive, spec.edge_groups, len(spec.output_nodes))
    net = build_network(spec, config, x, y, cell=design, learning_rate_s2_per_v2=learning_rate)
    gain = loop_gains(net, x, y, drive, design)
    check_loop_gain(gain, config.memristor.programming.max_loop_gain, spec, learning_rate)
    circuit, timeline = compile_chunk(
        net,
        x,
        y,
        (x[0], y[0]),
        drive=drive,
        cell=design,
        sim=config.sim,
        stream=config.memristor.stream,
        title="tcl_circuits example: one TCL cycle of a VTEAM memristor network",
    )
    measures = []
    for memristor in circuit.memristor_cells:
        measures.append(Measure(f"{memristor.state}_before", memristor.state, 0.0))
        measures.append(Measure(f"{memristor.state}_after", memristor.state, timeline.stop_s))
    text = write_netlist(dataclasses.replace(circuit, measures=tuple(measures)))
    contrast = linear_contrasts(spec, x, y, drive)[0]
    return text, {
        "states_before": net.states.copy(),
        "contrast": contrast,
        "read_scale_v": net.read_scale_v,
        "loop_gain": gain.network,
    }


GENERATED: dict[str, Callable[[], str]] = {
    "triangle_tcl.cir": triangle_tcl,
    "triangle_phases.cir": triangle_phases,
    "lattice3x3_tcl.cir": lattice3x3_tcl,
    "memristor_vteam_cycle.cir": memristor_vteam_cycle,
}
"""Every generated example deck by file name."""


def check(directory: Path = NETLISTS_DIR) -> dict[str, str]:
    """File name -> how the reviewed deck differs from what the code generates now (empty: all match)."""
    differences = {}
    for file_name, generate in GENERATED.items():
        path = directory / file_name
        if not path.is_file():
            differences[file_name] = "missing"
            continue
        difference = first_difference(generate(), path.read_text(), rel_tol=REL_TOL)
        if difference is not None:
            differences[file_name] = difference
    return differences


def regenerate(directory: Path = NETLISTS_DIR) -> list[Path]:
    """Rewrite every generated deck in ``directory`` (only those files); returns the paths written."""
    written = []
    for file_name, generate in GENERATED.items():
        path = directory / file_name
        write_text_atomic(path, generate())
        written.append(path)
    return written
