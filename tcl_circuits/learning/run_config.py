"""RunConfig: everything that defines a training run, resistor or memristor, in one validated tree.

It is stored in every run folder's config.json, hashed into the run's fingerprint (a resume must match it),
loaded back by ``--config FILE``, and the command line of ``tcl-circuits train`` is generated from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tcl_circuits.checked import Checked, from_dict, param, to_dict
from tcl_circuits.config import (
    BackendKind,
    CellKind,
    FeedbackCellConfig,
    LearningConfig,
    ProgrammingMode,
    RuleKind,
    SawtoothConfig,
    SimulatorConfig,
    StreamConfig,
    WindowConfig,
    WriteConfig,
)
from tcl_circuits.devices import Device, DriveKind, ProgrammingConfig, WindowKind, preset
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import check_timescales
from tcl_circuits.learning.tasks import RegressionTask, TaskConfig
from tcl_circuits.technology.model import COMPARATOR_KINDS, Technology, technology

RESISTOR = "resistor"


@dataclass(frozen=True, kw_only=True)
class MemristorConfig(Checked):
    """Memristor networks: device spread, range mapping, read scale, programming port and the sample stream."""

    spread_cv: float = param(
        0.0,
        help="device-to-device spread sigma/mu of resistances, thresholds and rates",
        flag="--spread",
        minimum=0,
        maximum=1,
    )
    range_widening: float = param(
        1.5,
        help="the device range covers the initial conductances widened by this factor at each end",
        minimum=1,
        maximum=1000,
    )
    read_scale_v: float | None = param(
        None,
        unit="V",
        help="volts per task volt on inputs and targets",
        above=0,
        none="auto: from the device thresholds and read_margin",
    )
    state_window: WindowKind | None = param(
        None,
        help="window function of the device's state equation (biolek, joglekar, rectangular; VTEAM and the "
        "linear-drift models)",
        none="the preset's",
    )
    state_window_p: int | None = param(
        None, help="exponent p of the state window", minimum=1, maximum=50, none="the preset's"
    )
    programming: ProgrammingConfig = param(ProgrammingConfig())
    stream: StreamConfig = param(StreamConfig())

    @property
    def window_field(self) -> str | None:
        """The first state-window setting given (for error messages), None when the preset's window stands."""
        if self.state_window is not None:
            return "state_window"
        return "state_window_p" if self.state_window_p is not None else None

    def device(self, model: str) -> Device:
        """The preset ``model`` with this config's state window, where set."""
        device = preset(model)
        changes: dict[str, Any] = {}
        if self.state_window is not None:
            changes["window"] = self.state_window
        if self.state_window_p is not None:
            changes["window_p"] = self.state_window_p
        if not changes:
            return device
        if not hasattr(device, "window"):
            raise ConfigError(
                f"the {model} device has no state window to set (VTEAM and the linear-drift models have one)",
                field=self.window_field,
            )
        if self.state_window_p is not None and changes.get("window", device.window) is WindowKind.RECTANGULAR:
            raise ConfigError("the rectangular state window has no exponent", field="state_window_p")
        return dataclasses.replace(device, **changes)


def parse_device(text: str) -> tuple[str, ProgrammingMode] | None:
    """``resistor`` -> None; ``memristor:<model>[:<device|cell>]`` -> (preset name, programming mode).

    Without a mode, threshold devices (VTEAM, Yakopcic) use their own threshold and the drift models (hp,
    biolek, joglekar) the cell's.
    """
    if text.strip().lower() == RESISTOR:
        return None
    parts = [p.strip().lower() for p in str(text).split(":")]
    if len(parts) not in (2, 3) or parts[0] != "memristor":
        raise ConfigError(
            f"device must be resistor or memristor:<model>[:device|cell], got {text!r}", field="device"
        )
    try:
        device = preset(parts[1])
    except ConfigError as error:
        raise ConfigError(str(error), field="device") from None
    if len(parts) == 3:
        try:
            mode = ProgrammingMode(parts[2])
        except ValueError:
            raise ConfigError(
                f"device programming mode must be 'device' or 'cell', got {parts[2]!r}", field="device"
            ) from None
    else:
        mode = (
            ProgrammingMode.CELL_THRESHOLD
            if device.drive_kind is DriveKind.CURRENT
            else ProgrammingMode.DEVICE_THRESHOLD
        )
    return parts[1], mode


