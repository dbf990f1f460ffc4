"""Classification tasks: datasets (iris, digits, MNIST IDX files), their voltages on a drn, accuracy."""

import dataclasses
import gzip
import struct

import numpy as np
import pytest

from tcl_circuits.errors import ConfigError, DataError
from tcl_circuits.learning import datasets
from tcl_circuits.learning.tasks import (
    TaskConfig,
    TaskKind,
    classification_task,
    input_voltages,
    target_voltages,
)
from tcl_circuits.network.spec import Role


def _idx(path, array, *, gz=False):
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def _mnist_folder(tmp_path, images=30, *, gz=True):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (images, 28, 28))
    y = rng.integers(0, 10, images)
    suffix = ".gz" if gz else ""
    _idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", x, gz=gz)
    _idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y, gz=gz)
    return x, y


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files_and_splits_first_and_last(tmp_path, gz):
    x, y = _mnist_folder(tmp_path, gz=gz)
    data = datasets.mnist(tmp_path, train=20, test=6)
    np.testing.assert_allclose(data.x_train, x[:20].reshape(20, -1) / 255)
    np.testing.assert_array_equal(data.y_test, y[-6:])
    assert data.x_train.shape == (20, 784) and data.classes == tuple("0123456789")


def test_mnist_prefers_the_standard_split_when_present(tmp_path):
    _mnist_folder(tmp_path)
    train = np.full((5, 28, 28), 255)
    _idx(tmp_path / "train-images-idx3-ubyte", train)
    _idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5))
    data = datasets.mnist(tmp_path, train=4, test=3)
    np.testing.assert_allclose(data.x_train, 1.0)
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3])
    assert data.x_test.shape == (3, 784)


def test_the_shared_mnist_split_loads():
    data = datasets.mnist(train=8000, test=2000)
    assert data.x_train.shape == (8000, 784) and data.x_test.shape == (2000, 784)
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    assert set(np.unique(data.y_train)) == set(range(10))


def test_the_tasks_default_splits_need_no_sample_flags():
    """``--task mnist`` alone trains on the 8,000 / 2,000 cut; the teacher task keeps 100 / 50."""
    from tcl_circuits.learning.tasks import TaskConfig, TaskKind, make_task

    mnist = make_task(TaskConfig(task=TaskKind.MNIST), seed=0)
    assert (len(mnist.x_train), len(mnist.x_test)) == (8000, 2000)
    teacher = make_task(TaskConfig(), seed=0)
    assert (len(teacher.x_train), len(teacher.x_test)) == (100, 50)
    small = make_task(TaskConfig(task=TaskKind.MNIST, train_samples=300, test_samples=40), seed=0)
    assert (len(small.x_train), len(small.x_test)) == (300, 40)


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: None, "t10k-images-idx3-ubyte.* are missing"),
        (lambda p: (p / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08"), "not an IDX file|missing"),
        (
            lambda p: (
                _mnist_folder(p, gz=False),
                (p / "t10k-labels-idx1-ubyte").write_bytes(
                    bytes([0, 0, 8, 1]) + struct.pack(">I", 30) + b"\x01"
                ),
            ),
            "announces 30 bytes of data, the file holds 1",
        ),
        (
            lambda p: (
                _mnist_folder(p, gz=False),
                (p / "t10k-images-idx3-ubyte").write_bytes(b"\x1f\x8bnot gzip"),
            ),
            "cannot read IDX file",
        ),
        (lambda p: _mnist_folder(p, images=10), "holds 10 images, fewer than 20 \\+ 6"),
    ],
)
def test_bad_mnist_folders_name_the_file(tmp_path, setup, match):
    setup(tmp_path)
    with pytest.raises(DataError, match=match):
        datasets.mnist(tmp_path, train=20, test=6)


def test_missing_mnist_folder_names_the_flag(tmp_path):
    with pytest.raises(DataError, match="--data .*nowhere: no such folder"):
        datasets.mnist(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("loader", "n", "features", "classes"), [(datasets.iris, 150, 4, 3), (datasets.digits, 1797, 64, 10)]
)
def test_bundled_datasets_split_stratified_and_scaled(loader, n, features, classes):
    data = loader(0)
    assert data.x_train.shape[0] + data.x_test.shape[0] == n
    assert data.x_train.shape[1] == features and len(data.classes) == classes
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1 and data.x_test.max() <= 1
    train_share = np.bincount(data.y_train) / data.y_train.size
    test_share = np.bincount(data.y_test) / data.y_test.size
    np.testing.assert_allclose(train_share, test_share, atol=0.02)
    assert not np.array_equal(loader(1).y_test, data.y_test)  # seeded split


def test_inputs_become_signed_pairs_and_a_bias_pair():
    v = input_voltages(np.array([[0.0, 0.25, 1.0]]), 2.0)
    np.testing.assert_allclose(v, [[-2.0, 2.0, -1.0, 1.0, 2.0, -2.0, 2.0, -2.0]])
    np.testing.assert_allclose(
        target_voltages(np.array([2, 0]), 3, 0.2, 0.05), [[0.05, 0.05, 0.2], [0.2, 0.05, 0.05]]
    )


