"""Run folders: owned by one run at a time, never deleting what the run did not create, resumed only by the
same run, with checkpoints and records whose integrity is checked.

A run folder is marked by ``run.json`` (written first): the run's fingerprint (configuration, task data and
code version, each with its SHA-256). ``--out`` must name a new or empty folder, or the folder of the same
run (then ``--resume`` continues it); anything else is refused before a single file is written. While a
run works in a folder it holds an exclusive OS lock on ``.lock``, so a second run on the same folder is
refused. Every file is replaced atomically and fsynced (``files.write_text_atomic``); per-sample records
are appended to ``samples.jsonl`` at each checkpoint and the checkpoint stores their count and SHA-256, so a
resume verifies them and cuts away what was written after the checkpoint.
"""

from __future__ import annotations

import base64
import csv
import fcntl
import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from tcl_circuits.checked import set_dotted
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.files import fsync_dir, loads_json, write_text_atomic

MARKER = "run.json"
LOCK = ".lock"
CHECKPOINT = "checkpoint.json"
RECORDS = "samples.jsonl"


def jsonable(value: Any) -> Any:
    """Enums, numpy scalars and arrays, tuples -> plain JSON types (recursively); NaN and infinities -> None."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


PACKED = "float64_base64"
"""The key of a packed array in a checkpoint (``pack_array``)."""


def pack_array(values: np.ndarray) -> dict:
    """A float array as little-endian float64 bytes in base64: exact, and written in milliseconds where the
    same numbers as JSON text take about a second (MNIST's 159,000 conductances at every checkpoint)."""
    data = np.ascontiguousarray(values, dtype="<f8")
    return {PACKED: base64.b64encode(data.tobytes()).decode("ascii"), "shape": list(data.shape)}


def unpack_array(value: Any) -> np.ndarray:
    """The array ``pack_array`` packed; a plain list (checkpoints written before packing) is read as it is."""
    if isinstance(value, dict):
        data = np.frombuffer(base64.b64decode(value[PACKED], validate=True), dtype="<f8")
        return data.reshape([int(n) for n in value["shape"]]).astype(float)
    return np.array(value, dtype=float)


def dumps(data: Any) -> str:
    """Strict JSON (never NaN), keys sorted: the form that is hashed and written."""
    return json.dumps(jsonable(data), indent=1, sort_keys=True, allow_nan=False)


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


Show = Callable[[str, Any], str]
"""How a message shows a setting's value, given its dotted key (``repr``, or a None spelled as --help does)."""


def differences(
    old: Any, new: Any, prefix: str = "", defaults: Any = None, show: Show | None = None
) -> list[str]:
    """Dotted keys at which two JSON values differ, with both values (for error messages). A key that ``old``
    lacks and ``new`` holds at its value in ``defaults`` (the same shape) is a setting added since ``old`` was
    written, at its default: not a difference; nor is a key that ``new`` lacks and ``old`` holds empty (a
    setting retired since, at its old default). ``show`` spells values (default: ``repr``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        known = defaults if isinstance(defaults, dict) else {}
        for key in sorted(set(old) | set(new)):
            if key not in old and key in known and new.get(key) == known[key]:
                continue
            if key not in new and old[key] in ([], None):
                continue
            out += differences(old.get(key), new.get(key), f"{prefix}{key}.", known.get(key), show)
        return out
    if old != new:
        key = prefix.rstrip(".")
        spell = show or (lambda _key, value: repr(value))
        return [f"{key}: {spell(key, old)} -> {spell(key, new)}"]
    return []


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted key of nested dicts (None where a level is missing)."""
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


class RecordLog:
    """Per-sample records: kept in memory, appended to a JSON-lines file at each checkpoint, with a running
    SHA-256 of the bytes written so that a checkpoint can vouch for exactly its records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict] = []
        self._written = 0
        self._hash = hashlib.sha256()

    def start(self) -> None:
        """A fresh log (the file is created empty)."""
        write_text_atomic(self.path, "")

    def resume(self, count: int, digest: str) -> None:
        """Load the first ``count`` records, verify them against ``digest`` and cut away the rest."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"{self.path.name} is missing: the run folder cannot be resumed") from None
        lines = data.split(b"\n")
        if len(lines) - 1 < count:
            raise DataError(
                f"{self.path.name} holds {len(lines) - 1} complete records, its checkpoint {count}: the folder was "
                "damaged or edited"
            )
        kept = b"".join(line + b"\n" for line in lines[:count])
        if sha256(kept) != digest:
            raise DataError(
                f"{self.path.name} does not match its checkpoint (checksum differs): the records were edited or "
                "mixed with another run's"
            )
        try:
            self.records = [json.loads(line) for line in lines[:count]]
        except ValueError as error:
            raise DataError(f"{self.path.name} is damaged: {error}") from None
        write_text_atomic(self.path, kept.decode())
        self._written = count
        self._hash = hashlib.sha256(kept)

    def append(self, record: dict) -> None:
        self.records.append(record)

    def flush(self) -> tuple[int, str]:
        """Append the records not yet on disk (fsynced); returns (count, SHA-256) for the checkpoint."""
        new = "".join(json.dumps(jsonable(r), allow_nan=False) + "\n" for r in self.records[self._written :])
        if new:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(new)
                handle.flush()
                os.fsync(handle.fileno())
            self._hash.update(new.encode())
        self._written = len(self.records)
        return self._written, self._hash.hexdigest()


def _check_path(path: Path, flag: str) -> None:
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == path else f"lies under the file {parent}"
            raise ConfigError(f"{flag} {path} {what}: give a folder")


def read_marker(marker: Path) -> dict:
    """run.json, verified: an object holding the fingerprint, whose digest matches it, and well-formed
    ``extended`` entries. Reads only: a resume and the tools that open a finished run both use it."""
    try:
        stored = loads_json(marker.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"{marker} is damaged ({error}); the folder cannot be resumed") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("fingerprint"), dict):
        found = "no 'fingerprint' object" if isinstance(stored, dict) else f"a {type(stored).__name__}"
        raise DataError(
            f"{marker} is damaged (expected an object holding the run's 'fingerprint', found {found}); "
            "the folder cannot be resumed"
        )
    digest = stored.get("fingerprint_sha256")
    if digest is not None and digest != sha256(dumps(stored["fingerprint"])):
        raise DataError(
            f"{marker} was edited: its fingerprint does not match its fingerprint_sha256; the folder "
            "cannot be resumed"
        )
    extended = stored.get("extended", [])
    if not isinstance(extended, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("fingerprint_sha256"), str) for entry in extended
    ):
        raise DataError(f"{marker} is damaged (its 'extended' entries); the folder cannot be resumed")
    return stored


