"""Side-by-side updates for one sample: TCL from the simulated circuit, explicit contrastive, exact gradient.

All three are expressed as estimates of dC/dG (V^2/S), so the cosine similarities say how well the
memory-free TCL circuit reproduces the contrastive rule it emulates and the gradient it approximates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.backends.base import Backend
from tcl_circuits.circuit.cell_design import CellDesign, as_design
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.learning.rules import GradientRule, TclRule, linear_contrasts
from tcl_circuits.network.spec import NetworkSpec


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity (NaN if either vector is zero)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


@dataclass(frozen=True)
class Alignment:
    """How well a rule's update points where the contrastive rule and the gradient point (cosines, NaN for
    a zero update)."""

    cos_contrastive: float
    cos_gradient: float

    def as_dict(self) -> dict[str, float]:
        """The cosines under their record keys."""
        return {"cos_contrastive": self.cos_contrastive, "cos_gradient": self.cos_gradient}


def alignment(
    spec: NetworkSpec, x: np.ndarray, y: np.ndarray, estimate: np.ndarray, drive: SawtoothConfig
) -> Alignment:
    """Cosine of a rule's dC/dG estimate with the explicit contrastive one (same beta_max) and with the exact
    gradient, on sample (x, y) of the network ``spec`` (before the update)."""
    contrastive = (
        linear_contrasts(spec, np.atleast_2d(x), np.atleast_2d(y), drive)[0] / drive.peak_clamp_conductance_s
    )
    gradient = GradientRule(drive, 1.0).update(spec, x, y).dc_dg_estimate
    return Alignment(cos_contrastive=cosine(estimate, contrastive), cos_gradient=cosine(estimate, gradient))


def compare_updates(
    spec: NetworkSpec,
    x: np.ndarray,
    y: np.ndarray,
    *,
    backend: Backend,
    drive: SawtoothConfig,
    cell: CellDesign | FeedbackCellConfig,
    sim: SimulatorConfig | None = None,
) -> dict:
    """The three dC/dG estimates for sample (x, y) and their pairwise cosine similarities (``cell`` a design,
    or a configuration with a fixed threshold)."""
    sim = sim or SimulatorConfig()
    cell = as_design(cell, drive, spec)
    tcl = TclRule(backend, drive, cell, sim, 1.0).update(spec, x, y)
    contrastive = (
        linear_contrasts(spec, np.atleast_2d(x), np.atleast_2d(y), drive)[0] / drive.peak_clamp_conductance_s
    )
    gradient = GradientRule(drive, 1.0).update(spec, x, y).dc_dg_estimate
    return {
        "tcl": tcl.dc_dg_estimate,
        "contrastive": contrastive,
        "gradient": gradient,
        "cos_tcl_contrastive": cosine(tcl.dc_dg_estimate, contrastive),
        "cos_tcl_gradient": cosine(tcl.dc_dg_estimate, gradient),
        "cos_contrastive_gradient": cosine(contrastive, gradient),
        "tcl_over_contrastive_norm": float(np.linalg.norm(tcl.dc_dg_estimate) / np.linalg.norm(contrastive)),
        **cell.window().occupancy(contrastive * drive.peak_clamp_conductance_s).as_dict(),
    }
