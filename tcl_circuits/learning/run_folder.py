"""Run-folder I/O shared by every training loop: JSON that survives a crash, CSV records, versions."""

from __future__ import annotations

import csv
import json
import os
from enum import Enum
from pathlib import Path

import numpy as np


def jsonable(value):
    """Enums, numpy scalars and arrays, tuples -> plain JSON types (recursively)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path: Path, data: dict) -> None:
    """Write atomically: a crash leaves either the old or the new file, never half of one."""
    _replace_text(path, json.dumps(jsonable(data), indent=1))


def _replace_text(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file and a rename, so the file is never half written."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class SampleLog:
    """The per-sample records of a run, kept in memory and appended to ``samples.jsonl`` at each checkpoint.

    Checkpoints hold only the record count: rewriting every record into each checkpoint made checkpointing
    cost grow with the square of the run's length. On resume the file is cut back to the checkpoint's count,
    which drops records written after the last checkpoint (their samples are run again) and a line left half
    written by a crash.
    """

    FILE = "samples.jsonl"

    def __init__(self, out: Path, state: dict | None = None) -> None:
        """A fresh log in ``out``, or with ``state`` (a loaded checkpoint) the log of the run it resumes."""
        self.path = out / self.FILE
        self.records: list[dict] = []
        if state is None:
            self.path.unlink(missing_ok=True)
        elif "sample_records" in state:  # checkpoints written before the log existed
            self.records = list(state["sample_records"])
            write_lines(self.path, self.records)
        else:
            count = int(state["sample_count"])
            with open(self.path) as handle:
                self.records = [json.loads(line) for line, _ in zip(handle, range(count), strict=False)]
            if len(self.records) != count:
                raise ValueError(
                    f"{self.path} holds {len(self.records)} complete records, the checkpoint {count}"
                )
            write_lines(self.path, self.records)
        self._written = len(self.records)

    def append(self, record: dict) -> None:
        self.records.append(record)

    def flush(self) -> dict:
        """Append the records not yet on disk; returns what a checkpoint stores to resume this log."""
        with open(self.path, "a") as handle:
            for record in self.records[self._written :]:
                handle.write(json.dumps(jsonable(record)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._written = len(self.records)
        return {"sample_count": self._written}


def write_lines(path: Path, records: list[dict]) -> None:
    """``records`` as JSON lines, replacing the file atomically."""
    _replace_text(path, "".join(json.dumps(jsonable(r)) + "\n" for r in records))


def versions() -> dict[str, str]:
    """Versions of the packages a run depends on (for config.json)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("tcl_circuits", "numpy", "scipy", "networkx", "PySpice"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def write_records(out: Path, sample_records: list[dict], epoch_records: list[dict]) -> None:
    """samples.csv and epochs.csv."""
    for name, rows in (("samples.csv", sample_records), ("epochs.csv", epoch_records)):
        if not rows:
            continue
        with open(out / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(rows)


def window_summary(sample_records: list[dict], last: int = 50) -> dict[str, float]:
    """Mean fraction of edges below, inside and above the learning window over the last samples."""
    if not sample_records or "frac_window" not in sample_records[-1]:
        return {}
    tail = sample_records[-min(len(sample_records), last) :]
    return {
        f"{key}_last{last}": float(np.mean([r[key] for r in tail]))
        for key in ("frac_below", "frac_window", "frac_above")
    }


def summary_core(
    *,
    rule: str,
    backend: str,
    task: str,
    edges: int,
    epochs: int,
    threshold_v: float,
    initial_test_loss: float,
    sample_records: list[dict],
    epoch_records: list[dict],
    seconds: float,
) -> dict:
    """The summary.json keys every training mode reports (losses in V^2, energies in J per sample)."""
    energies = [r["energy_network_j"] for r in sample_records]
    feedback = [r["energy_feedback_j"] for r in sample_records]
    final = epoch_records[-1]["test_loss"]
    return {
        "rule": rule,
        "backend": backend,
        "task": task,
        "edges": edges,
        "initial_test_loss": initial_test_loss,
        "final_test_loss": final,
        "loss_ratio": final / initial_test_loss if initial_test_loss else float("nan"),
        "initial_train_loss": epoch_records[0]["train_loss"],
        "final_train_loss": epoch_records[-1]["train_loss"],
        "epochs": epochs,
        "samples": len(sample_records),
        "seconds": seconds,
        "seconds_per_sample": seconds / max(1, len(sample_records)),
        "energy_per_sample_j": float(np.mean(energies)) if energies else float("nan"),
        "feedback_energy_per_sample_j": float(np.mean(feedback)) if feedback else float("nan"),
        "threshold_v": threshold_v,
    }
