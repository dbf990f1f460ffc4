"""The feasibility report: its sweeps, its verdicts from their curves, the threshold against kT/C noise."""

import csv
import dataclasses
import json
import math

import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.studies import feasibility, feasibility_report, noise


def test_kt_over_c_noise_of_one_picofarad_is_64_microvolts():
    assert noise.kt_over_c_noise_v(1e-12) == pytest.approx(math.sqrt(1.380649e-23 * 300 / 1e-12))
    assert noise.kt_over_c_noise_v(1e-12) == pytest.approx(64.4e-6, rel=1e-3)


def test_tolerated_value_is_the_last_one_within_the_band_from_the_ideal_end():
    curve = [(0.0, 0.1, 0, 4), (0.1, 0.15, 0, 4), (0.2, 0.3, 0, 4), (0.4, 0.15, 0, 4)]
    assert feasibility.tolerated(curve, 0.1, 2.0, larger_is_worse=True) == 0.1  # stops at the first miss
    bits = [(4.0, 0.9, 0, 4), (8.0, 0.12, 0, 4), (12.0, 0.1, 0, 4), (32.0, 0.1, 0, 4)]
    assert feasibility.tolerated(bits, 0.1, 2.0, larger_is_worse=False) == 8.0
    assert feasibility.tolerated(bits, 0.01, 2.0, larger_is_worse=False) is None


def test_a_two_sided_axis_is_tolerated_on_each_side_of_its_ideal():
    curve = [(0.25, 3.0, 0, 4), (0.5, 1.5, 0, 4), (1.0, 1.0, 0, 4), (2.0, 1.2, 0, 4), (4.0, 1.9, 0, 4)]
    assert feasibility.tolerated_range(curve, 1.0, 2.0, 1.0) == (0.5, 4.0)
    assert feasibility_report._range(0.5, 4.0, curve) == "from 0.5 to 4 (the largest tried) or more"
    assert feasibility.tolerated_range(curve, 1.0, 1.1, 1.0) == (1.0, 1.0)
    assert feasibility_report._range(1.0, 1.0, curve) == "only the matched 1 of those tried"


def test_the_report_leaves_out_the_network_noise_the_native_engine_cannot_add():
    from tcl_circuits.studies.noise import NOISE_SOURCES, simulable_sources

    assert simulable_sources(_base()) == (NOISE_SOURCES, None)
    diodes = with_changes(_base(), {"task": {"network": "drn:2-3-1", "hidden": 0}})
    sources, why = simulable_sources(diodes)
    assert sources == ("R_K",) and "linear networks" in why
    capacitive = with_changes(_base(), {"sim": {"node_capacitance_f": 1e-12}})
    assert simulable_sources(capacitive)[0] == ("R_K",)
    assert simulable_sources(with_changes(diodes, {"backend": "ngspice"})) == (NOISE_SOURCES, None)


def test_the_tolerated_temperature_is_the_warmest_before_the_first_that_turns_the_update():
    rows = [
        {"source": "R_K", "temperature_k": t, "cosine_mean": c, "flicker_corner_hz": 0.0}
        for t, c in ((1200.0, 0.95), (75.0, 0.98), (300.0, 0.5))
    ] + [{"source": "R_K", "temperature_k": 300.0, "cosine_mean": 0.99, "flicker_corner_hz": 1e5}]
    assert feasibility.tolerated_temperature_k(rows, "R_K") == 75.0  # 1200 K's luck does not count
    assert feasibility.tolerated_temperature_k(rows, "network") is None
    rows[1]["cosine_mean"] = 0.1
    assert feasibility.tolerated_temperature_k(rows, "R_K") is None


def test_noise_rows_measure_each_flicker_corner_and_1_over_f_in_r_k_moves_the_update_more():
    from tcl_circuits.studies.noise import update_noise_rows, with_noise

    cell, sim = with_noise(_base().cell, _base().sim, "network", 300.0, 1e5)
    assert (cell.noise_temperature_k, cell.noise_flicker_corner_hz) == (0.0, 0.0)  # R_K stays quiet
    assert (sim.network_noise_temperature_k, sim.network_noise_flicker_corner_hz) == (300.0, 1e5)
    rows = update_noise_rows(_base(), [300.0], draws=2, samples=1, flicker_corners_hz=(0.0, 1e6))
    assert [(r["source"], r["flicker_corner_hz"]) for r in rows] == [("R_K", 0.0), ("R_K", 1e6)]
    assert rows[1]["rel_error_mean"] > 1.5 * rows[0]["rel_error_mean"]


