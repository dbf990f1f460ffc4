"""The feasibility report: what a circuit designer asks first of a TCL network, answered by measurement.

``run_feasibility`` trains the network many times through the sweep machinery (``studies.sweep``, on Dask):
a Monte Carlo over mismatch (every cell's R_K, C_K, threshold and accumulator gain and every output's clamp
conductance G_c off by a log-normal factor, ``trials`` seeded draws per sigma, the same data in every trial), a sweep over the
conductance resolution, one over programming variability (``trials // 4`` seeds each, at least 4) and one over
the threshold offset (a normal per-edge offset of g(u - offset), sigma in units of the calibrated threshold,
``trials // 4`` draws, at least 4) and one over the devices' up/down asymmetry (a rise written sqrt(a) times
larger, a fall sqrt(a) times smaller; ``trials // 4`` seeds, a tolerated range on both sides of 1). It adds
what follows from the calibrated cell without simulation: the threshold against the kT/C noise of C_K, and
the time per update from the protocol. ``report.md`` gathers the numbers, the curves and a verdict table
("learns to within ``tolerance`` x the ideal final/initial loss when ...").

The energy per update by block comes from one cycle with the analog cell in ngspice (``energy.csv``), checked
against what the sources delivered; the thermal noise of R_K, of the network's resistors and of both is
simulated on the update (``noise.csv``). Each study's relative loss is also given after each epoch (most damage
grows with training). What it does not cover, and says so in the report: the learning studies run the
behavioural cell, a resistor network's write energy is not counted, and noise is measured on the update only
(1/f noise and noisy training: ``scripts/noise_effect.py``).

This module measures and decides; ``studies.feasibility_report`` writes report.md from what it found.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tcl_circuits.config import BackendKind, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.studies.energy import analog_energy_rows
from tcl_circuits.studies.noise import (
    TEMPERATURE_K,
    simulable_sources,
    threshold_noise_rows,
    update_noise_rows,
)
from tcl_circuits.studies.results import upgraded_summary
from tcl_circuits.studies.sweep import RESULTS, SWEEP_START_S, run_key, run_sweep, runs_seconds
from tcl_circuits.studies.sweep_spec import SweepSpec, parse_spec
from tcl_circuits.studies.verdicts import (
    VERDICT_KEYS,
    EnergyVerdicts,
    NoiseEffect,
    NoiseVerdicts,
    StudyVerdicts,
    Tolerances,
    Verdicts,
)

if TYPE_CHECKING:
    from tcl_circuits.learning.run_folder import RunFolder

SPREAD_FIELDS = "cell.spread_r_k,cell.spread_c_k,cell.spread_threshold,cell.spread_gain,cell.spread_clamp"
SPREAD_FIELDS_BEFORE_CLAMP = "cell.spread_r_k,cell.spread_c_k,cell.spread_threshold,cell.spread_gain"
"""The mismatch axis of reports written before G_c joined it: they differ from today's, and are not resumed."""
SPREADS = (0.0, 0.05, 0.1, 0.2, 0.4)
BITS = (6, 8, 10, 12, 14, 16, 20, 32)
"""Conductance resolutions swept; 32 bits is the analog reference (its steps are far below any update)."""
WRITE_NOISES = (0.0, 0.1, 0.3, 0.5, 1.0)
NOISE_TEMPERATURES_K = (75.0, 300.0, 1200.0)
"""Temperatures of R_K's thermal noise whose effect on the update the report measures."""
FLICKER_CORNERS_HZ = (1e4, 1e5, 1e6)
"""1/f corners of R_K's and the network's noise at room temperature whose effect on the update the report
measures (white above the corner)."""
OFFSETS_OF_THETA = (0.0, 0.1, 0.3, 1.0, 3.0)
"""Threshold-offset spreads swept, in units of the smallest calibrated threshold (the report converts them to
volts on its network)."""
ASYMMETRIES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.4, 2.0)
"""Up/down asymmetries of the devices swept (a rise's written size over a fall's); on the 16x16 lattice 0.5
and 2 already cost 12x and 3x the ideal loss."""


