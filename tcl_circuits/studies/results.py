"""Run and sweep folders read back as pandas DataFrames, for notebooks and analysis scripts.

``load_run`` reads a run folder, finished or not (an unfinished run has no samples.csv yet: its records come
from samples.jsonl, whose lines are written at each checkpoint); ``load_sweep`` reads a sweep folder's
results.csv, refusing rows whose ``row_sha256`` does not match (an edited loss), and aggregate.csv when the
sweep has written it. Both only read: they never lock, create or change a file in the folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcl_circuits.errors import DataError
from tcl_circuits.files import loads_json
from tcl_circuits.learning.run_folder import MARKER, RECORDS
from tcl_circuits.physics.energy_bill import ANALOG_STAGES, MEASURED_BLOCKS
from tcl_circuits.studies.sweep import AGGREGATE, DIGEST, RESULTS, check_rows

if TYPE_CHECKING:
    import pandas as pd

SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class RunResults:
    """A run folder as tables: one row per presented sample and per epoch (epoch 0: before learning)."""

    path: Path
    config: dict
    """The run's configuration (config.json's ``config``)."""
    summary: dict | None
    """summary.json of the finished run (an older one in today's shape, ``upgraded_summary``); None while
    the run is unfinished."""
    samples: pd.DataFrame
    epochs: pd.DataFrame

    @property
    def finished(self) -> bool:
        return self.summary is not None


@dataclass(frozen=True)
class SweepResults:
    """A sweep folder as tables: one row per finished point, and the means over seeds when written."""

    path: Path
    spec: dict
    """sweep.json: the base config, the axes and every point's values."""
    results: pd.DataFrame
    aggregate: pd.DataFrame | None
    """aggregate.csv; None until the sweep has written it."""


def _json(path: Path) -> Any:
    try:
        return loads_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{path} cannot be read ({error})") from None


def _folder(path: str | os.PathLike[str], wanted: str) -> Path:
    """The folder, if it is a run folder (wanted 'run') or a sweep folder ('sweep'); else one line saying why."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    if not (folder / MARKER).is_file():
        raise DataError(f"{folder} is not a {wanted} folder (it has no {MARKER})")
    is_sweep = (folder / SWEEP_FILE).is_file()
    if wanted == "run" and is_sweep:
        raise DataError(f"{folder} is a sweep folder: read it with load_sweep")
    if wanted == "sweep" and not is_sweep:
        raise DataError(f"{folder} is not a sweep folder (it has no {SWEEP_FILE}): read a run with load_run")
    return folder


def _csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise DataError(f"{path} cannot be read ({error})") from None


def _records(path: Path) -> pd.DataFrame:
    """samples.jsonl: its complete lines (a crash may cut the last), list-valued fields left out as in
    samples.csv."""
    import pandas as pd

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return pd.DataFrame()
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror})") from None
    rows = []
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        try:
            record = json.loads(line)
        except ValueError as error:
            raise DataError(f"{path}:{number} is damaged ({error})") from None
        rows.append({k: v for k, v in record.items() if not isinstance(v, list)})
    return pd.DataFrame(rows)


OLD_PRICED = {"tcl": ["quiescent", "dynamic", "readout", "writes"]}
"""The blocks an older summary (with ``energy_per_sample_j``) left unpriced, by rule (others: the writes)."""


def upgraded_summary(summary: dict) -> dict:
    """A summary.json in today's shape: one written before the whole bill (``energy_per_sample_j``, the
    network's and clamps' energy, ``feedback_energy_per_sample_j``, R_K's, and ``energy_by_block_j`` where
    measured) gets ``energy_per_update_j`` from them, with the blocks it never priced named in ``unpriced``,
    and no time per update (it recorded none); a current one is returned as it is."""
    if "energy_per_update_j" in summary or "energy_per_sample_j" not in summary:
        return summary
    out = {
        k: v
        for k, v in summary.items()
        if k not in ("energy_per_sample_j", "feedback_energy_per_sample_j", "energy_by_block_j")
    }
    measured = summary.get("energy_by_block_j")
    if isinstance(measured, dict):
        by_block = {MEASURED_BLOCKS.get(k, k): v for k, v in measured.items()}
    else:
        by_block = {"network_and_clamps": summary["energy_per_sample_j"]}
        if summary.get("feedback_energy_per_sample_j"):
            by_block["feedback_rk"] = summary["feedback_energy_per_sample_j"]
    held = {"quiescent"} if any(stage in by_block for stage in ANALOG_STAGES) else set()  # in the stages
    unpriced = [
        b for b in OLD_PRICED.get(summary.get("rule", ""), ["writes"]) if b not in by_block and b not in held
    ]
    by_block.update(dict.fromkeys(unpriced))
    total = sum(v for v in by_block.values() if isinstance(v, int | float))
    edges = summary.get("edges")
    out["energy_per_update_j"] = {
        "total": total,
        "per_edge": total / edges if isinstance(edges, int) and edges > 0 else None,
        "by_block": by_block,
        "unpriced": unpriced,
        "pulses_per_update": None,
        "technology": None,
    }
    out["time_per_update_s"] = None
    return out


def load_run(path: str | os.PathLike[str]) -> RunResults:
    """A run folder (``train --out``) as DataFrames ``samples`` and ``epochs`` with its ``config`` and
    ``summary``; an unfinished run (or one being extended) reads its records from samples.jsonl and has no
    summary."""
    import pandas as pd

    folder = _folder(path, "run")
    saved = _json(folder / "config.json")
    if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
        raise DataError(f"{folder / 'config.json'} is damaged (no 'config' object)")
    config = saved["config"]
    summary = _json(folder / "summary.json") if (folder / "summary.json").is_file() else None
    epochs_asked = config.get("learning", {}).get("epochs")
    if not isinstance(summary, dict) or summary.get("epochs") != epochs_asked:
        summary = None  # unfinished, or extended since this summary was written
    finished = summary is not None and (folder / "samples.csv").is_file()
    samples = _csv(folder / "samples.csv") if finished else _records(folder / RECORDS)
    epochs = _csv(folder / "epochs.csv") if (folder / "epochs.csv").is_file() else pd.DataFrame()
    shown = upgraded_summary(summary) if finished and summary is not None else None
    return RunResults(folder, config, shown, samples, epochs)


def load_sweep(path: str | os.PathLike[str]) -> SweepResults:
    """A sweep folder (``sweep --out``) as DataFrames: ``results`` (one row per finished point; an edited row
    is a DataError naming it) and ``aggregate`` (None until written), with the sweep's ``spec``."""
    import pandas as pd

    folder = _folder(path, "sweep")
    spec = _json(folder / SWEEP_FILE)
    table = folder / RESULTS
    try:
        lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError as error:
        raise DataError(f"{table} cannot be read ({error.strerror})") from None
    complete = lines[:1] + [line for line in lines[1:] if line.endswith("\n")]  # a crash may cut the last
    header = next(csv.reader(lines[:1]), [])
    if DIGEST in header:
        rows = list(csv.DictReader(complete))
        check_rows(rows, [name for name in header if name != DIGEST], table)
    text = "".join(complete)
    results = pd.read_csv(io.StringIO(text)) if text.strip() else pd.DataFrame()
    results = results.drop(columns=[DIGEST], errors="ignore")
    aggregate = _csv(folder / AGGREGATE) if (folder / AGGREGATE).is_file() else None
    return SweepResults(folder, spec if isinstance(spec, dict) else {}, results, aggregate)
