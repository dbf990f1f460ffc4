#!/usr/bin/env python3
"""The effect of thermal noise (R_K's, the network's, or both) on the TCL update and on learning, native engine.

For each noise source and temperature, ``--draws`` noise draws on the first training samples of the teacher task: the relative
error and the cosine of the noisy update against the noiseless one (same sample, same network), mean and
spread over draws. With ``--train`` also one short training run per temperature (final/initial test loss).
The noise is the same seeded PWL current in both engines (``circuit.noise.CellNoise``, ``NetworkNoise``; tested
against ngspice).

    .venv/bin/python scripts/noise_effect.py --network lattice:16x16 --sources R_K network both --train

With ``--signal-gains`` the update noise is measured at each squarer gain A (s = A (V_a - V_b)^2, the threshold
calibrated A times higher, R_K's noise on u unchanged); ``--r-k`` sets R_K and so C_K = tau_k / R_K:

    .venv/bin/python scripts/noise_effect.py --temperatures 300 --r-k 2.5e5 --signal-gains 1 10 100 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tcl_circuits.studies.noise import NOISE_SOURCES, update_noise_rows, with_noise  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="lattice:16x16", help="network (default: lattice:16x16)")
    parser.add_argument(
        "--temperatures",
        type=float,
        nargs="+",
        default=[75.0, 300.0, 1200.0, 4800.0],
        help="noise temperatures [K] (default: 75 300 1200 4800)",
    )
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=NOISE_SOURCES,
        default=["R_K"],
        help="noisy resistors: R_K, network, both (default: R_K)",
    )
    parser.add_argument(
        "--flicker-corners",
        type=float,
        nargs="+",
        default=[0.0],
        help="1/f corners of the noisy resistors [Hz]: density 4kTG (1 + corner/f) (default: 0, white)",
    )
    parser.add_argument("--draws", type=int, default=8, help="noise draws per temperature (default: 8)")
    parser.add_argument("--samples", type=int, default=2, help="training samples per draw (default: 2)")
    parser.add_argument("--train", action="store_true", help="also train 300 samples per temperature")
    parser.add_argument(
        "--signal-gains",
        type=float,
        nargs="+",
        default=[1.0],
        help="squarer gains A to measure the update noise at (default: 1)",
    )
    parser.add_argument("--r-k", type=float, default=None, help="R_K [ohm] (default: the report's)")
    args = parser.parse_args(argv)
    from tcl_circuits.cli.main import feasibility_config
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.tasks import make_task

    base = feasibility_config()
    base = base.replace(task=base.task.replace(network=args.network))
    if args.r_k is not None:
        base = base.replace(cell=base.cell.replace(r_k_ohm=args.r_k))
    started = time.perf_counter()
    print(
        f"{'A':>6} {'noisy':>8} {'T (K)':>8} {'1/f corner (Hz)':>15} {'kT/C (V)':>10} {'theta (V)':>10} "
        f"{'rel. error':>16} {'cosine':>16}"
    )
    for gain in args.signal_gains:
        rows = update_noise_rows(
            base.replace(cell=base.cell.replace(signal_gain=gain)),
            args.temperatures,
            draws=args.draws,
            samples=args.samples,
            sources=tuple(args.sources),
            flicker_corners_hz=tuple(args.flicker_corners),
        )
        for r in rows:
            print(
                f"{gain:6g} {r['source']:>8} {r['temperature_k']:8g} {r['flicker_corner_hz']:15g} "
                f"{r['kt_over_c_noise_v']:10.3g} {r['threshold_v']:10.3g} "
                f"{r['rel_error_mean']:8.3g} ± {r['rel_error_sd']:<6.2g} {r['cosine_mean']:8.4f} ± {r['cosine_sd']:<6.2g}"
            )
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.train:
        learning = base.learning.replace(epochs=1, alignment_every=0)
        runs = [("none", 0.0, 0.0)] + [
            (s, t, c) for s in args.sources for t in args.temperatures for c in args.flicker_corners
        ]
        for source, temperature, corner in runs:
            cell, sim = with_noise(base.cell, base.sim, source, temperature, corner)  # "none": 0 K
            config = base.replace(cell=cell, sim=sim, learning=learning)
            task = make_task(config.task, config.learning.seed)
            with tempfile.TemporaryDirectory() as folder:
                summary = train(task, config, Path(folder) / "run", progress=False)
            print(
                f"train, noisy {source} at {temperature:g} K, 1/f corner {corner:g} Hz: final/initial test loss "
                f"{summary['loss_ratio']:.4g}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
