"""report.md, the feasibility report's text: written from what ``studies.feasibility`` measured and concluded.

Nothing here measures or decides: every number comes from ``ReportInputs``, and each section of the report is
a step of its own (``report_text`` lists them in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.studies.feasibility import FLICKER_CORNERS_HZ, NOISE_COSINE, NOISE_TEMPERATURES_K
from tcl_circuits.studies.noise import TEMPERATURE_K
from tcl_circuits.studies.verdicts import NoiseVerdicts, Tolerances, Verdicts

Curve = list[tuple[float, float, float, int]]
"""A study's (value, mean, standard deviation, runs) of the relative loss, sorted by value."""


@dataclass(frozen=True)
class ReportInputs:
    """Everything report.md says, as ``run_feasibility`` found it; per-study fields are keyed by study name."""

    base: RunConfig
    trials: int
    tolerance: float
    curves: dict[str, Curve]
    absolute: dict[str, dict[float, float]]
    """The plain mean loss ratio per value, not divided by the ideal run's."""
    by_epoch: dict[str, dict[float, list[float]]]
    """The mean relative loss per value after each epoch."""
    verdicts: Verdicts
    threshold_noise: list[dict[str, Any]]
    energy_rows: list[dict[str, Any]]
    noise_update: list[dict[str, Any]]
    left_out: str | None = None
    """Why the network's noise was not simulated, if it was not."""


def report_text(inputs: ReportInputs) -> str:
    """The markdown of report.md."""
    sections = (
        _header,
        _verdict_table,
        _threshold_noise_table,
        _thermal_noise_table,
        _energy_table,
        _study_tables,
        _not_covered,
    )
    return "\n".join(line for section in sections for line in section(inputs))


def _header(r: ReportInputs) -> list[str]:
    task, learning, drive, cell = r.base.task, r.base.learning, r.base.drive, r.base.cell
    return [
        f"# Feasibility of TCL on {task.network} ({task.task.value} task)",
        "",
        f"{task.train_samples or 'the task default of'} training samples x {learning.epochs} epoch(s) per run, rule "
        f"{learning.rule.value}, default "
        f"protocol unless set: tau_rise {drive.tau_rise_s:g} s, tau_fall {drive.tau_fall_s:g} s, "
        f"tau_K {cell.tau_k_s:g} s, R_K {cell.r_k_ohm:g} ohm, C_K {cell.c_k_f:g} F. Learning "
        f"is judged by the final/initial held-out loss (loss ratio), divided by that of the ideal run with the "
        f"same seed or mismatch draw (paired); a variant *learns* when the mean of that relative loss stays "
        f"within {r.tolerance:g}. Curves: `feasibility.png`; every run: the study folders.",
        "",
    ]


def _verdict_table(r: ReportInputs) -> list[str]:
    """The answers, those measured without training first, then the studies'."""
    v, energy, noise = r.verdicts, r.verdicts.energy, r.verdicts.noise
    (r_k_error, r_k_cosine), (network_error, network_cosine), (both_error, both_cosine) = (
        _at_room_temperature(noise, source) for source in ("R_K", "network", "both")
    )
    return [
        "## Verdicts",
        "",
        "| question | answer | behind it |",
        "|---|---|---|",
        f"| time per update | {_number(v.time_per_update_s)} s | one sawtooth period (tau_rise + tau_fall) |",
        f"| energy per update, analog cell | {_number(energy.energy_per_update_j)} J, of which the cells "
        f"{_number(energy.energy_cells_per_update_j)} J | one cycle in ngspice, by block below; what the "
        f"sources delivered differs by {_number(100 * energy.energy_check_rel_error, '+.2g')} % |",
        f"| energy per update, network + R_K (behavioural cell) | "
        f"{_number(energy.energy_network_per_update_j)} J + "
        f"{_number(energy.energy_feedback_per_update_j)} J | mean over the ideal run |",
        f"| threshold vs kT/C noise on C_K | SNR {_number(noise.worst_threshold_snr)} (worst group) | "
        "`threshold_noise.csv`; below 1 the cell would update on noise |",
        f"| thermal noise at 300 K, simulated | R_K's: update off by "
        f"{_number(r_k_error)} of its norm, cosine "
        f"{_number(r_k_cosine)} with the noiseless one; the network's: "
        f"{_number(network_error)}, cosine "
        f"{_number(network_cosine)}; both: "
        f"{_number(both_error)}, cosine "
        f"{_number(both_cosine)} | `noise.csv`, below |",
        f"| tolerated thermal noise | {_tolerated_noise(noise)} | the warmest temperature tried at which the "
        f"update keeps a cosine of {NOISE_COSINE:g} with the noiseless one |",
        f"| 1/f noise at 300 K, simulated | {_flicker(noise)} | the update's error (cosine) with a corner of "
        f"{', '.join(f'{c:g}' for c in FLICKER_CORNERS_HZ)} Hz |",
        *_study_verdict_rows(r),
        "",
        f"Ideal run: loss ratio {_number(v.studies.ideal_loss_ratio)}. Most damage grows with training (a coarse "
        "resolution, an offset, an asymmetry's drift): each verdict holds for this training length, and says "
        "where it stood after the first epoch when that differs; the tables give the relative loss after each "
        "epoch, and `feasibility.png` draws the earlier epochs faintly.",
        "",
    ]


