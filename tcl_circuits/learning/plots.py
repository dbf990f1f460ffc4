"""Figures of a run folder: learning curve and learning-window occupancy.

User text (a task name holding a file name) is escaped before it reaches matplotlib, whose text parser
would read ``$...$`` as mathematics and fail on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def plain(text: str) -> str:
    """Text that matplotlib draws as it is (no mathtext)."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curve(
    epoch_records: list[dict], path: Path, *, title: str, sample_records: Sequence[dict] = ()
) -> None:
    """Train and held-out loss per epoch (log scale); beside it, where TCL runs record them, the fractions
    of edges below, inside and above the learning window per sample (running mean over 20 samples)."""
    plt = _pyplot()
    windowed = bool(sample_records) and "frac_window" in sample_records[0]
    classified = "test_accuracy" in epoch_records[0]
    panels = 1 + windowed + classified
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.5), squeeze=False)
    if classified:
        ax = axes[0, panels - 1]
        epochs = [r["epoch"] for r in epoch_records]
        for key, marker, label in (("train_accuracy", "o-", "train"), ("test_accuracy", "s-", "held-out")):
            ax.plot(epochs, [100 * r[key] for r in epoch_records], marker, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"final held-out accuracy {100 * epoch_records[-1]['test_accuracy']:.1f} %", fontsize=9)
        ax.legend()
    ax = axes[0, 0]
    epochs = [r["epoch"] for r in epoch_records]
    for key, marker, label in (("train_loss", "o-", "train"), ("test_loss", "s-", "held-out")):
        values = np.array([np.nan if r[key] is None else r[key] for r in epoch_records], dtype=float)
        ax.semilogy(epochs, np.where(values > 0, values, np.nan), marker, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (V$^2$)")
    ax.set_title(plain(title), fontsize=9)
    ax.legend()
    if windowed:
        ax = axes[0, 1]
        kernel = np.ones(20) / 20
        for key, label in (
            ("frac_below", "below (no update)"),
            ("frac_window", "in window"),
            ("frac_above", "above (leaks)"),
        ):
            values = np.array([r[key] for r in sample_records])
            smooth = np.convolve(values, kernel, mode="valid") if values.size >= 20 else values
            ax.plot(np.arange(smooth.size) + (values.size - smooth.size), smooth, label=label)
        ax.set_xlabel("sample")
        ax.set_ylabel("fraction of edges")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("edges per regime of the learning window", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def confusion_counts(true_labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: row = true class, column = predicted class."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (np.asarray(true_labels, dtype=int), np.asarray(predicted, dtype=int)), 1)
    return counts


def plot_confusion_matrix(counts: np.ndarray, class_names: Sequence[str], path: Path, *, title: str) -> None:
    """Held-out confusion matrix: share of each true class predicted as each class, counts in the cells."""
    plt = _pyplot()
    n = counts.shape[0]
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(3.2 + 0.4 * n, 2.6 + 0.4 * n))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    names = [plain(c) for c in class_names]
    ax.set_xticks(range(n), names, fontsize=7, rotation=90 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(n), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{plain(title)}\nheld-out accuracy {100 * accuracy:.1f} %", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _axis_values(rows: Sequence[dict], axis: str) -> tuple[list, bool]:
    """The distinct values of an axis in order (numbers sorted), and whether they are all numbers."""
    raw = list(dict.fromkeys(str(r[axis]) for r in rows))
    try:
        return sorted(raw, key=float), True
    except ValueError:
        return raw, False


def _label(value: str) -> str:
    try:
        return f"{float(value):.3g}"
    except ValueError:
        return plain(value)


def _spans_decades(values: Sequence[float] | np.ndarray) -> bool:
    array = np.asarray(values, dtype=float)
    return bool(array.size > 1 and np.all(array > 0) and array.max() / array.min() >= 10)


def plot_sweep(rows: Sequence[dict], axes: Sequence[str], metric: str, path: Path) -> bool:
    """``metric``'s mean over seeds against one or two swept axes (error bars: standard deviation over
    seeds); a grid of two axes as a map with the values written in, random draws as coloured points.
    Returns False (and writes nothing) for no axis, more than two, or no finished point."""
    from matplotlib.colors import LogNorm, Normalize

    mean, std = f"{metric}_mean", f"{metric}_std"
    rows = [r for r in rows if r.get(mean) is not None]
    if not rows or not 1 <= len(axes) <= 2:
        return False
    plt = _pyplot()
    values = np.array([r[mean] for r in rows], dtype=float)
    norm = LogNorm() if _spans_decades(values) else Normalize()
    if len(axes) == 1:
        (axis,) = axes
        order, numeric = _axis_values(rows, axis)
        by_value = {str(r[axis]): r for r in rows}
        x = [float(v) for v in order] if numeric else list(range(len(order)))
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        ax.errorbar(
            x,
            [by_value[v][mean] for v in order],
            yerr=[by_value[v][std] or 0.0 for v in order],
            fmt="o-",
            capsize=3,
        )
        if numeric and _spans_decades(x):
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [_label(v) for v in order])
        if isinstance(norm, LogNorm):
            ax.set_yscale("log")
        ax.set_xlabel(plain(axis))
        ax.set_ylabel(plain(metric))
    else:
        first, second = axes
        order_x, _ = _axis_values(rows, first)
        order_y, _ = _axis_values(rows, second)
        fig, ax = plt.subplots(figsize=(6.0, 4.6))
        if len(order_x) * len(order_y) <= 3 * len(rows):  # a grid: a map of the means
            grid = np.full((len(order_y), len(order_x)), np.nan)
            for r in rows:
                grid[order_y.index(str(r[second])), order_x.index(str(r[first]))] = r[mean]
            image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", norm=norm)
            for r in rows:
                spread = f"\n±{r[std]:.2g}" if r.get(std) else ""
                ax.text(
                    order_x.index(str(r[first])),
                    order_y.index(str(r[second])),
                    f"{r[mean]:.3g}{spread}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if image.norm(r[mean]) > 0.6 else "white",  # readable on viridis
                )
            ax.set_xticks(range(len(order_x)), [_label(v) for v in order_x], fontsize=7)
            ax.set_yticks(range(len(order_y)), [_label(v) for v in order_y], fontsize=7)
        else:  # random draws
            drawn_x = np.array([float(r[first]) for r in rows])
            drawn_y = np.array([float(r[second]) for r in rows])
            image = ax.scatter(drawn_x, drawn_y, c=values, cmap="viridis", norm=norm, s=30)
            if _spans_decades(drawn_x):
                ax.set_xscale("log")
            if _spans_decades(drawn_y):
                ax.set_yscale("log")
        fig.colorbar(image, ax=ax, label=plain(metric))
        ax.set_xlabel(plain(first))
        ax.set_ylabel(plain(second))
    runs = sorted({int(r["runs"]) for r in rows})
    ax.set_title(
        f"{plain(metric)}: mean and spread of {'/'.join(map(str, runs))} run(s) per point", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_update_bits(counts: np.ndarray, path: Path, conductance_bits: int | None) -> None:
    """Histogram of the resolution the requested updates need, log2((g_max - g_min) / |Delta G|) bits, with
    the device's resolution marked when it has levels."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    share = counts / max(1, counts.sum())
    ax.bar(np.arange(counts.size) + 0.5, 100 * share, width=1.0, color="tab:blue")
    ax.plot(np.arange(counts.size) + 1, 100 * np.cumsum(share), "k-", lw=1, label="cumulative")
    if conductance_bits is not None:
        ax.axvline(conductance_bits, color="tab:red", ls="--", label=f"device: {conductance_bits} bits")
    last = int(np.flatnonzero(counts)[-1]) + 2 if counts.any() else counts.size
    ax.set_xlim(0, min(counts.size, last))
    ax.set_xlabel("resolution an update needs: log2((g_max - g_min) / |dG|) (bits)")
    ax.set_ylabel("share of updates (%)")
    ax.set_title("updates requested over the run", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_feasibility(
    curves: dict[str, list[tuple[float, float, float, int]]],
    references: dict[str, float],
    tolerance: float,
    path: Path,
    by_epoch: dict[str, dict[float, list[float]]] | None = None,
) -> None:
    """One panel per study: mean final/initial loss (error bars: standard deviation over trials) against the
    varied quantity, with the ideal run's level and the tolerance band's edge; with ``by_epoch`` (per title,
    value -> mean after each epoch) the earlier epochs as faint lines."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves), 3.6), squeeze=False)
    for ax, (title, curve) in zip(axes[0], curves.items(), strict=True):
        if curve:
            x, mean, std, _ = (np.array(column, dtype=float) for column in zip(*curve, strict=True))
            epochs = (by_epoch or {}).get(title, {})
            count = min((len(m) for m in epochs.values()), default=0)
            values = sorted(epochs)
            for k in range(count - 1):
                ax.plot(
                    values,
                    [epochs[v][k] for v in values],
                    color="0.55",
                    alpha=0.35 + 0.5 * k / max(count - 1, 1),
                    lw=1,
                    label="earlier epochs" if k == 0 else None,
                )
            ax.errorbar(x, mean, yerr=std, fmt="o-", capsize=3, label="end of training")
            reference = references[title]
            if np.isfinite(reference):
                ax.axhline(reference, color="tab:green", ls=":", label="ideal run")
                ax.axhline(tolerance * reference, color="tab:red", ls="--", label=f"{tolerance:g}x ideal")
            if np.all(mean > 0):
                ax.set_yscale("log")
            if np.all(x > 0) and x.max() >= 16 * x.min():  # a ratio axis (up/down asymmetry)
                ax.set_xscale("log", base=2)
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xlabel(plain(title))
        ax.set_ylabel("loss ratio / that of the ideal run")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
