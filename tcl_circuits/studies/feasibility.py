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
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tcl_circuits.circuit.ir import BOLTZMANN_J_PER_K
from tcl_circuits.config import BackendKind, CellKind, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.studies.noise import (
    TEMPERATURE_K,
    kt_over_c_noise_v,
    simulable_sources,
    update_noise_rows,
)
from tcl_circuits.studies.sweep import RESULTS, run_sweep
from tcl_circuits.studies.sweep_spec import SweepSpec, parse_spec

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


def threshold_noise_rows(base: RunConfig) -> list[dict[str, Any]]:
    """The calibrated threshold of each edge group against the kT/C noise of C_K, and the C_K (at the same
    tau_K) that would put the threshold at 10 sigma."""
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task

    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell, task.student, task, base.drive)
    noise = kt_over_c_noise_v(base.cell.c_k_f)
    groups = list(cell.calibration.group_thresholds_v) or [("all edges", cell.theta_v)]
    return [
        {
            "group": group,
            "threshold_v": theta,
            "c_k_f": base.cell.c_k_f,
            "kt_over_c_noise_v": noise,
            "snr": theta / noise,
            "c_k_for_10_sigma_f": 100 * BOLTZMANN_J_PER_K * TEMPERATURE_K / theta**2,
        }
        for group, theta in groups
    ]


def analog_energy_rows(base: RunConfig) -> list[dict[str, Any]]:
    """The energy of one update by block, with the analog cell (``base.cell.analog``, threshold calibrated as
    in a run) on the first training sample, simulated in ngspice: each block from node voltages
    (``physics.energy.energy_bill_j``), then the total of every independent source's delivered energy from
    its branch current, and the relative difference of the two (the check)."""
    from tcl_circuits.backends import open_backend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.learning.rules import calibrate_for_run
    from tcl_circuits.learning.tasks import make_task
    from tcl_circuits.physics.energy import energy_bill_j, source_energy_j

    task = make_task(base.task, base.learning.seed)
    cell = calibrate_for_run(base.cell.replace(kind=CellKind.ANALOG), task.student, task, base.drive)
    x, y = task.x_train[0], task.y_train[0]
    circuit = compile_tcl(task.student, drive=base.drive, cell=cell, sim=base.sim, inputs_v=x, targets_v=y)
    with open_backend(BackendKind.NGSPICE, base.sim) as backend:
        result = backend.run(circuit)
    bill = energy_bill_j(circuit, result)
    total = sum(bill.values())
    delivered = sum(source_energy_j(circuit, result).values())
    rows = [{"block": block, "energy_j": energy, "share": energy / total} for block, energy in bill.items()]
    rows.append({"block": "total", "energy_j": total, "share": 1.0})
    rows.append(
        {"block": "delivered by all sources (ngspice)", "energy_j": delivered, "share": delivered / total}
    )
    return rows


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
) -> dict[str, Any]:
    """Run the report's sweeps on ``base`` into ``out`` (a run folder of its own) and write ``report.md``,
    ``verdicts.csv`` and ``threshold_noise.csv``; returns the verdicts. ``studies``: the studies of
    ``STUDIES`` with other values (``dataclasses.replace(study, values=...)``), in that order."""
    from tcl_circuits.learning.plots import plot_feasibility
    from tcl_circuits.learning.run_folder import RunFolder

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
    noise_rows = threshold_noise_rows(base)  # builds the task: a bad network is refused before any file
    theta_v = min(r["threshold_v"] for r in noise_rows)
    offset = studies[3]
    in_volts = dataclasses.replace(offset, values=tuple(f * theta_v for f in offset.values))
    studies = (*studies[:3], in_volts, *studies[4:])
    defaults = {
        **fingerprint,
        "feasibility": to_dict(RunConfig()),
        **{f"values_{s.name}": list(s.values) for s in STUDIES[4:]},
        "mismatch_axis": SPREAD_FIELDS_BEFORE_CLAMP,
    }
    with RunFolder(out, fingerprint, resume=resume, defaults=defaults) as folder:
        folder.write_csv("threshold_noise.csv", noise_rows)
        if progress:
            print("energy by block: one cycle with the analog cell in ngspice")
        energy_rows = analog_energy_rows(base)
        folder.write_csv("energy.csv", energy_rows)
        if progress:
            print("thermal noise of R_K and of the network: noisy against noiseless updates")
        sources, left_out = simulable_sources(base)
        noise_update = update_noise_rows(
            base, list(NOISE_TEMPERATURES_K), draws=4, samples=2, sources=sources
        )
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
        ideal = absolute["spread"].get(studies[0].ideal_value, float("nan"))
        first = {s.name: _after_first_epoch(by_epoch[s.name]) for s in studies}
        verdicts = {
            "ideal_loss_ratio": ideal,
            **_tolerances(curves, studies, tolerance),
            **{f"after_epoch_1_{k}": v for k, v in _tolerances(first, studies, tolerance).items()},
            "smallest_threshold_v": theta_v,
            "worst_threshold_snr": min(r["snr"] for r in noise_rows),
            **{
                f"noise_{r['source'].lower()}_{r['temperature_k']:g}k{_corner_key(r)}_{key}": r[f"{key}_mean"]
                for r in noise_update
                for key in ("rel_error", "cosine")
            },
            **{
                f"tolerated_temperature_{source.lower()}_k": tolerated_temperature_k(noise_update, source)
                for source in sources
            },
            "time_per_update_s": base.drive.period_s,
        }
        baseline = _baseline_summary(folder.file("spread"))
        by_block = {row["block"]: row["energy_j"] for row in energy_rows}
        verdicts.update(
            energy_per_update_j=by_block["total"],
            energy_cells_per_update_j=sum(
                by_block[stage] for stage in ("multiplier", "threshold", "integrator")
            ),
            energy_check_rel_error=by_block["delivered by all sources (ngspice)"] / by_block["total"] - 1,
            energy_network_per_update_j=baseline.get("energy_per_sample_j"),
            energy_feedback_per_update_j=baseline.get("feedback_energy_per_sample_j"),
            update_bits_median=baseline.get("update_bits_median"),
            update_bits_p90=baseline.get("update_bits_p90"),
        )
        shown = {s.title: curves[s.name] for s in studies}
        shown[studies[3].title] = [(v / theta_v, *rest) for v, *rest in curves["offset"]]
        earlier = {s.title: by_epoch[s.name] for s in studies}
        earlier[studies[3].title] = {v / theta_v: m for v, m in by_epoch["offset"].items()}
        plot_feasibility(
            shown,
            {s.title: 1.0 for s in studies},
            tolerance,
            folder.file("feasibility.png"),
            by_epoch=earlier,
        )
        folder.write_csv("verdicts.csv", [verdicts])
        folder.write_text(
            "report.md",
            _report(
                base,
                trials,
                tolerance,
                curves,
                absolute,
                by_epoch,
                verdicts,
                noise_rows,
                energy_rows,
                noise_update,
                left_out,
            ),
        )
        folder.synced()
        return verdicts