def read_checkpoint(path: Path, fingerprints_sha256: tuple[str, ...]) -> dict:
    """A checkpoint's body, verified: its own checksum, and that it belongs to the run whose fingerprint
    digest (or one of its digests before an extension) is given. Reads only: export and plots use it on
    folders they do not own."""
    try:
        data = loads_json(path.read_text())
        body = {k: v for k, v in data.items() if k != "checksum"}
        checksum = data["checksum"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise DataError(
            f"{path} is damaged and cannot be resumed ({type(error).__name__}: {error})"
        ) from None
    if sha256(dumps(body)) != checksum:
        raise DataError(f"{path} was modified or damaged (its checksum does not match); it cannot be resumed")
    if body.get("fingerprint_sha256") not in fingerprints_sha256:
        raise DataError(f"{path} belongs to another run than {MARKER} describes")
    return body


class RunFolder:
    """The folder of one run, opened for that run only (see the module docstring).

    Parameters
    ----------
    path : the folder (``--out``).
    fingerprint : what identifies the run: {"config": ..., "data_sha256": ..., "code_version": ...}.
    resume : continue the run found in the folder (a fresh start when the folder is new or empty).
    defaults : the fingerprint of the default settings, same shape: a run written before a setting existed
        resumes when the setting is at its default.
    growing : dotted fingerprint keys a resume may raise but never lower, each with the flag that sets it
        (``{"config.learning.epochs": "--epochs"}``): the run is extended, and ``run.json`` records the new
        value with the digests it had before (its checkpoints stay valid).
    show : how messages spell a setting's value (``differences``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fingerprint: dict,
        *,
        resume: bool,
        flag: str = "--out",
        defaults: dict | None = None,
        growing: dict[str, str] | None = None,
        show: Show | None = None,
    ) -> None:
        if not os.fspath(path).strip():
            raise ConfigError(f"{flag} must name a folder, got an empty path")
        self.path = Path(path)
        self.flag = flag
        _check_path(self.path, flag)
        self.fingerprint = jsonable(fingerprint)
        self.fingerprint_sha256 = sha256(dumps(self.fingerprint))
        self.defaults = jsonable(defaults) if defaults is not None else None
        self.growing = growing or {}
        self.show = show
        self.earlier_sha256: list[str] = []
        """The digests this run's fingerprint had before it was extended (its older checkpoints carry them)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_handle = open(self.path / LOCK, "a+")  # noqa: SIM115 - held for the run's life
        except OSError as error:
            raise ConfigError(
                f"{flag} {self.path}: cannot create or write the folder ({error.strerror})"
            ) from None
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.seek(0)
            holder = self._lock_handle.read().strip() or "another process"
            self._lock_handle.close()
            raise ConfigError(
                f"{flag} {self.path} is in use by another run ({holder}); wait for it or choose another folder"
            ) from None
        self._lock_handle.seek(0)
        self._lock_handle.truncate()
        self._lock_handle.write(f"pid {os.getpid()}\n")
        self._lock_handle.flush()
        try:
            self.resuming = self._admit(resume)
        except BaseException:
            self.close()
            raise
        self.records = RecordLog(self.path / RECORDS)

    def _admit(self, resume: bool) -> bool:
        """True when continuing the run in the folder, False when starting one; refuses everything else."""
        marker = self.path / MARKER
        if marker.exists():
            stored = read_marker(marker)
            grown = self._grown(stored["fingerprint"])
            changed = differences(
                stored["fingerprint"], self.fingerprint, defaults=self.defaults, show=self.show
            )
            if changed:
                shown = "; ".join(changed[:4]) + (
                    f"; and {len(changed) - 4} more" if len(changed) > 4 else ""
                )
                raise ConfigError(
                    f"{self.flag} {self.path} holds a different run ({shown}); use the same settings to resume it, "
                    "or choose a new folder"
                )
            if not resume:
                raise ConfigError(
                    f"{self.flag} {self.path} already holds this run; add --resume to continue it, or choose a new folder"
                )
            # the same run, perhaps written before settings were added at their defaults: it keeps its identity
            self.fingerprint = stored["fingerprint"]
            self.fingerprint_sha256 = stored.get("fingerprint_sha256", sha256(dumps(self.fingerprint)))
            self.earlier_sha256 = [str(entry["fingerprint_sha256"]) for entry in stored.get("extended", [])]
            if grown:
                self._extend(marker, stored, grown)
            return (self.path / CHECKPOINT).exists()
        others = sorted(p.name for p in self.path.iterdir() if p.name != LOCK)
        if others:
            raise ConfigError(
                f"{self.flag} {self.path} is not empty and is not a run folder (it holds {', '.join(others[:3])}"
                f"{', ...' if len(others) > 3 else ''}); choose a new or empty folder: a run never writes among "
                "files it did not create"
            )
        write_text_atomic(
            marker, dumps({"fingerprint": self.fingerprint, "fingerprint_sha256": self.fingerprint_sha256})
        )
        return False

    def _grown(self, stored: dict) -> dict[str, tuple[Any, Any]]:
        """The growing keys this resume raises (old, new); lowering one is refused. ``self.fingerprint`` then
        holds the stored values there, so that only the other settings are compared."""
        grown = {}
        for key, flag in self.growing.items():
            old, new = value_at(stored, key), value_at(self.fingerprint, key)
            if old is None or new is None or old == new:
                continue
            if new < old:
                raise ConfigError(
                    f"{flag} {new}: the run in {self.flag} {self.path} has {old}; it can be extended (a larger "
                    f"{flag}), not shortened"
                )
            grown[key] = (old, new)
            self.fingerprint = set_dotted(self.fingerprint, key, old)
        return grown

    def _extend(self, marker: Path, stored: dict, grown: dict[str, tuple[Any, Any]]) -> None:
        """Record the extension in run.json: the new fingerprint and its digest, and the digest before it."""
        history = [
            *stored.get("extended", []),
            {
                "fingerprint_sha256": self.fingerprint_sha256,
                **{key: {"from": old, "to": new} for key, (old, new) in grown.items()},
            },
        ]
        for key, (_, new) in grown.items():
            self.fingerprint = set_dotted(self.fingerprint, key, new)
        self.earlier_sha256.append(self.fingerprint_sha256)
        self.fingerprint_sha256 = sha256(dumps(self.fingerprint))
        write_text_atomic(
            marker,
            dumps(
                {
                    "fingerprint": self.fingerprint,
                    "fingerprint_sha256": self.fingerprint_sha256,
                    "extended": history,
                }
            ),
        )

    # --- files -------------------------------------------------------------------------------------------
    def write_json(self, name: str, data: Any) -> None:
        write_text_atomic(self.path / name, dumps(data) + "\n")

    def write_text(self, name: str, text: str) -> None:
        write_text_atomic(self.path / name, text)

    def write_csv(self, name: str, rows: list[dict]) -> None:
        """Rows as CSV (columns: every key, in order of first appearance)."""
        if not rows:
            return
        columns = list(dict.fromkeys(key for row in rows for key in row))
        stream = io.StringIO()
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(jsonable(rows))
        self.write_text(name, stream.getvalue())

    def file(self, name: str) -> Path:
        """Path of a file this run writes by other means (plots, arrays); call ``synced`` after writing."""
        return self.path / name

    def synced(self) -> None:
        fsync_dir(self.path)

    # --- checkpoints ---------------------------------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Flush the records, then write the checkpoint with their count and SHA-256 and its own checksum."""
        count, digest = self.records.flush()
        body = {
            **jsonable(state),
            "records": count,
            "records_sha256": digest,
            "fingerprint_sha256": self.fingerprint_sha256,
        }
        self.write_json(CHECKPOINT, {**body, "checksum": sha256(dumps(body))})

    def load_checkpoint(self) -> dict:
        """The verified checkpoint (its checksum and fingerprint), with the records restored up to it."""
        body = read_checkpoint(self.path / CHECKPOINT, (self.fingerprint_sha256, *self.earlier_sha256))
        self.records.resume(int(body["records"]), str(body["records_sha256"]))
        return body

    def start_records(self) -> None:
        self.records.start()

    def close(self) -> None:
        handle = getattr(self, "_lock_handle", None)
        if handle is not None and not handle.closed:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


PER_SAMPLE_MEANS = ("frac_below", "frac_window", "frac_above", "cos_contrastive", "cos_gradient")
"""Per-sample measures a run summarises as means (each over the samples that recorded it)."""


def sample_means(sample_records: Iterable[dict]) -> dict[str, float]:
    """Means of the per-sample window fractions and update cosines over these records (those recorded)."""
    records = list(sample_records)
    out = {}
    for key in PER_SAMPLE_MEANS:
        values = [r[key] for r in records if r.get(key) is not None and np.isfinite(r[key])]
        if values:
            out[key] = float(np.mean(values))
    return out


def window_summary(sample_records: Iterable[dict], last: int = 50) -> dict[str, float]:
    """Means of the window fractions and update cosines over the last samples (cosines: over the last
    ``last`` that recorded one)."""
    records = list(sample_records)
    out = {f"{k}_last{last}": v for k, v in sample_means(records[-min(len(records), last) :]).items()}
    aligned = [r for r in records if "cos_gradient" in r][-last:]
    out.update({f"{k}_last{last}": v for k, v in sample_means(aligned).items() if k.startswith("cos_")})
    return out


def versions() -> dict[str, str]:
    """Versions of the packages a run depends on (for config.json)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("tcl_circuits", "numpy", "scipy", "networkx", "numba", "PySpice", "scikit-learn"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
