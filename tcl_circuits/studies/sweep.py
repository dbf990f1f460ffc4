"""Many training runs side by side on Dask distributed: sweeps (``tcl-circuits sweep``) and the comparison
scripts.

A job is a name and a full ``RunConfig`` (``with_changes`` derives one from a base config and a nested dict
of changes, the shape ``config.json`` stores). Each job trains in its own run folder under the sweep's
folder, so every run keeps its config, curves and plots. The jobs run on a ``LocalCluster`` of worker
processes (one thread each, so each holds at most one ngspice) or on an existing scheduler; a remote
cluster's workers need this package and a file system shared with the caller for the run folders.

``run_sweep`` adds what a long sweep needs: one row per finished point appended (and synced) to
``results.csv`` as points finish, so an interrupted sweep resumes with the points that are missing; the means
and spreads over seeds in ``aggregate.csv``; a plot of one metric over the axes.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tcl_circuits.config import to_dict
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.files import write_text_atomic
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.studies.sweep_spec import SEED_FIELD, SweepPoint, SweepSpec


@dataclass(frozen=True)
class Job:
    """One training run of a sweep: its folder name (a plain identifier) and its config."""

    name: str
    config: RunConfig


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


LOOPBACK_ANY_PORT = "127.0.0.1:0"
SCHEDULER_TIMEOUT_S = 20
"""How long to try reaching a scheduler given by address."""


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask distributed client: on the scheduler at ``scheduler`` (an address such as tcp://host:8786), or
    on a new LocalCluster of ``workers`` processes with one thread each."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as error:
            raise ConfigError(
                f"--scheduler {scheduler}: cannot connect ({error})", field="scheduler"
            ) from None
        with client:
            yield client
        return
    # non-daemonic workers may start child processes (an ngspice worker each). The scheduler's HTTP server
    # (health checks; no dashboard without bokeh) listens on a free loopback port: never 8787, which another
    # cluster may hold. Logs below CRITICAL are silenced in every process of the cluster: what they report
    # (heartbeats cut while the cluster shuts down under running tasks) is noise to a user, and a point that
    # fails is reported as a row of results.csv.
    with contextlib.ExitStack() as stack:
        with _sigint_ignored():
            stack.enter_context(dask.config.set({"distributed.worker.daemon": False}))
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=LOOPBACK_ANY_PORT,
                    silence_logs=logging.CRITICAL,
                )
            )
        try:
            client = stack.enter_context(Client(cluster))
            client.register_plugin(_ignoring_sigint())
            yield client
        except KeyboardInterrupt:
            _quiet_shutdown()
            raise


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a LocalCluster starts its worker processes, which inherit that: a Ctrl-C, which
    the terminal sends to the whole process group, then reaches only the client, which shuts the cluster
    down (a worker left to Python's default prints a KeyboardInterrupt traceback). The price: a Ctrl-C in
    the second or two the cluster takes to start is ignored (blocking it instead would not keep it pending:
    the BLAS threads take and drop it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


def _ignoring_sigint() -> Any:
    """A worker plugin that keeps a LocalCluster's worker ignoring SIGINT when its nanny restarts it (see
    ``_sigint_ignored``)."""
    from distributed import WorkerPlugin

    class IgnoreSigint(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreSigint()


def _quiet_shutdown() -> None:
    """After a Ctrl-C: distributed's loggers silenced, so closing the cluster under running tasks (workers
    stopped mid-task, connections cut) prints nothing beside the one line the command prints."""
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _check_names(names: Sequence[str]) -> None:
    if len(set(names)) != len(names):
        raise ConfigError("sweep jobs need distinct names")
    bad = [name for name in names if not name.replace("_", "").replace("-", "").replace(".", "").isalnum()]
    if bad:
        raise ConfigError(f"sweep job name {bad[0]!r}: use letters, digits, '-', '_' and '.'")


def run_jobs(
    jobs: Sequence[Job], folder: str | Path, *, workers: int = 2, progress: bool = False
) -> list[dict[str, Any]]:
    """Every job, on a LocalCluster of ``workers`` processes (one: in this process); results in order.
    ``progress``: a bar of finished runs."""
    _check_names([job.name for job in jobs])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if workers <= 1:
        return [run_job(job, folder) for job in tqdm(jobs, desc="runs", disable=not progress)]
    from distributed import as_completed

    with dask_client(workers) as client:
        futures = [client.submit(run_job, job, folder, key=f"job-{job.name}", pure=False) for job in jobs]
        for _ in tqdm(as_completed(futures), total=len(futures), desc="runs", disable=not progress):
            pass
        return [future.result() for future in futures]


# --- sweeps of a spec --------------------------------------------------------------------------------------

RESULTS = "results.csv"
AGGREGATE = "aggregate.csv"
METRICS = (
    "final_test_loss",
    "loss_ratio",
    "final_test_accuracy",
    "final_train_loss",
    "frac_below_last50",
    "frac_window_last50",
    "frac_above_last50",
    "cos_contrastive_last50",
    "cos_gradient_last50",
    "energy_per_update_j",
    "energy_per_edge_j",
    "time_per_update_s",
    "seconds_per_sample",
    "seconds",
)
"""The summary entries a sweep keeps per point (empty where a run has none, e.g. accuracy of a teacher task);
the energy of an update is its bill's total (over its priced blocks) and that per edge (``metric_values``)."""


