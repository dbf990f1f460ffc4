import json
import re
import subprocess

import pytest

from tcl_circuits.cli.main import main


@pytest.mark.ngspice
def test_compile_writes_a_netlist_that_runs_standalone(tmp_path, capsys):
    out = tmp_path / "lattice.cir"
    assert main(["compile", "lattice:3x3", "-o", str(out)]) == 0
    assert "12 learning edges" in capsys.readouterr().out
    run = subprocess.run(
        ["ngspice", "-b", out.name], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0
    assert run.stdout.count("acc") >= 12 and "Error" not in run.stdout


def test_compile_graph_file(tmp_path, capsys):
    graph = tmp_path / "net.edges"
    graph.write_text(
        "#@ node in role=input voltage=0.9\n#@ node out role=output target=0.2\n#@ node g role=ground\n#@ node h role=hidden\n"
        "in h 1e-3\nh out 1e-3\nout g 1e-3\nh g 1e-3\n"
    )
    assert main(["compile", str(graph), "--threshold", "1e-5"]) == 0
    text = capsys.readouterr().out
    assert "vin0 n0 0 DC 0.9" in text and "vt0 t0 0 DC 0.2" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compile", "torus:3"], "unknown network 'torus:3'"),
        (["compile", "lattice:3x3", "--threshold", "big"], "--threshold: expected a number"),
        (["compile", "lattice:3x3", "--tau-rise", "-1"], "--tau-rise must be > 0"),
        (
            ["compile", "lattice:3x3", "--tau-rise", "1e-3", "--tau-fall", "1e-4"],
            "--tau-fall (0.0001 s) must exceed --tau-rise",
        ),
        (["train", "--task", "nonsense", "--out", "x"], "--task: expected one of teacher"),
        (["train", "--seed", "-1", "--out", "x"], "--seed must be >= 0"),
        (["train", "--epochs", "0", "--out", "x"], "--epochs must be >= 1"),
        (["train", "--lr", "0_8", "--out", "x"], "--lr: expected a number"),
        (["train", "--network", "er:10,1..2", "--out", "x"], "unknown network 'er:10,1..2'"),
        (["train", "--network", "lattice:100000x100000", "--out", "x"], "the limit is 250,000 nodes"),
        (
            ["train", "--backend", "ngspice", "--points-per-cycle", "1e7", "--tau-fall", "1", "--out", "x"],
            "time points",
        ),
        (["train", "--device", "memristor:vteam", "--rule", "gradient", "--out", "x"], "--rule"),
        (
            ["train", "--cell", "analog", "--backend", "native", "--out", "x"],
            "the analog cell runs in ngspice only",
        ),
        (["train", "--signal-gain", "0", "--out", "x"], "--signal-gain must be > 0 and <= 1e+06, got 0"),
        (["train", "--signal-gain", "2e6", "--out", "x"], "--signal-gain must be > 0 and <= 1e+06"),
        (["compile", "lattice:3x3", "--signal-gain", "nan"], "--signal-gain: expected a number"),
        (
            ["train", "--device", "memristor:vteam", "--signal-gain", "100", "--out", "x"],
            "--signal-gain must be 1 with memristor cells",
        ),
        (["sweep", "missing.toml", "--out", "x"], "missing.toml: cannot read the sweep spec"),
        (["feasibility", "--trials", "1", "--out", "x"], "--trials must be from 2"),
        (["feasibility", "--network", "ring:4", "--out", "x"], "unknown network 'ring:4'"),
    ],
)
def test_bad_input_gives_one_line_naming_the_flag_and_exit_code_2(
    argv, message, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()  # nothing was written


def test_values_take_spice_suffixes(tmp_path, capsys):
    assert (
        main(["compile", "lattice:3x3", "--tau-rise", "100u", "--tau-fall", "0.9m", "--threshold", "20u"])
        == 0
    )
    text = capsys.readouterr().out
    assert "threshold 2e-05 V" in text and "beta 0 -> 0.5 in 0.0001 s, back to 0 in 0.0009 s" in text


def test_train_gradient_prints_summary(tmp_path, capsys):
    argv = [
        "train",
        "--network",
        "lattice:3x3",
        "--rule",
        "gradient",
        "--epochs",
        "1",
        "--train-samples",
        "10",
        "--test-samples",
        "5",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["rule"] == "gradient" and summary["samples"] == 10
    # and one line of result, the loss ratio and the folder in it
    result = printed.err.strip().splitlines()[-1]
    assert result.startswith("gradient on teacher:lattice:3x3: held-out loss ")
    assert f"(1/{1 / summary['loss_ratio']:.3g})" in result and result.endswith(str(tmp_path / "run"))
    assert main(argv) == 2  # the folder holds a run now
    assert "already holds this run; add --resume" in capsys.readouterr().err


@pytest.mark.ngspice
def test_compare_reports_cosines_as_json(capsys):
    assert main(["compare", "--network", "lattice:4x4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cos_tcl_contrastive"] >= 0.95
    assert len(result["tcl"]) == len(result["gradient"]) == 24


def test_kernel_subcommand_is_wired_into_the_main_command(capsys):
    argv = ["kernel", "update", "--kernel", "ecoli", "--area", "0", "--amplitude", "50", "--mean", "0"]
    assert main([*argv, "--tau-fast", "1", "--tau-slow", "9", "--threshold", "11.111", "--json"]) == 0
    dw = json.loads(capsys.readouterr().out)["dw"]
    assert dw / 50 == pytest.approx(0.955, abs=0.005)  # physics.md section 7, item 1


@pytest.mark.ngspice
def test_train_memristor_device_picks_a_stable_rate_and_learns(tmp_path, capsys):
    argv = [
        "train",
        "--device",
        "memristor:vteam_symmetric",
        "--network",
        "lattice:3x3",
        "--epochs",
        "1",
        "--train-samples",
        "30",
        "--test-samples",
        "10",
        "--out",
        str(tmp_path / "m"),
        "--no-progress",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["backend"] == "ngspice" and summary["max_loop_gain"] < 1.0
    assert summary["final_test_loss"] < summary["initial_test_loss"]


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["train"],
        ["demo"],
        ["compile"],
        ["compare"],
        ["netlists", "check"],
        ["sweep"],
        ["feasibility"],
        ["kernel", "update"],
        ["kernel", "info"],
        ["export"],
        ["plot-cycle"],
    ],
)
def test_every_help_prints_with_defaults_and_units(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: tcl-circuits" in out
    if command == ["train"]:
        assert "(default: 0.0009)" in out and "[s]" in out and "(default: auto = " in out


@pytest.mark.parametrize(
    ("spec", "flags", "message"),
    [
        ('[grid]\n"drive.tau_fall_s" = [9e-4]\n', ["--workers", "0"], "--workers must be from 1 to 256"),
        ('[grid]\n"drive.tau_fal_s" = [9e-4]\n', [], "spec.toml [grid] drive.tau_fal_s: unknown setting"),
        ("[grid\n", [], "spec.toml: not valid TOML"),
        (
            "",
            ["--set", "learning.epoch=3"],
            "--set: learning.epoch: learning has no setting 'epoch' (known: ",
        ),
        ("", ["--set", "learning"], "--set: expected KEY=VALUE such as learning.epochs=3"),
        ("", ["--set", "drive=1"], "--set: drive is a group of settings"),
        ("", ["--set", "drive.tau_rise_s=1_0"], "--set: drive.tau_rise_s: expected a number"),
        ("", ["--set", "learning.epochs=0"], "--set learning.epochs=0: learning.epochs must be >= 1"),
        ("", ["--set", "backend=spice"], "--set: backend: expected one of ngspice, native"),
        (
            "",
            ["--set", "learning.epochs=2", "--set", "learning.epochs=3"],
            "--set learning.epochs is given twice",
        ),
        (
            '[grid]\n"drive.tau_fall_s,cell.tau_k_s" = [9e-4]\n',
            ["--set", "cell.tau_k_s=1u"],
            "--set cell.tau_k_s: it is an axis of the sweep spec.toml",
        ),
    ],
)
def test_sweep_refuses_bad_specs_and_flags_in_one_line_writing_nothing(
    spec, flags, message, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(spec)
    assert main(["sweep", "spec.toml", "--out", "x", "--no-progress", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


def test_sweep_command_runs_a_spec_and_prints_its_outcome(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(
        'seeds = [0, 1]\n[base]\nbackend = "native"\n'
        'task = { network = "lattice:3x3", train_samples = 6, test_samples = 4 }\n'
        "learning = { epochs = 1, alignment_every = 0 }\n"
    )
    assert main(["sweep", "spec.toml", "--out", "x", "--workers", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 points over learning.seed" in out and '"ran": 2' in out
    assert "\nestimate: 2 runs on 1 workers: about " in out  # printed before the runs (the JSON comes after)
    assert out.index("estimate:") < out.index('"ran"')
    assert len((tmp_path / "x" / "results.csv").read_text().splitlines()) == 3


def test_sweep_set_overrides_the_base_of_every_point_and_joins_the_fingerprint(tmp_path, monkeypatch, capsys):
    from tcl_circuits.cli.main import parse_command
    from tcl_circuits.learning.run_folder import RunFolder

    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text("seeds = [0, 1]\n[base]\nlearning = { epochs = 1 }\n")
    argv = ["sweep", "spec.toml", "--out", "x"]
    plain = parse_command(argv)
    spec = parse_command([*argv, "--set", "learning.epochs=3", "--set", "drive.tau_fall_s=1.5ms"])
    assert {(p.config.learning.epochs, p.config.drive.tau_fall_s) for p in spec.points} == {(3, 1.5e-3)}
    assert [p.name for p in spec.points] == [p.name for p in plain.points]  # the same points, in another base
    assert spec.fingerprint() != plain.fingerprint()
    with RunFolder(tmp_path / "x", plain.fingerprint(), resume=False):
        pass
    assert main([*argv, "--resume", "--no-progress", "--set", "learning.epochs=3"]) == 2
    err = capsys.readouterr().err
    assert "holds a different run" in err and "learning.epochs: 1 -> 3" in err and err.count("\n") == 1, err


def test_compile_writes_the_cell_a_run_would_simulate(tmp_path, capsys):
    """The deck carries the run's cell settings: the analog cell's stages, R_K's noise sources."""
    assert main(["compile", "lattice:3x3", "--cell", "analog", "-o", str(tmp_path / "a.cir")]) == 0
    analog = (tmp_path / "a.cir").read_text()
    assert ".subckt tclthr in out vdd vss" in analog and "xt0 u0 g0 vdd_t vss_t tclthr" in analog
    assert main(["compile", "lattice:3x3", "--noise-temperature", "300", "-o", str(tmp_path / "n.cir")]) == 0
    assert "in0 0 u0 PWL(" in (tmp_path / "n.cir").read_text()
    assert main(["compile", "lattice:3x3", "-o", str(tmp_path / "b.cir")]) == 0
    assert "tau_k = R_K*C_K = 5e-07 s" in (tmp_path / "b.cir").read_text()  # the run's default cell


def test_compile_graph_with_hostile_group_names(tmp_path, capsys):
    """Group names such as '*#:' or '$(rm)' compile: they reach the deck only as sanitised comments."""
    from tcl_circuits.spice.syntax import check_deck

    graph = tmp_path / "groups.edges"
    graph.write_text(
        "#@ node in role=input voltage=0.9\n#@ node out role=output target=0.2\n#@ node g role=ground\n"
        "#@ node h role=hidden\nin h 1e-3 group=*#:\nh out 1e-3 group=$(rm)\nout g 1e-3 group=a;b`c\\d\nh g 1e-3\n"
    )
    assert main(["compile", str(graph)]) == 0
    text = capsys.readouterr().out
    check_deck(text)
    assert "* threshold of edge group '$(rm)'" not in text and "* threshold of edge group '_(rm)'" in text


def test_compile_places_the_threshold_as_train_does(tmp_path, capsys):
    """compile and train calibrate the automatic threshold on the same samples (a description's teacher task,
    its first 20 training samples, the task's headroom): the same threshold, and compile says so on stderr."""
    from tcl_circuits import examples

    run = tmp_path / "run"
    argv = ["--network", "lattice:3x3", "--seed", "2", "--train-samples", "20", "--test-samples", "2"]
    assert (
        main(["train", *argv, "--epochs", "1", "--backend", "native", "--out", str(run), "--no-progress"])
        == 0
    )
    trained = json.loads((run / "design.json").read_text())["calibration"]["threshold_v"]
    capsys.readouterr()
    assert main(["compile", "lattice:3x3", "--seed", "2", "-o", str(tmp_path / "c.cir")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "over the first 20 training samples" in err
    assert "as train --network lattice:3x3 places it" in err
    assert examples.cycle_netlist("lattice:3x3", seed=2).cell.theta_v == trained
    assert f"threshold {trained:.6g} V on v(u<e>)" in (tmp_path / "c.cir").read_text()


def test_compile_of_a_graph_file_says_how_its_threshold_differs_from_a_run(tmp_path, capsys):
    graph = tmp_path / "net.edges"
    graph.write_text(
        "#@ node in role=input voltage=0.9\n#@ node out role=output target=0.2\n#@ node g role=ground\n"
        "#@ node h role=hidden\nin h 1e-3\nh out 1e-3\nout g 1e-3\nh g 1e-3\n"
    )
    assert main(["compile", str(graph)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "over the file's own sample" in err and "threshold differs" in err
    assert main(["compile", str(graph), "--threshold", "1e-5"]) == 0
    assert capsys.readouterr().err == ""  # a fixed threshold is placed by nobody


@pytest.mark.parametrize("fixed", [[], ["--threshold", "1e-5"]])
def test_compile_of_a_graph_without_voltages_names_what_the_file_needs(tmp_path, capsys, fixed):
    """The advice is the file's, not --threshold's: a fixed threshold still needs the sample."""
    graph = tmp_path / "bare.edges"
    graph.write_text(
        "#@ node in role=input\n#@ node out role=output target=0.2\n#@ node g role=ground\n#@ node h role=hidden\n"
        "in h 1e-3\nh out 1e-3\nout g 1e-3\nh g 1e-3\n"
    )
    assert main(["compile", str(graph), *fixed]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{graph}: input node 'in' has no voltage" in err
    assert "'voltage' on every input node and a 'target' on every output node" in err
    assert "--threshold" not in err


@pytest.mark.ngspice
def test_compile_device_memristor_writes_the_learners_chunk(tmp_path, capsys):
    """--device memristor:MODEL: one sample's chunk as the memristor learner builds it (its calibrated cell,
    devices and states), which runs standalone and programs some edges."""
    import re

    from tcl_circuits.learning.memristor import MemristorLearner
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import TaskConfig, make_task

    out = tmp_path / "m.cir"
    assert main(["compile", "lattice:3x3", "--device", "memristor:vteam_symmetric", "-o", str(out)]) == 0
    assert "12 learning edges" in capsys.readouterr().out
    text = out.read_text()
    assert "bm0 " in text and "bp0 " in text and ".meas tran x0_after" in text
    config = RunConfig(device="memristor:vteam_symmetric")
    learner = MemristorLearner(make_task(TaskConfig(network="lattice:3x3"), 0), config)
    learner.close()
    assert f"theta = {learner.cell.theta_v:.6g} V" in text
    run = subprocess.run(
        ["ngspice", "-b", out.name], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    states = {m[1]: float(m[2]) for m in re.finditer(r"^(x\d+_\w+)\s+=\s+(\S+)", run.stdout, re.M)}
    before = [states[f"x{e}_before"] for e in range(12)]
    after = [states[f"x{e}_after"] for e in range(12)]
    assert before == pytest.approx(learner.net.states.tolist(), rel=1e-6)
    assert sum(a != b for a, b in zip(before, after, strict=True)) >= 1


def test_compile_device_refuses_a_bad_device_in_one_line(capsys):
    assert main(["compile", "lattice:3x3", "--device", "memristor:bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device") and err.count("\n") == 1
    assert main(["compile", "lattice:3x3", "--device", "memristor:vteam", "--cell", "analog"]) == 2
    assert "--cell" in capsys.readouterr().err


def test_compile_dialect_ltspice(tmp_path, capsys):
    """--dialect ltspice (default ngspice, shown in --help): if() instead of the ternary; a bad dialect is one
    line naming the flag."""
    assert main(["compile", "lattice:3x3", "--dialect", "ltspice", "-o", str(tmp_path / "lt.cir")]) == 0
    text = (tmp_path / "lt.cir").read_text()
    assert "I=200000000*if(abs(v(u0)) >= " in text and "?" not in text
    capsys.readouterr()
    assert main(["compile", "lattice:3x3", "--dialect", "pspice"]) == 2
    err = capsys.readouterr().err
    assert "--dialect" in err and "ngspice, ltspice" in err and err.count("\n") == 1
    assert main(["compile", "--help"]) == 0
    assert "(default: ngspice)" in " ".join(capsys.readouterr().out.split())


def test_train_help_groups_its_flags_under_headings_and_loses_none(capsys):
    import argparse

    from tcl_circuits.cli.main import build_parser
    from tcl_circuits.cli.options import add_config_options
    from tcl_circuits.learning.run_config import RunConfig

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    ungrouped = argparse.ArgumentParser()
    add_config_options(ungrouped, RunConfig())
    hand_written = {
        "--out",
        "--resume",
        "--config",
        "--design",
        "--no-progress",
        "--tech",
        "--comparator",
        "--r-k-type",
    }
    flags = {s for a in train._actions for s in a.option_strings}
    assert flags == {s for a in ungrouped._actions for s in a.option_strings} | hand_written
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    headings = [
        "run folder and output:",
        "task and data:",
        "learning:",
        "protocol (sawtooth):",
        "feedback cell:",
        "hardware non-idealities:",
        "analog cell:",
        "simulator:",
        "memristor devices:",
        "technology:",
    ]
    lines = out.splitlines()
    assert [line for line in lines if line in headings] == headings  # each once, in this order
    assert [line for line in lines if line.endswith(":") and not line.startswith(" ")] == [
        "options:",
        *headings,
    ]
    section = out.split("hardware non-idealities:")[1].split("analog cell:")[0]
    assert (
        "--spread-r-k" in section and "--write-noise" in section and "--network-noise-temperature" in section
    )
    for action in train._actions:
        if action.metavar in ("X", "N"):
            assert "(default: " in action.help, action.option_strings


def test_train_tech_switches_every_non_ideality_on_and_flags_beside_it_override(tmp_path, capsys):
    argv = [
        "train",
        "--network",
        "lattice:3x3",
        "--train-samples",
        "6",
        "--test-samples",
        "2",
        "--epochs",
        "1",
    ]
    tech = ["--tech", "cmos65+hfo2_array", "--no-progress"]
    assert main([*argv, *tech, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "leaves out" not in err  # a lattice: everything the two describe is simulated
    config = json.loads((tmp_path / "a" / "config.json").read_text())["config"]
    assert config["write"] == {
        "conductance_bits": 2,
        "dead_fraction": 0.098,
        "range_spread": 0.71,
        "rounding": "nearest",
        "write_asymmetry": 1.0,
        "write_noise": 0.22,
    }
    assert [config["cell"][k] for k in ("spread_r_k", "spread_c_k", "spread_gain", "spread_clamp")] == [
        0.003,
        0.001,
        0.01,
        0.01,
    ]
    assert config["cell"]["noise_temperature_k"] == 300.0 and config["cell"]["spread_offset_v"] == 1e-05
    assert config["sim"]["network_noise_temperature_k"] == 300.0
    beside = ["--write-asymmetry", "1.2", "--comparator", "latch", "--out", str(tmp_path / "b")]
    assert main([*argv, *tech, *beside]) == 0
    config = json.loads((tmp_path / "b" / "config.json").read_text())["config"]
    assert config["write"]["write_asymmetry"] == 1.2 and config["cell"]["spread_offset_v"] == 3.4e-3


def test_train_and_demo_print_the_energy_of_an_update_per_edge(tmp_path, capsys, monkeypatch):
    """With --tech the line has the whole bill per edge, SI-prefixed, and the update's time; without, it
    names the blocks it left unpriced. The demo (its run made small and native here) prints the same words."""
    from tcl_circuits.cli import train as train_cli
    from tcl_circuits.learning.run_config import with_changes

    argv = ["--network", "lattice:3x3", "--train-samples", "4", "--test-samples", "2", "--epochs", "1"]
    assert (
        main(["train", *argv, "--tech", "cmos65+reram", "--no-progress", "--out", str(tmp_path / "a")]) == 0
    )
    captured = capsys.readouterr()
    bill = json.loads(captured.out)["energy_per_update_j"]
    line = captured.err.strip().splitlines()[-1]
    value, prefix = re.search(r"; ([0-9.]+) ([munpf])J per edge per update of 910 us;", line).groups()
    scale = {"m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}[prefix]
    assert float(value) * scale == pytest.approx(bill["per_edge"], rel=5e-3) and "without" not in line
    assert main(["train", *argv, "--no-progress", "--out", str(tmp_path / "b")]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "J per edge per update of 910 us (without quiescent, dynamic, readout, writes: no --tech);" in line
    small = {"task": {"network": "lattice:3x3", "train_samples": 4, "test_samples": 2}, "backend": "native",
             "learning": {"epochs": 1}}  # fmt: skip
    demo = with_changes(train_cli.demo_config(), small)
    monkeypatch.setattr(train_cli, "demo_config", lambda: demo)
    assert main(["demo", "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"4 samples, [0-9.]+ [munpf]J per edge per update of 910 us \(without quiescent", out), (
        out
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tech", "cmos7+reram"], "no technology preset 'cmos7'"),
        (["--tech", "cmos65"], "PROCESS+DEVICE"),
        (["--tech", ""], "PROCESS+DEVICE"),  # refused, not read as no technology
        (["--tech", "cmos65+reram", "--r-k-type", "carbon"], "--r-k-type must be one of poly, metal, mos"),
    ],
)
def test_train_tech_refuses_a_bad_technology_in_one_line(tmp_path, capsys, flags, message):
    assert main(["train", *flags, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_ctrl_c_while_the_parser_loads_or_in_a_command_without_resume_is_one_line(monkeypatch, capsys):
    """An interrupt at any moment of main, the parser's imports included, is one line and exit 130; only
    commands that can resume say so."""
    from tcl_circuits.cli import main as cli_main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    real = cli_main.build_parser
    monkeypatch.setattr(cli_main, "build_parser", interrupted)
    assert main(["compile", "lattice:3x3"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    monkeypatch.setattr(cli_main, "build_parser", real)
    monkeypatch.setattr("tcl_circuits.examples.cycle_netlist", interrupted)
    assert main(["compile", "lattice:3x3"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
