"""Memory kernels with a passive (R, L, C) realisation as subcircuits, and a sawtooth test circuit for them.

* :class:`~tcl_circuits.kernels.kernel.RCKernel`: series C then R to ground, driven by s(t); u is the branch
  current (read as v(x)/R); the optional leak resistor sits across C.
* :class:`~tcl_circuits.kernels.kernel.SecondOrderKernel`: series L, C, then R to ground; u is the voltage
  across R (τ_u = L/R, τ_z = R·C), the optional leak resistor across C (τ_L = R_L·C). The resistance is a free
  design choice (``resistance_ohm``).

The ideal derivative, the E. coli kernel, the sine kernel and Markov kernels have no finite passive R/L/C
network here (the first is improper, the others are not rational with the needed signs or are
finite-duration), so :func:`kernel_cell` rejects them.

Every cell ends in the threshold nonlinearity (a ``ThresholdCurrent`` I = k·g(u), g the hard threshold of
half-width θ) feeding a 1 F accumulator capacitor: v(acc) is ∫ k·g(u) dt. The SPICE text is the writer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tcl_circuits.circuit.ir import (
    Capacitor,
    Circuit,
    Element,
    Inductor,
    Instance,
    Resistor,
    SubcircuitDef,
    ThresholdCurrent,
    Transient,
    VoltageSource,
)
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import Kernel, RCKernel, SecondOrderKernel
from tcl_circuits.kernels.nonlinearity import ThresholdShape
from tcl_circuits.kernels.synapse import Sawtooth

__all__ = ["KernelCell", "kernel_cell", "sawtooth_circuit"]


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ConfigError(f"index must be a non-negative int, got {index!r}")


@dataclass(frozen=True)
class KernelCell:
    """A generated subcircuit ``<name> s acc`` realising a kernel, its threshold θ and accumulator gain k."""

    name: str
    subcircuit: SubcircuitDef
    kernel: Kernel
    threshold: float
    gain: float


def kernel_cell(
    kernel: Kernel,
    threshold: float,
    index: int = 0,
    gain: float = 1.0,
    resistance_ohm: float = 1000.0,
) -> KernelCell:
    """The subcircuit of a realisable kernel with a threshold θ and accumulator gain k.

    Parameters
    ----------
    kernel
        An :class:`RCKernel` (values used as given) or a :class:`SecondOrderKernel` (realised with the
        series resistance ``resistance_ohm``).
    threshold
        θ ≥ 0 in the units of u (amperes for the RC cell, volts for the RLC cell).
    index
        Integer used to make the subcircuit name unique.
    gain
        k, so that dv(acc)/dt = k·g(u).
    """
    _check_index(index)
    for what, value in (("threshold", threshold), ("gain", gain), ("resistance_ohm", resistance_ohm)):
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise ConfigError(f"{what} must be a finite number, got {value!r}")
    if threshold < 0:
        raise ConfigError(f"threshold must be >= 0, got {threshold!r}")
    if resistance_ohm <= 0:
        raise ConfigError(f"resistance_ohm must be > 0, got {resistance_ohm!r}")
    elements: list[Element]
    if isinstance(kernel, RCKernel):
        kind = "rcl" if kernel.leaky else "rc"
        r = kernel.resistance_ohm
        scale = 1.0 / r  # u = i = v(x)/R
        elements = [Capacitor("k", "s", "x", kernel.capacitance_f), Resistor("k", "x", "0", r)]
        if kernel.leaky:
            elements.append(Resistor("leak", "s", "x", kernel.leak_resistance_ohm))
    elif isinstance(kernel, SecondOrderKernel):
        kind = "rlcl" if math.isfinite(kernel.tau_leak) else "rlc"
        r = resistance_ohm
        c = kernel.tau_z / r
        scale = 1.0  # u = v(x), the voltage across R
        elements = [
            Inductor("k", "s", "n1", kernel.tau_u * r),
            Capacitor("k", "n1", "x", c),
            Resistor("k", "x", "0", r),
        ]
        if math.isfinite(kernel.tau_leak):
            elements.append(Resistor("leak", "n1", "x", kernel.tau_leak / c))
    else:
        raise ConfigError(
            f"{type(kernel).__name__} has no passive R/L/C realisation here; expected RCKernel or SecondOrderKernel"
        )
    name = f"tclk{kind}{index}"
    # current into acc: k * g(u) with u = scale * v(x), i.e. (k * scale) * g_{theta/scale}(v(x))
    elements.append(
        ThresholdCurrent("g", "0", "acc", "x", threshold / scale, ThresholdShape.HARD, scale * gain)
    )
    elements.append(Capacitor("acc", "acc", "0", 1.0))
    subcircuit = SubcircuitDef(name, ("s", "acc"), tuple(elements), comment=f"{type(kernel).__name__} cell")
    return KernelCell(name, subcircuit, kernel, float(threshold), float(gain))


def sawtooth_circuit(
    cells: list[KernelCell], sawtooth: Sawtooth, n_cycles: int = 2, max_step_s: float | None = None
) -> Circuit:
    """One PWL sawtooth source ``s`` (written ``vs``) drives every cell (instance ``<i>``, written ``x<i>``;
    accumulator node ``acc<i>``).

    The source starts at s_free, so the operating point charges the capacitors to the free state; the last
    cycle is the periodic steady state to a very good approximation when the kernel memory is short against
    the period. The transient stops at ``n_cycles`` periods (``circuit.analysis.stop_s``).
    """
    if not cells:
        raise ConfigError("cells must not be empty")
    if isinstance(n_cycles, bool) or not isinstance(n_cycles, int) or n_cycles < 1:
        raise ConfigError(f"n_cycles must be an int >= 1, got {n_cycles!r}")
    t_stop = n_cycles * sawtooth.period
    if max_step_s is None:
        max_step_s = min(min(c.kernel.timescale for c in cells) / 20.0, sawtooth.tau_fast / 50.0)
    if not (math.isfinite(max_step_s) and max_step_s > 0):
        raise ConfigError(f"max_step_s must be a finite number > 0, got {max_step_s!r}")
    elements: list[Element] = [VoltageSource("s", "s", "0", pwl=sawtooth.breakpoints(n_cycles))]
    elements += [Instance(f"{i}", c.name, ("s", f"acc{i}")) for i, c in enumerate(cells)]
    definitions = {c.name: c.subcircuit for c in cells}
    return Circuit(
        title="tcl_circuits kernel cells on a sawtooth",
        elements=tuple(elements),
        analysis=Transient(step_s=max_step_s, stop_s=t_stop, max_step_s=max_step_s),
        network_nodes=(),
        edge_resistors=(),
        subcircuits=tuple(definitions.values()),
        initial_conditions=tuple((f"acc{i}", 0.0) for i in range(len(cells))),
    )
