#!/usr/bin/env python
"""Figures of the memory-kernel analysis: response curves, window map, offset vs area, error vs dissipation
and error vs energy per update. Each figure is written as PNG together with its data as CSV, plus
``acceptance.json`` with the headline numbers.

Usage: .venv/bin/python scripts/kernel_figures.py [--out out/kernels] [--n-kernels 250] [--seed 0]
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from tcl_circuits.kernels.energy import (  # noqa: E402
    ROOM_TEMPERATURE_K,
    markov_energy_per_cycle,
    rc_error_energy_sweep,
)
from tcl_circuits.kernels.kernel import EColiKernel, RCKernel  # noqa: E402
from tcl_circuits.kernels.markov import esa_kernel, random_gammas  # noqa: E402
from tcl_circuits.kernels.synapse import (  # noqa: E402
    Sawtooth,
    delta_w,
    learning_window,
    markov_dissipation_sweep,
    response_curve,
    window_map,
)


def _write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([f"{x:.10g}" if isinstance(x, float) else x for x in row])


def response_curves(out: Path) -> dict:
    """Δw(A) for several kernels on τ_f = 1, τ_s = 9, θ = 100/9 (Fig. 4B style)."""
    theta = 100 / 9
    amps = np.linspace(0.5, 130.0, 260)
    cases = [
        ("ecoli I=0, mean 0", EColiKernel(0.0), 0.0),
        ("ecoli I=0.05, mean 25", EColiKernel(0.05), 25.0),
        ("ecoli I=0.5, mean 10", EColiKernel(0.5), 10.0),
        ("RC tau=0.05 (C=1)", RCKernel(0.05, 1.0), 0.0),
        ("ESA gamma=1e-4, mean 10", esa_kernel(1e-4).kernel, 10.0),
    ]
    curves = {}
    for label, kernel, mean in tqdm(cases, desc="response curves"):
        curves[label] = response_curve(kernel, amps, mean, 1.0, 9.0, theta, dt=1e-3)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.axvspan(0, theta * 1, color="0.9", label="regime i (A < θτ_f)")
    ax.axvspan(theta * 9, amps[-1], color="0.8", label="regime iii (A > θτ_s)")
    ax.plot(amps, amps, "k:", lw=1, label="Δw = A")
    for label, dw in curves.items():
        ax.plot(amps, dw, label=label)
    ax.set_xlabel("amplitude A = s_clamped − s_free")
    ax.set_ylabel("Δw per cycle")
    ax.set_title("Response curves, τ_f = 1, τ_s = 9, θ = 100/9 (τ_K = 0.05)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "response_curves.png", dpi=130)
    plt.close(fig)
    _write_csv(out / "response_curves.csv", ["amplitude", *curves], zip(amps, *curves.values(), strict=True))
    a_min, a_max = learning_window(amps, curves["ecoli I=0, mean 0"])
    return {"ecoli_I0_window": [a_min, a_max]}


def window_figure(out: Path) -> dict:
    fast = [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 40.0]
    slow = [2.0, 4.0, 8.0, 16.0, 32.0]
    m = window_map(
        lambda: EColiKernel(0.0), fast, slow, n_amplitudes=300, points_per_kernel_time=20, progress=True
    )
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, f in enumerate(fast):
        ax.plot(np.log(slow), m[i], "o-", label=f"τ_f/τ_K = {f:g}")
    ax.plot(np.log(slow), np.log(slow), "k--", label="bound ln(τ_s/τ_f)")
    ax.set_xlabel("ln(τ_s/τ_f)")
    ax.set_ylabel("ln(A_max/A_min)  (Δw/A ≥ ½)")
    ax.set_title("Learning window (E. coli kernel, I = 0, θ = 100/τ_s)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "window_map.png", dpi=130)
    plt.close(fig)
    rows = [(f, s, float(m[i, j]), math.log(s)) for i, f in enumerate(fast) for j, s in enumerate(slow)]
    _write_csv(
        out / "window_map.csv",
        ["tau_fast_over_tau_k", "tau_slow_over_tau_fast", "ln_window", "ln_bound"],
        rows,
    )
    return {"window_map_rows_tau_fast_over_tau_k": fast, "window_map_cols": slow, "ln_window": m.tolist()}


def offset_vs_area(out: Path) -> dict:
    """Background offset Δw(s̄) − Δw(0) against I·s̄·τ_f for E. coli kernels of several areas."""
    areas = np.array([0.0, 0.01, 0.02, 0.05, 0.1, 0.2])
    rows = []
    for tf in (1.0, 2.0, 4.0):
        for area in areas:
            k = EColiKernel(float(area))
            ts = 9 * tf
            theta = 20 / tf * 0.5 + 20 / ts * 0.5
            extra = delta_w(k, Sawtooth(20, 10, tf, ts), theta, dt=1e-3) - delta_w(
                k, Sawtooth(20, 0, tf, ts), theta, dt=1e-3
            )
            rows.append((tf, float(area), extra, area * 10 * tf))
    arr = np.array(rows)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for tf in (1.0, 2.0, 4.0):
        sel = arr[:, 0] == tf
        ax.plot(arr[sel, 3], arr[sel, 2], "o-", label=f"τ_f = {tf:g} (= {tf / 0.05:g} τ_K)")
    lim = arr[:, 3].max()
    ax.plot([0, lim], [0, lim], "k--", label="I·s̄·τ_f")
    ax.set_xlabel("predicted offset I·s̄·τ_f")
    ax.set_ylabel("Δw(s̄ = 10) − Δw(s̄ = 0), A = 20")
    ax.set_title("Offset vs kernel area (τ_s = 9τ_f, θ midway)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "offset_vs_area.png", dpi=130)
    plt.close(fig)
    _write_csv(out / "offset_vs_area.csv", ["tau_fast", "area", "measured_offset", "predicted_offset"], rows)
    return {}


def dissipation_figures(out: Path, n_kernels: int, seed: int) -> dict:
    gammas = random_gammas(n_kernels, seed)
    t0 = time.perf_counter()
    fixed = markov_dissipation_sweep(gammas, seed=seed, progress=True)
    t_fixed = time.perf_counter() - t0
    rand = markov_dissipation_sweep(gammas, seed=seed, randomise_kernel_inputs=True, progress=True)
    cycle = 3.0 + 15.0
    energy_kt = np.array([markov_energy_per_cycle(float(g), cycle).energy_kt for g in gammas])
    rows = []
    for i in range(gammas.size):
        rows.append(
            (
                float(gammas[i]),
                float(fixed.dissipation_kt_per_time[i]),
                float(energy_kt[i]),
                float(fixed.area[i]),
                int(fixed.derivative_like[i]),
                float(fixed.offset[i]),
                float(fixed.background_offset[i]),
                float(rand.rate_factor[i]),
                float(rand.step_um[i]),
                float(rand.area[i]),
                float(rand.offset[i]),
                float(rand.background_offset[i]),
            )
        )
    header = [
        "gamma",
        "sigma_kt_per_markov_time",
        "energy_per_cycle_kt",
        "area",
        "derivative_like",
        "paper_offset",
        "background_offset",
        "rand_rate_factor",
        "rand_step_um",
        "rand_area",
        "rand_paper_offset",
        "rand_background_offset",
    ]
    _write_csv(out / "error_vs_dissipation.csv", header, rows)
    mean = fixed.mean_signal
    d = fixed.derivative_like & np.isfinite(fixed.background_offset)
    dr = rand.derivative_like & np.isfinite(rand.background_offset)
    sig = fixed.dissipation_kt_per_time
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    axes[0].semilogy(sig[d], fixed.area[d], ".", label="RF = 25, s = 200 µM")
    axes[0].semilogy(sig[dr], rand.area[dr], ".", alpha=0.5, label="RF, s random (paper)")
    axes[0].set_xlabel("σ (kT per Markov time)")
    axes[0].set_ylabel("kernel area I (first moment −1)")
    axes[0].legend(fontsize=7)
    with np.errstate(divide="ignore"):
        axes[1].plot(
            sig[d], np.log(np.abs(fixed.background_offset[d] / mean)), ".", label="background offset"
        )
        axes[1].plot(sig[d], np.log(np.abs(fixed.offset[d] / mean)), "x", ms=3, label="paper intercept")
        axes[1].plot(
            sig[dr], np.log(np.abs(rand.background_offset[dr] / mean)), ".", alpha=0.4, label="random RF, s"
        )
    axes[1].set_xlabel("σ (kT per Markov time)")
    axes[1].set_ylabel("ln|offset / s̄|")
    axes[1].set_xlim(0, 12)
    axes[1].legend(fontsize=7)
    axes[2].loglog(energy_kt[d], np.abs(fixed.background_offset[d]) / mean, ".")
    axes[2].set_xlabel("energy per update σ·T_cycle (kT)")
    axes[2].set_ylabel("|background offset| / s̄")
    fig.suptitle(f"ESA Markov kernels, {gammas.size} random γ (τ_f = 3, τ_s = 15, s̄ = 10, A_max = 50)")
    fig.tight_layout()
    fig.savefig(out / "error_vs_dissipation.png", dpi=130)
    plt.close(fig)
    order = np.argsort(sig[d])
    in_range = sig[d][order] >= 1
    bo = np.abs(fixed.background_offset[d][order])
    return {
        "markov_kernels": int(gammas.size),
        "markov_derivative_like": int(d.sum()),
        "markov_sweep_seconds": t_fixed,
        "area_monotone_in_sigma": bool(np.all(np.diff(fixed.area[d][order]) <= 1e-9)),
        "background_offset_monotone_for_sigma_ge_1": bool(np.all(np.diff(bo[in_range]) <= 1e-6)),
        "background_offset_at_sigma_1": float(bo[in_range][0]),
        "background_offset_floor": float(bo[-1]),
        "area_floor": float(fixed.area[d][order][-1]),
        "_energy_kt": energy_kt[d].tolist(),
        "_error": (bo / mean).tolist(),
    }


def energy_figure(out: Path, markov: dict) -> dict:
    saw = Sawtooth(1.0, 1.0, 0.01, 0.09)  # 1 V, 10 ms / 90 ms
    c = 1e-6
    rs = np.geomspace(10.0, 2000.0, 25)
    by_r = rc_error_energy_sweep(rs, np.full(rs.size, math.inf), c, saw)
    rls = np.geomspace(1e3, 1e8, 25)
    by_leak = rc_error_energy_sweep(np.full(rls.size, 100.0), rls, c, saw)
    rows = [
        ("series R", float(r), math.inf, float(h), float(e))
        for r, h, e in zip(rs, by_r.heat_j, by_r.relative_error, strict=True)
    ]
    rows += [
        ("leak R_L", 100.0, float(rl), float(h), float(e))
        for rl, h, e in zip(rls, by_leak.heat_j, by_leak.relative_error, strict=True)
    ]
    _write_csv(
        out / "error_vs_energy.csv",
        ["family", "resistance_ohm", "leak_resistance_ohm", "heat_j", "relative_error"],
        rows,
    )
    _write_csv(
        out / "error_vs_energy_markov.csv",
        ["energy_per_cycle_kt", "abs_background_offset_over_mean"],
        zip(markov["_energy_kt"], markov["_error"], strict=True),
    )
    kt = 1.380649e-23 * ROOM_TEMPERATURE_K
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    axes[0].loglog(by_r.heat_j / kt, by_r.relative_error, "o-", ms=3, label="sweep R (C = 1 µF, no leak)")
    axes[0].loglog(by_leak.heat_j / kt, by_leak.relative_error, "s-", ms=3, label="sweep R_L (R = 100 Ω)")
    axes[0].set_xlabel("Joule heat per update (kT at 300 K)")
    axes[0].set_ylabel("|Δw − C·A| / (C·A)")
    axes[0].set_title("RC element: A = 1 V, τ_f = 10 ms, τ_s = 90 ms, s̄ = 1 V")
    axes[0].legend(fontsize=7)
    axes[1].loglog(markov["_energy_kt"], markov["_error"], ".")
    axes[1].set_xlabel("entropy production per update σ·T_cycle (kT)")
    axes[1].set_ylabel("|background offset| / s̄")
    axes[1].set_title("ESA Markov kernels")
    fig.tight_layout()
    fig.savefig(out / "error_vs_energy.png", dpi=130)
    plt.close(fig)
    return {
        "rc_heat_j_range": [float(by_r.heat_j.min()), float(by_r.heat_j.max())],
        "rc_error_range": [float(by_r.relative_error.min()), float(by_r.relative_error.max())],
    }


def acceptance_numbers() -> dict:
    k0, k5 = EColiKernel(0.0), EColiKernel(0.5)
    theta = 100 / 9
    res = {
        f"ecoli_I0_dw_over_A_at_{a}": delta_w(k0, Sawtooth(a, 0, 1, 9), theta, dt=1e-4) / a
        for a in (10, 12, 20, 50, 80, 99, 110)
    }
    base = delta_w(k5, Sawtooth(20, 0, 1, 9), theta, dt=1e-4)
    res["ecoli_I05_A20_offset_mean10"] = delta_w(k5, Sawtooth(20, 10, 1, 9), theta, dt=1e-4) - base
    res["ecoli_I05_A20_predicted_offset_mean10"] = 0.5 * 10 * 1
    res["ecoli_I05_A20_dw_over_A_mean10"] = delta_w(k5, Sawtooth(20, 10, 1, 9), theta, dt=1e-4) / 20
    res["ecoli_I05_A50_dw_over_A_mean0"] = delta_w(k5, Sawtooth(50, 0, 1, 9), theta, dt=1e-4) / 50
    return res


MIN_KERNELS = 200
"""Fewest random γ of the Markov sweep: its summary reads the derivative-like kernels with σ >= 1 kT per
Markov time, and a few draws may hold none."""


def main(argv: list[str] | None = None) -> int:
    from tcl_circuits.cli.options import Parser, number_type

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/kernels", help="output folder (default out/kernels)")
    parser.add_argument(
        "--n-kernels",
        type=number_type(int),
        default=250,
        help=f"random γ for the Markov sweep (≥ {MIN_KERNELS})",
    )
    parser.add_argument("--seed", type=number_type(int), default=0)
    args = parser.parse_args(argv)
    if args.n_kernels < MIN_KERNELS:
        parser.error(f"--n-kernels must be at least {MIN_KERNELS}, got {args.n_kernels}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = acceptance_numbers()
    summary.update(response_curves(out))
    summary.update(window_figure(out))
    offset_vs_area(out)
    markov = dissipation_figures(out, args.n_kernels, args.seed)
    summary.update(energy_figure(out, markov))
    summary.update({k: v for k, v in markov.items() if not k.startswith("_")})
    summary["seconds"] = time.perf_counter() - t0
    (out / "acceptance.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "ln_window"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