def _study_verdict_rows(r: ReportInputs) -> list[str]:
    v = r.verdicts
    return [
        f"| tolerated cell and clamp mismatch | {_bounds(r, 'spread', 'sigma <=')} | {r.trials} mismatch draws "
        "per sigma |",
        f"| conductance resolution needed | {_bounds(r, 'bits', '>=', ' bits')} | levels over "
        f"each edge's bounds; updates requested need {_number(v.update_bits_median)} bits (median), "
        f"{_number(v.update_bits_p90)} (90 %) |",
        f"| tolerated write noise | {_bounds(r, 'write_noise', 'sigma <=')} | mean-one log-normal factor on each "
        "written change |",
        f"| tolerated threshold offset | {_bounds(r, 'offset', 'sigma <=', ' V')} (theta = "
        f"{_number(v.noise.smallest_threshold_v)} V, the smallest) | normal per-edge offset of the "
        "threshold comparison; CMOS comparators have 1-10 mV, auto-zeroed stages 1-10 uV |",
        f"| tolerated device up/down asymmetry | {_asymmetry(r)} | a rise's written size over a fall's for the "
        "same request (the geometric mean stays the request) |",
    ]


def _at_room_temperature(
    noise: NoiseVerdicts, source: str, flicker_corner_hz: float = 0.0
) -> tuple[float | None, float | None]:
    """A source's update error and cosine at 300 K (with a 1/f corner), None where not measured."""
    effect = noise.effect(source, TEMPERATURE_K, flicker_corner_hz)
    return (None, None) if effect is None else (effect.rel_error, effect.cosine)


def _tolerated_noise(noise: NoiseVerdicts) -> str:
    """Per noise source measured, the warmest temperature the update tolerates."""
    tolerated = noise.tolerated_temperature_k
    return "; ".join(
        f"{label}: "
        + (
            f"T <= {warmest:g} K"
            if (warmest := tolerated[source]) is not None
            else f"none of the temperatures tried (from {min(NOISE_TEMPERATURES_K):g} K)"
        )
        for source, label in (("R_K", "R_K's"), ("network", "the network's"), ("both", "both"))
        if source in tolerated
    )


def _flicker(noise: NoiseVerdicts) -> str:
    """Per noise source measured with 1/f noise, the update's error (cosine) at each corner."""
    return "; ".join(
        f"{label}: "
        + ", ".join(
            f"{_number(error)} ({_number(cosine)})"
            for error, cosine in (_at_room_temperature(noise, source, c) for c in FLICKER_CORNERS_HZ)
        )
        for source, label in (("R_K", "R_K's"), ("network", "the network's"))
        if noise.effect(source, TEMPERATURE_K, FLICKER_CORNERS_HZ[0]) is not None
    )


def _bounds(r: ReportInputs, name: str, relation: str, unit: str = "") -> str:
    """A one-sided study's verdict, and where it stood after the first epoch when that differs."""
    studies = r.verdicts.studies
    now = _bound(studies.final.of(name), r.curves[name], relation) + unit
    then = _bound(studies.after_epoch_1.of(name), r.curves[name], relation) + unit
    return _and_after_epoch_1(r, now, then)


