import pytest

from tcl_circuits.config import FeedbackCellConfig, LearningConfig, SawtoothConfig, SimulatorConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.window import LearningWindow


@pytest.mark.parametrize(
    ("factory", "kwargs", "match"),
    [
        (SawtoothConfig, {"tau_rise_s": 0.0}, "tau_rise_s"),
        (SawtoothConfig, {"tau_fall_s": float("nan")}, "tau_fall_s"),
        (SawtoothConfig, {"tau_fall_s": 1e300}, "tau_fall_s must be > 0 and <= 1000"),
        (SawtoothConfig, {"beta_max": -1.0}, "beta_max"),
        (SawtoothConfig, {"clamp_conductance_s": float("inf")}, "clamp_conductance_s"),
        (FeedbackCellConfig, {"tau_k_s": 0.0}, "tau_k_s"),
        (FeedbackCellConfig, {"r_k_ohm": -5.0}, "r_k_ohm"),
        (FeedbackCellConfig, {"threshold_v": 0.0}, "threshold_v"),
        (FeedbackCellConfig, {"threshold_shape": "hard"}, "threshold_shape"),
        (FeedbackCellConfig, {"accumulator_gain": 0.0}, "accumulator_gain"),
        (SimulatorConfig, {"points_per_tau_k": 0.0}, "points_per_tau_k"),
        (SimulatorConfig, {"timeout_s": -1.0}, "timeout_s"),
        (SimulatorConfig, {"reltol": 0.5}, "reltol"),
        (LearningConfig, {"learning_rate_s2_per_v2": 0.0}, "learning_rate"),
        (LearningConfig, {"epochs": -1}, "epochs"),
        (LearningConfig, {"seed": 1.5}, "seed"),
        (LearningConfig, {"checkpoint_every": 0}, "checkpoint_every"),
        (LearningConfig, {"rule": "tcl"}, "rule"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(factory, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        factory(**kwargs)


def test_window_and_derived_values():
    drive = SawtoothConfig(tau_rise_s=1e-4, tau_fall_s=9e-4, beta_max=0.5, clamp_conductance_s=1e-3)
    cell = FeedbackCellConfig(tau_k_s=5e-6, r_k_ohm=1e3, threshold_v=1e-5)
    assert drive.period_s == pytest.approx(1e-3)
    assert drive.peak_clamp_conductance_s == pytest.approx(5e-4)
    assert cell.c_k_f == pytest.approx(5e-9)
    window = LearningWindow(cell.theta_v, drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s)
    assert (window.lower_v2, window.upper_v2) == (pytest.approx(2e-4), pytest.approx(1.8e-3))
    assert window.upper_v2 / window.lower_v2 == pytest.approx(window.span) == pytest.approx(9.0)


def test_a_partial_nested_table_keeps_the_run_defaults_of_its_other_keys():
    from tcl_circuits.checked import from_dict
    from tcl_circuits.learning.run_config import RunConfig

    run = from_dict(RunConfig, {"cell": {"r_k_ohm": 500.0}, "learning": {"epochs": 3}})
    default = RunConfig()
    assert (
        run.cell.r_k_ohm == 500.0 and run.cell.tau_k_s == default.cell.tau_k_s
    )  # 0.5 us, not the class's 5 us
    assert run.learning.epochs == 3 and run.learning.learning_rate_s2_per_v2 is None  # auto, as in a run


@pytest.mark.parametrize(
    "value",
    [
        [["a", "x"]],
        "abc",
        [[1, 2, 3]],
        [["a"]],
        [["a", -1e-5]],
        [["a", True]],
        {"a": 1e-5},
        [["a", 1e-5], ["a", 2e-5]],
    ],
)
def test_group_thresholds_in_a_config_file_are_a_config_error_naming_the_field(value):
    """The calibration's thresholds are the run's design, not a setting: a file holding any is refused."""
    from tcl_circuits.config import from_dict
    from tcl_circuits.learning.run_config import RunConfig

    with pytest.raises(ConfigError, match=r"^cell\.group_thresholds_v ") as caught:
        from_dict(RunConfig, {"cell": {"group_thresholds_v": value}})
    assert caught.value.field == "cell.group_thresholds_v" and "\n" not in str(caught.value)
    assert from_dict(RunConfig, {"cell": {"group_thresholds_v": []}}) == RunConfig()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"learning": {"epochs": 2, "epochs": 3}}', "epochs"),
        ('{"config": {}, "config": {"learning": {"epochs": 3}}}', "config"),
        ('{"cell": {"r_k_ohm": 1e3}, "cell": {"r_k_ohm": 2e3}}', "cell"),
    ],
)
def test_a_config_file_with_a_key_given_twice_is_refused_naming_the_key(text, key, tmp_path, capsys):
    from tcl_circuits.cli.main import main

    (tmp_path / "c.json").write_text(text)
    assert main(["train", "--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "c.json" in err and f"the key {key!r} is given twice" in err, err
    assert not (tmp_path / "x").exists()


def test_a_denormal_number_in_a_config_file_is_refused_naming_the_field():
    from tcl_circuits.config import from_dict
    from tcl_circuits.learning.run_config import RunConfig

    with pytest.raises(ConfigError, match=r"^task\.diode_rs_ohm is too small to represent"):
        from_dict(RunConfig, {"task": {"task": "iris", "diode_rs_ohm": 1e-320}})
