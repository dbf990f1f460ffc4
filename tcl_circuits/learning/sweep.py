"""Many training runs side by side, in parallel processes (dask): the engine of the comparison scripts.

A job is a name and a full ``RunConfig`` (``with_changes`` derives one from a base config and a nested dict
of changes, the shape ``config.json`` stores). Each job trains in its own run folder under the sweep's
folder, so every run keeps its config, curves and plots; the sweep returns their summaries and epoch rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcl_circuits.config import from_dict, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig


@dataclass(frozen=True)
class Job:
    """One training run of a sweep: its folder name (a plain identifier) and its config."""

    name: str
    config: RunConfig


def _merged(base: dict, changes: dict, where: str = "") -> dict:
    out = dict(base)
    for key, value in changes.items():
        if key not in base:
            raise ConfigError(f"unknown setting {where}{key!r}", field=f"{where}{key}")
        out[key] = _merged(base[key], value, f"{where}{key}.") if isinstance(value, dict) else value
    return out


def with_changes(config: RunConfig, changes: dict[str, Any]) -> RunConfig:
    """``config`` with nested changes, e.g. {"drive": {"tau_fall_s": 9e-3}, "learning": {"rule": "gradient"}}."""
    return from_dict(RunConfig, _merged(to_dict(config), changes))


def run_job(job: Job, folder: Path) -> dict[str, Any]:
    """Train one job in ``folder / job.name``: its name, summary and epoch rows (floats)."""
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.tasks import make_task

    task = make_task(job.config.task, job.config.learning.seed)
    run_dir = folder / job.name
    summary = train(task, job.config, run_dir, progress=False)
    rows = list(csv.DictReader((run_dir / "epochs.csv").read_text().splitlines()))
    epochs = [{k: float(v) if v not in ("", None) else None for k, v in row.items()} for row in rows]
    return {"name": job.name, "summary": summary, "epochs": epochs}


def run_jobs(
    jobs: Sequence[Job], folder: str | Path, *, workers: int = 2, progress: bool = False
) -> list[dict[str, Any]]:
    """Every job, ``workers`` at a time in separate processes (one process: in this one); results in order.
    ``progress``: a bar of finished runs on stdout."""
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ConfigError("sweep jobs need distinct names")
    bad = [name for name in names if not name.replace("_", "").replace("-", "").replace(".", "").isalnum()]
    if bad:
        raise ConfigError(f"sweep job name {bad[0]!r}: use letters, digits, '-', '_' and '.'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if workers <= 1:
        return [run_job(job, folder) for job in jobs]
    import contextlib

    import dask
    from dask import delayed
    from dask.diagnostics import ProgressBar

    with ProgressBar() if progress else contextlib.nullcontext():
        return list(
            dask.compute(
                *[delayed(run_job)(job, folder) for job in jobs], scheduler="processes", num_workers=workers
            )
        )