@dataclass(frozen=True, kw_only=True)
class TechnologyConfig(Checked):
    """The technology whose non-idealities the run's settings hold (``train --tech``, applied by
    ``learning.hardware``), remembered so that the energy bill can price the blocks the engine does not
    simulate. A record of the run, never part of a netlist; no flag of its own (``--tech`` sets it)."""

    name: str | None = param(
        None,
        help="PROCESS+DEVICE applied (a preset name or a TOML file's path each)",
        none="none: the bill's priced blocks are left unpriced",
        cli=False,
    )
    comparator: str = param(
        "auto_zeroed", help="the threshold comparison's kind (--comparator with --tech)", cli=False
    )
    r_k_type: str = param("metal", help="R_K's resistor type (--r-k-type with --tech)", cli=False)

    def check(self) -> None:
        if self.comparator not in COMPARATOR_KINDS:
            raise ConfigError(
                f"technology.comparator must be one of {', '.join(COMPARATOR_KINDS)}, got {self.comparator!r}",
                field="comparator",
            )
        tech = self.model()
        if tech is not None and self.r_k_type not in tech.cmos.resistor_flicker_corner_hz:
            known = ", ".join(tech.cmos.resistor_flicker_corner_hz)
            raise ConfigError(
                f"technology.r_k_type must be one of {known} ({tech.cmos.name}), got {self.r_k_type!r}",
                field="r_k_type",
            )

    def model(self) -> Technology | None:
        """The process and device named, parsed (None without a technology)."""
        return None if self.name is None else technology(self.name)


