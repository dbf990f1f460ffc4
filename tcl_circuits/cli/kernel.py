"""``tcl-circuits kernel``: single-synapse updates and kernel properties from the shell.

Kernels by name: ``ecoli`` (``--area I``, ``--decay-rate B``): A·e^{−Bt}(t − Ct²), area I, first moment −1;
``rc`` (``--tau-k``, optional ``--leak-resistance``): series C/R with C = 1 and R = τ_k, so u is the branch
current ≈ ds/dt; ``second-order`` (``--tau-u``, ``--tau-z``, optional ``--tau-leak``); ``markov``
(``--gamma``, ``--rate-factor``, ``--step-um``): the ESA ladder kernel; ``sine`` (``--duration``,
``--sine-amplitude``): the MNIST code's zero-sum kernel; ``derivative``: the ideal u = ds/dt. Times are in
the kernel's time unit (the E. coli kernel decays as e^{−20 t}).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from tcl_circuits.checked import Checked, param
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import (
    DerivativeKernel,
    EColiKernel,
    Kernel,
    RCKernel,
    SecondOrderKernel,
    SineKernel,
)
from tcl_circuits.kernels.nonlinearity import ThresholdShape

if TYPE_CHECKING:
    from tcl_circuits.kernels.synapse import Sawtooth


UNITS = (
    "Units: T is the kernel's time unit (the E. coli kernel decays as e^(-B t)); signal is the unit of s, the "
    "signal the kernel filters, and u, its output, is in signal/T (a kernel's first moment is -1); 1: no unit."
)


class KernelName(Enum):
    """Kernel families."""

    ECOLI = "ecoli"
    RC = "rc"
    SECOND_ORDER = "second-order"
    MARKOV = "markov"
    SINE = "sine"
    DERIVATIVE = "derivative"


@dataclass(frozen=True, kw_only=True)
class KernelOptions(Checked):
    """Memory kernel"""

    kernel: KernelName = param(KernelName.ECOLI, help="kernel family")
    area: float = param(0.0, unit="1/T", help="ecoli: kernel area I")
    decay_rate: float = param(20.0, unit="1/T", help="ecoli: decay rate B", above=0)
    tau_k: float | None = param(
        None, unit="T", help="rc: kernel time R*C (C = 1)", above=0, none="none: not set"
    )
    leak_resistance: float | None = param(
        None, unit="T", help="rc: leak across C (C = 1)", above=0, none="none: no leak"
    )
    tau_u: float | None = param(
        None, unit="T", help="second-order: time constant of u", above=0, none="none: not set"
    )
    tau_z: float | None = param(
        None, unit="T", help="second-order: integration time of z", above=0, none="none: not set"
    )
    tau_leak: float | None = param(
        None, unit="T", help="second-order: leak time of z", above=0, none="none: no leak"
    )
    gamma: float | None = param(
        None,
        unit="1",
        help="markov: reverse-rate suppression in (0, 1]",
        above=0,
        maximum=1,
        none="none: not set",
    )
    rate_factor: float = param(25.0, unit="1", help="markov: vertical rate scale RF", above=0)
    step_um: float = param(200.0, unit="uM", help="markov: ligand step", above=0)
    duration: float = param(0.1, unit="T", help="sine: kernel duration", above=0)
    sine_amplitude: float = param(1 / 3, unit="1/T^2", help="sine: amplitude", above=0)


@dataclass(frozen=True, kw_only=True)
class UpdateOptions(Checked):
    """Sawtooth protocol"""

    amplitude: float | None = param(
        None, unit="signal", help="A = s_clamped - s_free (signed)", none="none: required"
    )
    mean: float = param(0.0, unit="signal", help="mean signal")
    tau_fast: float | None = param(
        None, unit="T", help="fast ramp free->clamped", above=0, none="none: required"
    )
    tau_slow: float | None = param(
        None, unit="T", help="slow ramp clamped->free", above=0, none="none: required"
    )
    threshold: float | None = param(
        None, unit="signal/T", help="threshold theta on u", minimum=0, none="none: required"
    )
    nonlinearity: ThresholdShape = param(ThresholdShape.HARD, help="shape of g(u)")
    dt: float | None = param(None, unit="T", help="grid step", above=0, none="auto: resolves kernel and ramp")


def _required(value: float | None, flag: str, kernel: KernelName | None = None) -> float:
    if value is None:
        raise ConfigError(f"{flag} is required" + (f" for --kernel {kernel.value}" if kernel else ""))
    return value


def build_kernel(options: KernelOptions) -> Kernel:
    """The kernel the options name, with its parameters (ConfigError when a required one is missing)."""
    name = options.kernel
    if name is KernelName.ECOLI:
        return EColiKernel(options.area, options.decay_rate)
    if name is KernelName.RC:
        leak = math.inf if options.leak_resistance is None else options.leak_resistance
        return RCKernel(_required(options.tau_k, "--tau-k", name), 1.0, leak)
    if name is KernelName.SECOND_ORDER:
        leak = math.inf if options.tau_leak is None else options.tau_leak
        return SecondOrderKernel(
            _required(options.tau_u, "--tau-u", name), _required(options.tau_z, "--tau-z", name), leak
        )
    if name is KernelName.MARKOV:
        from tcl_circuits.kernels.markov import esa_kernel

        return esa_kernel(
            _required(options.gamma, "--gamma", name), options.rate_factor, options.step_um
        ).kernel
    if name is KernelName.SINE:
        return SineKernel(options.sine_amplitude, options.duration)
    return DerivativeKernel()


def update_inputs(
    kernel_options: KernelOptions, update_options: UpdateOptions
) -> tuple[Kernel, Sawtooth, float]:
    """The kernel, the sawtooth and the threshold of ``kernel update`` (ConfigError when one is missing)."""
    from tcl_circuits.kernels.synapse import Sawtooth

    kernel = build_kernel(kernel_options)
    u = update_options
    saw = Sawtooth(
        _required(u.amplitude, "--amplitude"),
        u.mean,
        _required(u.tau_fast, "--tau-fast"),
        _required(u.tau_slow, "--tau-slow"),
    )
    return kernel, saw, _required(u.threshold, "--threshold")


def update(kernel_options: KernelOptions, update_options: UpdateOptions, as_json: bool) -> int:
    """Δw of one periodic sawtooth."""
    from tcl_circuits.kernels.synapse import delta_w

    kernel, saw, threshold = update_inputs(kernel_options, update_options)
    u = update_options
    amplitude = saw.amplitude
    dw = delta_w(kernel, saw, threshold, dt=u.dt, kind=u.nonlinearity)
    if as_json:
        print(json.dumps({"dw": dw}))
    else:
        print(f"dw = {dw:.12g}  (dw/A = {dw / amplitude if amplitude else math.nan:.6g})")
    return 0


def info(kernel_options: KernelOptions, as_json: bool) -> int:
    """Area, first moment and timescale (and σ for Markov kernels)."""
    information: dict[str, float | str | bool] = dict(build_kernel(kernel_options).describe())
    if kernel_options.kernel is KernelName.MARKOV:
        from tcl_circuits.kernels.markov import entropy_production, esa_kernel

        gamma = _required(kernel_options.gamma, "--gamma", kernel_options.kernel)
        mk = esa_kernel(gamma, kernel_options.rate_factor, kernel_options.step_um)
        information["derivative_like"] = mk.derivative_like
        information["entropy_production_kt_per_markov_time"] = entropy_production(gamma)
    if as_json:
        print(json.dumps(information))
    else:
        for key, value in information.items():
            print(f"{key}: {value}")
    return 0


def add_kernel_commands(subparsers: argparse._SubParsersAction, parser_class: type) -> None:
    """The ``kernel`` command with ``update`` and ``info``, options generated from the dataclasses above."""
    from tcl_circuits.cli.options import add_config_options, apply_options

    kp = subparsers.add_parser("kernel", help="memory kernels: single-synapse updates and properties")
    ksub = kp.add_subparsers(dest="kernel_command", required=True, parser_class=parser_class)

    p = ksub.add_parser(
        "update",
        help="weight update of one periodic sawtooth through a kernel",
        description=f"The weight update of one periodic sawtooth through a kernel. {UNITS}",
    )
    kernel_opts = add_config_options(p, KernelOptions())
    update_opts = add_config_options(p, UpdateOptions())
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(
        run=lambda args: update(
            apply_options(KernelOptions(), args, kernel_opts),
            apply_options(UpdateOptions(), args, update_opts),
            args.json,
        ),
        resolve=lambda args: update_inputs(
            apply_options(KernelOptions(), args, kernel_opts),
            apply_options(UpdateOptions(), args, update_opts),
        ),
    )

    p = ksub.add_parser(
        "info",
        help="area, first moment and timescale of a kernel",
        description=f"Area, first moment and timescale of a kernel. {UNITS}",
    )
    info_opts = add_config_options(p, KernelOptions())
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(
        run=lambda args: info(apply_options(KernelOptions(), args, info_opts), args.json),
        resolve=lambda args: build_kernel(apply_options(KernelOptions(), args, info_opts)),
    )