def test_iris_task_builds_its_drn_and_scores_accuracy():
    task = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=5), seed=0)
    spec = task.student
    assert len(spec.input_nodes) == 2 * 4 + 2 and len(spec.output_nodes) == 3
    assert len(spec.nodes_with(Role.HIDDEN)) == 5 and spec.groups == ("w1", "w2")
    assert task.x_train.shape == (120, 10) and task.y_train.shape == (120, 3)
    metrics = task.metrics(task.y_test, task.y_test)
    assert metrics["accuracy"] == 1.0 and metrics["loss"] == 0.0
    shuffled = np.roll(task.y_test, 1, axis=1)  # every prediction wrong
    assert task.metrics(shuffled, task.y_test)["accuracy"] == 0.0


def test_the_diode_series_resistance_reaches_every_diode_and_the_task_fingerprint():
    default = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=5), seed=0)
    leaky = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=5, diode_rs_ohm=10.0), seed=0)
    assert {d.rs_ohm for d in default.student.diodes} == {1.0}
    assert {d.rs_ohm for d in leaky.student.diodes} == {10.0} and len(leaky.student.diodes) == 2 * 5
    np.testing.assert_array_equal(default.student.conductance_s, leaky.student.conductance_s)
    # same samples and weights, another circuit: a run folder must not resume across it
    assert default.fingerprint() != leaky.fingerprint()
    shifted = dataclasses.replace(
        default,
        student=dataclasses.replace(default.student, bias_voltage_v=default.student.bias_voltage_v + 0.01),
    )
    assert shifted.fingerprint() != default.fingerprint()


def test_a_linear_network_keeps_the_digest_its_runs_were_written_with():
    """Teacher folders written before the fingerprint covered diodes, amplifiers and bias sources still resume."""
    import hashlib

    from tcl_circuits.learning.tasks import make_task

    task = make_task(TaskConfig(), seed=0)
    digest = hashlib.sha256()
    for array in (task.x_train, task.y_train, task.x_test, task.y_test, task.student.conductance_s):
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    digest.update(repr((task.student.labels, task.student.roles, task.student.edges)).encode())
    assert task.fingerprint() == digest.hexdigest()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"task": TaskKind.TEACHER, "diode_rs_ohm": 5.0},
            "diode_rs_ohm is for iris, digits, mnist only, not teacher",
        ),
        ({"task": TaskKind.TEACHER, "hidden": 8}, "hidden is for iris, digits, mnist only"),
        ({"task": TaskKind.IRIS, "data_dir": "/tmp"}, "data_dir is for mnist only, not iris"),
    ],
)
def test_settings_of_another_task_are_refused_not_ignored(settings, message):
    with pytest.raises(ConfigError, match=message) as error:
        TaskConfig(**settings)
    assert error.value.field == next(k for k in settings if k != "task")


@pytest.mark.parametrize(
    ("network", "match"),
    [
        ("drn:5-4-3", "iris needs 4 inputs and 3 outputs"),
        ("layered:4-4-3", "runs on a deep resistive network"),
    ],
)
def test_classification_networks_must_fit_the_data(network, match):
    with pytest.raises(ConfigError, match=match):
        classification_task(TaskConfig(task=TaskKind.IRIS, network=network), seed=0)


def test_a_classification_run_reports_accuracy_occupancy_alignment_and_confusion(tmp_path):
    import csv
    import json

    from tcl_circuits.config import LearningConfig
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.run_config import RunConfig

    task = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=4), seed=0)
    config = RunConfig().replace(
        learning=LearningConfig(epochs=1, learning_rate_s2_per_v2=None, alignment_every=5)
    )
    summary = train(task, config, tmp_path / "run", progress=False)
    rows = list(csv.DictReader((tmp_path / "run" / "epochs.csv").read_text().splitlines()))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    for key in (
        "test_accuracy",
        "frac_below",
        "frac_window",
        "frac_above",
        "cos_contrastive",
        "cos_gradient",
    ):
        assert rows[1][key] != ""
    assert rows[0]["frac_window"] == ""  # epoch 0: nothing presented yet
    assert float(rows[1]["frac_below"]) + float(rows[1]["frac_window"]) + float(
        rows[1]["frac_above"]
    ) == pytest.approx(1)
    assert -1 <= float(rows[1]["cos_gradient"]) <= 1
    assert summary["final_test_accuracy"] == pytest.approx(float(rows[1]["test_accuracy"]))
    assert summary["learning_rate_s2_per_v2"] == 1e-6  # the classification default
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert sum("cos_gradient" in s for s in samples) == 24  # every 5th of 120
    confusion = list(csv.DictReader((tmp_path / "run" / "confusion_matrix.csv").read_text().splitlines()))
    counts = np.array([[int(r[c]) for c in task.classes] for r in confusion])
    assert counts.sum() == len(task.x_test)
    assert np.trace(counts) / counts.sum() == pytest.approx(summary["final_test_accuracy"])
    assert (tmp_path / "run" / "confusion_matrix.png").stat().st_size > 1000