def _asymmetry(r: ReportInputs) -> str:
    """The asymmetry's tolerated range, and where it stood after the first epoch when that differs."""

    def tolerated(found: Tolerances) -> str:
        return _range(
            found.tolerated_write_asymmetry_min, found.tolerated_write_asymmetry_max, r.curves["asymmetry"]
        )

    studies = r.verdicts.studies
    return _and_after_epoch_1(r, tolerated(studies.final), tolerated(studies.after_epoch_1))


def _and_after_epoch_1(r: ReportInputs, now: str, then: str) -> str:
    """A verdict, with where it stood after the first epoch when that differs (most damage grows with
    training)."""
    return now if then == now or r.base.learning.epochs == 1 else f"{now} (after epoch 1: {then})"


def _threshold_noise_table(r: ReportInputs) -> list[str]:
    return [
        "## Threshold against thermal noise",
        "",
        "| group | threshold (V) | kT/C noise on C_K (V rms) | SNR | C_K for 10 sigma (F) |",
        "|---|---|---|---|---|",
        *(
            f"| {t['group']} | {t['threshold_v']:.3g} | {t['kt_over_c_noise_v']:.3g} | {t['snr']:.3g} | "
            f"{t['c_k_for_10_sigma_f']:.3g} |"
            for t in r.threshold_noise
        ),
    ]


def _thermal_noise_table(r: ReportInputs) -> list[str]:
    lines = [
        "",
        "## Thermal noise of R_K and of the network, simulated",
        "",
        "4kTG of each R_K, of each network resistor, or of both, as seeded noise currents (the same samples in "
        "either engine), 4 draws x 2 training samples per temperature; the noisy accumulators against the "
        "noiseless ones of the same cycle. The last rows add 1/f noise below a corner (density 4kTG (1 + "
        "corner/f), from one cycle's frequency up): R_K's reaches u through R_K C_K's low-pass and the "
        "accumulator integrates it; the network's passes the squarer and C_K's high-pass."
        + (f" The network's noise is not simulated here: {r.left_out}." if r.left_out else ""),
        "",
        "| noisy | T (K) | 1/f corner (Hz) | kT/C_K (V rms) | smallest threshold (V) | relative error | cosine |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in r.noise_update:
        kt_over_c = (
            "–" if n["source"] == "network" else f"{n['kt_over_c_noise_v']:.3g}"
        )  # R_K's, not the network's
        corner = f"{n['flicker_corner_hz']:g}" if n["flicker_corner_hz"] else "–"
        lines.append(
            f"| {n['source']} | {n['temperature_k']:g} | {corner} | {kt_over_c} | {n['threshold_v']:.3g} | "
            f"{n['rel_error_mean']:.3g} ± {n['rel_error_sd']:.2g} | {n['cosine_mean']:.4f} ± {n['cosine_sd']:.2g} |"
        )
    return lines


def _energy_table(r: ReportInputs) -> list[str]:
    a = r.base.cell.analog
    return [
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
        *(f"| {e['block']} | {e['energy_j']:.4g} | {e['share']:.3g} |" for e in r.energy_rows),
    ]


STUDY_TABLES = (
    ("spread", "Cell and clamp mismatch (R_K, C_K, threshold, accumulator gain, G_c)", "sigma"),
    ("bits", "Conductance resolution", "bits"),
    ("write_noise", "Write noise", "sigma"),
    ("offset", "Threshold offset", "sigma (V)"),
    ("asymmetry", "Device up/down asymmetry", "rise / fall"),
)
"""Each study's table: its name, its heading, the unit of its axis."""


def _study_tables(r: ReportInputs) -> list[str]:
    lines: list[str] = []
    for name, title, unit in STUDY_TABLES:
        lines += [
            "",
            f"## {title}",
            "",
            f"| {unit} | loss ratio (mean) | relative to the ideal run (mean) | std | runs | relative, after each "
            "epoch |",
            "|---|---|---|---|---|---|",
        ]
        means = r.absolute[name]
        lines += [
            f"| {v:g} | {means.get(v, float('nan')):.4g} | {m:.4g} | {s:.2g} | {n} | "
            f"{', '.join(format(e, '.3g') for e in r.by_epoch[name].get(v, []))} |"
            for v, m, s, n in r.curves[name]
        ]
    return lines


def _not_covered(r: ReportInputs) -> list[str]:
    return [
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


def _number(value: Any, form: str = ".3g") -> str:
    """A number of the report, or a dash when it was not measured (None, not finite)."""
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
