"""The analog feedback cell on every edge: stage instances, the passive parts and the rails.

Each edge's cell is a multiplier (squarer), the C_K/R_K high-pass, a threshold stage and an op-amp integrator
(R_int into C_int). The three active stages are subcircuits with supply pins, defined by
``spice.analog_stages``; each kind of stage hangs on rails of its own (``SUPPLY_SOURCES``), so the current
of those sources is that stage's whole consumption, measured by the simulator. The native engine does not
simulate these macro-models: they are ngspice only.
"""

from __future__ import annotations

from tcl_circuits.circuit.ir import (
    AnalogCellArray,
    Capacitor,
    Element,
    Instance,
    Resistor,
    VoltageSource,
)
from tcl_circuits.config import AnalogCellConfig

__all__ = [
    "MULTIPLIER",
    "INTEGRATOR",
    "STAGES",
    "SUPPLY_SOURCES",
    "THRESHOLD",
    "cell_elements",
    "supply_sources",
]

MULTIPLIER, THRESHOLD, INTEGRATOR = "tclmult", "tclthr", "tclint"
STAGES = ("multiplier", "threshold", "integrator")
SUPPLY_SOURCES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "multiplier": (("ddm", "vdd_m"), ("ssm", "vss_m")),
    "threshold": (("ddt", "vdd_t"), ("sst", "vss_t")),
    "integrator": (("ddi", "vdd_i"), ("ssi", "vss_i")),
}
"""Stage -> ((positive rail source, its node), (negative rail source, its node)); the sources are identifiers,
written ``vddm``, ``vssm``, ... in a deck (``spice.names``)."""


def supply_sources(analog: AnalogCellConfig) -> tuple[VoltageSource, ...]:
    """The rails of every stage kind: one pair of sources per kind, so each kind's energy is measured."""
    return tuple(
        VoltageSource(source, node, "0", dc_v=sign * analog.supply_v, comment=f"{stage} {rail} rail")
        for stage, rails in SUPPLY_SOURCES.items()
        for (source, node), sign, rail in zip(rails, (1.0, -1.0), ("positive", "negative"), strict=True)
    )


def cell_elements(array: AnalogCellArray, e: int) -> list[Element]:
    """The elements of cell e: stage instances on their rails and the passive C_K, R_K, R_int, C_int."""
    c = array.cells
    k = c.index[e]
    y, n = array.stage_nodes(e)
    rails = {stage: (pos[1], neg[1]) for stage, (pos, neg) in SUPPLY_SOURCES.items()}
    theta = float(c.threshold_v[e]) * array.analog.multiplier_scale_per_v  # the stage sees K u
    offset = float(c.offset_v[e]) * array.analog.multiplier_scale_per_v  # type: ignore[index]
    return [
        Instance(f"m{k}", MULTIPLIER, (c.a[e], c.b[e], c.signal[e], *rails["multiplier"])),
        Capacitor(f"k{k}", c.signal[e], c.feedback[e], float(c.c_k_f[e])),
        Resistor(f"k{k}", c.feedback[e], "0", float(c.r_k_ohm[e])),
        Instance(
            f"t{k}",
            THRESHOLD,
            (c.feedback[e], y, *rails["threshold"]),
            params=(
                ("theta", theta),
                ("vos", offset),
                ("gain", float(array.stage_gain[e])),
            ),
        ),
        Resistor(f"i{k}", y, n, array.analog.integrator_r_ohm),
        Capacitor(f"i{k}", n, c.accumulator[e], float(array.integrator_c_f[e])),
        Instance(f"i{k}", INTEGRATOR, (n, c.accumulator[e], *rails["integrator"])),
    ]
