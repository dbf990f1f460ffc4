"""SPICE subcircuits for memory kernels that have a passive (R, L, C) realisation.

Owns the subcircuit text of the realisable kernels and a standalone sawtooth test deck:

* :class:`~tcl_circuits.kernels.kernel.RCKernel`: series C then R to ground, driven by s(t); u is the branch
  current (read as v(x)/R); the optional leak resistor sits across C.
* :class:`~tcl_circuits.kernels.kernel.SecondOrderKernel`: series L, C, then R to ground; u is the voltage across
  R (τ_u = L/R, τ_z = R·C), the optional leak resistor across C (τ_L = R_L·C). The resistance is a free
  design choice (``resistance_ohm``).

The ideal derivative, the E. coli kernel, the sine kernel and Markov kernels have no finite passive
R/L/C network here (the first is improper, the others are not rational with the needed signs or are
finite-duration), so :func:`kernel_cell` rejects them.

Every cell ends in the threshold nonlinearity, a B current source I = k·g(u) with g the dead zone of
half-width θ, feeding a 1 F accumulator capacitor: v(acc) is ∫ k·g(u) dt. All identifiers are generated
here from fixed strings and integer indices; numbers are plain floats (``format(x, '.12g')`` after a
finiteness check, never SPICE suffixes); the text never contains control blocks, includes, libraries,
backquotes or ``;``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError, NetlistError
from tcl_circuits.kernels.kernel import Kernel, RCKernel, SecondOrderKernel
from tcl_circuits.kernels.synapse import Sawtooth

__all__ = ["KernelCell", "kernel_cell", "sawtooth_deck", "spice_number", "assert_safe_text"]

_FORBIDDEN = (".control", ".endc", ".include", ".lib", "`", ";")


def spice_number(x: float) -> str:
    """A finite float as plain SPICE text (no unit suffixes: '1M' would mean milli)."""
    if isinstance(x, bool) or not isinstance(x, int | float | np.floating | np.integer):
        raise NetlistError(f"number expected, got {type(x).__name__}")
    if not math.isfinite(float(x)):
        raise NetlistError(f"non-finite number {x!r} cannot be written to a netlist")
    return format(float(x), ".12g")


def assert_safe_text(text: str) -> None:
    """Raise if generated netlist text holds a forbidden directive or character."""
    low = text.lower()
    for token in _FORBIDDEN:
        if token in low:
            raise NetlistError(f"generated netlist text contains forbidden token {token!r}")


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ConfigError(f"index must be a non-negative int, got {index!r}")


@dataclass(frozen=True)
class KernelCell:
    """A generated subcircuit: ``.subckt <name> s acc`` ... ``.ends``.

    Attributes
    ----------
    name
        Generated subcircuit name.
    text
        The subcircuit text.
    kernel
        The kernel it realises (u as defined by the kernel).
    threshold
        θ in the kernel's output units.
    gain
        k: the accumulator integrates k·g(u).
    """

    name: str
    text: str
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
    """Subcircuit text for a realisable kernel with a dead-zone threshold θ and accumulator gain k.

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
    for name, value in (("threshold", threshold), ("gain", gain), ("resistance_ohm", resistance_ohm)):
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if threshold < 0:
        raise ConfigError(f"threshold must be >= 0, got {threshold!r}")
    if resistance_ohm <= 0:
        raise ConfigError(f"resistance_ohm must be > 0, got {resistance_ohm!r}")
    n = spice_number
    if isinstance(kernel, RCKernel):
        kind = "rcl" if kernel.leaky else "rc"
        r = kernel.resistance_ohm
        scale = 1.0 / r  # u = i = v(x)/R
        lines = [f"ck s x {n(kernel.capacitance_f)}", f"rk x 0 {n(r)}"]
        if kernel.leaky:
            lines.append(f"rleak s x {n(kernel.leak_resistance_ohm)}")
    elif isinstance(kernel, SecondOrderKernel):
        kind = "rlcl" if math.isfinite(kernel.tau_leak) else "rlc"
        r = resistance_ohm
        c = kernel.tau_z / r
        scale = 1.0  # u = v(x), the voltage across R
        lines = [f"lk s n1 {n(kernel.tau_u * r)}", f"ck n1 x {n(c)}", f"rk x 0 {n(r)}"]
        if math.isfinite(kernel.tau_leak):
            lines.append(f"rleak n1 x {n(kernel.tau_leak / c)}")
    else:
        raise ConfigError(
            f"{type(kernel).__name__} has no passive R/L/C realisation here; "
            "expected RCKernel or SecondOrderKernel"
        )
    name = f"tclk{kind}{index}"
    theta_x = threshold / scale
    ux = f"v(x)*{n(scale * gain)}"
    lines.append(f"bg 0 acc I = (abs(v(x)) >= {n(theta_x)} ? {ux} : 0)")
    lines.append("cacc acc 0 1")
    text = "\n".join([f".subckt {name} s acc", *lines, f".ends {name}"]) + "\n"
    assert_safe_text(text)
    return KernelCell(name, text, kernel, float(threshold), float(gain))


def sawtooth_deck(
    cells: list[KernelCell], sawtooth: Sawtooth, n_cycles: int = 2, max_step_s: float | None = None
) -> tuple[str, float]:
    """Standalone deck: one PWL sawtooth source ``vs`` drives every cell; accumulators on nodes acc0, acc1, …

    Returns the deck text and t_stop. The source starts at s_free, so the operating point charges the
    capacitors to the free state; the last cycle is the periodic steady state to a very good
    approximation when the kernel memory is short against the period.
    """
    if not cells:
        raise ConfigError("cells must not be empty")
    if isinstance(n_cycles, bool) or not isinstance(n_cycles, int) or n_cycles < 1:
        raise ConfigError(f"n_cycles must be an int >= 1, got {n_cycles!r}")
    period = sawtooth.period
    t_stop = n_cycles * period
    if max_step_s is None:
        max_step_s = min(min(c.kernel.timescale for c in cells) / 20.0, sawtooth.tau_fast / 50.0)
    if not (math.isfinite(max_step_s) and max_step_s > 0):
        raise ConfigError(f"max_step_s must be a finite number > 0, got {max_step_s!r}")
    free = sawtooth.mean - sawtooth.amplitude / 2
    clamped = sawtooth.mean + sawtooth.amplitude / 2
    n = spice_number
    points = [f"0 {n(free)}"]
    for k in range(n_cycles):
        t0 = k * period
        points.append(f"{n(t0 + sawtooth.tau_fast)} {n(clamped)}")
        points.append(f"{n(t0 + period)} {n(free)}")
    lines = ["* tcl_circuits kernel cells on a sawtooth", f"vs s 0 PWL({' '.join(points)})"]
    subckts = {c.name: c.text for c in cells}
    for i, c in enumerate(cells):
        lines.append(f"x{i} s acc{i} {c.name}")
    lines.append(".ic " + " ".join(f"v(acc{i})=0" for i in range(len(cells))))
    lines.append(f".tran {n(max_step_s)} {n(t_stop)} 0 {n(max_step_s)}")
    text = "\n".join(lines) + "\n" + "".join(subckts.values()) + ".end\n"
    assert_safe_text(text)
    return text, t_stop