def metric_values(summary: dict[str, Any]) -> dict[str, Any]:
    """A run summary's ``METRICS``, the energy bill's total and per-edge figures among them."""
    bill = summary.get("energy_per_update_j") or {}
    flat = {**summary, "energy_per_update_j": bill.get("total"), "energy_per_edge_j": bill.get("per_edge")}
    return {key: flat.get(key) for key in METRICS}


def _point_row(point: SweepPoint, points_dir: str) -> dict[str, Any]:
    """Train one point in ``points_dir/<name>`` (continuing its run folder if it has one); its results row.
    A point that fails is a row too, with its error, so the sweep goes on."""
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.tasks import make_task

    row: dict[str, Any] = {"point": point.name, **point.values}
    try:
        task = make_task(point.config.task, point.config.learning.seed)
        summary = train(
            task, point.config, Path(points_dir) / point.name, resume=True, progress=False, plots=False
        )
    except Exception as error:  # noqa: BLE001 - one failed point is reported, not fatal to the sweep
        message = " ".join(str(error).split())
        return {**row, "status": "failed", "error": f"{type(error).__name__}: {message}", "run": point.name}
    return {
        **row,
        "status": "done",
        "error": "",
        **metric_values(summary),
        "run": point.name,
    }


def run_key(config: RunConfig) -> str:
    """What a run computes: points whose configs differ only in a setting without effect (the mismatch seed
    when no mismatch is drawn, e.g. the zero-sigma column of a Monte Carlo) share one run."""
    data = to_dict(config)
    if not config.cell.has_mismatch:
        data["cell"]["spread_seed"] = 0
    return json.dumps(data, sort_keys=True)


def _shared(row: dict[str, Any], point: SweepPoint) -> dict[str, Any]:
    """``row``'s results under ``point``'s name and values (``run`` still names the folder that computed them)."""
    return {**row, "point": point.name, **point.values}


DIGEST = "row_sha256"
"""The last column of results.csv: the SHA-256 of the row's other fields, so an edited row is caught."""


def row_digest(row: dict[str, str], fields: Sequence[str]) -> str:
    """SHA-256 of a row's fields, as written, in column order."""
    return hashlib.sha256(json.dumps([row.get(name, "") for name in fields]).encode()).hexdigest()


def check_rows(rows: Sequence[dict[str, str]], fields: Sequence[str], path: Path) -> None:
    """Refuse a row whose digest does not match its fields (results.csv was edited)."""
    for number, row in enumerate(rows, start=2):
        if row.get(DIGEST) != row_digest(row, fields):
            raise DataError(
                f"{path}:{number}: the row of point {row.get('point')!r} does not match its {DIGEST}: it was "
                "edited; remove that line to compute the point again"
            )


