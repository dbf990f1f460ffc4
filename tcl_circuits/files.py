"""Writing files so that a crash or a second process never leaves half of one, and reading JSON and TOML
strictly.

``write_text_atomic`` writes to a uniquely named temporary file in the same folder, flushes it to disk,
renames it over the target and flushes the folder entry: a reader sees the old file or the new one, and two
writers never share a temporary file.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from tcl_circuits.errors import ConfigError, DataError


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` by ``text`` atomically and durably (fsync of the file and its folder)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically and durably (fsync of the file and its folder)."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename or a new file) to disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def loads_json(text: str) -> Any:
    """``json.loads``, but a key given twice in one object is a DataError (a ValueError) naming it (json keeps
    the last one silently)."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DataError(f"the key {key!r} is given twice in one object")
        out[key] = value
    return out


def read_toml(path: str | os.PathLike[str], where: str, what: str = "it") -> dict[str, Any]:
    """The TOML document in ``path``, or a ConfigError of one line naming ``where``: "cannot read ``what``"
    (missing, unreadable, not UTF-8, a name with a NUL in it) or "not valid TOML"."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as error:  # ValueError: a NUL in the name
        reason = (
            error.strerror
            if isinstance(error, OSError)
            else ("not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error))
        )
        raise ConfigError(f"{where}: cannot read {what} ({reason})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML ({error})") from None
