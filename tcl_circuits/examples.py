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
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign, fixed_design
from tcl_circuits.circuit.compile import compile_phases, compile_tcl
from tcl_circuits.circuit.compile_stream import Timeline
from tcl_circuits.circuit.ir import Circuit, Measure
from tcl_circuits.config import (
    FeedbackCellConfig,
    LearningConfig,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.files import write_text_atomic
from tcl_circuits.spice.decks import first_difference
from tcl_circuits.spice.syntax import Dialect
from tcl_circuits.spice.writer import write_netlist

if TYPE_CHECKING:
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import RegressionTask

NETLISTS_DIR = Path(__file__).resolve().parent.parent / "netlists"
"""The reviewed decks in a source checkout."""
REL_TOL = 1e-9
"""Relative tolerance on numbers when a generated deck is compared with its reviewed copy."""


class CycleDeck(NamedTuple):
    """A deck of one TCL cycle as ``tcl-circuits compile`` writes it, and what it reports about it."""

    text: str
    cell: CellDesign
    edges: int
    placement: str
    """How the automatic threshold was placed, one line ('' for a fixed threshold)."""


def compile_task(network: str, seed: int) -> tuple[RegressionTask, bool]:
    """The task whose first training sample compile writes, and whether it is a graph file's own sample.

    A description gets its teacher task exactly as ``train --network`` draws it (same seed, default split), so
    the automatic threshold is placed on the same samples and agrees with a run's. A graph file's deck uses
    the file's own voltages and targets, a one-sample task; refused with one line naming the file and node
    when they are missing."""
    from tcl_circuits.learning.tasks import RegressionTask, TaskConfig, make_task
    from tcl_circuits.network import build, from_graph, load_graph

    if not Path(network).is_file():
        build(network)  # fails early with a clear message on a bad description
        return make_task(TaskConfig(network=network), seed), False
    spec = from_graph(load_graph(network))
    for values, nodes, role, what in (
        (spec.input_voltage_v, spec.input_nodes, "input", "voltage"),
        (spec.target_v, spec.output_nodes, "output", "target"),
    ):
        missing = np.flatnonzero(~np.isfinite(values))
        if missing.size:
            raise ConfigError(
                f"{network}: {role} node {spec.labels[nodes[missing[0]]]!r} has no {what}; to compile a cycle "
                "a graph file needs a 'voltage' on every input node and a 'target' on every output node (volts)"
            )
    x, y = spec.input_voltage_v[None], spec.target_v[None]
    return RegressionTask(f"file:{network}", spec, x, y, x, y), True


def cycle_netlist(
    network: str,
    *,
    seed: int = 0,
    drive: SawtoothConfig | None = None,
    cell: FeedbackCellConfig | None = None,
    sim: SimulatorConfig | None = None,
    device: str = "resistor",
    dialect: Dialect = Dialect.NGSPICE,
) -> CycleDeck:
    """The standalone deck of one TCL cycle on ``network`` (a description or a graph file), as
    ``tcl-circuits compile`` writes it, on the first sample of ``compile_task``. Defaults are a training run's
    (``RunConfig``), and the cell is resolved as a run resolves it (``calibrate_for_run``: an automatic
    threshold on the run's calibration samples, an analog cell sized to its rails). With a memristor
    ``device`` the deck is that sample's chunk as the memristor learner builds it (``memristor_deck``)."""
    from tcl_circuits.learning.rules import CALIBRATION_SAMPLES, calibrate_for_run
    from tcl_circuits.learning.run_config import RunConfig

    defaults = RunConfig()
    config = defaults.replace(
        device=device,
        drive=drive or defaults.drive,
        cell=cell or defaults.cell,
        sim=sim or defaults.sim,
        learning=defaults.learning.replace(seed=seed),
    )
    task, from_file = compile_task(network, seed)
    spec, x, y = task.student, task.x_train[0], task.y_train[0]
    title = f"TCL cycle of {network}"
    if config.memristor_device:
        text, design = memristor_deck(task, config, title=f"{title}, {device}", dialect=dialect)
    else:
        design = calibrate_for_run(config.cell, spec, task, config.drive)
        circuit = compile_tcl(
            spec,
            drive=config.drive,
            cell=design,
            sim=config.sim,
            inputs_v=x,
            targets_v=y,
            title=title,
            measure_accumulators=True,
        )
        text = write_netlist(circuit, dialect)
    placement = ""
    if config.cell.threshold_v is None:
        headroom = design.config.threshold_headroom
        placement = f"automatic threshold {design.theta_v:.4g} V" + (
            " (each edge group its own, listed in the deck)" if design.calibration.group_thresholds_v else ""
        )
        if from_file:
            placement += (
                f": headroom {headroom:g} over the file's own sample; train --network {network} places it over "
                f"the first {CALIBRATION_SAMPLES} samples of a teacher task on this graph instead, so its "
                "threshold differs"
            )
        else:
            calibrated = min(len(task.x_train), CALIBRATION_SAMPLES)
            placement += (
                f": headroom {headroom:g} over the first {calibrated} training samples of the teacher task "
                f"(seed {seed}), as train --network {network} places it"
            )
    return CycleDeck(text, design, spec.n_edges, placement)


def memristor_deck(
    task: RegressionTask, config: RunConfig, *, title: str, dialect: Dialect = Dialect.NGSPICE
) -> tuple[str, CellDesign]:
    """The chunk of ``task``'s first training sample as the memristor learner of ``config`` builds it (its
    calibrated cell, learning rate, devices and states), starting settled on that sample, with every state
    printed before and after the cycle. The learner's simulator is never started."""
    from tcl_circuits.circuit.compile_stream import compile_chunk
    from tcl_circuits.learning.memristor import MemristorLearner

    learner = MemristorLearner(task, config)
    try:
        x, y = task.x_train[:1], task.y_train[:1]
        circuit, timeline = compile_chunk(
            learner.net,
            x,
            y,
            (x[0], y[0]),
            drive=config.drive,
            cell=learner.cell,
            sim=config.sim,
            stream=config.memristor.stream,
            title=title,
        )
    finally:
        learner.close()
    return write_netlist(_with_state_measures(circuit, timeline), dialect), learner.cell


def _with_state_measures(circuit: Circuit, timeline: Timeline) -> Circuit:
    """``circuit`` printing every memristor state before and after (``x<e>_before``, ``x<e>_after``)."""
    measures = []
    for memristor in circuit.memristor_cells:
        measures.append(Measure(f"{memristor.state}_before", memristor.state, 0.0))
        measures.append(Measure(f"{memristor.state}_after", memristor.state, timeline.stop_s))
    return dataclasses.replace(circuit, measures=tuple(measures))


def _triangle_spec():
    from tcl_circuits.network import from_graph, triangle

    return from_graph(triangle())


def triangle_tcl(dialect: Dialect = Dialect.NGSPICE) -> str:
    """One TCL cycle of the 4-edge triangle network (``network.triangle``) with the default cell."""
    circuit = compile_tcl(
        _triangle_spec(), drive=SawtoothConfig(), cell=FeedbackCellConfig(), measure_accumulators=True
    )
    return write_netlist(circuit, dialect)


def triangle_phases() -> str:
    """Free (beta = 0) and clamped (beta = beta_max) states of the triangle network as a DC sweep of beta."""
    return write_netlist(compile_phases(_triangle_spec(), drive=SawtoothConfig()))


def lattice3x3_tcl(dialect: Dialect = Dialect.NGSPICE) -> str:
    """``tcl-circuits compile lattice:3x3 --seed 1 --tau-k 5e-6``: the reviewed deck keeps the 5 us kernel it
    was reviewed with (a run's default is 0.5 us)."""
    return cycle_netlist(
        "lattice:3x3",
        seed=1,
        cell=FeedbackCellConfig(threshold_v=None, threshold_headroom=20.0),
        dialect=dialect,
    ).text


def memristor_vteam_cycle(dialect: Dialect = Dialect.NGSPICE) -> str:
    """One TCL cycle of the triangle network built of VTEAM memristors (``memristor_cycle``)."""
    return memristor_cycle(dialect=dialect)[0]


def memristor_cycle(graph=None, dialect: Dialect = Dialect.NGSPICE) -> tuple[str, dict]:
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
    text = write_netlist(_with_state_measures(circuit, timeline), dialect)
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
