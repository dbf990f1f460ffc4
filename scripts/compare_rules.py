"""TCL vs explicit contrastive (EqProp) vs exact gradient on the same circuit, data and seed, side by side.

Each rule runs at the default step size times each of --lr-factors (a small sweep), so the rules are
compared at equal step size and each at its own best one. With --remedies, TCL also runs with each window
remedy a bench could apply (per-layer thresholds, window width, nudge tracking, adaptive threshold), with its
time per sample measured in the same sweep. Runs go in parallel processes (dask), one run folder each under
--out; prints the tables and writes sweep.csv and rules.png there.

    python scripts/compare_rules.py --network lattice:16x16 --train-samples 500 --epochs 1 --remedies \
        --remedy-lr-factors 1 16
    python scripts/compare_rules.py --task iris --epochs 20 --lr-factors 0.5 1 2
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from tcl_circuits.config import RuleKind
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.learning.tasks import TaskKind
from tcl_circuits.studies.sweep import Job, run_jobs

REMEDIES: dict[str, tuple[str, dict]] = {
    "default": ("defaults: per-layer thresholds, 90x window, top at 20x the largest contrasts", {}),
    "one_threshold": ("one global threshold", {"cell": {"per_group_threshold": False}}),
    "earlier_defaults": (
        "the earlier defaults: 9x window (tau_rise 100 us, tau_K 5 us), one threshold, top at 0.4x the contrasts",
        {
            "drive": {"tau_rise_s": 1e-4},
            "cell": {"tau_k_s": 5e-6, "threshold_headroom": 0.4, "per_group_threshold": False},
        },
    ),
    "window_900x": ("900x window (tau_fall 9 ms: a 10x longer cycle)", {"drive": {"tau_fall_s": 9e-3}}),
    "nudge_tracking": ("beta_max grows as (e0/e)^0.5, at most 10x", {"window": {"beta_tracking": 0.5}}),
    "adaptive_threshold": (
        "threshold steps to keep 50 % of the edges updating",
        {"window": {"threshold_adaptation": 0.05, "target_updated": 0.5}},
    ),
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--task", choices=[k.value for k in TaskKind], default="teacher")
    parser.add_argument("--network", default="lattice:16x16", help="teacher tasks (classification: its drn)")
    parser.add_argument("--train-samples", type=int, default=500, help="teacher and mnist")
    parser.add_argument("--test-samples", type=int, default=100, help="teacher and mnist")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--lr-factors", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    parser.add_argument(
        "--rules", nargs="+", choices=[r.value for r in RuleKind], default=[r.value for r in RuleKind]
    )
    parser.add_argument("--remedies", action="store_true", help="also TCL with each window remedy")
    parser.add_argument(
        "--remedy-lr-factors", type=float, nargs="+", default=[1.0], help="step sizes of the remedy runs"
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--out", default="out/rules", help="new folder for the runs and the tables")
    args = parser.parse_args()
    if Path(args.out).exists() and any(Path(args.out).iterdir()):
        parser.exit(2, f"compare_rules.py: error: --out {args.out} exists and is not empty\n")
    if args.workers < 1 or args.epochs < 1 or min(args.lr_factors) <= 0:
        parser.exit(2, "compare_rules.py: error: --workers, --epochs and --lr-factors must be positive\n")
    return args


def _jobs(args: argparse.Namespace) -> tuple[list[Job], dict[str, dict]]:
    task = {"task": args.task, "train_samples": args.train_samples, "test_samples": args.test_samples}
    if args.task == TaskKind.TEACHER.value:
        task["network"] = args.network
    base = with_changes(RunConfig(), {"task": task, "learning": {"epochs": args.epochs, "seed": args.seed}})
    from tcl_circuits.learning.tasks import make_task

    default_lr = make_task(base.task, args.seed).default_learning_rate_s2_per_v2
    jobs, meta = [], {}
    for rule in args.rules:
        for factor in args.lr_factors:
            name = f"{rule}_lr{factor:g}"
            lr = default_lr * factor
            jobs.append(
                Job(name, with_changes(base, {"learning": {"rule": rule, "learning_rate_s2_per_v2": lr}}))
            )
            meta[name] = {"rule": rule, "lr": lr, "variant": "lr sweep"}
    if args.remedies:
        for factor in args.remedy_lr_factors:
            for key, (label, changes) in REMEDIES.items():
                name = f"tcl_{key}" + ("" if factor == 1 else f"_lr{factor:g}")
                lr = default_lr * factor
                changes = {**changes, "learning": {"rule": "tcl", "learning_rate_s2_per_v2": lr}}
                jobs.append(Job(name, with_changes(base, changes)))
                meta[name] = {"rule": "tcl", "lr": lr, "variant": label}
    return jobs, meta


def _row(result: dict, meta: dict) -> dict:
    s, last = result["summary"], result["epochs"][-1]
    return {
        "run": result["name"],
        "rule": meta["rule"],
        "variant": meta["variant"],
        "lr_s2_per_v2": meta["lr"],
        "final_over_initial_loss": s["loss_ratio"],
        "final_test_loss_v2": s["final_test_loss"],
        "final_test_accuracy": s.get("final_test_accuracy"),
        "frac_below": last.get("frac_below"),
        "frac_window": last.get("frac_window"),
        "frac_above": last.get("frac_above"),
        "cos_contrastive": last.get("cos_contrastive"),
        "cos_gradient": last.get("cos_gradient"),
        "seconds_per_sample": s["seconds_per_sample"],
        "energy_per_update_j": s["energy_per_update_j"]["total"],
    }


def _text(value: object, width: int, digits: int = 4) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:{width}.{digits}g}"
    return str(value).rjust(width)


def _print(rows: list[dict], title: str) -> None:
    columns = [
        ("run", 26),
        ("final_over_initial_loss", 10),
        ("final_test_accuracy", 9),
        ("frac_below", 7),
        ("frac_window", 7),
        ("frac_above", 7),
        ("cos_gradient", 8),
        ("seconds_per_sample", 9),
    ]
    heads = ["run", "final/init", "accuracy", "below", "window", "above", "cos(grad)", "s/sample"]
    print(f"\n{title}")
    print(
        " ".join(
            h.rjust(w) if k else h.ljust(w) for (_, w), h, k in zip(columns, heads, range(9), strict=False)
        )
    )
    for row in rows:
        cells = [row["run"].ljust(26)] + [_text(row[key], width) for key, width in columns[1:]]
        print(" ".join(cells))


def _figure(results: list[dict], best: dict[str, str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {r["name"]: r for r in results}
    accuracy = "test_accuracy" in results[0]["epochs"][0]
    fig, axes = plt.subplots(1, 2 if accuracy else 1, figsize=(11 if accuracy else 5.5, 3.8), squeeze=False)
    for rule, name in best.items():
        epochs = by_name[name]["epochs"]
        x = [e["epoch"] for e in epochs]
        axes[0, 0].semilogy(x, [e["test_loss"] for e in epochs], "o-", label=f"{rule} ({name})")
        if accuracy:
            axes[0, 1].plot(x, [100 * e["test_accuracy"] for e in epochs], "o-", label=rule)
    axes[0, 0].set_xlabel("epoch")
    axes[0, 0].set_ylabel("held-out loss (V$^2$)")
    axes[0, 0].set_title(title, fontsize=9)
    axes[0, 0].legend(fontsize=8)
    if accuracy:
        axes[0, 1].set_xlabel("epoch")
        axes[0, 1].set_ylabel("held-out accuracy (%)")
        axes[0, 1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    args = _arguments()
    out = Path(args.out)
    jobs, meta = _jobs(args)
    print(f"{len(jobs)} runs, {args.workers} at a time, in {out}/runs", file=sys.stderr)
    results = run_jobs(jobs, out / "runs", workers=args.workers, progress=True)
    rows = [_row(result, meta[result["name"]]) for result in results]
    classified = rows[0]["final_test_accuracy"] is not None

    def score(row: dict) -> float:
        return -row["final_test_accuracy"] if classified else row["final_over_initial_loss"]

    swept = [r for r in rows if r["variant"] == "lr sweep"]
    best = {rule: min((r for r in swept if r["rule"] == rule), key=score)["run"] for rule in args.rules}
    title = f"{args.task} {args.network if args.task == 'teacher' else ''} seed {args.seed}".strip()
    _print(swept, f"{title}: each rule at each step size")
    _print([r for r in rows if r["run"] in best.values()], f"{title}: each rule at its best step size")
    remedies = [r for r in rows if r["variant"] != "lr sweep"]
    if remedies:
        _print(remedies, f"{title}: TCL window remedies (run names end in their step-size factor, if not 1)")
        base = next(r for r in remedies if r["run"].startswith("tcl_default"))
        for r in remedies:
            ratio = r["seconds_per_sample"] / base["seconds_per_sample"]
            print(f"  {r['run']:30s} {r['variant']}; time per sample {ratio:.2f}x the default's")
    with open(out / "sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _figure(results, best, out / "rules.png", f"{title}: each rule at its best step size")
    print(f"\nwrote {out / 'sweep.csv'} and {out / 'rules.png'}")


if __name__ == "__main__":
    main()