VERDICT_KEYS = {
    "spread": "tolerated_cell_spread",
    "bits": "required_conductance_bits",
    "write_noise": "tolerated_write_noise",
    "offset": "tolerated_offset_spread_v",
}
"""The verdict each one-sided study answers."""


def _tolerances(
    curves: dict[str, list[tuple[float, float, float, int]]], studies: tuple[Study, ...], tolerance: float
) -> dict[str, float | None]:
    """The verdicts the studies' ``curves`` give: each one-sided study's tolerated value (``VERDICT_KEYS``) and
    the asymmetry's tolerated range."""
    found: dict[str, float | None] = {
        VERDICT_KEYS[s.name]: tolerated(
            curves[s.name], 1.0, tolerance, larger_is_worse=not s.ideal_is_largest
        )
        for s in studies
        if s.ideal is None
    }
    asymmetry = studies[4]
    low, high = tolerated_range(curves[asymmetry.name], 1.0, tolerance, asymmetry.ideal_value)
    return {**found, "tolerated_write_asymmetry_min": low, "tolerated_write_asymmetry_max": high}


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


def _corner_key(row: dict[str, Any]) -> str:
    """A noise row's 1/f corner in a verdict's name ('' for white noise)."""
    corner = row.get("flicker_corner_hz", 0.0)
    return f"_flicker_{corner:g}hz" if corner else ""