def test_the_auto_headroom_is_the_task_s_own_and_a_run_stores_the_value_it_used(tmp_path):
    import json

    from tcl_circuits.config import LearningConfig
    from tcl_circuits.learning.loop import train
    from tcl_circuits.learning.run_config import RunConfig
    from tcl_circuits.learning.tasks import teacher_task

    iris = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=4), seed=0)
    teacher = teacher_task("lattice:3x3", train_samples=12, test_samples=4, seed=0)
    config = RunConfig().replace(learning=LearningConfig(epochs=1, learning_rate_s2_per_v2=None))
    assert config.cell.threshold_headroom is None
    assert config.for_task(iris).cell.threshold_headroom == 2.0
    assert config.for_task(teacher).cell.threshold_headroom == 20.0
    chosen = config.replace(cell=config.cell.replace(threshold_headroom=7.0))
    assert chosen.for_task(iris) is chosen
    train(teacher, config, tmp_path / "teacher", progress=False)
    stored = json.loads((tmp_path / "teacher" / "config.json").read_text())
    assert stored["config"]["cell"]["threshold_headroom"] == 20.0
    # a run written with the value spelled out is the same run as one that leaves it to the task
    spelled = config.replace(cell=config.cell.replace(threshold_headroom=20.0))
    train(teacher, spelled, tmp_path / "spelled", progress=False, stop_after_samples=5)
    train(teacher, config, tmp_path / "spelled", resume=True, progress=False)
    # a classification run written at the old default is told which setting to give back
    train(iris, spelled, tmp_path / "old", progress=False, stop_after_samples=5)
    with pytest.raises(ConfigError, match=r"cell.threshold_headroom: 20.0 -> 2.0"):
        train(iris, config, tmp_path / "old", resume=True, progress=False)
    train(iris, spelled, tmp_path / "old", resume=True, progress=False)
    # the headroom sets the window: with the task's 2 the first group's threshold is a tenth of 20's
    from tcl_circuits.learning.rules import calibrate_for_run

    auto = calibrate_for_run(config.cell, iris.student, iris, config.drive)
    wide = calibrate_for_run(spelled.cell, iris.student, iris, config.drive)
    assert auto.threshold_v == pytest.approx(wide.threshold_v / 10)


def _standard_folder(p, *, train_shape=(5, 28, 28), test_images=30):
    _mnist_folder(p, images=test_images, gz=False)
    _idx(p / "train-images-idx3-ubyte", np.zeros(train_shape))
    _idx(p / "train-labels-idx1-ubyte", np.zeros(train_shape[0]))


def _absurd_dimensions(p):
    _mnist_folder(p, gz=False)
    (p / "t10k-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 8, 255]) + struct.pack(">255I", *[1] * 255) + b"\x00"
    )


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (
            lambda p: _mnist_folder(p, images=0, gz=False),
            "t10k-images-idx3-ubyte: the IDX header gives an empty",
        ),
        (
            lambda p: _standard_folder(p, train_shape=(0, 28, 28)),
            "train-images-idx3-ubyte: the IDX header gives an empty",
        ),
        (_absurd_dimensions, "t10k-images-idx3-ubyte: the IDX header gives 255 dimensions, expected 3"),
        (
            lambda p: _standard_folder(p, train_shape=(5, 8, 8)),
            "train-images-idx3-ubyte holds images of 64 pixels, t10k-images-idx3-ubyte of 784",
        ),
        (
            lambda p: _standard_folder(p, test_images=2),
            "t10k-images-idx3-ubyte holds 2 images, fewer than the 3",
        ),
    ],
)
def test_empty_absurd_or_mismatched_idx_files_are_one_data_error_naming_the_file(tmp_path, setup, match):
    setup(tmp_path)
    with pytest.raises(DataError, match=match) as caught:
        datasets.mnist(tmp_path, train=4, test=3)
    assert "\n" not in str(caught.value)


def test_training_images_without_their_labels_are_refused_not_replaced_by_the_10k_file(tmp_path):
    _standard_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(
        DataError, match=r"train-labels-idx1-ubyte\[.gz\] is missing beside train-images-idx3-ubyte"
    ):
        datasets.mnist(tmp_path, train=4, test=3)
    (tmp_path / "train-images-idx3-ubyte").rename(tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\[.gz\] is missing beside train-labels"):
        datasets.mnist(tmp_path, train=4, test=3)


def test_a_file_both_raw_and_gzipped_is_refused_naming_both(tmp_path):
    _mnist_folder(tmp_path, gz=False)
    x, y = _mnist_folder(tmp_path, gz=True)
    with pytest.raises(DataError, match=r"both t10k-images-idx3-ubyte and t10k-images-idx3-ubyte.gz"):
        datasets.mnist(tmp_path, train=20, test=6)


def test_a_bad_mnist_folder_is_one_line_from_the_command_line(tmp_path, capsys):
    from tcl_circuits.cli.main import main

    _standard_folder(tmp_path, train_shape=(5, 8, 8))
    argv = [
        "train",
        "--task",
        "mnist",
        "--data",
        str(tmp_path),
        "--train-samples",
        "4",
        "--test-samples",
        "3",
    ]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train-images-idx3-ubyte holds images of 64 pixels" in err
