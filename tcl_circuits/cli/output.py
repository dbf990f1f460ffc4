"""What the commands read from the user and print back: a saved run config, and JSON on standard output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tcl_circuits.errors import ConfigError


def load_config_file(path: str) -> Any:
    """A RunConfig from a run's config.json (its "config" entry), a bare config JSON, or a TOML file."""
    from tcl_circuits.checked import from_dict
    from tcl_circuits.learning.run_config import RunConfig

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"--config {path}: cannot read it ({error.strerror})") from None
    try:
        if file.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            from tcl_circuits.files import loads_json

            data = loads_json(text)
    except ValueError as error:
        raise ConfigError(
            f"--config {path}: not valid {'TOML' if file.suffix.lower() == '.toml' else 'JSON'} ({error})"
        ) from None
    if isinstance(data, dict) and "config" in data and isinstance(data["config"], dict):
        data = data["config"]
    try:
        return from_dict(RunConfig, data)
    except ConfigError as error:
        raise ConfigError(f"--config {path}: {error}") from None


def print_json(data: Any) -> None:
    from tcl_circuits.learning.run_folder import dumps

    print(dumps(data))