class ResultsTable:
    """``results.csv``: one row per finished point, appended and synced as points finish. On reopening, a
    line cut short by a crash is dropped (its point runs again) and an edited row is refused (``DIGEST``).
    The column ``run`` names the point whose folder holds the run; a table written before it or the digest
    existed gains them (each point its own run; digests of the rows as they stand)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.fields = list(columns)
        self.columns = [*self.fields, DIGEST]
        self.rows: list[dict[str, str]] = []
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            header = next(csv.reader(lines[:1]), [])
            before_run = header == self.fields[:-1] and self.fields[-1] == "run"
            older = before_run or header == self.fields
            if header != self.columns and not older:
                raise DataError(f"{path}: its columns are not this sweep's ({', '.join(header[:4])}, ...)")
            complete = [line for line in lines[1:] if line.endswith("\n")]
            parsed = list(csv.DictReader(lines[:1] + complete))
            self.rows = [row for row in parsed if None not in row and None not in row.values()]
            if before_run:
                self.rows = [{**row, "run": row["point"]} for row in self.rows]
            if older:
                self.rows = [{**row, DIGEST: row_digest(row, self.fields)} for row in self.rows]
            check_rows(self.rows, self.fields, path)
            if len(self.rows) != len(lines) - 1 or older:
                write_text_atomic(path, self._text(self.rows, header=True))
        else:
            write_text_atomic(path, self._text([], header=True))

    def _text(self, rows: list[dict], *, header: bool = False) -> str:
        stream = io.StringIO()
        writer = csv.DictWriter(stream, fieldnames=self.columns, lineterminator="\n")
        if header:
            writer.writeheader()
        writer.writerows(rows)
        return stream.getvalue()

    def done(self) -> set[str]:
        return {row["point"] for row in self.rows}

    def append(self, row: dict[str, Any]) -> None:
        """Append a row (its digest computed here) and sync it to disk."""
        written = {k: "" if row.get(k) is None else str(row.get(k)) for k in self.fields}
        written[DIGEST] = row_digest(written, self.fields)
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(self._text([written]))
            stream.flush()
            os.fsync(stream.fileno())
        self.rows.append(written)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def aggregate(
    rows: Sequence[dict[str, str]], axes: Sequence[str], average_over: Sequence[str] = (SEED_FIELD,)
) -> list[dict[str, Any]]:
    """Mean, standard deviation (over the ``average_over`` axes, seeds or Monte Carlo trials; 0 for one run)
    and count of every metric for each point of the other axes; failed points are left out."""
    kept = [axis for axis in axes if axis not in average_over]
    groups: dict[tuple, list[dict[str, str]]] = {}
    for row in rows:
        if row.get("status") == "done":
            groups.setdefault(tuple(row[axis] for axis in kept), []).append(row)
    out = []
    for key, members in groups.items():
        entry: dict[str, Any] = dict(zip(kept, key, strict=True))
        entry["runs"] = len(members)
        for metric in METRICS:
            values = [v for v in (_number(m.get(metric, "")) for m in members) if v is not None]
            entry[f"{metric}_mean"] = float(np.mean(values)) if values else None
            entry[f"{metric}_std"] = (
                float(np.std(values, ddof=1)) if len(values) > 1 else (0.0 if values else None)
            )
        out.append(entry)
    return out


SWEEP_START_S = 3.5
"""Beside its runs, a sweep on a LocalCluster: the cluster's start and stop, each worker importing the package
on its first run, aggregate.csv and the plot (sweeps of 4 to 12 small points on 2 workers: 2.9-4.1 s of their
4.6-5.4 s)."""
RUN_START_S = 0.1
"""Beside its cycles (``preflight.estimate``, within 10 % of what runs measured), one run: its task, the
calibration, the held-out losses, its folder's files."""


