"""One TCL cycle of a trained network, drawn (``tcl-circuits plot-cycle``): what the chosen edges' cells do
while beta(t) rises and falls, so that one can see why an edge learned, leaked or stayed below the window.

The cycle is the run's own: its final conductances, a training sample, its cells as built and its drive
(``SavedRun.cycle``), simulated on the native engine. Four panels share the time axis: the clamp drive
beta(t), each edge's signal s(t) = (v_a - v_b)^2, its high-pass output u(t) against the threshold +-theta,
and its accumulator w(t), whose value at the end is the update. Each edge's legend gives its contrast
s_clamped - s_free and where it falls against the learning window [lower_v2, upper_v2].
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from tcl_circuits.backends import open_backend
from tcl_circuits.circuit.drive import beta_at
from tcl_circuits.config import BackendKind, CellKind
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.plots import plain
from tcl_circuits.learning.saved_run import SavedRun

MAX_EDGES = 8
"""Edges one figure shows legibly."""


def parse_edges(text: str, n_edges: int) -> list[int]:
    """``--edges 0,3,7`` -> [0, 3, 7]: distinct edge numbers of the network, at most ``MAX_EDGES``."""
    parts = [part.strip() for part in str(text).split(",")]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise ConfigError(f"--edges {text!r}: expected edge numbers separated by commas, such as 0,3,7")
    edges = [int(part) for part in parts]
    if len(set(edges)) != len(edges):
        raise ConfigError(f"--edges {text!r}: an edge is named twice")
    if len(edges) > MAX_EDGES:
        raise ConfigError(f"--edges {text!r}: at most {MAX_EDGES} edges fit one figure")
    bad = [e for e in edges if e >= n_edges]
    if bad:
        raise ConfigError(f"--edges {text!r}: the network has edges 0 to {n_edges - 1}, not {bad[0]}")
    return edges


def plot_cycle(run: SavedRun, edges: Sequence[int], *, sample: int = 0) -> tuple[bytes, dict[int, float]]:
    """Simulate the run's cycle on training sample ``sample`` and draw ``edges``: the PNG, and each edge's
    contrast s_clamped - s_free (V^2)."""
    if run.config.cell.kind is CellKind.ANALOG:
        raise ConfigError(
            "plot-cycle simulates on the native engine, which does not model the analog cell's stages; "
            f"RUN {run.path} uses --cell analog"
        )
    conductance = run.conductances()
    circuit, design, drive = run.cycle(conductance, sample, title="plot-cycle")
    with open_backend(BackendKind.NATIVE, run.config.sim) as backend:
        result = backend.run(circuit)
    t = result.axis
    cells = circuit.cells
    column = {edge: k for k, edge in enumerate(cells.index)}
    k_peak = int(np.clip(np.searchsorted(t, drive.tau_rise_s), 1, t.size - 1))
    window = design.window()
    lower = np.broadcast_to(window.lower_v2, (run.task.student.n_edges,))
    upper = np.broadcast_to(window.upper_v2, (run.task.student.n_edges,))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    fig, axes = plt.subplots(4, 2, figsize=(11, 9), sharex="col", sharey="row", width_ratios=(1, 2))
    axes[0, 0].set_title("fast rise: the outputs are clamped", fontsize=9)
    axes[0, 1].set_title("whole cycle: slow fall back to free", fontsize=9)
    for ax in axes.flat:
        ax.axvspan(0, drive.tau_rise_s, color="0.92", zorder=0)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_xlim(0, 3 * drive.tau_rise_s)
    for ax in axes[-1]:
        ax.xaxis.set_major_formatter(EngFormatter(unit="s"))
        ax.set_xlabel("time")
    for ax in axes[0]:
        ax.plot(t, beta_at(drive, t), color="k")
    contrasts = {}
    spec = run.task.student
    frac = (drive.tau_rise_s - t[k_peak - 1]) / (t[k_peak] - t[k_peak - 1])
    thresholds = {float(cells.threshold_v[column[edge]]) for edge in edges}
    for n, edge in enumerate(edges):
        k = column[edge]
        colour = f"C{n}"
        s = result.v(cells.signal[k]) / design.signal_gain  # V^2 of drop
        contrast = float(s[k_peak - 1] + frac * (s[k_peak] - s[k_peak - 1]) - s[0])
        contrasts[edge] = contrast
        size = abs(contrast)
        where = "below" if size < lower[edge] else "above (leaks)" if size > upper[edge] else "inside"
        a, b = (spec.labels[i] for i in spec.edges[edge])
        label = plain(f"edge {edge}, {a}–{b}: contrast {contrast:.3g} V², {where} the window")
        for column_axes in axes.T:
            column_axes[1].plot(t, s - s[0], color=colour, label=label)
            column_axes[2].plot(t, result.v(cells.feedback[k]), color=colour)
            column_axes[3].plot(t, result.v(cells.accumulator[k]), color=colour)
            if len(thresholds) > 1:
                theta = float(cells.threshold_v[k])
                for sign in (1, -1):
                    column_axes[2].axhline(sign * theta, color=colour, linestyle="--", linewidth=0.8)
    if len(thresholds) == 1:
        theta = thresholds.pop()
        for ax in axes[2]:
            for sign in (1, -1):
                ax.axhline(sign * theta, color="0.4", linestyle="--", linewidth=0.9)
    for row, (name, unit) in enumerate(
        (("β", ""), ("s − s_free", "V²"), ("u (high-pass)", "V"), ("w (accumulator)", "V"))
    ):
        axes[row, 0].set_ylabel(f"{name} ({unit or '1'})")
        if unit:
            axes[row, 0].yaxis.set_major_formatter(EngFormatter(unit=unit))
    axes[2, 1].text(
        0.99, 0.95, "dashed: threshold ±θ", transform=axes[2, 1].transAxes, ha="right", va="top", fontsize=8
    )
    axes[3, 1].text(
        0.99,
        0.95,
        "its end value is the update",
        transform=axes[3, 1].transAxes,
        ha="right",
        va="top",
        fontsize=8,
    )
    handles, labels = axes[1, 1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    edges_window = (
        f"{float(np.min(lower)):.3g} to {float(np.max(upper)):.3g} V²"
        if np.ptp(lower) or np.ptp(upper)
        else f"{float(lower[0]):.3g} to {float(upper[0]):.3g} V²"
    )
    fig.suptitle(
        plain(
            f"one TCL cycle of {run.path.name}: training sample {sample}, final conductances\n"
            f"learning window: contrast |s_clamped − s_free| from {edges_window} (θ τ_rise/τ_k to θ τ_fall/τ_k)"
        ),
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.04 + 0.02 * ((len(edges) + 1) // 2), 1, 1))
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=120)
    plt.close(fig)
    return image.getvalue(), contrasts
