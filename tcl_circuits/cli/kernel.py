"""The ``tcl-circuits kernel`` command: single-synapse updates and kernel properties from the shell.

``add_kernel_parser(subparsers)`` adds the ``kernel`` subcommand (sub-subcommands ``update`` and ``info``)
to the package CLI; ``main(argv)`` runs it standalone. Kernels by name:

* ``ecoli`` (``--area I``, ``--decay-rate B`` = 20): A·e^{−Bt}(t − Ct²), area I, first moment −1;
* ``rc`` (``--tau-k``, optional ``--leak-resistance``): series C/R with C = 1 and R = τ_k, so u is the
  branch current ≈ ds/dt (first moment −1); the leak (in the same units as R) gives area 1/(R + R_L);
* ``second-order`` (``--tau-u``, ``--tau-z``, optional ``--tau-leak``): the (u, z) loop, first moment −τ_z;
* ``markov`` (``--gamma``, ``--rate-factor`` = 25, ``--step-um`` = 200): the ESA ladder kernel;
* ``sine`` (``--duration`` = 0.1, ``--sine-amplitude`` = 1/3): the MNIST code's zero-sum kernel;
* ``derivative``: the ideal u = ds/dt.

Times are in the kernel's time unit (the E. coli kernel decays as e^{−20 t}).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from tcl_circuits.errors import ConfigError, TclCircuitsError
from tcl_circuits.kernels.kernel import (
    DerivativeKernel,
    EColiKernel,
    Kernel,
    RCKernel,
    SecondOrderKernel,
    SineKernel,
)

__all__ = ["KERNEL_NAMES", "add_kernel_parser", "build_kernel", "main"]

KERNEL_NAMES = ("ecoli", "rc", "second-order", "markov", "sine", "derivative")


def _add_kernel_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("kernel")
    g.add_argument("--kernel", choices=KERNEL_NAMES, required=True, help="kernel family")
    g.add_argument("--area", type=float, default=0.0, help="ecoli: kernel area I (default 0)")
    g.add_argument("--decay-rate", type=float, default=20.0, help="ecoli: decay rate B (default 20)")
    g.add_argument("--tau-k", type=float, help="rc: kernel time R*C (C = 1)")
    g.add_argument("--leak-resistance", type=float, default=math.inf, help="rc: leak across C (default none)")
    g.add_argument("--tau-u", type=float, help="second-order: time constant of u")
    g.add_argument("--tau-z", type=float, help="second-order: integration time of z")
    g.add_argument("--tau-leak", type=float, default=math.inf, help="second-order: leak time of z")
    g.add_argument("--gamma", type=float, help="markov: reverse-rate suppression in (0, 1]")
    g.add_argument("--rate-factor", type=float, default=25.0, help="markov: vertical rate scale RF")
    g.add_argument("--step-um", type=float, default=200.0, help="markov: ligand step in uM")
    g.add_argument("--duration", type=float, default=0.1, help="sine: kernel duration")
    g.add_argument("--sine-amplitude", type=float, default=1 / 3, help="sine: amplitude")
    g.add_argument("--json", action="store_true", help="print JSON")


def _require(args: argparse.Namespace, name: str) -> float:
    value = getattr(args, name.replace("-", "_"))
    if value is None:
        raise ConfigError(f"--{name} is required for --kernel {args.kernel}")
    return float(value)


def build_kernel(args: argparse.Namespace) -> Kernel:
    """The kernel named by ``args.kernel`` with its parameters (raises ConfigError when one is missing)."""
    name = args.kernel
    if name == "ecoli":
        return EColiKernel(args.area, args.decay_rate)
    if name == "rc":
        return RCKernel(_require(args, "tau-k"), 1.0, args.leak_resistance)
    if name == "second-order":
        return SecondOrderKernel(_require(args, "tau-u"), _require(args, "tau-z"), args.tau_leak)
    if name == "markov":
        from tcl_circuits.kernels.markov import esa_kernel

        return esa_kernel(_require(args, "gamma"), args.rate_factor, args.step_um).kernel
    if name == "sine":
        return SineKernel(args.sine_amplitude, args.duration)
    if name == "derivative":
        return DerivativeKernel()
    raise ConfigError(f"--kernel must be one of {', '.join(KERNEL_NAMES)}, got {name!r}")


def cmd_update(args: argparse.Namespace) -> int:
    """Δw of one periodic sawtooth."""
    from tcl_circuits.kernels.synapse import Sawtooth, delta_w

    kernel = build_kernel(args)
    saw = Sawtooth(args.amplitude, args.mean, args.tau_fast, args.tau_slow)
    dw = delta_w(kernel, saw, args.threshold, dt=args.dt, kind=args.nonlinearity)
    if args.json:
        print(json.dumps({"dw": dw}))
    else:
        print(f"dw = {dw:.12g}  (dw/A = {dw / args.amplitude if args.amplitude else math.nan:.6g})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Area, first moment and timescale (and σ for Markov kernels)."""
    info: dict[str, float | str | bool] = dict(build_kernel(args).describe())
    if args.kernel == "markov":
        from tcl_circuits.kernels.markov import entropy_production, esa_kernel

        mk = esa_kernel(args.gamma, args.rate_factor, args.step_um)
        info["derivative_like"] = mk.derivative_like
        info["entropy_production_kt_per_markov_time"] = entropy_production(args.gamma)
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return 0


def add_kernel_parser(subparsers) -> None:
    """Add the ``kernel`` subcommand (``update``, ``info``) to an argparse subparsers object."""
    kp = subparsers.add_parser("kernel", help="memory kernels: single-synapse updates and properties")
    ksub = kp.add_subparsers(dest="kernel_command", required=True)

    p = ksub.add_parser("update", help="weight update of one periodic sawtooth through a kernel")
    _add_kernel_options(p)
    g = p.add_argument_group("protocol")
    g.add_argument("--amplitude", type=float, required=True, help="A = s_clamped - s_free (signed)")
    g.add_argument("--mean", type=float, default=0.0, help="mean signal (default 0)")
    g.add_argument("--tau-fast", type=float, required=True, help="fast ramp free->clamped")
    g.add_argument("--tau-slow", type=float, required=True, help="slow ramp clamped->free")
    g.add_argument("--threshold", type=float, required=True, help="dead-zone half-width theta on u")
    g.add_argument("--nonlinearity", choices=("hard", "dead_zone", "cubic"), default="hard")
    g.add_argument("--dt", type=float, default=None, help="grid step (default: resolves kernel and ramp)")
    p.set_defaults(func=cmd_update)

    p = ksub.add_parser("info", help="area, first moment and timescale of a kernel")
    _add_kernel_options(p)
    p.set_defaults(func=cmd_info)


def main(argv: list[str] | None = None) -> int:
    """Run ``kernel ...`` standalone; errors of the package print on stderr and return 2."""
    parser = argparse.ArgumentParser(prog="tcl-circuits")
    add_kernel_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TclCircuitsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