def runs_seconds(configs: Sequence[RunConfig], workers: int) -> float:
    """The estimated wall time of training ``configs`` on ``workers`` processes, shared among them: each run's
    cycles (``preflight.estimate``) and its start. A config whose task cannot be built (its run fails at once)
    counts its start only. Constants measured on the 2-core development machine."""
    from tcl_circuits.errors import TclCircuitsError
    from tcl_circuits.learning.preflight import estimate
    from tcl_circuits.learning.tasks import make_task

    tasks: dict[str, Any] = {}  # the sizes that count do not depend on the seed
    total = 0.0
    for config in configs:
        key = json.dumps(to_dict(config.task), sort_keys=True)
        total += RUN_START_S
        try:
            if key not in tasks:
                tasks[key] = make_task(config.task, config.learning.seed)
            total += estimate(config, tasks[key]).seconds
        except TclCircuitsError:
            pass
    return total / max(1, min(workers, len(configs)))


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    metric: str = "loss_ratio",
    announce: bool = False,
) -> dict[str, Any]:
    """Run every point of ``spec`` not yet in ``out/results.csv``; returns counts and the files written.
    ``announce``: print the time it will take first (``runs_seconds``, on a LocalCluster ``SWEEP_START_S``
    more; on a scheduler once connected, shared among its workers).

    ``out`` must be new or empty, or (with ``resume``) hold this same sweep. Each point trains in
    ``out/points/<name>``; a point cut off mid-run continues from its checkpoint.
    """
    from tcl_circuits.learning.plots import plot_sweep
    from tcl_circuits.learning.run_folder import RunFolder

    if metric not in METRICS:
        raise ConfigError(f"--metric must be one of {', '.join(METRICS)}, got {metric!r}", field="metric")
    if not 1 <= workers <= 256:
        raise ConfigError(f"--workers must be from 1 to 256, got {workers}", field="workers")
    defaults = {**spec.fingerprint(), "base": to_dict(RunConfig())}  # settings added since, at their defaults
    with RunFolder(out, spec.fingerprint(), resume=resume, defaults=defaults) as folder:
        folder.write_json(
            "sweep.json", {"base": spec.base, "axes": spec.axes, "points": spec.fingerprint()["points"]}
        )
        table = ResultsTable(folder.file(RESULTS), ["point", *spec.axes, "status", "error", *METRICS, "run"])
        done = table.done()
        pending = [p for p in spec.points if p.name not in done]
        key_of = {p.name: run_key(p.config) for p in spec.points}
        finished = {
            key_of[r["point"]]: r for r in table.rows if r["point"] in key_of and r["status"] == "done"
        }
        sharing: dict[str, list[SweepPoint]] = {}  # a run's key -> the other pending points it answers
        to_run = []
        for point in pending:
            key = key_of[point.name]
            if key in sharing:
                sharing[key].append(point)
            elif key not in finished:
                sharing[key] = []
                to_run.append(point)
        points_dir = folder.file("points")
        points_dir.mkdir(exist_ok=True)
        bar = tqdm(
            total=len(spec.points),
            initial=len(spec.points) - len(pending),
            desc="points",
            disable=not progress,
        )
        started = time.perf_counter()
        for point in pending:  # the run it shares finished before an interruption
            if key_of[point.name] in finished:
                table.append(_shared(finished[key_of[point.name]], point))
                bar.update()
        if to_run:
            from distributed import as_completed

            from tcl_circuits.learning import preflight

            if announce and not scheduler:
                seconds = SWEEP_START_S + runs_seconds([p.config for p in to_run], workers)
                print(
                    f"estimate: {len(to_run)} runs on {workers} workers: about {preflight.duration(seconds)}",
                    flush=True,
                )
            with dask_client(workers, scheduler) as client:
                if announce and scheduler:
                    count = len(client.scheduler_info()["workers"])
                    seconds = runs_seconds([p.config for p in to_run], count)
                    print(
                        f"estimate: {len(to_run)} runs on {count} workers: about {preflight.duration(seconds)}",
                        flush=True,
                    )
                futures = [
                    client.submit(_point_row, p, str(points_dir), key=f"point-{p.name}", pure=False)
                    for p in to_run
                ]
                for future in as_completed(futures):
                    row = future.result()
                    table.append(row)
                    for twin in sharing[key_of[row["point"]]]:
                        table.append(_shared(row, twin))
                    bar.update(1 + len(sharing[key_of[row["point"]]]))
                    if row["status"] == "failed":
                        bar.write(f"point {row['point']} failed: {row['error']}")
        bar.close()
        summary_rows = aggregate(table.rows, spec.axes, spec.average_over)
        folder.write_csv(AGGREGATE, summary_rows)
        plotted = plot_sweep(
            summary_rows,
            [a for a in spec.axes if a not in spec.average_over],
            metric,
            folder.file(f"{metric}.png"),
        )
        folder.synced()
        failed = [row["point"] for row in table.rows if row["status"] == "failed"]
        return {
            "points": len(spec.points),
            "ran": len(to_run),
            "shared": len(pending) - len(to_run),
            "skipped": len(spec.points) - len(pending),
            "failed": len(failed),
            "seconds": time.perf_counter() - started,
            "results": str(folder.file(RESULTS)),
            "aggregate": str(folder.file(AGGREGATE)),
            "plot": str(folder.file(f"{metric}.png")) if plotted else None,
        }
