"""Every non-ideality a technology implies, on at once in a run's configuration."""

import json

import pytest

from tcl_circuits.errors import ConfigError
from tcl_circuits.learning.hardware import with_technology
from tcl_circuits.learning.loop import train
from tcl_circuits.learning.run_config import RunConfig, with_changes
from tcl_circuits.learning.tasks import make_task
from tcl_circuits.technology.model import technology


def test_a_process_and_a_device_set_every_non_ideality_they_describe():
    applied = with_technology(RunConfig(), technology("cmos65+reram"), nonlinear=False)
    cell, sim, write = applied.config.cell, applied.config.sim, applied.config.write
    assert cell.noise_temperature_k == 300.0 and sim.network_noise_temperature_k == 300.0
    assert cell.noise_flicker_corner_hz == 0.0  # a metal R_K
    assert cell.spread_offset_v == pytest.approx(10e-6)  # an auto-zeroed comparator's residual offset
    assert write.conductance_bits == 10  # 1,480 steps hold 2^10 levels
    assert write.write_asymmetry == pytest.approx(1.7) and write.dead_fraction == 0.0
    assert write.write_noise == 1.0 and any("capped" in reason for reason in applied.left_out)
    assert write.range_spread == pytest.approx(0.2)  # device to device (Gong et al. 2018)
    # the cells' mismatch from the process's matching figures
    assert (cell.spread_r_k, cell.spread_c_k, cell.spread_gain, cell.spread_clamp) == pytest.approx(
        (0.003, 0.001, 0.01, 0.01)
    )
    assert not any("mismatch" in reason or "device-to-device" in reason for reason in applied.left_out)
    latch = with_technology(RunConfig(), technology("cmos180+hfo2_array"), comparator="latch", resistor="mos",
                            nonlinear=True)  # fmt: skip
    assert latch.config.cell.spread_offset_v == pytest.approx(3.4e-3)
    assert latch.config.cell.noise_flicker_corner_hz == 1e6
    assert latch.config.write.conductance_bits == 2 and latch.config.write.dead_fraction == pytest.approx(
        0.098
    )
    assert latch.config.sim.network_noise_temperature_k == 0.0
    assert any("diodes" in reason for reason in latch.left_out)


def test_the_ideal_device_leaves_the_write_stage_as_it_is():
    write = with_technology(RunConfig(), technology("cmos65+ideal"), nonlinear=False).config.write
    assert (
        write.conductance_bits,
        write.write_asymmetry,
        write.write_noise,
        write.dead_fraction,
        write.range_spread,
    ) == (None, 1.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"comparator": "chopper"}, "--comparator must be one of"),
        ({"resistor": "carbon"}, "--r-k-type must be"),
    ],
)
def test_a_bad_comparator_or_resistor_is_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        with_technology(RunConfig(), technology("cmos65+reram"), nonlinear=False, **kwargs)


def test_memristor_runs_are_refused():
    config = with_changes(RunConfig(), {"device": "memristor:vteam_symmetric"})
    with pytest.raises(ConfigError, match="--device resistor"):
        with_technology(config, technology("cmos65+reram"), nonlinear=False)


def test_a_run_with_every_non_ideality_on_trains_and_records_them(tmp_path):
    base = with_changes(RunConfig(), {"task": {"network": "lattice:3x3", "train_samples": 12, "test_samples": 4},
                                      "learning": {"epochs": 1}})  # fmt: skip
    config = with_technology(base, technology("cmos65+hfo2_array"), nonlinear=False).config
    summary = train(make_task(config.task, 0), config, tmp_path / "run", progress=False)
    assert summary["samples"] == 12 and "dead_devices" in summary
    stored = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert stored["write"]["conductance_bits"] == 2 and stored["cell"]["noise_temperature_k"] == 300.0
    assert stored["technology"] == {
        "name": "cmos65+hfo2_array",
        "comparator": "auto_zeroed",
        "r_k_type": "metal",
    }


def test_a_4x4_run_with_a_technology_prices_every_block_and_counts_its_pulses(tmp_path):
    """Native, cmos65+reram: the summary's bill has no unpriced block, its total is the sum of its blocks,
    and its pulses and writes are the records' pulses at 3.2 pJ each."""
    base = with_changes(RunConfig(), {"task": {"network": "lattice:4x4", "train_samples": 8, "test_samples": 4},
                                      "learning": {"epochs": 1}})  # fmt: skip
    config = with_technology(base, technology("cmos65+reram"), nonlinear=False).config
    summary = train(make_task(config.task, 0), config, tmp_path / "run", progress=False, plots=False)
    bill = summary["energy_per_update_j"]
    assert bill["unpriced"] == [] and bill["technology"] == "cmos65+reram"
    assert set(bill["by_block"]) == {
        "network", "clamps", "feedback_rk", "quiescent", "dynamic", "readout", "writes"
    }  # fmt: skip
    assert all(value > 0 for value in bill["by_block"].values())
    assert bill["total"] == pytest.approx(sum(bill["by_block"].values()), rel=1e-12)
    assert bill["per_edge"] == pytest.approx(bill["total"] / summary["edges"])
    records = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    pulses = [r["write_pulses"] for r in records]
    assert len(pulses) == 8 and bill["pulses_per_update"] == pytest.approx(sum(pulses) / 8)
    assert bill["by_block"]["writes"] == pytest.approx(bill["pulses_per_update"] * 3.2e-12)
    assert bill["by_block"]["readout"] == pytest.approx(24 * 10e-15 * 1024)  # 24 edges, one 10-bit read each
    assert summary["time_per_update_s"] == pytest.approx(1e-5 + 9e-4)


@pytest.mark.parametrize(
    ("technology_settings", "message"),
    [
        ({"name": "cmos7+reram"}, "no technology preset 'cmos7'"),
        ({"name": "reram+cmos65"}, "is not a CMOS process"),
        ({"comparator": "chopper"}, "technology.comparator must be one of"),
        ({"name": "cmos65+reram", "r_k_type": "carbon"}, "technology.r_k_type must be one of"),
        ({"name": 3}, "name"),
    ],
)
def test_the_recorded_technology_is_checked_as_tech_is(technology_settings, message):
    with pytest.raises(ConfigError, match=message):
        with_changes(RunConfig(), {"technology": technology_settings})


def test_the_recorded_technology_round_trips_and_memristor_runs_refuse_it():
    from tcl_circuits.checked import from_dict, to_dict

    config = with_technology(
        RunConfig(), technology("cmos180+ecram"), comparator="latch", nonlinear=False
    ).config
    assert (
        from_dict(RunConfig, to_dict(config)) == config and config.technology.model().device.name == "ecram"
    )
    with pytest.raises(ConfigError, match="--device resistor"):
        with_changes(RunConfig(), {"device": "memristor:hp", "technology": {"name": "cmos65+reram"}})
