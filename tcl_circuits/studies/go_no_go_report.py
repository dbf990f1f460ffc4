"""The go/no-go report's text and figure, written from what ``studies.go_no_go`` found.

Nothing here measures or decides. Numbers carry SI prefixes and units; the ideal run (the same design with
nothing of the technology on) is named once, in the header, and every comparison is against it.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tcl_circuits.units import format_si

if TYPE_CHECKING:
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.physics.cell_budget import Requirement
    from tcl_circuits.studies.go_no_go import GoNoGo

UNIT_LABELS = {"sigma": "sigma", "x": "x", "points": "points"}
"""Units written as a plain suffix, not as an SI quantity."""


def quantity(value: float, unit: str) -> str:
    """A requirement's number as people read it."""
    if unit in UNIT_LABELS:
        return f"{value:.3g} {UNIT_LABELS[unit]}"
    return format_si(value, unit)


def _requirement_line(r: Requirement) -> str:
    verdict = "pass" if r.passes else "**fail**"
    return f"| {r.name} | {quantity(r.needed, r.unit)} | {quantity(r.offered, r.unit)} | {r.margin:.3g} | {verdict} |"


def _learning(summary: dict[str, Any]) -> str:
    parts = [f"final/initial held-out loss {summary['loss_ratio']:.3g}"]
    if summary.get("final_test_accuracy") is not None:
        parts.append(f"held-out accuracy {100 * summary['final_test_accuracy']:.1f} %")
    for key, label in (
        ("cos_gradient_last50", "cosine with the gradient"),
        ("frac_window_last50", "in the window"),
    ):
        if summary.get(key) is not None:
            parts.append(f"{label} {summary[key]:.3g}")
    return ", ".join(parts)


def report_markdown(found: GoNoGo, ideal: RunConfig) -> str:
    """report.md."""
    budget_j, tolerance = found.limits.energy_budget_j, found.limits.tolerance
    bill = found.bill
    total = float(bill["total"])
    lines = [
        f"# Go/no-go: {found.technology}",
        "",
        f"**{'GO' if found.go else 'NO-GO'}**: {sum(r.passes for r in found.requirements)} of "
        f"{len(found.requirements)} requirements pass. Task {found.ideal['task']}, {ideal.learning.epochs} "
        f"epochs, {found.ideal['samples']} samples presented. The ideal run: the same design "
        "with nothing of the technology on (no noise, offsets, mismatch or device limits).",
        "",
        "| requirement | needed | offered | margin | verdict |",
        "|---|---|---|---|---|",
        *(_requirement_line(r) for r in found.requirements),
        "",
        "## Energy per update, by block",
        "",
        f"Whole bill {format_si(total, 'J')} per update, {format_si(float(bill['per_edge']), 'J')} per learning "
        f"edge ({bill.get('pulses_per_update') or 0:.3g} device pulses an update); budget "
        f"{format_si(budget_j, 'J')} per edge. Time per update {format_si(found.time_per_update_s, 's')}; "
        f"the cells' capacitors {found.area_m2 * 1e6:.3g} mm^2.",
        "",
        "| block | energy | share |",
        "|---|---|---|",
        *(
            f"| {block} | {format_si(value, 'J') if value is not None else 'unpriced'} | "
            f"{(value / total if value is not None and total else 0):.1%} |"
            for block, value in bill["by_block"].items()
        ),
        "",
        "## Learning",
        "",
        f"- ideal run: {_learning(found.ideal)}",
        f"- every non-ideality on: {_learning(found.all_on)}",
        f"- tolerance: {tolerance:g} x the ideal run's loss ratio (classification: accuracy points)",
        "",
        "## One analog-cell cycle in ngspice against the analytic bias currents",
        "",
        "| stage | ngspice | analytic | analytic / ngspice |",
        "|---|---|---|---|",
        *(
            f"| {a.stage} | {format_si(a.ngspice_j, 'J')} | {format_si(a.analytic_j, 'J')} | {a.ratio:.3f} |"
            for a in found.analog
        ),
    ]
    noise = found.noise
    lines += [
        "",
        "## R_K's noise on u with no signal, one noisy cycle in ngspice against the analytic figure",
        "",
        f"ngspice {format_si(noise.ngspice_v, 'V')} RMS, analytic {format_si(noise.analytic_v, 'V')} "
        f"(analytic / ngspice {noise.ratio:.3f}).",
    ]
    if found.left_out:
        lines += ["", "## Left out", "", *(f"- {reason}" for reason in found.left_out)]
    return "\n".join(lines) + "\n"


def _epoch_losses(folder: Path) -> tuple[list[int], list[float]]:
    with (folder / "epochs.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [int(r["epoch"]) for r in rows], [float(r["test_loss"]) for r in rows]


def plot_go_no_go(found: GoNoGo, ideal_folder: Path, all_on_folder: Path, path: Path) -> None:
    """go_no_go.png: the requirements' margins, the energy bill by block, held-out loss per epoch of the two
    runs, and the analog cell's stage energies in ngspice against the analytic figure."""
    from tcl_circuits.learning.plots import _pyplot, plain

    plt = _pyplot()
    fig, grid = plt.subplots(2, 2, figsize=(13, 8.5))
    axes = grid.ravel()
    ax = axes[0]
    margins = [max(r.margin, 1e-6) for r in found.requirements]
    colours = ["tab:green" if r.passes else "tab:red" for r in found.requirements]
    names = [plain(textwrap.fill(r.name.split(" (")[0], 30)) for r in found.requirements]
    ax.barh(range(len(margins)), margins, color=colours)
    ax.set_yticks(range(len(margins)), names, fontsize=7)
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("margin (>= 1 passes)")
    ax.set_title(f"{'GO' if found.go else 'NO-GO'}: {plain(found.technology)}")
    ax = axes[1]
    priced = {b: v for b, v in found.bill["by_block"].items() if v}
    edges = max(1, int(found.all_on.get("edges", 1)))
    ax.barh(list(priced), [v / edges for v in priced.values()], color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("J per learning edge per update")
    ax.set_title("energy by block")
    ax = axes[2]
    for folder, label in ((ideal_folder, "ideal run"), (all_on_folder, "every non-ideality on")):
        epochs, losses = _epoch_losses(folder)
        ax.plot(epochs, losses, "o-", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out loss")
    ax.legend(fontsize=8)
    ax.set_title("learning")
    ax = axes[3]
    x = np.arange(len(found.analog))
    ax.bar(x - 0.2, [a.ngspice_j for a in found.analog], 0.4, label="ngspice")
    ax.bar(x + 0.2, [a.analytic_j for a in found.analog], 0.4, label="analytic")
    ax.set_xticks(x, [a.stage for a in found.analog])
    ax.set_ylabel("J per update (all edges)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title("analog cell, one cycle")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