def _base():
    return with_changes(
        RunConfig(),
        {
            "backend": "native",
            "task": {"network": "lattice:4x4", "train_samples": 80, "test_samples": 30},
            "learning": {"seed": 2, "learning_rate_s2_per_v2": 5e-6, "alignment_every": 0},
        },
    )


SMALL = tuple(
    dataclasses.replace(study, values=values)
    for study, values in zip(
        feasibility.STUDIES, [(0.0, 0.8), (4, 32), (0.0, 0.5), (0.0, 30.0), (1 / 64, 1.0, 64.0)], strict=True
    )
)


def _rows(folder):
    return list(csv.DictReader((folder / "results.csv").read_text().splitlines()))


def test_a_small_report_measures_each_study_and_writes_its_verdicts(tmp_path):
    out = tmp_path / "report"
    verdicts = feasibility.run_feasibility(_base(), out, trials=4, workers=2, progress=False, studies=SMALL)
    at_end, energy, measured = verdicts.studies.final, verdicts.energy, verdicts.noise
    assert verdicts.studies.ideal_loss_ratio < 0.5
    assert at_end.required_conductance_bits == 32.0  # 4 bits loses the updates
    assert verdicts.time_per_update_s == pytest.approx(_base().drive.period_s)
    assert energy.energy_network_per_update_j > 0 and verdicts.update_bits_p90 > 4
    assert abs(energy.energy_check_rel_error) < 0.01
    rows = list(csv.DictReader((out / "noise.csv").read_text().splitlines()))
    noise = {(r["source"], float(r["temperature_k"])): r for r in rows if float(r["flicker_corner_hz"]) == 0}
    assert sorted(noise) == [(s, t) for s in ("R_K", "both", "network") for t in (75.0, 300.0, 1200.0)]
    flicker = {(r["source"], float(r["flicker_corner_hz"])): r for r in rows if float(r["flicker_corner_hz"])}
    corners = feasibility.FLICKER_CORNERS_HZ
    assert sorted(flicker) == [(s, c) for s in ("R_K", "network") for c in corners]
    for source in ("R_K", "network"):  # more 1/f, a larger error than the white noise's at 300 K
        errors = [float(noise[source, 300.0]["rel_error_mean"])]
        errors += [float(flicker[source, c]["rel_error_mean"]) for c in corners]
        assert errors[-1] > errors[0] and errors == sorted(errors)
    assert measured.effect("R_K", 300.0, 1e5).rel_error == pytest.approx(
        float(flicker["R_K", 1e5]["rel_error_mean"])
    )
    for source in ("R_K", "network", "both"):
        errors = [float(noise[source, t]["rel_error_mean"]) for t in (75.0, 300.0, 1200.0)]
        assert 0 < errors[0] < errors[2]  # hotter, noisier updates
    assert measured.effect("R_K", 300.0).cosine == pytest.approx(float(noise["R_K", 300.0]["cosine_mean"]))
    for source in ("R_K", "network", "both"):  # the warmest before the first whose cosine falls below 0.9
        expected = None
        for temperature in (75.0, 300.0, 1200.0):
            if float(noise[source, temperature]["cosine_mean"]) < 0.9:
                break
            expected = temperature
        assert measured.tolerated_temperature_k[source] == expected
    assert measured.effect("network", 300.0).rel_error == pytest.approx(
        float(noise["network", 300.0]["rel_error_mean"])
    )
    # an offset of 30 thresholds puts every edge past its threshold: learning does not survive it
    assert at_end.tolerated_offset_spread_v == 0.0
    # devices 64x stronger one way than the other drift off: learning does not survive either side
    assert at_end.tolerated_write_asymmetry_min == at_end.tolerated_write_asymmetry_max == 1.0
    asymmetry = list(csv.DictReader((out / "asymmetry" / "aggregate.csv").read_text().splitlines()))
    assert sorted(int(r["runs"]) for r in asymmetry) == [4, 4, 4]
    offset = list(csv.DictReader((out / "offset" / "aggregate.csv").read_text().splitlines()))
    assert sorted(int(r["runs"]) for r in offset) == [4, 4]
    largest = max(float(r["cell.spread_offset_v"]) for r in offset)
    assert largest == pytest.approx(30 * measured.smallest_threshold_v)
    assert 0 < energy.energy_cells_per_update_j < energy.energy_per_update_j
    energy = {
        r["block"]: float(r["energy_j"])
        for r in csv.DictReader((out / "energy.csv").read_text().splitlines())
    }
    blocks = ("network", "clamp", "multiplier", "threshold", "integrator")
    assert sum(energy[b] for b in blocks) == pytest.approx(energy["total"])
    noise = list(csv.DictReader((out / "threshold_noise.csv").read_text().splitlines()))
    assert float(noise[0]["snr"]) == pytest.approx(
        float(noise[0]["threshold_v"]) / float(noise[0]["kt_over_c_noise_v"])
    )
    assert measured.worst_threshold_snr == pytest.approx(float(noise[0]["snr"]))
    spread = list(csv.DictReader((out / "spread" / "aggregate.csv").read_text().splitlines()))
    assert sorted(int(r["runs"]) for r in spread) == [4, 4]  # 4 mismatch draws per sigma
    assert len(list((out / "spread" / "points").iterdir())) == 5  # sigma 0: the same circuit in every draw
    # the bits curve after each epoch, from the runs' epochs.csv: the last epoch is the final curve
    bits = feasibility.epoch_curves(out / "bits", SMALL[1])
    epochs = _base().learning.epochs
    assert sorted(bits) == [4.0, 32.0] and bits[32.0] == pytest.approx([1.0] * epochs)
    final = {value: mean for value, mean, *_ in feasibility.study_curves(out / "bits", SMALL[1])[0]}
    assert bits[4.0][-1] == pytest.approx(final[4.0])
    row = verdicts.row()
    assert "after_epoch_1_required_conductance_bits" in row
    assert "after_epoch_1_tolerated_write_asymmetry_max" in row
    written = list(csv.DictReader((out / "verdicts.csv").read_text().splitlines()))
    assert len(written) == 1 and list(written[0]) == list(row)  # verdicts.csv: the row, by name
    mismatched = [r for r in _rows(out / "spread") if float(r[feasibility.SPREAD_FIELDS]) > 0]
    cell = json.loads((out / "spread" / "points" / mismatched[0]["run"] / "config.json").read_text())
    cell = cell["config"]["cell"]
    assert cell["spread_clamp"] == cell["spread_r_k"] == 0.8  # the clamps' G_c is drawn with the cells
    report = (out / "report.md").read_text()
    for heading in (
        "## Verdicts",
        "## Threshold against thermal noise",
        "## Energy per update by block (analog cell)",
        "## Thermal noise of R_K and of the network, simulated",
        "## Cell and clamp mismatch (R_K, C_K, threshold, accumulator gain, G_c)",
        "## Threshold offset",
        "## Device up/down asymmetry",
        "## Not covered yet",
        "| relative, after each epoch |",
        "| 1/f noise at 300 K, simulated | R_K's: ",
        "| tolerated thermal noise | R_K's: ",
    ):
        assert heading in report
    assert (out / "feasibility.png").stat().st_size > 1000
    with pytest.raises(ConfigError, match="add --resume"):
        feasibility.run_feasibility(_base(), out, trials=4, progress=False, studies=SMALL)
    again = feasibility.run_feasibility(_base(), out, trials=4, resume=True, progress=False, studies=SMALL)
    assert again == verdicts  # every run was found finished


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": 1}, "--trials"),
        ({"tolerance": 1.0}, "--tolerance"),
        ({"tolerance": float("inf")}, "--tolerance must be a finite number above 1"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        feasibility.run_feasibility(_base(), tmp_path / "x", progress=False, **kwargs)
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="resistor networks"):
        feasibility.run_feasibility(
            with_changes(RunConfig(), {"device": "memristor:vteam_symmetric"}), tmp_path / "y", progress=False
        )


def test_verdicts_at_the_end_of_the_range_tried_say_so():
    curve = [(0.0, 0.1, 0, 4), (0.4, 0.1, 0, 4)]
    assert feasibility_report._bound(0.4, curve, "sigma <=") == "sigma >= 0.4 (the largest tried)"
    assert feasibility_report._bound(0.0, curve, "sigma <=") == "sigma <= 0"
    bits = [(6.0, 0.1, 0, 4), (32.0, 0.1, 0, 4)]
    assert feasibility_report._bound(6.0, bits, ">=") == "<= 6 (the fewest tried)"
    assert feasibility_report._bound(32.0, bits, ">=") == ">= 32"
    assert feasibility_report._bound(None, bits, ">=") == "none of the values tried"
