"""The energy of one update by block with the analog cell, simulated in ngspice, and the check of the bill
against what every source delivered."""

from __future__ import annotations

from typing import Any

from tcl_circuits.config import BackendKind, CellKind
from tcl_circuits.learning.run_config import RunConfig


def analog_energy_rows(base: RunConfig) -> list[dict[str, Any]]:
    """The energy of one update by block, with the analog cell (``base.cell.analog``, threshold calibrated as
    in a run) on the first training sample, simulated in ngspice: each block from node voltages
    (``physics.energy.energy_bill_j``), then the total of every independent source's delivered energy from
    its branch current, and the relative difference of the two (the check)."""
    from tcl_circuits.backends import open_backend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task
    from tcl_circuits.physics.energy import energy_bill_j, source_energy_j

    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell.replace(kind=CellKind.ANALOG), task.student, task, base.drive)
    x, y = task.x_train[0], task.y_train[0]
    circuit = compile_tcl(task.student, drive=base.drive, cell=cell, sim=base.sim, inputs_v=x, targets_v=y)
    with open_backend(BackendKind.NGSPICE, base.sim) as backend:
        result = backend.run(circuit)
    bill = energy_bill_j(circuit, result)
    total = sum(bill.values())
    delivered = sum(source_energy_j(circuit, result).values())
    rows = [{"block": block, "energy_j": energy, "share": energy / total} for block, energy in bill.items()]
    rows.append({"block": "total", "energy_j": total, "share": 1.0})
    rows.append(
        {"block": "delivered by all sources (ngspice)", "energy_j": delivered, "share": delivered / total}
    )
    return rows
