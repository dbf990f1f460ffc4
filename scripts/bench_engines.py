"""Time one TCL training sample (one sawtooth cycle) on each engine, side by side in one run.

Per network, with the same compiled circuit:

  a   native engine: compile + NativeBackend.run + read the accumulators (as the controller does)
      (a_run: NativeBackend.run alone; a_rule: TclRule.update, i.e. what the controller pays per sample)
  b   ngspice shared library as the controller uses it: compile + NgspiceBackend.run + read accumulators
  c   the naive way without this package: write the deck to a file, ``ngspice -b -r out.raw`` as a
      subprocess, parse the binary rawfile, read the accumulators (compile included)
  d   the floor: one sparse LU of the network's free-node Laplacian, one solve for the inputs and the K
      clamp columns, and the K x K clamp solves at each of the T time points (output voltages only)

Medians over several repeats (one run where a single ngspice run takes over 3 s; runs longer than --cap-s
are stopped and recorded as that bound); ratios a/b, b/c, a/d (and the speed-up b/a); "pair" is a_run/d
as the median over back-to-back pairs, which a changing load on a shared machine affects less. Writes bench.csv and
bench.png (time per sample vs edges, log-log) into --out. The threshold is the controller's default
calibration (calibrate_threshold_v on 20 training samples), which decides how many threshold crossings
ngspice has to resolve and so its number of time points (column T_ng; the native grid has T points).

With --accuracy it prints the discretisation-error and ngspice-parity tables of docs/native.md.
With --training it also runs (1) a 1,000-sample teacher run on the 32x32 lattice with the native engine and
(2) the 4x4 teacher task (500 samples) on both engines with the same seed, and compares their final losses.

With --node-capacitance C every free node gets C to ground in both engines.

Usage: .venv/bin/python scripts/bench_engines.py [--quick] [--training] [--cap-s 300] [--out out/bench]
       [--node-capacitance 1e-9]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from tcl_circuits.backends.native.engine import NativeBackend
from tcl_circuits.backends.ngspice import NgspiceBackend
from tcl_circuits.backends.ngspice_batch import NgspiceBatchBackend
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import (
    BackendKind,
    FeedbackCellConfig,
    LearningConfig,
    SawtoothConfig,
    SimulatorConfig,
    ThresholdShape,
)
from tcl_circuits.errors import WorkerCrashedError
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.rules import TclRule, calibrate_threshold_v
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import teacher_task
from tcl_circuits.network.spec import NetworkSpec
from tcl_circuits.spice.writer import write_netlist

NETWORKS = ["lattice:4x4", "lattice:8x8", "lattice:16x16", "lattice:32x32", "layered:32-32-8"]


def median_seconds(call, repeats: int) -> float:
    """Median wall time of ``call()`` over ``repeats`` runs (after one untimed warm-up run)."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def paired_ratio(call_a, call_b, repeats: int) -> float:
    """Median over ``repeats`` back-to-back pairs of time(call_a) / time(call_b): both see the same load."""
    call_a(), call_b()
    ratios = []
    for _ in range(repeats):
        started = time.perf_counter()
        call_a()
        middle = time.perf_counter()
        call_b()
        ratios.append((middle - started) / (time.perf_counter() - middle))
    return float(np.median(ratios))


def setup(description: str):
    """Student network, one sample, and the cell with the controller's default threshold calibration."""
    task = teacher_task(description, train_samples=20, test_samples=1, seed=0)
    drive = SawtoothConfig()
    theta = calibrate_threshold_v(task.student, task.x_train, task.y_train, drive, 5e-6)
    cell = FeedbackCellConfig(threshold_v=theta)
    return task.student, task.x_train[0], task.y_train[0], drive, cell


def naive_batch(netlist: str, workdir: Path, accumulators: list[str], timeout_s: float) -> np.ndarray:
    """Deck to file, ngspice as a batch subprocess writing a binary rawfile, rawfile parsed
    (``NgspiceBatchBackend``: a fresh process and folder per run)."""
    vectors = NgspiceBatchBackend(timeout_s=timeout_s).run_netlist(netlist).vectors
    return np.array([vectors[w][-1] for w in accumulators])


