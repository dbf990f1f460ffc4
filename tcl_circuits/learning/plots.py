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
    fig, axes = plt.subplots(1, 2 if windowed else 1, figsize=(10 if windowed else 5, 3.5), squeeze=False)
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
