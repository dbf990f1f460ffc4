"""tcl_circuits: Temporal Contrastive Learning in resistor and memristor circuits.

Networks (networkx graphs) compile into SPICE netlists with an integral-feedback cell on every learning
edge and sawtooth clamps on the outputs; ngspice (through PySpice, in worker processes) or the native engine
runs them under a controller that presents training samples one after another.

The public API, in pipeline order::

    network  = tcl_circuits.build("lattice:4x4")              # or load_graph(path), or any networkx graph
    spec     = tcl_circuits.from_graph(network)                # validated NetworkSpec
    circuit  = tcl_circuits.compile_tcl(spec, drive=..., cell=..., inputs_v=..., targets_v=...)
    text     = tcl_circuits.write_netlist(circuit)             # the ngspice deck
    with tcl_circuits.open_backend(BackendKind.NATIVE) as b:   # or BackendKind.NGSPICE
        result = b.run(circuit)                                # vectors by SPICE name
    summary  = tcl_circuits.train(task, RunConfig(...), "runs/x")   # the whole training loop
    run      = tcl_circuits.load_run("runs/x")                 # its samples and epochs as DataFrames

Importing the package loads neither ngspice nor numba kernels; those load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tcl_circuits.version import __version__

_EXPORTS = {
    # errors
    "TclCircuitsError": "tcl_circuits.errors",
    "ConfigError": "tcl_circuits.errors",
    "GraphError": "tcl_circuits.errors",
    "NetlistError": "tcl_circuits.errors",
    "SimulationError": "tcl_circuits.errors",
    "ConvergenceError": "tcl_circuits.errors",
    "WorkerCrashedError": "tcl_circuits.errors",
    "SimulationTimeoutError": "tcl_circuits.errors",
    "LearningError": "tcl_circuits.errors",
    "DataError": "tcl_circuits.errors",
    # configs and choices
    "BackendKind": "tcl_circuits.config",
    "RuleKind": "tcl_circuits.config",
    "Role": "tcl_circuits.config",
    "ThresholdShape": "tcl_circuits.config",
    "SawtoothConfig": "tcl_circuits.config",
    "FeedbackCellConfig": "tcl_circuits.config",
    "SimulatorConfig": "tcl_circuits.config",
    "LearningConfig": "tcl_circuits.config",
    "RunConfig": "tcl_circuits.learning.run_config",
    "MemristorConfig": "tcl_circuits.learning.run_config",
    "TaskConfig": "tcl_circuits.learning.tasks",
    # networks
    "NetworkSpec": "tcl_circuits.network",
    "build": "tcl_circuits.network",
    "lattice": "tcl_circuits.network",
    "layered": "tcl_circuits.network",
    "triangle": "tcl_circuits.network",
    "from_graph": "tcl_circuits.network",
    "load_graph": "tcl_circuits.network",
    # circuits and simulation
    "compile_tcl": "tcl_circuits.circuit.compile",
    "compile_phases": "tcl_circuits.circuit.compile",
    "write_netlist": "tcl_circuits.spice.writer",
    "open_backend": "tcl_circuits.backends",
    "SimResult": "tcl_circuits.backends.base",
    # learning
    "teacher_task": "tcl_circuits.learning.tasks",
    "make_task": "tcl_circuits.learning.tasks",
    "calibrate_cell": "tcl_circuits.learning.rules",
    "train": "tcl_circuits.learning.loop",
    "WriteConfig": "tcl_circuits.config",
    "load_spec": "tcl_circuits.studies.sweep_spec",
    "parse_spec": "tcl_circuits.studies.sweep_spec",
    "run_sweep": "tcl_circuits.studies.sweep",
    "run_feasibility": "tcl_circuits.studies.feasibility",
    # results as DataFrames
    "load_run": "tcl_circuits.studies.results",
    "load_sweep": "tcl_circuits.studies.results",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name on first use (keeps ``import tcl_circuits`` light)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tcl_circuits' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from tcl_circuits.backends import open_backend
    from tcl_circuits.backends.base import SimResult
    from tcl_circuits.circuit.compile import compile_phases, compile_tcl
    from tcl_circuits.config import (
        BackendKind,
        FeedbackCellConfig,
        LearningConfig,
        Role,
        RuleKind,
        SawtoothConfig,
        SimulatorConfig,
        ThresholdShape,
    )
    from tcl_circuits.errors import (
        ConfigError,
        ConvergenceError,
        DataError,
        GraphError,
        LearningError,
        NetlistError,
        SimulationError,
        SimulationTimeoutError,
        TclCircuitsError,
        WorkerCrashedError,
    )
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.rules import calibrate_cell
    from tcl_circuits.learning.run_config import MemristorConfig, RunConfig
    from tcl_circuits.learning.tasks import TaskConfig, make_task, teacher_task
    from tcl_circuits.network import NetworkSpec, build, from_graph, lattice, layered, load_graph, triangle
    from tcl_circuits.spice.writer import write_netlist
    from tcl_circuits.studies.results import load_run, load_sweep
