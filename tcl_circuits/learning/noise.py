"""The effect of the cells' thermal noise on the update: noisy against noiseless, on the same sample.

R_K's thermal noise (``FeedbackCellConfig.noise_temperature_k``, ``circuit.ir.CellNoise``) puts kT/C_K of
variance on u, the input of the threshold. ``update_noise_rows`` measures what that does to an update: the
relative error and the cosine of the noisy accumulators against the noiseless ones, over seeded draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tcl_circuits.circuit.ir import BOLTZMANN_J_PER_K
from tcl_circuits.errors import LearningError
from tcl_circuits.learning.run_config import RunConfig

TEMPERATURE_K = 300.0
"""Room temperature, the report's reference."""


def kt_over_c_noise_v(c_farad: float, temperature_k: float = TEMPERATURE_K) -> float:
    """RMS thermal noise on a capacitor, sqrt(kT/C), volts (R_K's 4kTR noise integrated over its RC band)."""
    return math.sqrt(BOLTZMANN_J_PER_K * temperature_k / c_farad)


def update_noise_rows(
    base: RunConfig, temperatures_k: list[float], *, draws: int = 8, samples: int = 2
) -> list[dict[str, Any]]:
    """Per temperature: mean and standard deviation over ``draws`` x ``samples`` cycles of the relative error
    |w_noisy - w| / |w| and of the cosine between them, w the accumulators of one cycle on one of the first
    ``samples`` training samples whose noiseless update is not zero, with the cell calibrated as in a run
    (on ``base``'s backend)."""
    from tcl_circuits.backends import open_backend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task

    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell, task.student, task, base.drive)
    rows = []
    with open_backend(base.resolved_backend, base.sim) as backend:

        def accumulators(temperature: float, k: int, draw: int) -> np.ndarray:
            circuit = compile_tcl(
                task.student,
                drive=base.drive,
                cell=cell.replace(noise_temperature_k=temperature),
                sim=base.sim,
                inputs_v=task.x_train[k],
                targets_v=task.y_train[k],
                noise_seed=(base.learning.seed, k, draw),
            )
            return backend.run(circuit).at(circuit.cells.accumulator, [-1])[:, 0]

        quiet: dict[int, np.ndarray] = {}  # the first samples whose noiseless update is not zero
        for k in range(len(task.x_train)):
            if len(quiet) == samples:
                break
            update = accumulators(0.0, k, 0)
            if np.any(update):
                quiet[k] = update
        if not quiet:
            raise LearningError("no training sample gives a noiseless update to compare the noisy ones with")
        for temperature in temperatures_k:
            errors, cosines = [], []
            for draw in range(draws):
                for k, ideal in quiet.items():
                    noisy = accumulators(temperature, k, draw)
                    norm = np.linalg.norm(ideal) * np.linalg.norm(noisy)
                    errors.append(np.linalg.norm(noisy - ideal) / np.linalg.norm(ideal))
                    cosines.append(float(noisy @ ideal / norm) if norm else float("nan"))
            rows.append(
                {
                    "temperature_k": temperature,
                    "kt_over_c_noise_v": kt_over_c_noise_v(cell.c_k_f, temperature),
                    "threshold_v": min(cell.thresholds_v),
                    "rel_error_mean": float(np.mean(errors)),
                    "rel_error_sd": float(np.std(errors, ddof=1)),
                    "cosine_mean": float(np.mean(cosines)),
                    "cosine_sd": float(np.std(cosines, ddof=1)),
                    "cycles": len(errors),
                }
            )
    return rows
