"""Tools on a run folder: export its network (GraphML, one-cycle deck) and plot one cycle of it."""

import re

import numpy as np
import pytest

from tcl_circuits.cli.main import main
from tcl_circuits.config import BackendKind, LearningConfig, RuleKind
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig, TaskKind, make_task
from tcl_circuits.network import from_graph, load_graph

LATTICE = ["--network", "lattice:3x3", "--train-samples", "6", "--test-samples", "3", "--epochs", "1"]


@pytest.fixture(scope="module")
def lattice_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lattice"
    assert main(["train", *LATTICE, "--threshold-headroom", "1", "--out", str(out), "--no-progress"]) == 0
    return out


def resistors(deck: str) -> dict[tuple[str, str], str]:
    """The learning resistors of a deck by their nodes, values as written."""
    found = re.findall(r"^re\d+ (\S+) (\S+) (\S+)$", deck, flags=re.MULTILINE)
    return {tuple(sorted((a, b))): value for a, b, value in found}


def round_trip(run, tmp_path, capsys, *extra):
    """The cir export, and the deck compile writes for the GraphML export: both texts."""
    assert main(["export", str(run), "--format", "cir", "-o", str(tmp_path / "run.cir"), *extra]) == 0
    assert main(["export", str(run), "-o", str(tmp_path / "net.graphml"), *extra]) == 0
    assert main(["compile", str(tmp_path / "net.graphml"), "-o", str(tmp_path / "compiled.cir")]) == 0
    capsys.readouterr()
    return (tmp_path / "run.cir").read_text(), (tmp_path / "compiled.cir").read_text()


def test_export_graphml_compiles_to_the_resistors_of_the_cir_export(lattice_run, tmp_path, capsys):
    exported, compiled = round_trip(lattice_run, tmp_path, capsys)
    assert len(resistors(exported)) == 12 and resistors(exported) == resistors(compiled)
    spec = from_graph(load_graph(tmp_path / "net.graphml"))  # the strict reader takes it
    final = np.load(lattice_run / "final_conductance_s.npy")
    assert sorted(spec.conductance_s) == sorted(final)  # exactly, in siemens
    first = (lattice_run / "first_sample.cir").read_text()
    assert resistors(first) != resistors(exported)  # trained: not the initial network
    assert "exported run: final conductances, training sample 0" in exported
    capsys.readouterr()
    assert main(["export", str(lattice_run)]) == 0  # GraphML on standard output
    assert capsys.readouterr().out.startswith("<?xml")


def test_export_of_a_classification_run_carries_its_diodes_and_amplifiers(tmp_path, capsys):
    task_config = TaskConfig(task=TaskKind.IRIS, hidden=4)
    run_config = RunConfig(
        task=task_config,
        backend=BackendKind.NATIVE,
        learning=LearningConfig(rule=RuleKind.GRADIENT, epochs=1, alignment_every=0),
    )
    train(make_task(task_config, 0), run_config, tmp_path / "iris", progress=False, plots=False)
    exported, compiled = round_trip(tmp_path / "iris", tmp_path, capsys, "--sample", "5")
    edges = make_task(task_config, 0).student.n_edges
    assert resistors(exported) == resistors(compiled) and len(resistors(exported)) == edges
    graph = (tmp_path / "net.graphml").read_text()
    assert "diode" in graph and "amplified" in graph and "bias" in graph


def test_export_checkpoint_reads_an_unfinished_run(tmp_path, capsys):
    config = RunConfig(
        task=TaskConfig(network="lattice:3x3", train_samples=6, test_samples=3),
        learning=LearningConfig(rule=RuleKind.GRADIENT, epochs=2, checkpoint_every=2),
    )
    task = make_task(config.task, 0)
    train(task, config, tmp_path / "cut", progress=False, plots=False, stop_after_samples=9)
    out = str(tmp_path / "first.graphml")
    assert main(["export", str(tmp_path / "cut"), "-o", out]) == 2
    assert "final_conductance_s.npy does not exist: the run is unfinished (add --checkpoint" in (
        capsys.readouterr().err
    )
    assert main(["export", str(tmp_path / "cut"), "-o", out, "--checkpoint"]) == 0
    exported, compiled = round_trip(tmp_path / "cut", tmp_path, capsys, "--checkpoint")
    assert resistors(exported) == resistors(compiled)
    checkpoint = (tmp_path / "cut" / "checkpoint.json").read_text()
    (tmp_path / "cut" / "checkpoint.json").write_text(checkpoint.replace('"position": 2', '"position": 3'))
    assert main(["export", str(tmp_path / "cut"), "-o", str(tmp_path / "x.graphml"), "--checkpoint"]) == 2
    assert "was modified or damaged" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "{tmp}"], "is not a run folder"),
        (["export", "{run}", "--format", "spice"], "--format: invalid choice: 'spice'"),
        (["export", "{run}", "--sample", "6"], "--sample 6: the run has training samples 0 to 5"),
        (["export", "{run}", "--sample", "-1"], "--sample"),
        (["export", "{run}", "-o", "{run}/run.json"], "exists; add --force to replace it"),
        (["export", "{run}", "-o", "{tmp}/missing/x.cir"], "does not exist"),
        (["plot-cycle", "{run}", "--edges", "0,3,12"], "--edges '0,3,12': the network has edges 0 to 11"),
        (["plot-cycle", "{run}", "--edges", "1,1"], "an edge is named twice"),
        (["plot-cycle", "{run}", "--edges", "one"], "expected edge numbers separated by commas"),
        (["plot-cycle", "{run}", "--edges", "0,-1"], "expected edge numbers"),
        (["plot-cycle", "{run}"], "the following arguments are required: --edges"),
        (["plot-cycle", "{run}", "--edges", "0", "-o", "-"], "a figure needs a file"),
    ],
)
def test_export_and_plot_cycle_refuse_bad_input_in_one_line(lattice_run, tmp_path, capsys, argv, message):
    argv = [word.format(run=lattice_run, tmp=tmp_path) for word in argv]
    before = sorted(p.name for p in lattice_run.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in lattice_run.iterdir()) == before  # the run folder is left as it was


def test_plot_cycle_writes_a_png_of_the_chosen_edges(lattice_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plot-cycle", str(lattice_run), "--edges", "0,3,7", "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert "wrote lattice-cycle-sample2.png" in out and "edge 7" in out
    image = (tmp_path / "lattice-cycle-sample2.png").read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 20_000
    assert main(["plot-cycle", str(lattice_run), "--edges", "0", "--sample", "2"]) == 2  # it exists now
    assert main(["plot-cycle", str(lattice_run), "--edges", "0", "--sample", "2", "--force"]) == 0
