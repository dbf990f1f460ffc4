"""A trained network out of its run folder (``tcl-circuits export``): as GraphML that ``load_graph`` and
``compile`` read back, or as the one-cycle deck ``compile`` writes, so that a result can be simulated,
inspected or trained further elsewhere.

Both carry the run's network at its final conductances (or its last checkpoint's) with one training sample's
input voltages and targets. The deck has the cells as the run built them (its threshold); compiling the
GraphML instead calibrates cells anew, but the resistors are the same to the last digit.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

from tcl_circuits.learning.saved_run import SavedRun
from tcl_circuits.network import graphml_text
from tcl_circuits.spice.writer import write_netlist


class ExportFormat(Enum):
    """What ``export`` writes."""

    GRAPHML = "graphml"
    CIR = "cir"


def export_run(run: SavedRun, kind: ExportFormat, *, checkpoint: bool = False, sample: int = 0) -> str:
    """The text of the run's network as ``kind``, at its final conductances or (``checkpoint``) its last
    checkpoint's, with training sample ``sample``'s voltages and targets."""
    conductance = run.conductances(checkpoint=checkpoint)
    if kind is ExportFormat.GRAPHML:
        return graphml_text(run.network(conductance, sample))
    circuit, design, _ = run.cycle(conductance, sample, title=f"TCL cycle of the run {run.path.name}")
    state = "last checkpoint" if checkpoint else "final"
    note = (
        f"exported run: {state} conductances, training sample {sample} (data order), the cells as the run built "
        f"them (threshold {design.theta_v:.6g} V)"
    )
    return write_netlist(dataclasses.replace(circuit, notes=(*circuit.notes, note)))
