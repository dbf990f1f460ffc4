"""Hostile and random inputs (a sample here; scripts/soak.py runs >= 10^4): no traceback, no command
executed, no silent misread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
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

from tcl_circuits.errors import TclCircuitsError

FUZZ = settings(
    max_examples=int(os.environ.get("TCL_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@FUZZ
@given(case=quantities())
def test_numbers_are_read_exactly_or_refused(case):
    from tcl_circuits.units import parse_quantity

    text, value = case
    if value is None:
        with pytest.raises(TclCircuitsError):
            parse_quantity(text)
    else:
        assert parse_quantity(text) == pytest.approx(value, rel=1e-12)


@FUZZ
@given(case=edge_lists())
def test_edge_lists_are_read_exactly_or_refused(tmp_path_factory, case):
    from tcl_circuits import network

    text, expected = case
    path = tmp_path_factory.mktemp("fuzz") / "net.edges"
    path.write_text(text)
    if expected is None:
        with pytest.raises(TclCircuitsError):
            network.from_graph(network.load_graph(path))
    else:
        assert same_graph(network.from_graph(network.load_graph(path)), expected)


@FUZZ
@given(case=train_options())
def test_train_options_are_read_exactly_or_refused_with_one_line(case, capsys):
    from tcl_circuits.cli import main as cli
    from tcl_circuits.cli.options import apply_options
    from tcl_circuits.learning.run_config import RunConfig

    argv, flag, value = case
    parser = cli.build_parser()
    try:
        args = parser.parse_args(["train", "--out", "unused", *argv])
        config = apply_options(RunConfig(), args, _train_options(parser))
    except SystemExit as stop:
        assert stop.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and err.count("\n") == 1
        return
    except TclCircuitsError as error:
        assert flag in str(error) and "\n" not in str(error)
        return
    assert value is not None, f"{argv} was accepted"
    path = (FLAGS | INT_FLAGS)[flag]
    got = config
    for part in path:
        got = getattr(got, part)
    assert got == pytest.approx(value, rel=1e-12)


@FUZZ
@given(case=sweep_settings())
def test_sweep_settings_are_read_exactly_or_refused_with_one_line(case, tmp_path_factory, capsys):
    from tcl_circuits.cli import main as cli

    argv, flag, value = case
    spec_file = tmp_path_factory.mktemp("fuzz") / "spec.toml"
    spec_file.write_text(SWEEP_SPEC)
    try:
        spec = cli.parse_command(["sweep", str(spec_file), "--out", "unused", *argv])
    except SystemExit as stop:
        assert stop.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: argument --set:") and err.count("\n") == 1
        return
    except TclCircuitsError as error:
        assert str(error).startswith("--set ") and "\n" not in str(error)
        return
    assert value is not None, f"{argv} was accepted"
    got = spec.base
    for part in (FLAGS | INT_FLAGS)[flag]:
        got = got[part]
    assert got == pytest.approx(value, rel=1e-12)


def _train_options(parser):
    import argparse

    from tcl_circuits.cli.options import add_config_options
    from tcl_circuits.learning.run_config import RunConfig

    return add_config_options(argparse.ArgumentParser(), RunConfig())


@FUZZ
@given(case=st.sampled_from(sorted(UNITS)).flatmap(lambda unit: st.tuples(st.just(unit), quantities(unit))))
def test_numbers_with_units_are_read_exactly_or_refused(case):
    from tcl_circuits.units import parse_quantity

    unit, (text, value) = case
    if value is None:
        with pytest.raises(TclCircuitsError):
            parse_quantity(text, unit)
    else:
        assert parse_quantity(text, unit) == pytest.approx(value, rel=1e-12)


@FUZZ
@given(case=idx_folders())
def test_mnist_folders_are_read_exactly_or_refused(tmp_path_factory, case):
    assert read_idx_folder(case, tmp_path_factory.mktemp("idx")) in ("accepted", "refused")


@FUZZ
@given(case=element_values())
def test_amplifier_and_diode_values_are_read_exactly_or_refused(case):
    assert read_element_value(case) in ("accepted", "refused")


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[text[:40] for text, _ in CONFIG_CASES])
def test_config_files_are_read_exactly_or_refused(tmp_path, case):
    assert read_config_file(case, tmp_path / "c.json") in ("accepted", "refused")


@pytest.mark.parametrize("text", RUN_JSON_CASES)
def test_damaged_run_json_is_refused(tmp_path, text):
    assert read_run_json(text, tmp_path) == "refused"


def test_no_fuzz_case_ran_a_command():
    assert not Path(CANARY).exists()
