"""The effect of thermal noise on the update: noisy against noiseless, on the same sample.

R_K's thermal noise (``FeedbackCellConfig.noise_temperature_k``, ``circuit.ir.CellNoise``) puts kT/C_K of
variance on u, the input of the threshold; the network resistors' (``SimulatorConfig.network_noise_temperature_k``,
``circuit.ir.NetworkNoise``) puts 4kT R_eff per hertz on each edge's drop, which the squarer multiplies by twice
the drop. ``update_noise_rows`` measures what either, or both, does to an update: the relative error and the
cosine of the noisy accumulators against the noiseless ones, over seeded draws.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.circuit.ir import BOLTZMANN_J_PER_K
from tcl_circuits.config import FeedbackCellConfig, SimulatorConfig
from tcl_circuits.errors import ConfigError, LearningError
from tcl_circuits.learning.run_config import RunConfig

C = TypeVar("C", FeedbackCellConfig, CellDesign)

TEMPERATURE_K = 300.0
"""Room temperature, the report's reference."""


def kt_over_c_noise_v(c_farad: float, temperature_k: float = TEMPERATURE_K) -> float:
    """RMS thermal noise on a capacitor, sqrt(kT/C), volts (R_K's 4kTR noise integrated over its RC band)."""
    return math.sqrt(BOLTZMANN_J_PER_K * temperature_k / c_farad)


GRID_ONLY_K = 3e-13
"""A temperature whose noise is 1e-15 of room temperature's in power: a reference run on the noise's time grid."""
NOISE_SOURCES = ("R_K", "network", "both")
"""Which resistors are noisy in ``update_noise_rows``: the cells' R_K, the network's, or both."""


def with_noise(
    cell: C,
    sim: SimulatorConfig,
    source: str,
    temperature_k: float,
    flicker_corner_hz: float = 0.0,
) -> tuple[C, SimulatorConfig]:
    """``cell`` and ``sim`` with the resistors of ``source`` (of ``NOISE_SOURCES``) at ``temperature_k``, with
    1/f noise up to ``flicker_corner_hz``, and the others noiseless."""
    cell_k = temperature_k if source in ("R_K", "both") else 0.0
    network_k = temperature_k if source in ("network", "both") else 0.0
    corner = flicker_corner_hz if cell_k else 0.0
    return (
        cell.with_noise(cell_k, corner)
        if isinstance(cell, CellDesign)
        else cell.replace(noise_temperature_k=cell_k, noise_flicker_corner_hz=corner),
        sim.replace(
            network_noise_temperature_k=network_k,
            network_noise_flicker_corner_hz=flicker_corner_hz if network_k else 0.0,
        ),
    )


def simulable_sources(base: RunConfig) -> tuple[tuple[str, ...], str | None]:
    """The noise sources ``base``'s backend can simulate on its network, and why the network's is left out
    when it is (the native engine's ``NETWORK_NOISE_LIMIT``)."""
    from tcl_circuits.backends.native.parsed import NETWORK_NOISE_LIMIT
    from tcl_circuits.config import BackendKind
    from tcl_circuits.learning.tasks import make_task

    if base.resolved_backend is not BackendKind.NATIVE:
        return NOISE_SOURCES, None
    spec = make_task(base.task, base.learning.seed).student
    if spec.diodes or spec.amplifiers or base.sim.node_capacitance_f > 0:
        return ("R_K",), NETWORK_NOISE_LIMIT
    return NOISE_SOURCES, None