@dataclass(frozen=True)
class Study:
    """One sweep of the report: its folder name, the axis it varies, the axis it averages over, its values."""

    name: str
    axis: str
    average_over: str
    values: tuple
    title: str
    ideal_is_largest: bool = False
    """Where the ideal run sits on the axis: no mismatch or noise (the smallest value), or the finest
    resolution (the largest)."""
    ideal: float | None = None
    """An ideal inside the axis (matched devices: asymmetry 1): the study has a tolerated range on each side."""

    @property
    def ideal_value(self) -> float:
        if self.ideal is not None:
            return self.ideal
        return float(max(self.values) if self.ideal_is_largest else min(self.values))


STUDIES = (
    Study("spread", SPREAD_FIELDS, "cell.spread_seed", SPREADS, "cell and clamp mismatch (log-normal sigma)"),
    Study("bits", "write.conductance_bits", "learning.seed", BITS, "conductance resolution (bits)", True),
    Study(
        "write_noise", "write.write_noise", "learning.seed", WRITE_NOISES, "write noise (log-normal sigma)"
    ),
    Study(
        "offset",
        "cell.spread_offset_v",
        "cell.spread_seed",
        OFFSETS_OF_THETA,
        "threshold offset (sigma / theta)",
    ),
    Study(
        "asymmetry",
        "write.write_asymmetry",
        "learning.seed",
        ASYMMETRIES,
        "device up/down asymmetry (rise / fall)",
        ideal=1.0,
    ),
)


