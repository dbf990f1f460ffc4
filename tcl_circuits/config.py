"""Configuration: frozen, validated dataclasses (SI units, unit in the field name) and the Enums for choices.

Every config checks itself on construction and raises ConfigError naming the field and what was expected,
so a bad value fails at the boundary instead of deep inside a simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.nonlinearity import ThresholdShape

__all__ = [
    "BackendKind",
    "FeedbackCellConfig",
    "ProgrammingMode",
    "LearningConfig",
    "Role",
    "RuleKind",
    "SawtoothConfig",
    "SimulatorConfig",
    "ThresholdShape",
]


class Role(Enum):
    """What a network node is: driven input, clamped output, free hidden node, or tied to 0 V."""

    INPUT = "input"
    OUTPUT = "output"
    HIDDEN = "hidden"
    GROUND = "ground"


class RuleKind(Enum):
    """Learning rule: TCL (memory in the circuit), explicit contrastive (memory in the controller), exact gradient."""

    TCL = "tcl"
    CONTRASTIVE = "contrastive"
    GRADIENT = "gradient"


class ProgrammingMode(Enum):
    """How the edge cell's integral-feedback output u programs the device state.

    DEVICE_THRESHOLD: v_p = A_p * u drives the device's own state equation, so the device's switching
    threshold is the dead zone g (the physical TCL memristor). Needs a device with thresholds.
    CELL_THRESHOLD: the cell's threshold g(u) (hard or dead zone) sets a programming current A_i * g(u) that
    drives the state; for the threshold-less drift models.
    """

    DEVICE_THRESHOLD = "device"
    CELL_THRESHOLD = "cell"


class BackendKind(Enum):
    """Which simulator runs the compiled circuits."""

    NGSPICE = "ngspice"
    NATIVE = "native"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _finite_positive(name: str, value: float) -> None:
    _require(
        isinstance(value, int | float) and math.isfinite(value) and value > 0,
        f"{name} must be a finite number > 0, got {value!r}",
    )


@dataclass(frozen=True, kw_only=True)
class SawtoothConfig:
    """The clamp drive beta(t): ramp 0 -> beta_max over tau_rise_s, back to 0 over tau_fall_s.

    TCL needs a fast rise and a slow fall (tau_rise_s < tau_fall_s; the paper uses 1 : 9). Equal times give a
    symmetric triangle (no contrastive update); rise slower than fall reverses the sign of the update.
    """

    tau_rise_s: float = 1e-4
    """Duration of the free -> clamped ramp (the fast ramp in TCL), seconds."""
    tau_fall_s: float = 9e-4
    """Duration of the clamped -> free ramp (the slow ramp in TCL), seconds."""
    beta_max: float = 0.5
    """Peak nudge factor: the clamp conductance at the peak is beta_max * clamp_conductance_s."""
    clamp_conductance_s: float = 1e-3
    """Clamp conductance per unit beta between each output node and its target source, siemens."""

    def __post_init__(self) -> None:
        _finite_positive("tau_rise_s", self.tau_rise_s)
        _finite_positive("tau_fall_s", self.tau_fall_s)
        _finite_positive("beta_max", self.beta_max)
        _finite_positive("clamp_conductance_s", self.clamp_conductance_s)

    @property
    def period_s(self) -> float:
        """Length of one cycle, seconds."""
        return self.tau_rise_s + self.tau_fall_s

    @property
    def peak_clamp_conductance_s(self) -> float:
        """Clamp conductance at the top of the ramp, siemens."""
        return self.beta_max * self.clamp_conductance_s


@dataclass(frozen=True, kw_only=True)
class FeedbackCellConfig:
    """The per-edge integral-feedback cell: squarer -> series C_K/R_K -> threshold -> accumulator.

    The squarer writes s = (V_a - V_b)^2 as a voltage (1 V per V^2). The series C_K, R_K branch gives
    u = v(R_K) ~ tau_k * ds/dt with zero DC gain (perfect adaptation). The accumulator is a 1 F capacitor
    charged by a current -accumulator_gain / tau_k * g(u), so at the end of a cycle in the learning window
    v(acc) ~ -accumulator_gain * (s_clamped - s_free).
    """

    tau_k_s: float = 5e-6
    """Kernel time constant R_K * C_K, seconds. Needs tau_k_s << tau_rise_s."""
    r_k_ohm: float = 1e3
    """Series resistance of the feedback element (sets C_K = tau_k_s / r_k_ohm and its Joule heat), ohms."""
    threshold_v: float = 1e-5
    """Threshold theta on u, volts. Learning window in contrast: theta*tau_rise/tau_k < |ds| < theta*tau_fall/tau_k."""
    threshold_shape: ThresholdShape = ThresholdShape.HARD
    """Shape of g(u); see ThresholdShape."""
    accumulator_gain: float = 100.0
    """Accumulator volts per V^2 of contrast (dimensionless scale keeping the accumulator O(0.01..1) V)."""

    def __post_init__(self) -> None:
        _finite_positive("tau_k_s", self.tau_k_s)
        _finite_positive("r_k_ohm", self.r_k_ohm)
        _finite_positive("threshold_v", self.threshold_v)
        _finite_positive("accumulator_gain", self.accumulator_gain)
        _require(
            isinstance(self.threshold_shape, ThresholdShape),
            f"threshold_shape must be a ThresholdShape, got {self.threshold_shape!r}",
        )

    @property
    def c_k_f(self) -> float:
        """Capacitance of the feedback element, farads."""
        return self.tau_k_s / self.r_k_ohm

    def window_contrast_v2(self, drive: SawtoothConfig) -> tuple[float, float]:
        """Ideal learning window (A_min, A_max) in contrast |s_clamped - s_free|, V^2."""
        return (
            self.threshold_v * drive.tau_rise_s / self.tau_k_s,
            self.threshold_v * drive.tau_fall_s / self.tau_k_s,
        )


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """Transient settings shared by every backend."""

    points_per_tau_k: float = 1.0
    """Maximum time step = tau_k_s / points_per_tau_k (ngspice refines further where LTE needs it)."""
    timeout_s: float = 120.0
    """Wall-time limit of one simulation before the worker is killed and replaced, seconds."""
    reltol: float = 1e-4
    """ngspice relative tolerance."""
    verify_every: int = 0
    """With a non-ngspice backend, re-run every k-th training sample in ngspice and record the disagreement."""
    node_capacitance_f: float = 0.0
    """Capacitance from every free network node to ground, farads. 0: the network settles instantly (the
    regime the circuit is designed for); > 0: node voltages relax with time constants ~ C / G."""

    def __post_init__(self) -> None:
        _require(
            isinstance(self.verify_every, int) and self.verify_every >= 0,
            f"verify_every must be an int >= 0, got {self.verify_every!r}",
        )
        _finite_positive("points_per_tau_k", self.points_per_tau_k)
        _finite_positive("timeout_s", self.timeout_s)
        _finite_positive("reltol", self.reltol)
        _require(self.reltol < 0.1, f"reltol must be < 0.1, got {self.reltol!r}")
        _require(
            isinstance(self.node_capacitance_f, int | float)
            and math.isfinite(self.node_capacitance_f)
            and self.node_capacitance_f >= 0,
            f"node_capacitance_f must be a finite number >= 0, got {self.node_capacitance_f!r}",
        )


@dataclass(frozen=True, kw_only=True)
class LearningConfig:
    """The training loop: rule, step size, epochs, checkpoints.

    All rules share one step size: Delta G_e = -learning_rate * dC/dG_e, with C = sum_o (V_o - V_target)^2
    in V^2 and G in siemens, hence units S^2/V^2. TCL and explicit contrastive estimate dC/dG_e as
    (s_clamped - s_free) / (beta_max * clamp_conductance_s).
    """

    rule: RuleKind = RuleKind.TCL
    learning_rate_s2_per_v2: float = 5e-6
    """Step size of gradient descent on conductances, S^2/V^2."""
    epochs: int = 5
    seed: int = 0
    checkpoint_every: int = 25
    """Samples between checkpoints (a checkpoint is also written at the end of every epoch)."""

    def __post_init__(self) -> None:
        _require(isinstance(self.rule, RuleKind), f"rule must be a RuleKind, got {self.rule!r}")
        _finite_positive("learning_rate_s2_per_v2", self.learning_rate_s2_per_v2)
        _require(
            isinstance(self.epochs, int) and self.epochs >= 0,
            f"epochs must be an int >= 0, got {self.epochs!r}",
        )
        _require(isinstance(self.seed, int), f"seed must be an int, got {self.seed!r}")
        _require(
            isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 1,
            f"checkpoint_every must be an int >= 1, got {self.checkpoint_every!r}",
        )