@dataclass(frozen=True, kw_only=True)
class RunConfig(Checked):
    """A training run: task, device, backend, protocol, cell, simulator, learning and memristor settings."""

    task: TaskConfig = param(TaskConfig())
    device: str = param(
        RESISTOR,
        help="resistor (the controller rewrites conductances between samples) or memristor:MODEL[:device|cell] "
        "(learning entirely in the circuit; MODEL: vteam, vteam_symmetric, hp, biolek, joglekar, yakopcic)",
    )
    backend: BackendKind | None = param(
        None,
        help="simulator",
        none="auto: native for resistor networks, ngspice for memristor networks and the analog cell",
    )
    drive: SawtoothConfig = param(SawtoothConfig(tau_rise_s=1e-5, tau_fall_s=9e-4))
    cell: FeedbackCellConfig = param(
        FeedbackCellConfig(tau_k_s=5e-7, threshold_v=None, threshold_headroom=None)
    )
    sim: SimulatorConfig = param(SimulatorConfig())
    learning: LearningConfig = param(LearningConfig(learning_rate_s2_per_v2=None))
    window: WindowConfig = param(WindowConfig())
    write: WriteConfig = param(WriteConfig())
    memristor: MemristorConfig = param(MemristorConfig())
    technology: TechnologyConfig = param(TechnologyConfig())

    def for_task(self, task: RegressionTask) -> RunConfig:
        """These settings with the task's own defaults filled in (the auto threshold's headroom), so that a run
        stores, and resumes by, the values it used."""
        cell = task.with_own_headroom(self.cell)
        return self if cell is self.cell else self.replace(cell=cell)

    def check(self) -> None:
        self.drive.check_learning_order()
        check_timescales(self.cell.tau_k_s, self.drive.tau_rise_s, self.drive.tau_fall_s)
        memristor = parse_device(self.device)
        if self.cell.kind is CellKind.ANALOG:
            if self.backend is BackendKind.NATIVE:
                raise ConfigError(
                    "the analog cell runs in ngspice only: its stages saturate at their rails and carry poles "
                    "and a slew limit, which the native engine's closed-form cell integration does not model",
                    field="backend",
                )
            if memristor is not None:
                raise ConfigError(
                    "the analog cell is built for resistor networks; memristor cells have their own circuit",
                    field="kind",
                )
        if memristor is not None and self.cell.signal_gain != 1:
            from tcl_circuits.circuit.compile_stream import MEMRISTOR_SIGNAL_GAIN

            raise ConfigError(MEMRISTOR_SIGNAL_GAIN, field="signal_gain")
        if memristor is not None and self.technology.name is not None:
            raise ConfigError(
                "technology describes a resistor network's devices and cells (--device resistor)",
                field="tech",
            )
        if memristor is None:
            field = self.memristor.window_field
            if field is not None:
                raise ConfigError(f"{field} applies to memristor networks", field=field)
            return
        self.memristor.device(memristor[0])  # a window the model cannot take is refused here
        if self.learning.rule is not RuleKind.TCL:
            raise ConfigError(
                f"memristor networks learn inside the circuit by TCL only, got rule {self.learning.rule.value}",
                field="rule",
            )
        if self.backend is BackendKind.NATIVE:
            raise ConfigError(
                "memristor networks run in ngspice only (the native engine has no device models)",
                field="backend",
            )
        if self.learning.lr_decay != 1.0:
            raise ConfigError(
                "lr_decay applies to resistor networks (the controller's write scale); a memristor network's step "
                "is its circuit's",
                field="lr_decay",
            )
        if self.write != WriteConfig():
            changed = next(k for k, v in to_dict(self.write).items() if v != getattr(WriteConfig(), k))
            raise ConfigError(
                "conductance_bits, rounding, write_noise, write_asymmetry, dead_fraction and range_spread apply to resistor networks; a memristor's "
                "writes are its device model's (its asymmetry: rate_asymmetry)",
                field=changed,
            )
        spread = [
            name
            for name in (
                *FeedbackCellConfig.SPREAD_FIELDS,
                "threshold_offset_v",
                "spread_offset_v",
                "spread_clamp",
                "noise_temperature_k",
            )
            if getattr(self.cell, name)
        ]
        if spread:
            raise ConfigError(
                f"{spread[0]} (cell mismatch) applies to resistor networks' feedback cells", field=spread[0]
            )
        if self.sim.node_capacitance_f:
            raise ConfigError(
                "node_capacitance_f applies to resistor networks; memristor streams have none",
                field="node_capacitance_f",
            )
        if self.sim.network_noise_temperature_k:
            raise ConfigError(
                "network_noise_temperature_k applies to resistor networks; memristor streams have no noise yet",
                field="network_noise_temperature_k",
            )
        if self.sim.verify_every:
            raise ConfigError(
                "verify_every applies to the native engine; memristor streams already run in ngspice",
                field="verify_every",
            )

    @property
    def memristor_device(self) -> tuple[str, ProgrammingMode] | None:
        """(preset name, programming mode) of a memristor run, None for a resistor run."""
        return parse_device(self.device)

    @property
    def resolved_backend(self) -> BackendKind:
        if self.backend is not None:
            return self.backend
        analog = self.cell.kind is CellKind.ANALOG
        return BackendKind.NGSPICE if self.memristor_device or analog else BackendKind.NATIVE


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


def show_setting(key: str, value: Any) -> str:
    """A fingerprint value as a message shows it: a None as ``--help`` spells it (``the task's own (teacher
    50, mnist 2,000)``, ``auto (...)``), not as ``None``; anything else as ``repr``. ``key`` is dotted, as in
    ``config.task.test_samples``."""
    if value is not None or not key.startswith("config."):
        return repr(value)
    owner: Any = RunConfig
    *path, name = key.split(".")[1:]
    for part in path:
        found = {f.name: f for f in dataclasses.fields(owner)}.get(part)
        if found is None or found.default_factory is dataclasses.MISSING:  # nested configs have factories
            return repr(value)
        owner = type(found.default_factory())
    meaning = next((f.metadata.get("none") for f in dataclasses.fields(owner) if f.name == name), None)
    if not meaning:
        return repr(value)
    word, _, detail = meaning.partition(":")
    return f"{word.strip()} ({detail.strip()})" if detail.strip() else word.strip()
