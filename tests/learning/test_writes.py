"""Writing updates into devices: levels, programming noise, the resolution record; and cell mismatch as
drawn per edge. Training with few bits or large mismatch learns less, measured against the ideal run."""

import csv
import json

import numpy as np
import pytest

from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import FeedbackCellConfig, Rounding, SawtoothConfig, WriteConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.learning.tasks import TaskConfig, make_task, teacher_task
from tcl_circuits.learning.writes import ConductanceWrites, quantise


def _spec():
    return teacher_task("lattice:3x3", train_samples=1, test_samples=1, seed=0).student


def test_levels_span_each_edges_bounds_and_analog_is_untouched():
    spec = _spec()
    g = spec.conductance_s
    assert quantise(WriteConfig(), g, spec.g_min_s, spec.g_max_s) is g
    q = quantise(WriteConfig(conductance_bits=3), g, spec.g_min_s, spec.g_max_s)
    steps = (q - spec.g_min_s) / (spec.g_max_s - spec.g_min_s) * 7
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert np.all(np.abs(q - g) <= (spec.g_max_s - spec.g_min_s) / 14 * (1 + 1e-12))


def test_a_write_records_the_resolution_each_change_needs_and_the_changes_lost_to_levels():
    spec = _spec()
    span = spec.g_max_s - spec.g_min_s
    writes = ConductanceWrites(WriteConfig(conductance_bits=4), seed=0)
    spec = writes.initial(spec)
    delta = np.zeros(spec.n_edges)
    delta[0] = span[0] / 2**2.5  # needs 2.5 bits: lands on another level of 16
    delta[1] = -span[1] / 2**10.2  # needs 10.2 bits: lost to rounding
    after, outcome = writes.apply(spec, delta, sample=0)
    assert writes.bits_counts[2] == 1 and writes.bits_counts[10] == 1 and writes.bits_counts.sum() == 2
    assert outcome.frac_writes_lost == 0.5 and outcome.clipped_edges == 0
    assert after.conductance_s[0] != spec.conductance_s[0] and after.conductance_s[1] == spec.conductance_s[1]
    assert np.array_equal(after.conductance_s[2:], spec.conductance_s[2:])
    assert writes.bits_quantile(0.5) == 3.0 and writes.bits_quantile(0.9) == 11.0


def test_write_noise_is_log_normal_seeded_per_sample_and_off_by_default():
    spec = _spec()
    delta = np.full(spec.n_edges, 1e-7)
    exact, _ = ConductanceWrites(WriteConfig(), seed=0).apply(spec, delta, sample=5)
    np.testing.assert_array_equal(exact.conductance_s, spec.clip(spec.conductance_s + delta))
    noisy = ConductanceWrites(WriteConfig(write_noise=0.3), seed=0)
    a, _ = noisy.apply(spec, delta, sample=5)
    b, _ = noisy.apply(spec, delta, sample=5)
    c, _ = noisy.apply(spec, delta, sample=6)
    np.testing.assert_array_equal(a.conductance_s, b.conductance_s)
    assert not np.array_equal(a.conductance_s, c.conductance_s)
    big = ConductanceWrites(WriteConfig(write_noise=0.3), seed=1)
    many = np.concatenate(
        [
            np.log((big.apply(spec, delta, sample=k)[0].conductance_s - spec.conductance_s) / delta)
            for k in range(200)
        ]
    )
    assert np.std(many) == pytest.approx(0.3, rel=0.1) and np.mean(many) == pytest.approx(-0.045, abs=0.03)
    assert np.mean(np.exp(many)) == pytest.approx(1.0, abs=0.03)  # the mean step is the rule's


def test_write_asymmetry_scales_rises_up_and_falls_down_by_its_square_root():
    spec = _spec()
    delta = np.where(np.arange(spec.n_edges) % 2 == 0, 1e-8, -1e-8)
    after, _ = ConductanceWrites(WriteConfig(write_asymmetry=4.0), seed=0).apply(spec, delta, sample=0)
    written = after.conductance_s - spec.conductance_s
    np.testing.assert_allclose(written[::2], 2e-8, rtol=1e-6)
    np.testing.assert_allclose(written[1::2], -0.5e-8, rtol=1e-6)
    with pytest.raises(ConfigError, match="write_asymmetry"):
        WriteConfig(write_asymmetry=0.0)