def _baseline_summary(spread_folder: Path) -> dict[str, Any]:
    """The summary of the ideal trial (zero mismatch, first seed) of the mismatch study."""
    import json

    for row in csv.DictReader((spread_folder / RESULTS).read_text().splitlines()):
        if row["status"] == "done" and float(row[SPREAD_FIELDS]) == 0.0:
            return json.loads((spread_folder / "points" / row["run"] / "summary.json").read_text())
    return {}


def _number(value: Any, form: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, form)


def _bound(value: float | None, curve: list, relation: str) -> str:
    """The verdict's value, saying when it is the end of the range tried (the true limit lies beyond)."""
    if value is None:
        return "none of the values tried"
    values = [v for v, *_ in curve]
    if relation.endswith("<=") and value == max(values):
        return f"{relation.replace('<=', '>=')} {value:g} (the largest tried)"
    if relation == ">=" and value == min(values):
        return f"<= {value:g} (the fewest tried)"
    return f"{relation} {value:g}"


def _range(low: float | None, high: float | None, curve: list) -> str:
    """A two-sided verdict: the tolerated range, saying where it reaches an end of the range tried."""
    if low is None or high is None:
        return "none of the values tried"
    values = [v for v, *_ in curve]
    if low == high:
        return f"only the matched {low:g} of those tried"
    left = f"{low:g} (the smallest tried) or less" if low == min(values) else f"{low:g}"
    right = f"{high:g} (the largest tried) or more" if high == max(values) else f"{high:g}"
    return f"from {left} to {right}"