def update_noise_rows(
    base: RunConfig,
    temperatures_k: list[float],
    *,
    draws: int = 8,
    samples: int = 2,
    sources: tuple[str, ...] = ("R_K",),
    flicker_corners_hz: tuple[float, ...] = (0.0,),
) -> list[dict[str, Any]]:
    """Per noise source (of ``NOISE_SOURCES``) and temperature: mean and standard deviation over ``draws`` x ``samples`` cycles of the relative error
    |w_noisy - w| / |w| and of the cosine between them, w the accumulators of one cycle on one of the first
    ``samples`` training samples whose noiseless update is not zero, with the cell calibrated as in a run
    (on ``base``'s backend). With ``flicker_corners_hz`` each source and temperature is measured at each 1/f
    corner too (0: white)."""
    from tcl_circuits.backends import open_backend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task

    for source in sources:
        if source not in NOISE_SOURCES:
            raise ConfigError(f"noise source must be one of {', '.join(NOISE_SOURCES)}, got {source!r}")
    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell, task.student, task, base.drive)
    rows = []
    with open_backend(base.resolved_backend, base.sim) as backend:

        def accumulators(
            temperature: float, k: int, draw: int, source: str = "R_K", corner_hz: float = 0.0
        ) -> np.ndarray:
            noisy_cell, sim = with_noise(cell, base.sim, source, temperature, corner_hz)
            circuit = compile_tcl(
                task.student,
                drive=base.drive,
                cell=noisy_cell,
                sim=sim,
                inputs_v=task.x_train[k],
                targets_v=task.y_train[k],
                noise_seed=(base.learning.seed, k, draw),
            )
            return backend.run(circuit).at(circuit.cells.accumulator, [-1])[:, 0]

        quiet: dict[int, np.ndarray] = {}  # the first samples whose noiseless update is not zero
        for k in range(len(task.x_train)):
            if len(quiet) == samples:
                break
            update = accumulators(0.0, k, 0, "both")
            if np.any(update):
                quiet[k] = update
        if not quiet:
            raise LearningError("no training sample gives a noiseless update to compare the noisy ones with")
        for source in sources:
            # network noise puts its knots on the time grid: the reference runs on the same grid, with noise
            # currents 1e-15 of room temperature's
            reference = (
                quiet if source == "R_K" else {k: accumulators(GRID_ONLY_K, k, 0, source) for k in quiet}
            )
            for temperature, corner in ((t, c) for t in temperatures_k for c in flicker_corners_hz):
                errors, cosines = [], []
                for draw in range(draws):
                    for k, ideal in reference.items():
                        noisy = accumulators(temperature, k, draw, source, corner)
                        norm = np.linalg.norm(ideal) * np.linalg.norm(noisy)
                        errors.append(np.linalg.norm(noisy - ideal) / np.linalg.norm(ideal))
                        cosines.append(float(noisy @ ideal / norm) if norm else float("nan"))
                rows.append(
                    {
                        "source": source,
                        "temperature_k": temperature,
                        "flicker_corner_hz": corner,
                        "kt_over_c_noise_v": kt_over_c_noise_v(cell.config.c_k_f, temperature),
                        "threshold_v": min(cell.calibration.thresholds_v),
                        "rel_error_mean": float(np.mean(errors)),
                        "rel_error_sd": float(np.std(errors, ddof=1)),
                        "cosine_mean": float(np.mean(cosines)),
                        "cosine_sd": float(np.std(cosines, ddof=1)),
                        "cycles": len(errors),
                    }
                )
    return rows


def threshold_noise_rows(base: RunConfig) -> list[dict[str, Any]]:
    """The calibrated threshold of each edge group against the kT/C noise of C_K, and the C_K (at the same
    tau_K) that would put the threshold at 10 sigma."""
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task

    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell, task.student, task, base.drive)
    noise = kt_over_c_noise_v(base.cell.c_k_f)
    groups = list(cell.calibration.group_thresholds_v) or [("all edges", cell.theta_v)]
    return [
        {
            "group": group,
            "threshold_v": theta,
            "c_k_f": base.cell.c_k_f,
            "kt_over_c_noise_v": noise,
            "snr": theta / noise,
            "c_k_for_10_sigma_f": 100 * BOLTZMANN_J_PER_K * TEMPERATURE_K / theta**2,
        }
        for group, theta in groups
    ]
