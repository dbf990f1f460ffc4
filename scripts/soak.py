"""Soak test of the robustness guarantees, printing the figures quoted in docs/robustness.md.

1. Fuzz: >= 10^4 generated cases over numbers (SPICE suffixes, units, µ and μ, underscores, confusable
   non-ASCII digits, underflow), edge-list files (resistances by their unit, bare suffixes), ``tcl-circuits
   train`` options, ``tcl-circuits sweep --set KEY=VALUE`` settings, MNIST IDX folders
   (empty, absurd, mismatched, ambiguous), amplifier and diode values (extreme gains, denormals), --config
   files (duplicate keys, ill-shaped fields) and run.json contents (the generators of tests/strategies.py):
   tracebacks, commands executed (a canary file) and silent misreads (a valid input read as another value,
   or an invalid one accepted) are counted per surface; all must be 0.
2. kill -9: a native training run is killed at random moments (>= 20 kills) and resumed each time; its final
   conductances and records must equal those of an uninterrupted run bit for bit.
3. Worker memory: 10^4 ngspice cycles through one NgspiceBackend (worker recycling at its default); growth of
   the worker's resident memory over the run, against the first worker after warm-up.
4. Two concurrent runs on one folder: the second is refused, the first finishes intact.

5. Ctrl-C during ``sweep`` and ``feasibility`` (the whole process group, as a terminal sends it): exit code
   130, one line, no traceback from the client, the scheduler or the workers.

Usage: python scripts/soak.py [--fuzz 10000] [--kills 20] [--cycles 10000] [--interrupts 20] [--out out/soak]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's package, not an installed one

LONG = ["--epochs", "6", "--train-samples", "200"]
"""Options that make the run of the concurrency check last long enough to be caught running."""
TRAIN = [
    "train",
    "--network",
    "lattice:5x5",
    "--rule",
    "tcl",
    "--backend",
    "native",
    "--epochs",
    "3",
    "--train-samples",
    "60",
    "--test-samples",
    "20",
    "--checkpoint-every",
    "7",
    "--seed",
    "3",
    "--no-progress",
]


def fuzz(cases: int) -> dict:
    """Run the fuzz generators; count tracebacks, misreads and commands executed."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from strategies import (
        CANARY,
        CONFIG_CASES,
        FLAGS,
        INT_FLAGS,
        RUN_JSON_CASES,
        SWEEP_SPEC,
        UNITS,
        edge_lists,
        element_values,
        idx_folders,
        quantities,
        read_config_file,
        read_element_value,
        read_idx_folder,
        read_run_json,
        same_graph,
        sweep_settings,
        train_options,
    )

    from tcl_circuits import network
    from tcl_circuits.cli import main as cli
    from tcl_circuits.cli.options import add_config_options, apply_options
    from tcl_circuits.errors import TclCircuitsError
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.units import parse_quantity

    counts = {"cases": 0, "tracebacks": 0, "misreads": 0, "refused": 0, "accepted": 0}
    surfaces: dict[str, dict[str, int]] = {}
    examples: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="tcl_soak_fuzz_"))
    os.chdir(workdir)  # a canary would land here
    generated = ("numbers", "edge_lists", "train_options", "sweep_settings", "idx_folders", "element_values")
    # at least ``cases`` in all: element_values holds a few dozen distinct cases, the other four as many as asked
    per = max(1, -(-cases // (len(generated) - 1)))
    options = add_config_options(argparse.ArgumentParser(), RunConfig())
    parser = cli.build_parser()
    surface = [""]  # the surface being fuzzed, for the counts

    def note(kind: str, case: object) -> None:
        counts[kind] += 1
        surfaces[surface[0]][kind] += 1
        if len(examples) < 10:
            examples.append(f"{surface[0]} {kind}: {case!r}")

    def check(run, case):
        counts["cases"] += 1
        surfaces[surface[0]]["cases"] += 1
        try:
            outcome = run(case)
        except Exception:  # noqa: BLE001 - anything but the package's errors is a traceback for a user
            note("tracebacks", (case, traceback.format_exc(limit=2)))
            return
        if outcome.startswith("misread"):  # the shared readers of tests/strategies.py say what they saw
            note("misreads", outcome)
            outcome = "refused" if " refused" in outcome or "several lines" in outcome else "accepted"
        counts[outcome] += 1
        surfaces[surface[0]][outcome] += 1

    def checking(run):
        def one_case(case):
            check(run, case)

        return one_case

    def number(case):
        unit, (text, value) = case
        try:
            got = parse_quantity(text, unit)
        except TclCircuitsError:
            return "refused" if value is None else note("misreads", case) or "refused"
        if value is None or abs(got - value) > 1e-12 * abs(value):
            note("misreads", case)
        return "accepted"

    def fresh_folder() -> Path:
        return Path(tempfile.mkdtemp(dir=workdir))

    def edge_list(case):
        text, expected = case
        path = workdir / "net.edges"
        path.write_text(text)
        try:
            spec = network.from_graph(network.load_graph(path))
        except TclCircuitsError:
            if expected is not None:
                note("misreads", case)
            return "refused"
        if expected is None or not same_graph(spec, expected):
            note("misreads", case)
        return "accepted"

    def option(case):
        argv, flag, value = case
        try:
            args = parser.parse_args(["train", "--out", "unused", *argv])
            config = apply_options(RunConfig(), args, options)
        except SystemExit as stop:
            if stop.code != 2 or value is not None and _valid_value(flag, value):
                note("misreads", case)
            return "refused"
        except TclCircuitsError as error:
            if flag not in str(error):
                note("misreads", (case, str(error)))
            return "refused"
        got = config
        for part in (FLAGS | INT_FLAGS)[flag]:
            got = getattr(got, part)
        if value is None or abs(got - value) > 1e-12 * abs(value):
            note("misreads", case)
        return "accepted"

    spec_file = workdir / "spec.toml"
    spec_file.write_text(SWEEP_SPEC)

    def setting(case):
        argv, flag, value = case
        try:
            spec = cli.sweep_spec(parser.parse_args(["sweep", str(spec_file), "--out", "unused", *argv]))
        except SystemExit as stop:
            if stop.code != 2 or value is not None and _valid_value(flag, value):
                note("misreads", case)
            return "refused"
        except TclCircuitsError as error:
            if not str(error).startswith("--set ") or value is not None and _valid_value(flag, value):
                note("misreads", (case, str(error)))
            return "refused"
        got = spec.base
        for part in (FLAGS | INT_FLAGS)[flag]:
            got = got[part]
        if value is None or abs(got - value) > 1e-12 * abs(value):
            note("misreads", case)
        return "accepted"

    quiet = settings(max_examples=per, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    with_units = st.sampled_from(sorted(UNITS)).flatmap(
        lambda unit: st.tuples(st.just(unit), quantities(unit))
    )
    runs = {
        "numbers": (with_units, number),
        "edge_lists": (edge_lists(), edge_list),
        "train_options": (train_options(), option),
        "sweep_settings": (sweep_settings(), setting),
        "idx_folders": (idx_folders(), lambda case: read_idx_folder(case, fresh_folder())),
        "element_values": (element_values(), read_element_value),
    }
    stderr = sys.stderr
    sys.stderr = open(os.devnull, "w")  # argparse errors of refused options
    try:
        for name in generated:
            surface[0] = name
            surfaces[name] = {"cases": 0, "accepted": 0, "refused": 0, "misreads": 0, "tracebacks": 0}
            strategy, run = runs[name]
            given(strategy)(quiet(checking(run)))()
        for name, fixed, run in (
            ("config_files", CONFIG_CASES, lambda case: read_config_file(case, fresh_folder() / "c.json")),
            ("run_json", RUN_JSON_CASES, lambda text: read_run_json(text, fresh_folder())),
        ):
            surface[0] = name
            surfaces[name] = {"cases": 0, "accepted": 0, "refused": 0, "misreads": 0, "tracebacks": 0}
            for case in fixed:
                check(run, case)
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    counts["commands_executed"] = int((workdir / CANARY).exists() or Path(CANARY).exists())
    counts["surfaces"] = surfaces
    counts["examples"] = examples
    return counts


def _valid_value(flag: str, value: float) -> bool:
    """Whether a well-formed value is also within the option's range (else refusing it is right)."""
    from strategies import FLAGS, INT_FLAGS

    from tcl_circuits.errors import ConfigError
    from tcl_circuits.learning.run_config import RunConfig

    path = (FLAGS | INT_FLAGS)[flag]
    try:
        config = RunConfig()
        import dataclasses

        def replace(obj, parts):
            if len(parts) == 1:
                return dataclasses.replace(obj, **{parts[0]: value})
            return dataclasses.replace(obj, **{parts[0]: replace(getattr(obj, parts[0]), parts[1:])})

        replace(config, list(path))
    except (ConfigError, TypeError):
        return False
    return True


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("final_conductance_s.npy", "samples.jsonl", "epochs.csv"):
        data = (folder / name).read_bytes()
        if name == "epochs.csv":  # wall-clock seconds differ between runs; the losses must not
            data = b"\n".join(b",".join(row.split(b",")[:-1]) for row in data.splitlines())
        h.update(data)
    return h.hexdigest()


KILLED = ["--train-samples", "1200"]
"""Enough samples (about 10 s of training) for every kill to land mid-run, after a checkpoint."""


def _records(folder: Path) -> int:
    path = folder / "samples.jsonl"
    return path.stat().st_size if path.exists() else 0


def kills(count: int, out: Path) -> dict:
    """kill -9 a training run at random moments, resume until done; compare with an uninterrupted run. Each
    kill comes a random 0-0.3 s after the attempt's first new checkpoint: a kill at a fixed delay misses a run
    that a fast machine finishes before it (20 kills asked, 2 made)."""
    exe = [sys.executable, "-m", "tcl_circuits.cli.main"]
    straight = out / "straight"
    subprocess.run([*exe, *TRAIN, *KILLED, "--out", str(straight)], check=True, capture_output=True)
    cut = out / "killed"
    rng = random.Random(7)
    done_kills, attempts, started = 0, 0, time.perf_counter()
    resume: list[str] = []
    while True:
        attempts += 1
        before = _records(cut)
        process = subprocess.Popen(
            [*exe, *TRAIN, *KILLED, "--out", str(cut), *resume],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        resume = ["--resume"]
        if done_kills < count:
            while process.poll() is None and _records(cut) <= before:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.3))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                done_kills += 1
                continue
        process.wait()
        if process.returncode != 0:
            raise RuntimeError(f"resume failed: {process.stderr.read().decode()[-500:]}")
        if (cut / "summary.json").exists():
            break
    same = _digest(straight) == _digest(cut)
    return {
        "kills": done_kills,
        "runs": attempts,
        "bit_identical": same,
        "seconds": time.perf_counter() - started,
    }


def worker_memory(cycles: int) -> dict:
    """RSS of the ngspice worker over many cycles of one small TCL deck."""
    from tcl_circuits import network
    from tcl_circuits.backends.ngspice import NgspiceBackend
    from tcl_circuits.circuit.compile import compile_tcl
    from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig

    def rss_kb(pid: int) -> int:
        with open(f"/proc/{pid}/status") as handle:
            return int(next(line for line in handle if line.startswith("VmRSS")).split()[1])

    circuit = compile_tcl(
        network.from_graph(network.triangle()), drive=SawtoothConfig(), cell=FeedbackCellConfig()
    )
    started = time.perf_counter()
    with NgspiceBackend() as backend:
        for _ in range(50):
            backend.run(circuit)
        first = rss_kb(backend.worker_pid)
        peak = first
        samples = []
        for k in range(cycles):
            backend.run(circuit)
            if k % 100 == 0:
                rss = rss_kb(backend.worker_pid)
                peak = max(peak, rss)
                samples.append(rss)
        restarts = backend.restarts
    return {
        "cycles": cycles,
        "rss_first_kb": first,
        "rss_peak_kb": peak,
        "growth_percent": 100.0 * (peak - first) / first,
        "worker_restarts": restarts,
        "seconds": time.perf_counter() - started,
    }


def concurrent(out: Path) -> dict:
    """Two runs on one folder at the same time."""
    exe = [sys.executable, "-m", "tcl_circuits.cli.main"]
    folder = out / "shared"
    argv = [*exe, *TRAIN, *LONG, "--out", str(folder)]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while not (folder / "checkpoint.json").exists() and first.poll() is None:
        time.sleep(0.05)
    running = first.poll() is None
    second = subprocess.run([*argv, "--resume"], capture_output=True, text=True)
    first.wait()
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else {}
    lines = (folder / "samples.jsonl").read_text().splitlines() if (folder / "samples.jsonl").exists() else []
    return {
        "first_was_running": running,
        "second_exit_code": second.returncode,
        "second_message": second.stderr.strip().splitlines()[-1] if second.stderr.strip() else "",
        "first_exit_code": first.returncode,
        "first_samples": summary.get("samples"),
        "first_records_intact": len(lines) == summary.get("samples")
        and all(json.loads(line)["position"] == i % 200 for i, line in enumerate(lines)),
    }


INTERRUPTED_SPEC = """seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
[base]
backend = "native"
task = { network = "lattice:4x4", train_samples = 60, test_samples = 10 }
learning = { epochs = 2, alignment_every = 0 }
"""
FEASIBILITY = ["--trials", "2", "--network", "lattice:3x3", "--train-samples", "6", "--test-samples", "3"]
FEASIBILITY += ["--epochs", "1", "--alignment-every", "0"]


def _default_sigint() -> None:
    """In the child before it starts: SIGINT at its default, as in a terminal, even when this script runs in
    the background of a shell without job control (which ignores SIGINT there, and Python keeps that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupts(count: int, out: Path) -> dict:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) during ``sweep`` on 2 workers, a
    random 0-1 s after its first finished point, and during a small ``feasibility`` after its first mismatch
    runs: clean when the exit code is 130, stderr is the one interrupted line and no process printed a
    traceback."""
    exe = [sys.executable, "-m", "tcl_circuits.cli.main"]
    spec = out / "interrupted.toml"
    spec.write_text(INTERRUPTED_SPEC)
    rng = random.Random(11)
    tally = {}
    for command, argv, started, rows in (
        ("sweep", ["sweep", str(spec), "--workers", "2"], "results.csv", 2),
        ("feasibility", ["feasibility", *FEASIBILITY], "spread/results.csv", 3),
    ):
        clean = 0
        for attempt in range(count):
            folder = out / f"{command}-interrupted-{attempt}"
            process = subprocess.Popen(
                [*exe, *argv, "--out", str(folder), "--no-progress"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
                preexec_fn=_default_sigint,
            )
            path = folder / started
            while process.poll() is None and not (
                path.exists() and len(path.read_text().splitlines()) >= rows
            ):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.0))
            os.killpg(process.pid, signal.SIGINT)
            stdout, stderr = process.communicate(timeout=120)
            lines = stderr.strip().splitlines()
            clean += (
                process.returncode == 130
                and len(lines) == 1
                and lines[0].startswith("interrupted;")
                and "Traceback" not in stdout + stderr
            )
        tally[command] = {"interrupted": count, "clean": clean}
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fuzz", type=int, default=10_000, help="generated input cases (default: 10000)")
    parser.add_argument("--kills", type=int, default=20, help="kill -9 of a training run (default: 20)")
    parser.add_argument(
        "--cycles", type=int, default=10_000, help="ngspice cycles for the memory figure (default: 10000)"
    )
    parser.add_argument(
        "--interrupts", type=int, default=20, help="Ctrl-C of sweep and of feasibility, each (default: 20)"
    )
    parser.add_argument("--out", default=None, help="folder for the runs (default: a new temporary folder)")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tcl_soak_"))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    print(f"fuzz: {args.fuzz} cases ...", flush=True)
    results["fuzz"] = fuzz(args.fuzz)
    print(json.dumps(results["fuzz"], indent=1), flush=True)
    os.chdir(ROOT)
    print(f"kill -9: {args.kills} kills ...", flush=True)
    results["kills"] = kills(args.kills, out)
    print(json.dumps(results["kills"], indent=1), flush=True)
    print(f"worker memory: {args.cycles} ngspice cycles ...", flush=True)
    results["worker_memory"] = worker_memory(args.cycles)
    print(json.dumps(results["worker_memory"], indent=1), flush=True)
    print("two concurrent runs on one folder ...", flush=True)
    results["concurrent"] = concurrent(out)
    print(json.dumps(results["concurrent"], indent=1), flush=True)
    print(f"Ctrl-C: {args.interrupts} interruptions of sweep and of feasibility ...", flush=True)
    results["interrupts"] = interrupts(args.interrupts, out)
    print(json.dumps(results["interrupts"], indent=1), flush=True)
    (out / "soak.json").write_text(json.dumps(results, indent=1))
    fz, kl, wm, cc = results["fuzz"], results["kills"], results["worker_memory"], results["concurrent"]
    print("\nsummary")
    print(
        f"  fuzz cases {fz['cases']:,}: tracebacks {fz['tracebacks']}, commands executed {fz['commands_executed']}, silent misreads {fz['misreads']}"
    )
    for name, tally in fz["surfaces"].items():
        print(
            f"    {name:15s} {tally['cases']:>6,} cases: {tally['accepted']:,} accepted, {tally['refused']:,} refused, "
            f"{tally['misreads']} misreads, {tally['tracebacks']} tracebacks"
        )
    print(f"  kill -9 x {kl['kills']} then resume: bit-identical {kl['bit_identical']}")
    print(
        f"  {wm['cycles']:,} ngspice cycles: worker RSS {wm['rss_first_kb']} -> peak {wm['rss_peak_kb']} kB ({wm['growth_percent']:.2f} %), {wm['worker_restarts']} recycled"
    )
    print(
        f"  concurrent runs: second refused (exit {cc['second_exit_code']}: {cc['second_message']}), first intact {cc['first_records_intact']}"
    )
    for command, tally in results["interrupts"].items():
        print(
            f"  Ctrl-C during {command}: {tally['clean']}/{tally['interrupted']} clean (exit 130, one line)"
        )
    print(f"results in {out / 'soak.json'}")


if __name__ == "__main__":
    main()