def _report(
    base: RunConfig,
    trials: int,
    tolerance: float,
    curves: dict[str, list],
    absolute: dict[str, dict[float, float]],
    by_epoch: dict[str, dict[float, list[float]]],
    verdicts: dict[str, Any],
    noise_rows: list[dict[str, Any]],
    energy_rows: list[dict[str, Any]],
    noise_update: list[dict[str, Any]],
    noise_left_out: str | None = None,
) -> str:
    task = base.task

    def bounds(name: str, relation: str, unit: str = "") -> str:
        key = VERDICT_KEYS[name]
        now = _bound(verdicts[key], curves[name], relation) + unit
        then = _bound(verdicts[f"after_epoch_1_{key}"], curves[name], relation) + unit
        return now if then == now or base.learning.epochs == 1 else f"{now} (after epoch 1: {then})"

    def asymmetry_range(prefix: str) -> str:
        return _range(
            verdicts[f"{prefix}tolerated_write_asymmetry_min"],
            verdicts[f"{prefix}tolerated_write_asymmetry_max"],
            curves["asymmetry"],
        )

    flicker = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{_number(verdicts.get(f'noise_{source}_300k_flicker_{c:g}hz_rel_error'))} "
            f"({_number(verdicts.get(f'noise_{source}_300k_flicker_{c:g}hz_cosine'))})"
            for c in FLICKER_CORNERS_HZ
        )
        for source, label in (("r_k", "R_K's"), ("network", "the network's"))
        if f"noise_{source}_300k_flicker_{FLICKER_CORNERS_HZ[0]:g}hz_rel_error" in verdicts
    )
    tolerated_noise = "; ".join(
        f"{label}: "
        + (
            f"T <= {verdicts[key]:g} K"
            if verdicts[key] is not None
            else f"none of the temperatures tried (from {min(NOISE_TEMPERATURES_K):g} K)"
        )
        for source, label in (("r_k", "R_K's"), ("network", "the network's"), ("both", "both"))
        if (key := f"tolerated_temperature_{source}_k") in verdicts
    )
    asymmetry = asymmetry_range("")
    if asymmetry_range("after_epoch_1_") != asymmetry and base.learning.epochs > 1:
        asymmetry += f" (after epoch 1: {asymmetry_range('after_epoch_1_')})"
    lines = [
        f"# Feasibility of TCL on {task.network} ({task.task.value} task)",
        "",
        f"{task.train_samples or 'the task default of'} training samples x {base.learning.epochs} epoch(s) per run, rule "
        f"{base.learning.rule.value}, default "
        f"protocol unless set: tau_rise {base.drive.tau_rise_s:g} s, tau_fall {base.drive.tau_fall_s:g} s, "
        f"tau_K {base.cell.tau_k_s:g} s, R_K {base.cell.r_k_ohm:g} ohm, C_K {base.cell.c_k_f:g} F. Learning "
        f"is judged by the final/initial held-out loss (loss ratio), divided by that of the ideal run with the "
        f"same seed or mismatch draw (paired); a variant *learns* when the mean of that relative loss stays "
        f"within {tolerance:g}. Curves: `feasibility.png`; every run: the study folders.",
        "",
        "## Verdicts",
        "",
        "| question | answer | behind it |",
        "|---|---|---|",
        f"| time per update | {_number(verdicts['time_per_update_s'])} s | one sawtooth period (tau_rise + tau_fall) |",
        f"| energy per update, analog cell | {_number(verdicts['energy_per_update_j'])} J, of which the cells "
        f"{_number(verdicts['energy_cells_per_update_j'])} J | one cycle in ngspice, by block below; what the "
        f"sources delivered differs by {_number(100 * verdicts['energy_check_rel_error'], '+.2g')} % |",
        f"| energy per update, network + R_K (behavioural cell) | "
        f"{_number(verdicts['energy_network_per_update_j'])} J + "
        f"{_number(verdicts['energy_feedback_per_update_j'])} J | mean over the ideal run |",
        f"| threshold vs kT/C noise on C_K | SNR {_number(verdicts['worst_threshold_snr'])} (worst group) | "
        "`threshold_noise.csv`; below 1 the cell would update on noise |",
        f"| thermal noise at 300 K, simulated | R_K's: update off by "
        f"{_number(verdicts.get('noise_r_k_300k_rel_error'))} of its norm, cosine "
        f"{_number(verdicts.get('noise_r_k_300k_cosine'))} with the noiseless one; the network's: "
        f"{_number(verdicts.get('noise_network_300k_rel_error'))}, cosine "
        f"{_number(verdicts.get('noise_network_300k_cosine'))}; both: "
        f"{_number(verdicts.get('noise_both_300k_rel_error'))}, cosine "
        f"{_number(verdicts.get('noise_both_300k_cosine'))} | `noise.csv`, below |",
        f"| tolerated thermal noise | {tolerated_noise} | the warmest temperature tried at which the update keeps a "
        f"cosine of {NOISE_COSINE:g} with the noiseless one |",
        f"| 1/f noise at 300 K, simulated | {flicker} | the update's error (cosine) with a corner of "
        f"{', '.join(f'{c:g}' for c in FLICKER_CORNERS_HZ)} Hz |",
        f"| tolerated cell and clamp mismatch | {bounds('spread', 'sigma <=')} | {trials} mismatch draws per sigma |",
        f"| conductance resolution needed | {bounds('bits', '>=', ' bits')} | levels over "
        f"each edge's bounds; updates requested need {_number(verdicts['update_bits_median'])} bits (median), "
        f"{_number(verdicts['update_bits_p90'])} (90 %) |",
        f"| tolerated write noise | {bounds('write_noise', 'sigma <=')} | mean-one log-normal factor on each "
        "written change |",
        f"| tolerated threshold offset | {bounds('offset', 'sigma <=', ' V')} (theta = "
        f"{_number(verdicts['smallest_threshold_v'])} V, the smallest) | normal per-edge offset of the "
        "threshold comparison; CMOS comparators have 1-10 mV, auto-zeroed stages 1-10 uV |",
        f"| tolerated device up/down asymmetry | {asymmetry} | a rise's written size over a fall's for the same "
        "request (the geometric mean stays the request) |",
        "",
        f"Ideal run: loss ratio {_number(verdicts['ideal_loss_ratio'])}. Most damage grows with training (a coarse "
        "resolution, an offset, an asymmetry's drift): each verdict holds for this training length, and says "
        "where it stood after the first epoch when that differs; the tables give the relative loss after each "
        "epoch, and `feasibility.png` draws the earlier epochs faintly.",
        "",
        "## Threshold against thermal noise",
        "",
        "| group | threshold (V) | kT/C noise on C_K (V rms) | SNR | C_K for 10 sigma (F) |",
        "|---|---|---|---|---|",
    ]
    for r in noise_rows:
        lines.append(
            f"| {r['group']} | {r['threshold_v']:.3g} | {r['kt_over_c_noise_v']:.3g} | {r['snr']:.3g} | "
            f"{r['c_k_for_10_sigma_f']:.3g} |"
        )
    lines += [
        "",
        "## Thermal noise of R_K and of the network, simulated",
        "",
        "4kTG of each R_K, of each network resistor, or of both, as seeded noise currents (the same samples in "
        "either engine), 4 draws x 2 training samples per temperature; the noisy accumulators against the "
        "noiseless ones of the same cycle. The last rows add 1/f noise below a corner (density 4kTG (1 + "
        "corner/f), from one cycle's frequency up): R_K's reaches u through R_K C_K's low-pass and the "
        "accumulator integrates it; the network's passes the squarer and C_K's high-pass."
        + (f" The network's noise is not simulated here: {noise_left_out}." if noise_left_out else ""),
        "",
        "| noisy | T (K) | 1/f corner (Hz) | kT/C_K (V rms) | smallest threshold (V) | relative error | cosine |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in noise_update:
        kt_over_c = (
            "–" if r["source"] == "network" else f"{r['kt_over_c_noise_v']:.3g}"
        )  # R_K's, not the network's
        corner = f"{r['flicker_corner_hz']:g}" if r["flicker_corner_hz"] else "–"
        lines.append(
            f"| {r['source']} | {r['temperature_k']:g} | {corner} | {kt_over_c} | {r['threshold_v']:.3g} | "
            f"{r['rel_error_mean']:.3g} ± {r['rel_error_sd']:.2g} | {r['cosine_mean']:.4f} ± {r['cosine_sd']:.2g} |"
        )
    a = base.cell.analog
    lines += [
        "",
        "## Energy per update by block (analog cell)",
        "",
        f"One sawtooth cycle on the first training sample, in ngspice, with the analog cell: rails "
        f"+-{a.supply_v:g} V; quiescent currents per rail {a.multiplier_quiescent_a:g} A (multiplier), "
        f"{a.threshold_quiescent_a:g} A (threshold stage), {a.integrator_quiescent_a:g} A (op-amp). Each block "
        "is integrated from node voltages; the last row is what every independent source delivered, from its "
        "own current. The conductance write is the controller's (not a circuit event here) and is not in it.",
        "",
        "| block | energy (J) | share |",
        "|---|---|---|",
    ]
    lines += [f"| {r['block']} | {r['energy_j']:.4g} | {r['share']:.3g} |" for r in energy_rows]
    for name, title, unit in (
        ("spread", "Cell and clamp mismatch (R_K, C_K, threshold, accumulator gain, G_c)", "sigma"),
        ("bits", "Conductance resolution", "bits"),
        ("write_noise", "Write noise", "sigma"),
        ("offset", "Threshold offset", "sigma (V)"),
        ("asymmetry", "Device up/down asymmetry", "rise / fall"),
    ):
        lines += [
            "",
            f"## {title}",
            "",
            f"| {unit} | loss ratio (mean) | relative to the ideal run (mean) | std | runs | relative, after each "
            "epoch |",
            "|---|---|---|---|---|---|",
        ]
        means = absolute[name]
        lines += [
            f"| {v:g} | {means.get(v, float('nan')):.4g} | {m:.4g} | {s:.2g} | {n} | "
            f"{', '.join(format(e, '.3g') for e in by_epoch[name].get(v, []))} |"
            for v, m, s, n in curves[name]
        ]
    lines += [
        "",
        "## Not covered yet",
        "",
        "The learning studies run the behavioural cell (the native engine does not simulate the analog one); "
        "the analog cell enters through its energy bill. The conductance write's energy is not in this "
        "report (a resistor network's writes are the controller's; memristor runs bill theirs). Noise here is "
        "thermal (R_K's and the network resistors', not the clamps'), measured on the update: with noise, a "
        "16x16 cycle takes about a second natively (every knot of the noise is a grid point), too slow for the "
        "report's hundreds of runs. `scripts/noise_effect.py` measures 1/f noise (`--flicker-corners`) and "
        "the effect on training (`--train`).",
        "",
    ]
    return "\n".join(lines)
