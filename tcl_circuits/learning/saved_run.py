"""A run folder read back, never written: its configuration, its task rebuilt as the run built it, its
conductances (final, or at the last checkpoint) and the cycle its bench would simulate.

Exports and plots of a run use this: they must show the run's own network, so the task rebuilt from
config.json is checked against the data digest of run.json (a graph file or the code changed since is one
line, not a silently different network), and a checkpoint is verified as a resume verifies it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tcl_circuits.circuit.cell_design import CellDesign
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.circuit.ir import Circuit
from tcl_circuits.config import RuleKind, SawtoothConfig, from_dict
from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.files import loads_json
from tcl_circuits.learning.rules import calibrate_for_run
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.run_folder import (
    CHECKPOINT,
    MARKER,
    dumps,
    read_checkpoint,
    read_marker,
    sha256,
    unpack_array,
)
from tcl_circuits.learning.tasks import RegressionTask, make_task
from tcl_circuits.learning.writes import ConductanceWrites
from tcl_circuits.network.spec import NetworkSpec

FINAL_CONDUCTANCES = "final_conductance_s.npy"


@dataclass(frozen=True)
class SavedRun:
    """A resistor run's folder, its configuration and its task (data and initial network, as trained)."""

    path: Path
    config: RunConfig
    task: RegressionTask
    fingerprints_sha256: tuple[str, ...]
    """run.json's digest and those before extensions: a checkpoint must carry one of them."""

    def conductances(self, *, checkpoint: bool = False) -> np.ndarray:
        """The edges' conductances (S): at the end of the run, or at its last checkpoint."""
        if checkpoint:
            body = read_checkpoint(self.path / CHECKPOINT, self.fingerprints_sha256)
            try:
                values = unpack_array(body["learner"]["conductance_s"])
            except (KeyError, TypeError, ValueError) as error:
                raise DataError(f"{self.path / CHECKPOINT}: no conductances in it ({error})") from None
            where = self.path / CHECKPOINT
        else:
            where = self.path / FINAL_CONDUCTANCES
            if not where.is_file():
                raise DataError(
                    f"{where} does not exist: the run is unfinished (add --checkpoint for its last checkpoint)"
                )
            try:
                values = np.load(where, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise DataError(f"{where} cannot be read ({error})") from None
        n = self.task.student.n_edges
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise DataError(f"{where}: expected {n} finite conductances, found shape {values.shape}")
        return np.asarray(values, dtype=float)

    def initial_network(self) -> NetworkSpec:
        """The network as the run's devices first held it (conductances on their levels, if any)."""
        return ConductanceWrites(self.config.write, self.config.learning.seed).initial(self.task.student)

    def network(self, conductance_s: np.ndarray, sample: int) -> NetworkSpec:
        """The network at these conductances with training sample ``sample``'s input voltages and targets."""
        x, y = self.sample(sample)
        spec = self.initial_network().with_conductances(conductance_s)
        return dataclasses.replace(spec, input_voltage_v=x, target_v=y)

    def sample(self, sample: int) -> tuple[np.ndarray, np.ndarray]:
        """Training sample ``sample`` (data order): inputs and targets, volts."""
        n = len(self.task.x_train)
        if not 0 <= sample < n:
            raise ConfigError(f"--sample {sample}: the run has training samples 0 to {n - 1}")
        return self.task.x_train[sample], self.task.y_train[sample]

    def cycle_settings(self) -> tuple[CellDesign, SawtoothConfig]:
        """The cells as the run built them (calibrated on its first training samples at the initial
        conductances) and its drive; where the bench scaled the threshold or the nudge as it went, as they
        stood at the last checkpoint."""
        config = self.config
        design = calibrate_for_run(config.cell, self.initial_network(), self.task, config.drive)
        drive = config.drive
        tracks = config.learning.rule is RuleKind.TCL and config.window.active
        if tracks and (self.path / CHECKPOINT).is_file():
            window = read_checkpoint(self.path / CHECKPOINT, self.fingerprints_sha256)["learner"]["window"]
            design = design.with_threshold_scaled(float(window["theta_v"]) / design.theta_v)
            drive = drive.replace(beta_max=float(window["beta_max"]))
        return design, drive

    def cycle(
        self, conductance_s: np.ndarray, sample: int, title: str
    ) -> tuple[Circuit, CellDesign, SawtoothConfig]:
        """One TCL cycle of the network at these conductances on training sample ``sample``, with the run's
        own cells, drive and simulator settings, as ``compile`` writes it (accumulators measured); with the
        cells and the drive it used."""
        design, drive = self.cycle_settings()
        spec = self.network(conductance_s, sample)
        circuit = compile_tcl(
            spec,
            drive=drive,
            cell=design,
            sim=self.config.sim,
            inputs_v=spec.input_voltage_v,
            targets_v=spec.target_v,
            title=title,
            measure_accumulators=True,
        )
        return circuit, design, drive


def open_run(path: str | os.PathLike[str]) -> SavedRun:
    """The resistor run in folder ``path`` (RUN), checked: run.json's digest, config.json, and the task rebuilt
    from it against the run's data digest."""
    folder = Path(path)
    if not (folder / MARKER).is_file() or not (folder / "config.json").is_file():
        raise ConfigError(f"RUN {folder} is not a run folder (no {MARKER} and config.json)")
    stored = read_marker(folder / MARKER)
    fingerprint = stored["fingerprint"]
    digest = stored.get("fingerprint_sha256", sha256(dumps(fingerprint)))
    earlier = tuple(entry["fingerprint_sha256"] for entry in stored.get("extended", []))
    try:
        saved = loads_json((folder / "config.json").read_text(encoding="utf-8"))
        config = from_dict(RunConfig, saved["config"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise DataError(f"RUN {folder} cannot be read ({type(error).__name__}: {error})") from None
    if config.memristor_device is not None:
        raise ConfigError(
            f"RUN {folder} is a memristor run ({config.device}): its network is devices and their states "
            "(final_states.npy), not conductances a resistor deck can hold"
        )
    task = make_task(config.task, config.learning.seed)
    if task.fingerprint() != fingerprint.get("data_sha256"):
        raise DataError(
            f"RUN {folder}: the task rebuilt from config.json is not the run's (data_sha256 in {MARKER} "
            "differs): its graph file, data or the code changed since the run"
        )
    return SavedRun(folder, config.for_task(task), task, (digest, *earlier))