def test_dead_devices_never_take_a_write_and_are_drawn_once_per_run():
    spec = teacher_task("lattice:8x8", train_samples=1, test_samples=1, seed=0).student
    writes = ConductanceWrites(WriteConfig(dead_fraction=0.25), seed=3)
    dead = writes.dead(spec.n_edges)
    assert 0.15 < dead.mean() < 0.35 and dead.any() and not dead.all()
    start = spec.conductance_s.copy()
    delta = np.full(spec.n_edges, 1e-6)
    for sample in range(3):
        spec, _ = writes.apply(spec, delta, sample)
    np.testing.assert_array_equal(spec.conductance_s[dead], start[dead])
    np.testing.assert_allclose(
        spec.conductance_s[~dead], np.minimum(start[~dead] + 3e-6, spec.g_max_s[~dead])
    )
    # the same draw for the run's seed, another for another seed; none drawn when none are dead
    np.testing.assert_array_equal(
        ConductanceWrites(WriteConfig(dead_fraction=0.25), 3).dead(spec.n_edges), dead
    )
    assert not np.array_equal(ConductanceWrites(WriteConfig(dead_fraction=0.25), 4).dead(spec.n_edges), dead)
    assert not ConductanceWrites(WriteConfig(), 3).dead(spec.n_edges).any()
    assert writes.summary()["dead_devices"] == int(dead.sum())
    with pytest.raises(ConfigError, match="dead_fraction"):
        WriteConfig(dead_fraction=1.0)


def test_cell_mismatch_is_seeded_log_normal_and_each_quantity_draws_its_own_stream():
    task = teacher_task("lattice:8x8", train_samples=1, test_samples=1, seed=0)
    nominal = FeedbackCellConfig(threshold_v=1e-5)

    def cells(**spread):
        cell = nominal.replace(**spread)
        x, y = task.x_train[0], task.y_train[0]
        return compile_tcl(task.student, drive=SawtoothConfig(), cell=cell, inputs_v=x, targets_v=y).cells

    base = cells()
    assert np.all(base.r_k_ohm == nominal.r_k_ohm) and np.all(base.threshold_v == 1e-5)
    spread = cells(spread_r_k=0.2, spread_threshold=0.1)
    assert np.std(np.log(spread.r_k_ohm / base.r_k_ohm)) == pytest.approx(0.2, rel=0.2)
    assert np.std(np.log(spread.threshold_v / base.threshold_v)) == pytest.approx(0.1, rel=0.2)
    np.testing.assert_array_equal(spread.c_k_f, base.c_k_f)
    np.testing.assert_array_equal(spread.gain_a_per_v, base.gain_a_per_v)
    with_gain = cells(spread_r_k=0.2, spread_threshold=0.1, spread_gain=0.3)
    np.testing.assert_array_equal(with_gain.r_k_ohm, spread.r_k_ohm)  # unchanged by another quantity's spread
    other_trial = cells(spread_r_k=0.2, spread_threshold=0.1, spread_seed=1)
    assert not np.array_equal(other_trial.r_k_ohm, spread.r_k_ohm)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"write": {"conductance_bits": 6}}, "conductance_bits"),
        ({"write": {"write_noise": 0.1}}, "write_noise"),
        ({"write": {"write_asymmetry": 2.0}}, "write_asymmetry"),
        ({"sim": {"network_noise_temperature_k": 300.0}}, "network_noise_temperature_k"),
        ({"cell": {"spread_gain": 0.1}}, "spread_gain"),
    ],
)
def test_memristor_runs_refuse_the_resistor_write_stage_and_cell_mismatch(changes, field):
    with pytest.raises(ConfigError, match=field):
        with_changes(RunConfig(), {"device": "memristor:vteam_symmetric", "backend": None, **changes})


def _run(tmp_path, name, changes):
    config = with_changes(
        RunConfig(),
        {
            "task": {"network": "lattice:4x4", "train_samples": 150, "test_samples": 40},
            "learning": {"epochs": 1, "seed": 2, "learning_rate_s2_per_v2": 5e-6, "alignment_every": 0},
            **changes,
        },
    )
    return train(make_task(config.task, 2), config, tmp_path / name, progress=False)


def test_training_with_few_bits_or_large_mismatch_learns_less_than_the_ideal_run(tmp_path):
    ideal = _run(tmp_path, "ideal", {})
    fine = _run(tmp_path, "bits16", {"write": {"conductance_bits": 16}})
    coarse = _run(tmp_path, "bits4", {"write": {"conductance_bits": 4}})
    mismatch = _run(tmp_path, "spread", {"cell": {"spread_threshold": 0.7, "spread_gain": 0.7}})
    assert ideal["loss_ratio"] < 0.5  # the ideal run learns
    assert fine["loss_ratio"] == pytest.approx(ideal["loss_ratio"], rel=0.1)
    assert coarse["loss_ratio"] > 2 * ideal["loss_ratio"] and coarse["frac_writes_lost"] > 0.5
    assert mismatch["loss_ratio"] > ideal["loss_ratio"]
    # every requested change needs more than 4 bits: the histogram and its quantiles say so
    assert coarse["update_bits_median"] > 4 and coarse["update_bits_p90"] >= coarse["update_bits_median"]
    rows = list(csv.DictReader((tmp_path / "bits4" / "update_bits.csv").read_text().splitlines()))
    assert sum(int(r["updates"]) for r in rows) > 0 and (tmp_path / "bits4" / "update_bits.png").is_file()
    stored = json.loads((tmp_path / "bits4" / "config.json").read_text())
    assert stored["config"]["write"]["conductance_bits"] == 4


