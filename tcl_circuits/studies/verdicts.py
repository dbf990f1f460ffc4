"""The feasibility report's verdicts as ``studies.feasibility`` decides them and ``studies.feasibility_report``
reads them: typed here, flattened to their names (``Verdicts.row``) only for verdicts.csv and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

VERDICT_KEYS = {
    "spread": "tolerated_cell_spread",
    "bits": "required_conductance_bits",
    "write_noise": "tolerated_write_noise",
    "offset": "tolerated_offset_spread_v",
}
"""The verdict each one-sided study answers (a field of ``Tolerances``)."""


@dataclass(frozen=True)
class Tolerances:
    """What the studies tolerate within the report's tolerance (None: none of the values tried)."""

    tolerated_cell_spread: float | None
    """Cell and clamp mismatch, log-normal sigma."""
    required_conductance_bits: float | None
    tolerated_write_noise: float | None
    """Log-normal sigma of each written change."""
    tolerated_offset_spread_v: float | None
    """Sigma of the per-edge threshold offset, volts."""
    tolerated_write_asymmetry_min: float | None
    """The asymmetry's tolerated range (rise / fall), its low end and its high end."""
    tolerated_write_asymmetry_max: float | None

    def of(self, study: str) -> float | None:
        """A one-sided study's verdict, by study name."""
        value: float | None = getattr(self, VERDICT_KEYS[study])
        return value

    def row(self, prefix: str = "") -> dict[str, float | None]:
        return {f"{prefix}{f.name}": getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class StudyVerdicts:
    """What the training studies found: the ideal run's loss ratio, the tolerances at the end of training and
    after its first epoch (most damage grows with training)."""

    ideal_loss_ratio: float
    """Final over initial held-out loss of the ideal run (NaN when it did not finish)."""
    final: Tolerances
    after_epoch_1: Tolerances


@dataclass(frozen=True)
class NoiseEffect:
    """The effect of one noise setting (a row of noise.csv) on the update, against the noiseless one."""

    source: str
    """Whose noise: ``R_K``, ``network`` or ``both`` (``studies.noise.NOISE_SOURCES``)."""
    temperature_k: float
    flicker_corner_hz: float
    """1/f corner; 0 for white noise."""
    rel_error: float
    """Mean |noisy - noiseless| / |noiseless| of the update."""
    cosine: float
    """Mean cosine of the noisy update with the noiseless one."""

    @property
    def name(self) -> str:
        """The setting in a verdict's name: ``noise_r_k_300k``, ``noise_network_300k_flicker_10000hz``."""
        corner = f"_flicker_{self.flicker_corner_hz:g}hz" if self.flicker_corner_hz else ""
        return f"noise_{self.source.lower()}_{self.temperature_k:g}k{corner}"


@dataclass(frozen=True)
class NoiseVerdicts:
    """The threshold against kT/C noise, the update under each noise setting measured, and the warmest
    temperature each source's white noise is tolerated at (None: not even the coldest)."""

    smallest_threshold_v: float
    worst_threshold_snr: float
    """The smallest threshold over its group's kT/C noise on C_K."""
    effects: tuple[NoiseEffect, ...]
    tolerated_temperature_k: dict[str, float | None]
    """By noise source measured, in the order measured."""

    def effect(self, source: str, temperature_k: float, flicker_corner_hz: float = 0.0) -> NoiseEffect | None:
        """The effect of one setting, None where it was not measured."""
        for effect in self.effects:
            if (effect.source, effect.temperature_k, effect.flicker_corner_hz) == (
                source,
                temperature_k,
                flicker_corner_hz,
            ):
                return effect
        return None

    def row(self) -> dict[str, Any]:
        return {
            "smallest_threshold_v": self.smallest_threshold_v,
            "worst_threshold_snr": self.worst_threshold_snr,
            **{
                f"{effect.name}_{key}": value
                for effect in self.effects
                for key, value in (("rel_error", effect.rel_error), ("cosine", effect.cosine))
            },
            **{
                f"tolerated_temperature_{source.lower()}_k": value
                for source, value in self.tolerated_temperature_k.items()
            },
        }


@dataclass(frozen=True)
class EnergyVerdicts:
    """The energy of one update: the analog cell's cycle in ngspice, and the behavioural ideal run's mean
    (None when its summary has none)."""

    energy_per_update_j: float
    energy_cells_per_update_j: float
    """The multipliers', threshold stages' and integrators' share."""
    energy_check_rel_error: float
    """What the sources delivered over the blocks' total, less one."""
    energy_network_per_update_j: float | None
    energy_feedback_per_update_j: float | None

    def row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Verdicts:
    """Everything the report concludes: the one row of verdicts.csv, what the command line prints."""

    studies: StudyVerdicts
    noise: NoiseVerdicts
    time_per_update_s: float
    """One sawtooth period."""
    energy: EnergyVerdicts
    update_bits_median: float | None
    """The resolution the ideal run's requested updates need: median and 90th percentile, bits."""
    update_bits_p90: float | None

    def row(self) -> dict[str, Any]:
        """The verdicts by name, in verdicts.csv's column order."""
        return {
            "ideal_loss_ratio": self.studies.ideal_loss_ratio,
            **self.studies.final.row(),
            **self.studies.after_epoch_1.row("after_epoch_1_"),
            **self.noise.row(),
            "time_per_update_s": self.time_per_update_s,
            **self.energy.row(),
            "update_bits_median": self.update_bits_median,
            "update_bits_p90": self.update_bits_p90,
        }