def floor_call(spec: NetworkSpec, x: np.ndarray, drive: SawtoothConfig, points: int):
    """The bare network work of one cycle: factorise, solve 1 + K right-hand sides, T clamp solves."""
    n = spec.n_nodes
    edges = spec.edge_array
    g = spec.conductance_s
    rows = np.concatenate([edges[:, 0], edges[:, 1], edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 0], edges[:, 1], edges[:, 1], edges[:, 0]])
    laplacian = sp.csc_matrix((np.concatenate([g, g, -g, -g]), (rows, cols)), shape=(n, n))
    free = np.array(spec.free_nodes)
    position = {node: k for k, node in enumerate(free)}
    outputs = np.array([position[o] for o in spec.output_nodes])
    l_ff = laplacian[free][:, free].tocsc()
    rhs = -(laplacian[free][:, np.array(spec.input_nodes)] @ x)
    columns = np.zeros((free.size, 1 + outputs.size))
    columns[:, 0] = rhs
    columns[outputs, 1 + np.arange(outputs.size)] = 1.0
    beta = np.interp(np.linspace(0, drive.period_s, points), [0, drive.tau_rise_s, drive.period_s], [0, 1, 0])
    gamma = beta * drive.peak_clamp_conductance_s
    targets = np.zeros(outputs.size)

    def call() -> np.ndarray:
        lu = spla.splu(
            l_ff, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
        solved = lu.solve(columns)
        z_oo = solved[outputs, 1:]
        free_out = solved[outputs, 0]
        system = np.eye(outputs.size)[None] + gamma[:, None, None] * z_oo[None]
        j = np.linalg.solve(system, (gamma[:, None] * (targets - free_out))[..., None])[..., 0]
        return free_out + j @ z_oo.T

    return call


def timed_slow(call, repeats: int) -> tuple[float, object]:
    """Wall time of a slow call: one run if it takes over 3 s, else the median of ``repeats`` more."""
    started = time.perf_counter()
    value = call()
    first = time.perf_counter() - started
    if first > 3.0:
        return first, value
    return median_seconds(call, repeats), value


def bench(
    descriptions: list[str], quick: bool, repeats: int, cap_s: float, node_capacitance_f: float = 0.0
) -> list[dict]:
    rows = []
    native = NativeBackend()
    with NgspiceBackend(timeout_s=cap_s, retries=0) as ngspice:
        for description in descriptions:
            spec, x, y, drive, cell = setup(description)
            sim = SimulatorConfig(node_capacitance_f=node_capacitance_f)

            def compile_(spec=spec, x=x, y=y, drive=drive, cell=cell, sim=sim):
                return compile_tcl(spec, drive=drive, cell=cell, sim=sim, inputs_v=x, targets_v=y)

            circuit = compile_()
            names = circuit.cells.accumulator

            def sample_native(compile_=compile_):
                compiled = compile_()
                return native.run(compiled).rows(compiled.cells.accumulator)[:, -1].copy()

            def sample_ngspice(compile_=compile_):
                compiled = compile_()
                result = ngspice.run(compiled)
                sample_ngspice.points = result.axis.size
                return result.rows(compiled.cells.accumulator)[:, -1].copy()

            rule = TclRule(native, drive, cell, sim, 1e-7)
            row = {"network": description, "nodes": spec.n_nodes, "edges": spec.n_edges}
            row["points_native"] = native.run(circuit).axis.size
            row["a_s"] = median_seconds(sample_native, repeats)
            row["a_run_s"] = median_seconds(lambda circuit=circuit: native.run(circuit), repeats)
            row["a_rule_s"] = median_seconds(
                lambda rule=rule, spec=spec, x=x, y=y: rule.update(spec, x, y), repeats
            )
            row["compile_s"] = median_seconds(compile_, repeats)
            floor = floor_call(spec, x, drive, row["points_native"])
            row["d_s"] = median_seconds(floor, repeats)
            row["a_run_over_d_paired"] = paired_ratio(
                lambda circuit=circuit: native.run(circuit), floor, repeats
            )
            row.update(b_s=float("nan"), c_s=float("nan"), update_rel_diff=float("nan"), points_ngspice=0)
            row["ngspice_note"] = "skipped (--quick)" if quick and spec.n_edges > 1000 else ""
            if not row["ngspice_note"]:
                slow = max(3, repeats // 4)
                try:
                    row["b_s"], reference = timed_slow(sample_ngspice, slow)
                    row["points_ngspice"] = sample_ngspice.points
                    row["update_rel_diff"] = float(
                        np.linalg.norm(sample_native() - reference) / max(np.linalg.norm(reference), 1e-300)
                    )
                except WorkerCrashedError:
                    row["b_s"], row["ngspice_note"] = cap_s, f"b > {cap_s:g} s (stopped)"
                workdir = Path(tempfile.mkdtemp(prefix="tcl_bench_"))
                try:
                    row["c_s"], _ = timed_slow(
                        lambda c=compile_, w=workdir, n=names: naive_batch(write_netlist(c()), w, n, cap_s),
                        slow,
                    )
                except subprocess.TimeoutExpired:
                    row["c_s"] = cap_s
                    row["ngspice_note"] += f" c > {cap_s:g} s (stopped)"
                finally:
                    shutil.rmtree(workdir, ignore_errors=True)
            row["a_over_b"] = row["a_s"] / row["b_s"]
            row["b_over_a"] = row["b_s"] / row["a_s"]
            row["b_over_c"] = row["b_s"] / row["c_s"]
            row["a_over_d"] = row["a_s"] / row["d_s"]
            row["a_run_over_d"] = row["a_run_s"] / row["d_s"]
            rows.append(row)
            print_row(row)
    return rows


HEADER = (
    f"{'network':<16}{'edges':>6}{'T':>5} {'a ms':>8}{'a_run':>8}{'a_rule':>8}{'compile':>8}{'b ms':>9}{'c ms':>9}"
    f"{'d ms':>7} {'b/a':>7}{'a/b':>8}{'b/c':>6}{'a/d':>6}{'run/d':>6}{'pair':>6} {'upd diff':>8} {'T_ng':>5}"
)


def print_row(row: dict) -> None:
    if not getattr(print_row, "started", False):
        print(HEADER)
        print_row.started = True
    ms = {k: 1e3 * row[k] for k in ("a_s", "a_run_s", "a_rule_s", "compile_s", "b_s", "c_s", "d_s")}
    print(
        f"{row['network']:<16}{row['edges']:>6}{row['points_native']:>5} {ms['a_s']:>8.2f}{ms['a_run_s']:>8.2f}"
        f"{ms['a_rule_s']:>8.2f}{ms['compile_s']:>8.2f}{ms['b_s']:>9.1f}{ms['c_s']:>9.1f}{ms['d_s']:>7.2f} "
        f"{row['b_over_a']:>7.0f}{row['a_over_b']:>8.4f}{row['b_over_c']:>6.2f}{row['a_over_d']:>6.1f}"
        f"{row['a_run_over_d']:>6.1f}{row['a_run_over_d_paired']:>6.1f} {row['update_rel_diff']:>8.2e}"
        f" {row['points_ngspice']:>5} {row['ngspice_note']}",
        flush=True,
    )


def write_outputs(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "bench.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    series = (
        ("c_s", "c: ngspice batch + rawfile", "v", "C0"),
        ("b_s", "b: ngspice shared (NgspiceBackend)", "s", "C1"),
        ("a_rule_s", "a_rule: native, TclRule.update", "^", "C2"),
        ("a_s", "a: native, compile + run + read", "o", "C3"),
        ("a_run_s", "a_run: native run only", "D", "C4"),
        ("d_s", "d: floor (LU + clamp solves)", "x", "C5"),
    )
    for family, filled in (("lattice", True), ("layered", False)):
        chosen = sorted((r for r in rows if r["network"].startswith(family)), key=lambda r: r["edges"])
        if not chosen:
            continue
        edges = np.array([r["edges"] for r in chosen])
        for key, label, marker, color in series:
            values = np.array([r[key] for r in chosen], dtype=float)
            keep = np.isfinite(values)
            ax.loglog(
                edges[keep],
                values[keep],
                marker=marker,
                color=color,
                linestyle="-" if filled else "none",
                markerfacecolor=color if filled else "none",
                label=label if filled else None,
            )
            for r, value in zip(chosen, values, strict=True):
                if key in ("b_s", "c_s") and "stopped" in r["ngspice_note"]:
                    ax.annotate(
                        "stopped at --cap-s: a lower bound",
                        (r["edges"], value),
                        fontsize=6,
                        textcoords="offset points",
                        xytext=(-150, -10),
                    )
        for r in chosen:
            ax.annotate(
                r["network"], (r["edges"], r["a_s"]), fontsize=6, textcoords="offset points", xytext=(3, -9)
            )
    ax.set_xlabel("edges (filled and lines: lattices; open: layered)")
    ax.set_ylabel("seconds per training sample (one TCL cycle)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "bench.png", dpi=130)
    plt.close(fig)


def training(out: Path) -> dict:
    """32x32 native run of 1,000 samples; 4x4 teacher task (500 samples) on both engines, same seed."""
    results = {}
    drive = SawtoothConfig()
    task = teacher_task("lattice:32x32", train_samples=200, test_samples=50, seed=0)
    theta = calibrate_threshold_v(task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6)
    config = RunConfig(
        backend=BackendKind.NATIVE,
        drive=drive,
        cell=FeedbackCellConfig(threshold_v=theta),
        sim=SimulatorConfig(),
        learning=LearningConfig(epochs=5),
    )
    folder = Path(tempfile.mkdtemp()) / "train_32x32_native"
    started = time.perf_counter()
    summary = train(task, config, folder, progress=False)
    results["32x32_native"] = {
        "samples": summary["samples"],
        "wall_s": time.perf_counter() - started,
        "loss_ratio": summary["loss_ratio"],
    }
    print(
        f"32x32 teacher, native, {summary['samples']} samples: {results['32x32_native']['wall_s']:.1f} s wall, "
        f"final/initial test loss {summary['loss_ratio']:.3g}",
        flush=True,
    )
    task = teacher_task("lattice:4x4", train_samples=100, test_samples=50, seed=0)
    theta = calibrate_threshold_v(task.student, task.x_train[:20], task.y_train[:20], drive, 5e-6)
    for kind in (BackendKind.NATIVE, BackendKind.NGSPICE):
        config = RunConfig(
            backend=kind,
            drive=drive,
            cell=FeedbackCellConfig(threshold_v=theta),
            sim=SimulatorConfig(),
            learning=LearningConfig(epochs=5),
        )
        folder = Path(tempfile.mkdtemp()) / f"train_4x4_{kind.value}"
        started = time.perf_counter()
        summary = train(task, config, folder, progress=False)
        results[f"4x4_{kind.value}"] = {
            "samples": summary["samples"],
            "wall_s": time.perf_counter() - started,
            "initial_test_loss": summary["initial_test_loss"],
            "final_test_loss": summary["final_test_loss"],
        }
        print(
            f"4x4 teacher, {kind.value}: {summary['samples']} samples in {results[f'4x4_{kind.value}']['wall_s']:.1f} s, "
            f"test loss {summary['initial_test_loss']:.4g} -> {summary['final_test_loss']:.4g}",
            flush=True,
        )
    native, ngspice = results["4x4_native"], results["4x4_ngspice"]
    results["4x4_final_loss_native_over_ngspice"] = native["final_test_loss"] / ngspice["final_test_loss"]
    print(
        f"4x4 final loss native / ngspice = {results['4x4_final_loss_native_over_ngspice']:.3f}; "
        f"wall ngspice / native = {ngspice['wall_s'] / native['wall_s']:.1f}"
    )
    (out / "training.json").write_text(json.dumps(results, indent=2))
    return results


def accuracy() -> None:
    """Print the discretisation error of the native update against a fine grid, and the native-ngspice
    difference at two ngspice tolerances, for both threshold shapes (the tables of docs/native.md)."""

    def accumulators(result, circuit):
        return result.rows(circuit.cells.accumulator)[:, -1].copy()

    def relative(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    drive = SawtoothConfig()
    print("discretisation: relative error of the update vs refine=64 (worst of 3 samples)")
    print(
        f"{'network':<18}{'shape':<10}{'headroom':>9}{'active':>8}"
        + "".join(f"{f'r={r}':>10}" for r in (1, 2, 4, 8))
    )
    for description in ("lattice:4x4", "lattice:8x8", "lattice:16x16", "layered:4-6-3", "layered:32-32-8"):
        task = teacher_task(description, train_samples=20, test_samples=1, seed=0)
        for shape in (ThresholdShape.HARD, ThresholdShape.DEAD_ZONE):
            for headroom in (0.2, 1.0):
                theta = calibrate_threshold_v(
                    task.student, task.x_train, task.y_train, drive, 5e-6, headroom=headroom
                )
                cell = FeedbackCellConfig(threshold_v=theta, threshold_shape=shape)
                worst, active = np.zeros(4), 0.0
                for k in range(3):
                    circuit = compile_tcl(
                        task.student,
                        drive=drive,
                        cell=cell,
                        inputs_v=task.x_train[k],
                        targets_v=task.y_train[k],
                    )
                    reference = accumulators(NativeBackend(refine=64).run(circuit), circuit)
                    active = max(active, float(np.mean(reference != 0)))
                    errors = [
                        relative(accumulators(NativeBackend(refine=r).run(circuit), circuit), reference)
                        for r in (1, 2, 4, 8)
                    ]
                    worst = np.maximum(worst, errors)
                print(
                    f"{description:<18}{shape.value:<10}{headroom:>9.1f}{active:>8.2f}"
                    + "".join(f"{e:>10.1e}" for e in worst),
                    flush=True,
                )
    print("\nnative (refine=1) vs ngspice: relative difference of the update, one sample, headroom 1.0")
    print(f"{'network':<18}{'active':>8}{'hard 1e-4':>11}{'hard 1e-5':>11}{'dz 1e-4':>11}{'dz 1e-5':>11}")
    networks = ["lattice:3x3", "lattice:4x4", "lattice:5x5", "lattice:6x6", "lattice:7x7", "lattice:8x8"]
    networks += ["layered:3-4-2", "layered:4-6-3", "layered:5-8-3"]
    with NgspiceBackend() as ngspice:
        for seed, description in enumerate(networks):
            task = teacher_task(description, train_samples=1, test_samples=1, seed=10 + seed)
            spec, x, y = task.student, task.x_train[0], task.y_train[0]
            theta = calibrate_threshold_v(spec, x[None], y[None], drive, 5e-6, headroom=1.0)
            cells, active = [], 0.0
            for shape in (ThresholdShape.HARD, ThresholdShape.DEAD_ZONE):
                for reltol in (1e-4, 1e-5):
                    circuit = compile_tcl(
                        spec,
                        drive=drive,
                        cell=FeedbackCellConfig(threshold_v=theta, threshold_shape=shape),
                        sim=SimulatorConfig(reltol=reltol),
                        inputs_v=x,
                        targets_v=y,
                    )
                    reference = accumulators(ngspice.run(circuit), circuit)
                    active = float(np.mean(reference != 0))
                    cells.append(relative(accumulators(NativeBackend().run(circuit), circuit), reference))
            print(
                f"{description:<18}{active:>8.2f}" + "".join(f"{100 * c:>10.2f}%" for c in cells), flush=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="out/bench", help="folder for bench.csv and bench.png")
    parser.add_argument("--quick", action="store_true", help="skip ngspice on networks above 1,000 edges")
    parser.add_argument(
        "--cap-s", type=float, default=300.0, help="stop an ngspice run after this long (recorded as a bound)"
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of the fast measurements")
    parser.add_argument("--training", action="store_true", help="also run the training comparisons")
    parser.add_argument("--networks", nargs="*", default=NETWORKS)
    parser.add_argument("--accuracy", action="store_true", help="print the discretisation and parity tables")
    parser.add_argument(
        "--node-capacitance",
        type=float,
        default=0.0,
        help="F from every free node to ground (the native engine then integrates the network: TR-BDF2); "
        "d stays the quasi-static floor",
    )
    args = parser.parse_args()
    out = Path(args.out)
    rows = bench(args.networks, args.quick, args.repeats, args.cap_s, args.node_capacitance)
    if rows:
        write_outputs(rows, out)
        print(f"wrote {out / 'bench.csv'} and {out / 'bench.png'}")
    if args.training:
        training(out)
    if args.accuracy:
        accuracy()


if __name__ == "__main__":
    main()