def study_spec(base: RunConfig, study: Study, trials: int) -> SweepSpec:
    """The sweep of one study on ``base``: ``trials`` mismatch draws for the cell mismatch, else
    max(4, trials // 4) seeds or offset draws."""
    repeats = trials if study.name == "spread" else max(4, trials // 4)
    first = base.cell.spread_seed if study.average_over == "cell.spread_seed" else base.learning.seed
    return parse_spec(
        {
            "base": to_dict(base),
            "average_over": [study.average_over],
            "grid": {study.axis: list(study.values), study.average_over: {"range": [first, first + repeats]}},
        },
        where=f"feasibility {study.name}",
    )


def _done_rows(folder: Path) -> list[dict[str, str]]:
    """A study's finished runs, from its results.csv."""
    return [
        r
        for r in csv.DictReader((folder / RESULTS).read_text().splitlines())
        if r["status"] == "done" and r["loss_ratio"]
    ]


def _paired(rows: list[dict[str, str]], study: Study, ratios: dict[str, Any]) -> dict[float, list]:
    """Per value of the study's axis: each row's ratio (``ratios[point]``, a number or one per epoch) divided by
    that of the ideal run with the same seed or mismatch draw. Pairing removes the spread between the seeds'
    tasks, which would otherwise hide the effect under study."""
    reference = {
        r[study.average_over]: ratios[r["point"]] for r in rows if float(r[study.axis]) == study.ideal_value
    }
    paired: dict[float, list] = {}
    for r in rows:
        ideal, ratio = reference.get(r[study.average_over]), ratios[r["point"]]
        if ideal is not None and np.shape(ideal) == np.shape(ratio) and np.all(ideal != 0):
            paired.setdefault(float(r[study.axis]), []).append(np.divide(ratio, ideal))
    return paired


def study_curves(
    folder: Path, study: Study
) -> tuple[list[tuple[float, float, float, int]], dict[float, float]]:
    """From a study's results.csv: (value, mean, standard deviation, runs) of each run's final/initial loss
    divided by that of the ideal run with the same seed or mismatch draw (``_paired``), sorted by value; and
    the plain mean loss ratio per value."""
    rows = _done_rows(folder)
    ratios = {r["point"]: float(r["loss_ratio"]) for r in rows}
    plain: dict[float, list[float]] = {}
    for r in rows:
        plain.setdefault(float(r[study.axis]), []).append(ratios[r["point"]])
    relative = sorted(
        (value, float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, len(v))
        for value, v in _paired(rows, study, ratios).items()
    )
    return relative, {value: float(np.mean(v)) for value, v in plain.items()}


def epoch_curves(folder: Path, study: Study) -> dict[float, list[float]]:
    """Per value of a study: the mean relative loss (as ``study_curves``) after each epoch, from the runs'
    ``epochs.csv``. Most damage grows with training (a coarse resolution, an offset, an asymmetry drift), so a
    verdict holds for the training length it was measured at; this shows which way it moves."""
    rows = _done_rows(folder)
    by_run: dict[str, np.ndarray] = {}
    for run in {r["run"] for r in rows}:
        epochs = list(csv.DictReader((folder / "points" / run / "epochs.csv").read_text().splitlines()))
        losses = np.array([float(e["test_loss"]) for e in epochs])
        by_run[run] = losses[1:] / losses[0]
    ratios = {r["point"]: by_run[r["run"]] for r in rows}
    return {
        value: [float(m) for m in np.mean(v, axis=0)]
        for value, v in sorted(_paired(rows, study, ratios).items())
    }


def tolerated(
    curve: list[tuple[float, float, float, int]], reference: float, tolerance: float, *, larger_is_worse: bool
) -> float | None:
    """The largest (or, for resolutions, the smallest) value whose mean loss ratio stays within
    ``tolerance`` x ``reference``, scanning from the ideal end until the first value that does not."""
    ordered = curve if larger_is_worse else curve[::-1]
    found = None
    for value, mean, _, _ in ordered:
        if mean > tolerance * reference:
            break
        found = value
    return found


def tolerated_range(
    curve: list[tuple[float, float, float, int]], reference: float, tolerance: float, ideal: float
) -> tuple[float | None, float | None]:
    """For an axis with its ideal inside (``Study.ideal``): the smallest and the largest value within
    ``tolerance`` x ``reference``, each scanning outwards from the ideal until the first value that does not."""
    low = tolerated([p for p in curve if p[0] <= ideal], reference, tolerance, larger_is_worse=False)
    high = tolerated([p for p in curve if p[0] >= ideal], reference, tolerance, larger_is_worse=True)
    return low, high


def run_feasibility(
    base: RunConfig,
    out: str | Path,
    *,
    trials: int = 32,
    tolerance: float = 2.0,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    studies: tuple[Study, ...] = STUDIES,
    announce: bool = False,
) -> Verdicts:
    """Run the report's sweeps on ``base`` into ``out`` (a run folder of its own) and write ``report.md``,
    ``verdicts.csv`` and ``threshold_noise.csv``; returns the verdicts. ``studies``: the studies of
    ``STUDIES`` with other values (``dataclasses.replace(study, values=...)``), in that order.

    The verdicts (``studies.verdicts``) are what report.md reads; flattened by name (``Verdicts.row``, a name
    per noise setting measured) they are the one row of verdicts.csv and what the command line prints.
    ``announce``: print the time it will take first (``feasibility_seconds``)."""
    from tcl_circuits.learning.run_folder import RunFolder
    from tcl_circuits.studies.feasibility_report import ReportInputs, report_text

    _check_settings(base, trials, tolerance, studies)
    fingerprint, defaults = _fingerprint(base, trials, studies)
    threshold_noise = threshold_noise_rows(base)  # builds the task: a bad network is refused before any file
    theta_v = min(r["threshold_v"] for r in threshold_noise)
    studies = _offset_in_volts(studies, theta_v)
    if announce:
        from tcl_circuits.learning.preflight import duration

        seconds = feasibility_seconds(base, studies, trials, workers, Path(out))
        print(f"estimate: about {duration(seconds)} on {workers} workers", flush=True)
    with RunFolder(out, fingerprint, resume=resume, defaults=defaults) as folder:
        folder.write_csv("threshold_noise.csv", threshold_noise)
        energy_rows = _measure_energy(base, folder, progress)
        noise_update, sources, left_out = _measure_update_noise(base, folder, progress)
        curves, absolute, by_epoch = _run_studies(
            base, studies, trials, folder, workers=workers, scheduler=scheduler, progress=progress
        )
        baseline = _baseline_summary(folder.file("spread"))
        verdicts = Verdicts(
            studies=_study_verdicts(studies, curves, absolute, by_epoch, tolerance),
            noise=_noise_verdicts(threshold_noise, noise_update, sources),
            time_per_update_s=base.drive.period_s,
            energy=_energy_verdicts(energy_rows, baseline),
            update_bits_median=baseline.get("update_bits_median"),
            update_bits_p90=baseline.get("update_bits_p90"),
        )
        _plot(studies, curves, by_epoch, theta_v, tolerance, folder.file("feasibility.png"))
        folder.write_csv("verdicts.csv", [verdicts.row()])
        inputs = ReportInputs(
            base=base,
            trials=trials,
            tolerance=tolerance,
            curves=curves,
            absolute=absolute,
            by_epoch=by_epoch,
            verdicts=verdicts,
            threshold_noise=threshold_noise,
            energy_rows=energy_rows,
            noise_update=noise_update,
            left_out=left_out,
        )
        folder.write_text("report.md", report_text(inputs))
        folder.synced()
        return verdicts


CLUSTER_RESTART_S = 2.0
"""Each study after the first starts a LocalCluster of its own, in a process whose imports are done."""
NOISE_CYCLES = 128
"""Cycles ``_measure_update_noise`` simulates: 2 samples x (noiseless, 3 references, 4 draws x (3 white
temperatures x 3 sources + 3 flicker corners x 2 sources))."""
NOISY_S_PER_EDGE_KNOT = 6e-8
"""A noisy cycle, per edge and noise knot (every tau_K / NOISE_SAMPLES_PER_TAU_K; each cell its own): the
report's 128 noisy cycles took 1.2 s on a 3x3 lattice and 15.7 s on an 8x8 one (18,200 knots a cycle)."""
ANALOG_CYCLE_FACTOR = 3.0
"""The analog cell's cycle in ngspice against preflight's behavioural one (three subcircuits per edge)."""
MEASUREMENTS_START_S = 1.5
"""The energy and noise measurements' own start: tasks, calibrations, an ngspice worker."""


def feasibility_seconds(
    base: RunConfig, studies: tuple[Study, ...], trials: int, workers: int, folder: Path
) -> float:
    """The estimated wall time of a report: its ngspice cycle and noisy cycles, then each study's runs not yet
    in ``folder`` (a resumed report), shared runs counted once, each study on a cluster of its own."""
    from tcl_circuits.circuit.compile import NOISE_SAMPLES_PER_TAU_K
    from tcl_circuits.learning.preflight import NATIVE_S_FIXED, estimate
    from tcl_circuits.learning.tasks import make_task

    task = make_task(base.task, base.learning.seed)
    knots = base.drive.period_s / (base.cell.tau_k_s / NOISE_SAMPLES_PER_TAU_K)
    noisy = NATIVE_S_FIXED + NOISY_S_PER_EDGE_KNOT * task.student.n_edges * knots
    analog = estimate(dataclasses.replace(base, backend=BackendKind.NGSPICE), task).seconds_per_sample
    seconds = MEASUREMENTS_START_S + NOISE_CYCLES * noisy + ANALOG_CYCLE_FACTOR * analog
    for index, study in enumerate(studies):
        results = folder / study.name / RESULTS
        rows = csv.DictReader(results.read_text().splitlines()) if results.exists() else []
        done = {row["point"] for row in rows}
        pending = {
            run_key(p.config): p.config for p in study_spec(base, study, trials).points if p.name not in done
        }
        if pending:
            seconds += (CLUSTER_RESTART_S if index else SWEEP_START_S) + runs_seconds(
                list(pending.values()), workers
            )
    return seconds


def _check_settings(base: RunConfig, trials: int, tolerance: float, studies: tuple[Study, ...]) -> None:
    """Refuse what the report cannot answer before anything runs or any file is written."""
    if base.memristor_device is not None:
        raise ConfigError(
            "the feasibility report covers resistor networks (--device resistor)", field="device"
        )
    if not 2 <= trials <= 10_000:
        raise ConfigError(f"--trials must be from 2 to 10,000, got {trials}", field="trials")
    if not 1 < tolerance < np.inf:
        raise ConfigError(f"--tolerance must be a finite number above 1, got {tolerance}", field="tolerance")
    for study in studies:
        if study.ideal is not None and study.ideal not in study.values:
            raise ConfigError(f"the {study.name} study must include its ideal value {study.ideal:g}")
    if [s.name for s in studies] != [s.name for s in STUDIES]:
        names = ", ".join(s.name for s in STUDIES)
        raise ConfigError(f"studies must be the {names} studies, in that order")


def _fingerprint(
    base: RunConfig, trials: int, studies: tuple[Study, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report folder's fingerprint (a resume must match it), and the defaults that stand for what a report
    written by an earlier version left out."""
    # the studies of the first report keep their list; each later one its own key, so that a report written
    # before it existed resumes (the new study at its default values is an addition, not a difference)
    later = {f"values_{s.name}": list(s.values) for s in studies[4:]}
    fingerprint = {
        "feasibility": to_dict(base),
        "trials": trials,
        "values": [list(s.values) for s in studies[:4]],
        **later,
        "mismatch_axis": SPREAD_FIELDS,
    }
    defaults = {
        **fingerprint,
        "feasibility": to_dict(RunConfig()),
        **{f"values_{s.name}": list(s.values) for s in STUDIES[4:]},
        "mismatch_axis": SPREAD_FIELDS_BEFORE_CLAMP,
    }
    return fingerprint, defaults


def _offset_in_volts(studies: tuple[Study, ...], theta_v: float) -> tuple[Study, ...]:
    """The studies with the offset's values, given in thresholds, in volts on this network."""
    offset = studies[3]
    in_volts = dataclasses.replace(offset, values=tuple(f * theta_v for f in offset.values))
    return (*studies[:3], in_volts, *studies[4:])


def _measure_energy(base: RunConfig, folder: RunFolder, progress: bool) -> list[dict[str, Any]]:
    """The energy of one update by block, into energy.csv."""
    if progress:
        print("energy by block: one cycle with the analog cell in ngspice")
    energy_rows = analog_energy_rows(base)
    folder.write_csv("energy.csv", energy_rows)
    return energy_rows


def _measure_update_noise(
    base: RunConfig, folder: RunFolder, progress: bool
) -> tuple[list[dict[str, Any]], tuple[str, ...], str | None]:
    """The update's error under white noise at each temperature, then 1/f noise at room temperature, into
    noise.csv; with the sources the engine could add noise to, and why any other was left out."""
    if progress:
        print("thermal noise of R_K and of the network: noisy against noiseless updates")
    sources, left_out = simulable_sources(base)
    noise_update = update_noise_rows(base, list(NOISE_TEMPERATURES_K), draws=4, samples=2, sources=sources)
    if progress:
        print("1/f noise of R_K and of the network at room temperature")
    noise_update += update_noise_rows(
        base,
        [TEMPERATURE_K],
        draws=4,
        samples=2,
        sources=tuple(s for s in sources if s != "both"),
        flicker_corners_hz=FLICKER_CORNERS_HZ,
    )
    folder.write_csv("noise.csv", noise_update)
    return noise_update, sources, left_out


def _run_studies(
    base: RunConfig,
    studies: tuple[Study, ...],
    trials: int,
    folder: RunFolder,
    *,
    workers: int,
    scheduler: str | None,
    progress: bool,
) -> tuple[dict[str, list], dict[str, dict[float, float]], dict[str, dict[float, list[float]]]]:
    """Each study's sweep in its own subfolder (finished runs are kept), then per study its curve
    (``study_curves``: relative and plain) and its curve after each epoch (``epoch_curves``)."""
    curves, absolute, by_epoch = {}, {}, {}
    for study in studies:
        if progress:
            print(f"{study.title}: {study.name}/")
        run_sweep(
            study_spec(base, study, trials),
            folder.file(study.name),
            workers=workers,
            scheduler=scheduler,
            resume=True,
            progress=progress,
        )
        curves[study.name], absolute[study.name] = study_curves(folder.file(study.name), study)
        by_epoch[study.name] = epoch_curves(folder.file(study.name), study)
    return curves, absolute, by_epoch


def _study_verdicts(
    studies: tuple[Study, ...],
    curves: dict[str, list],
    absolute: dict[str, dict[float, float]],
    by_epoch: dict[str, dict[float, list[float]]],
    tolerance: float,
) -> StudyVerdicts:
    """The ideal run's loss ratio, and what each study tolerates at the end and after the first epoch."""
    first = {s.name: _after_first_epoch(by_epoch[s.name]) for s in studies}
    return StudyVerdicts(
        ideal_loss_ratio=absolute["spread"].get(studies[0].ideal_value, float("nan")),
        final=_tolerances(curves, studies, tolerance),
        after_epoch_1=_tolerances(first, studies, tolerance),
    )


def _noise_verdicts(
    threshold_noise: list[dict[str, Any]], noise_update: list[dict[str, Any]], sources: tuple[str, ...]
) -> NoiseVerdicts:
    """The threshold against kT/C, the update's error and cosine per noise row, and the warmest temperature
    each source's noise is tolerated at."""
    return NoiseVerdicts(
        smallest_threshold_v=min(r["threshold_v"] for r in threshold_noise),
        worst_threshold_snr=min(r["snr"] for r in threshold_noise),
        effects=tuple(
            NoiseEffect(
                source=r["source"],
                temperature_k=r["temperature_k"],
                flicker_corner_hz=r.get("flicker_corner_hz") or 0.0,
                rel_error=r["rel_error_mean"],
                cosine=r["cosine_mean"],
            )
            for r in noise_update
        ),
        tolerated_temperature_k={source: tolerated_temperature_k(noise_update, source) for source in sources},
    )


def _energy_verdicts(energy_rows: list[dict[str, Any]], baseline: dict[str, Any]) -> EnergyVerdicts:
    """The analog cycle's energy per update (all of it, the cells', the sources' check) and the behavioural
    ideal run's (``baseline``, its summary)."""
    by_block = {row["block"]: row["energy_j"] for row in energy_rows}
    return EnergyVerdicts(
        energy_per_update_j=by_block["total"],
        energy_cells_per_update_j=sum(by_block[stage] for stage in ("multiplier", "threshold", "integrator")),
        energy_check_rel_error=by_block["delivered by all sources (ngspice)"] / by_block["total"] - 1,
        energy_network_per_update_j=_blocks_j(baseline, ("network", "clamps", "network_and_clamps")),
        energy_feedback_per_update_j=_blocks_j(baseline, ("feedback_rk",)),
    )


def _blocks_j(summary: dict[str, Any], blocks: tuple[str, ...]) -> float | None:
    """The sum of some measured blocks of a run summary's bill (None without a summary)."""
    bill = upgraded_summary(summary).get("energy_per_update_j")
    if not bill:
        return None
    return float(sum(bill["by_block"].get(block) or 0.0 for block in blocks))


def _plot(
    studies: tuple[Study, ...],
    curves: dict[str, list],
    by_epoch: dict[str, dict[float, list[float]]],
    theta_v: float,
    tolerance: float,
    path: Path,
) -> None:
    """feasibility.png: each study's relative loss, the offset's axis back in thresholds."""
    from tcl_circuits.learning.plots import plot_feasibility

    shown = {s.title: curves[s.name] for s in studies}
    shown[studies[3].title] = [(v / theta_v, *rest) for v, *rest in curves["offset"]]
    earlier = {s.title: by_epoch[s.name] for s in studies}
    earlier[studies[3].title] = {v / theta_v: m for v, m in by_epoch["offset"].items()}
    plot_feasibility(shown, {s.title: 1.0 for s in studies}, tolerance, path, by_epoch=earlier)


def _tolerances(
    curves: dict[str, list[tuple[float, float, float, int]]], studies: tuple[Study, ...], tolerance: float
) -> Tolerances:
    """The verdicts the studies' ``curves`` give: each one-sided study's tolerated value (``VERDICT_KEYS``) and
    the asymmetry's tolerated range."""
    found = {
        VERDICT_KEYS[s.name]: tolerated(
            curves[s.name], 1.0, tolerance, larger_is_worse=not s.ideal_is_largest
        )
        for s in studies
        if s.ideal is None
    }
    asymmetry = studies[4]
    low, high = tolerated_range(curves[asymmetry.name], 1.0, tolerance, asymmetry.ideal_value)
    return Tolerances(**found, tolerated_write_asymmetry_min=low, tolerated_write_asymmetry_max=high)


def _after_first_epoch(by_epoch: dict[float, list[float]]) -> list[tuple[float, float, float, int]]:
    """A study's curve after its runs' first epoch, in ``study_curves``' form (spread and count left out)."""
    return [(value, means[0], 0.0, 0) for value, means in by_epoch.items() if means]


NOISE_COSINE = 0.9
"""A noisy update is still the update while its mean cosine with the noiseless one stays at least this."""


def tolerated_temperature_k(noise_rows: list[dict[str, Any]], source: str) -> float | None:
    """The highest temperature of white noise from ``source`` at which the update keeps a mean cosine of
    ``NOISE_COSINE`` with the noiseless one, scanning up from the coldest until the first that does not."""
    rows = sorted(
        (r for r in noise_rows if r["source"] == source and not r.get("flicker_corner_hz")),
        key=lambda r: r["temperature_k"],
    )
    found = None
    for row in rows:
        if not row["cosine_mean"] >= NOISE_COSINE:
            break
        found = row["temperature_k"]
    return found


def _baseline_summary(spread_folder: Path) -> dict[str, Any]:
    """The summary of the ideal trial (zero mismatch, first seed) of the mismatch study."""
    import json

    for row in csv.DictReader((spread_folder / RESULTS).read_text().splitlines()):
        if row["status"] == "done" and float(row[SPREAD_FIELDS]) == 0.0:
            return json.loads((spread_folder / "points" / row["run"] / "summary.json").read_text())
    return {}
