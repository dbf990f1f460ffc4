"""Window controls a bench can run: the adaptive threshold and nudge tracking (``WindowControl``)."""

import numpy as np
import pytest

from tcl_circuits.circuit.cell_design import Calibration, resolve
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig, WindowConfig
from tcl_circuits.learning.resistor import ResistorLearner, WindowControl
from tcl_circuits.learning.run_config import RunConfig
from tcl_circuits.learning.tasks import TaskConfig, TaskKind, classification_task


def test_adaptive_threshold_steps_toward_the_target_fraction():
    control = WindowControl(WindowConfig(threshold_adaptation=0.1, target_updated=0.5), 1e-3, 0.5)
    control.observe_updates(0.25)  # too few edges updating: lower theta by exp(0.1 * -0.5)
    assert control.theta_v == pytest.approx(1e-3 * np.exp(-0.05))
    for _ in range(3):
        control.observe_updates(0.9)
    assert control.theta_v > 1e-3
    assert control.beta_max == 0.5  # nudge tracking off


def test_nudge_grows_as_the_error_shrinks_up_to_its_cap():
    control = WindowControl(WindowConfig(beta_tracking=1.0, beta_cap=4.0), 1e-3, 0.5)
    control.observe_error(0.001)  # a lucky first sample does not set the reference ...
    for _ in range(WindowControl.ERROR_MEMORY - 1):
        control.observe_error(0.1)
    assert control.beta_max == 0.5  # ... the first full window does (RMS ~ 0.1)
    for _ in range(WindowControl.ERROR_MEMORY):
        control.observe_error(0.05)  # about half the first error: beta about doubles
    assert control.beta_max == pytest.approx(0.5 * np.sqrt(np.mean(np.square([0.001] + [0.1] * 19))) / 0.05)
    for _ in range(WindowControl.ERROR_MEMORY):
        control.observe_error(0.001)
    assert control.beta_max == pytest.approx(2.0)  # capped at beta_cap x ... of 0.5


def test_scaling_the_threshold_scales_every_group():
    calibration = Calibration(2e-4, (("w1", 1e-4), ("w2", 3e-4)))
    cell = resolve(FeedbackCellConfig(), calibration, SawtoothConfig(), ("w1", "w2", "w1"), outputs=1)
    scaled = cell.with_threshold_scaled(0.5)
    assert scaled.theta_v == pytest.approx(1e-4)
    np.testing.assert_allclose(scaled.nominal_threshold_v, [0.5e-4, 1.5e-4, 0.5e-4])
    np.testing.assert_allclose(scaled.threshold_v, [0.5e-4, 1.5e-4, 0.5e-4])


def test_the_adaptive_threshold_reaches_per_group_thresholds_in_a_run():
    task = classification_task(TaskConfig(task=TaskKind.IRIS, hidden=4), seed=0)
    config = RunConfig().replace(window=WindowConfig(threshold_adaptation=0.5, target_updated=0.9))
    learner = ResistorLearner(task, config)
    try:
        before = learner.cell.nominal_threshold_v
        learner.step(task.x_train[:5], task.y_train[:5])
        assert learner.last_cycle.cell is not None
        after = learner.last_cycle.cell.nominal_threshold_v
    finally:
        learner.close()
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio[0])  # one common factor ...
    assert ratio[0] < 1  # ... lowered: far fewer than 90 % of the edges updated
    assert len(set(np.round(after, 15))) == 2  # the two layers keep their own thresholds