def test_each_device_holds_its_own_range_drawn_once_per_run():
    spec = make_task(TaskConfig(network="lattice:4x4", train_samples=2, test_samples=1), 0).student
    writes = ConductanceWrites(WriteConfig(range_spread=0.7), seed=5)
    held = writes.initial(spec)
    factor = held.g_max_s / spec.g_max_s
    np.testing.assert_allclose(held.g_min_s / spec.g_min_s, factor)  # both bounds, one factor per device
    assert 0.4 < np.std(np.log(factor)) < 1.0 and np.ptp(factor) > 0  # a spread of about 0.7
    assert np.all((held.conductance_s >= held.g_min_s) & (held.conductance_s <= held.g_max_s))
    np.testing.assert_array_equal(ConductanceWrites(WriteConfig(range_spread=0.7), seed=5).initial(spec).g_max_s,
                                  held.g_max_s)  # fmt: skip
    # an update is clipped to the device's own bound, not the nominal one
    big = np.full(spec.n_edges, 10 * float(np.max(spec.g_max_s)))
    after, outcome = writes.apply(held, big, sample=0)
    np.testing.assert_allclose(after.conductance_s, held.g_max_s)
    assert outcome.clipped_edges == spec.n_edges
    # no spread: the bounds and the other draws as they were
    np.testing.assert_array_equal(
        ConductanceWrites(WriteConfig(), seed=5).initial(spec).g_max_s, spec.g_max_s
    )


def test_stochastic_rounding_lands_a_change_finer_than_a_level_on_average():
    spec = _spec()
    config = WriteConfig(conductance_bits=4, rounding=Rounding.STOCHASTIC)
    writes = ConductanceWrites(config, seed=0)
    spec = writes.initial(spec)
    lsb = (spec.g_max_s - spec.g_min_s) / 15
    start = spec.conductance_s.copy()
    step = 0.3 * lsb  # a third of a level: nearest rounding loses every one of these
    inner = (start + lsb < spec.g_max_s) & (start - lsb > spec.g_min_s)
    landed = []
    for sample in range(4000):
        after, _ = writes.apply(spec, np.where(inner, step, 0.0), sample)
        moved = (after.conductance_s - start) / lsb
        np.testing.assert_allclose(moved, np.round(moved), atol=1e-9)  # still on the levels
        assert set(np.round(moved[inner])) <= {0.0, 1.0}  # the level below or the one above
        landed.append(moved[inner])
    mean = np.mean(landed)
    assert abs(mean - 0.3) < 4 * np.sqrt(0.3 * 0.7 / np.size(landed))  # the expected write is the request
    nearest, _ = ConductanceWrites(WriteConfig(conductance_bits=4), seed=0).apply(
        spec, np.where(inner, step, 0.0), 0
    )
    np.testing.assert_array_equal(nearest.conductance_s, start)  # nearest: lost
    again, _ = ConductanceWrites(config, seed=0).apply(spec, np.where(inner, step, 0.0), 7)
    first, _ = writes.apply(spec, np.where(inner, step, 0.0), 7)
    np.testing.assert_array_equal(
        again.conductance_s, first.conductance_s
    )  # seeded by the run and the sample


def test_a_write_counts_the_device_pulses_of_the_changes_it_stored():
    """100 levels: 2.5 steps take 3 pulses, 7 steps down 7, a change clipped at the bound only the steps to
    it; without a device's levels nothing is counted."""
    spec = _spec()
    span = spec.g_max_s - spec.g_min_s
    delta = np.zeros(spec.n_edges)
    delta[0] = 2.5 * span[0] / 100
    delta[1] = -7 * span[1] / 100
    delta[2] = 2 * span[2]  # far past g_max: clipped there
    to_bound = int(np.ceil((spec.g_max_s[2] - spec.conductance_s[2]) / (span[2] / 100) - 1e-9))
    _, outcome = ConductanceWrites(WriteConfig(), seed=0, pulse_levels=100).apply(spec, delta, 0)
    assert outcome.write_pulses == 3 + 7 + to_bound and to_bound > 0
    _, outcome = ConductanceWrites(WriteConfig(), seed=0).apply(spec, delta, 0)
    assert outcome.write_pulses is None
