"""Configuration: frozen, validated dataclasses (SI units, unit in the field name) and the Enums for choices.

Every field is declared with ``param`` (``checked``): its default, unit, one-line help, bounds and
(optionally) its command-line flag; ``Checked`` validates each on construction and ``check`` adds the checks
across fields. ``to_dict`` and ``from_dict`` (the form config.json stores) live with them in ``checked`` and
are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tcl_circuits.checked import Checked, from_dict, param, to_dict
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.nonlinearity import ThresholdShape

__all__ = [
    "AnalogCellConfig",
    "BackendKind",
    "CellKind",
    "Checked",
    "FeedbackCellConfig",
    "GateMode",
    "StreamConfig",
    "LearningConfig",
    "ProgrammingMode",
    "Role",
    "RuleKind",
    "SawtoothConfig",
    "SimulatorConfig",
    "ThresholdShape",
    "WindowConfig",
    "WriteConfig",
    "from_dict",
    "param",
    "to_dict",
]

SEED_MAX = 2**32 - 1
MAX_RAMP_S = 1000.0
"""Longest ramp of the sawtooth, seconds: 10^7 times the default; ngspice's time step control already fails
at 10^6 s (1e300 s ran natively and reported 10^296 J per sample)."""


class Role(Enum):
    """What a network node is: driven input, clamped output, free hidden node, tied to 0 V, held at a fixed
    bias voltage (the far end of a hidden node's diodes), or the output of an amplifier (a copy of another
    node's voltage times a gain)."""

    INPUT = "input"
    OUTPUT = "output"
    HIDDEN = "hidden"
    GROUND = "ground"
    BIAS = "bias"
    AMPLIFIED = "amplified"


class RuleKind(Enum):
    """Learning rule: TCL (memory in the circuit), explicit contrastive (memory in the controller), exact gradient."""

    TCL = "tcl"
    CONTRASTIVE = "contrastive"
    GRADIENT = "gradient"


class Rounding(Enum):
    """How a write lands on a device's levels: the nearest level (a change below half a level is lost), or a
    stochastic choice between the two levels around the request, the upper one with the probability of the
    fraction (the expected write is the request: updates finer than a level still land on average; the
    controller fires its last pulse with that probability)."""

    NEAREST = "nearest"
    STOCHASTIC = "stochastic"


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


@dataclass(frozen=True, kw_only=True)
class SawtoothConfig(Checked):
    """The clamp drive beta(t): ramp 0 -> beta_max over tau_rise_s, back to 0 over tau_fall_s.

    TCL needs a fast rise and a slow fall (tau_rise_s < tau_fall_s; the paper uses 1 : 9). Equal times give a
    symmetric triangle (no contrastive update); rise slower than fall reverses the sign of the update. Both
    are allowed here for physics experiments; a training run refuses them (``check_learning_order``).
    """

    tau_rise_s: float = param(1e-4, unit="s", help="fast ramp free -> clamped", above=0, maximum=MAX_RAMP_S)
    tau_fall_s: float = param(9e-4, unit="s", help="slow ramp clamped -> free", above=0, maximum=MAX_RAMP_S)
    beta_max: float = param(
        0.5, help="peak nudge factor (clamp conductance at the peak / clamp conductance)", above=0
    )
    clamp_conductance_s: float = param(
        1e-3, unit="S", help="clamp conductance per unit beta", flag="--clamp-conductance", above=0
    )

    @property
    def period_s(self) -> float:
        """Length of one cycle, seconds."""
        return self.tau_rise_s + self.tau_fall_s

    @property
    def peak_clamp_conductance_s(self) -> float:
        """Clamp conductance at the top of the ramp, siemens."""
        return self.beta_max * self.clamp_conductance_s

    def check_learning_order(self) -> None:
        """Raise unless the rise is faster than the fall (what TCL learns with)."""
        if not self.tau_fall_s > self.tau_rise_s:
            raise ConfigError(
                f"tau_fall_s ({self.tau_fall_s:g} s) must exceed tau_rise_s ({self.tau_rise_s:g} s): TCL learns with "
                "a fast rise and a slow fall; equal ramps give no update and a slower rise reverses its sign",
                field="tau_fall_s",
            )


class CellKind(Enum):
    """How the feedback cell is built: ideal behavioural sources (the reference), or macro-models of real stages."""

    BEHAVIOURAL = "behavioural"
    ANALOG = "analog"


@dataclass(frozen=True, kw_only=True)
class AnalogCellConfig(Checked):
    """The analog cell's stages (--cell analog, ngspice only), each a subcircuit with its own supply pins.

    Multiplier (squarer) -> C_K/R_K high-pass -> threshold stage (a gain stage whose output a window comparator
    gates, input offset included) -> op-amp integrator (R_int into C_int, finite gain and bandwidth, output held
    within the rails). Defaults are typical of integrated CMOS blocks on +-2.5 V rails (docs/analog-cell.md
    gives the sources and the discrete parts for comparison). C_int follows from the accumulator gain:
    R_int C_int = threshold_gain * multiplier_scale * tau_k / accumulator_gain, so at nominal values the
    accumulator reads what the behavioural cell's does.
    """

    supply_v: float = param(2.5, unit="V", help="analog cell: rails at +-supply_v", above=0, maximum=50)
    rail_headroom_v: float = param(
        0.2, unit="V", help="analog cell: closest a stage output comes to a rail", minimum=0
    )
    multiplier_scale_per_v: float = param(
        1.0,
        unit="1/V",
        help="analog cell: squarer output K (V_a - V_b)^2 (AD835-like U = 1 V)",
        above=0,
        flag="--multiplier-scale",
    )
    multiplier_bandwidth_hz: float = param(
        10e6,
        unit="Hz",
        help="analog cell: squarer -3 dB bandwidth (single pole)",
        above=0,
        flag="--multiplier-bandwidth",
    )
    multiplier_quiescent_a: float = param(
        50e-6, unit="A", help="analog cell: squarer quiescent current per rail", minimum=0
    )
    threshold_gain: float | None = param(
        None,
        help="analog cell: gain of the threshold stage ahead of its comparator",
        above=0,
        none="auto: the top of each edge's learning window at window_top_fraction of the swing",
    )
    window_top_fraction: float = param(
        0.5,
        help="analog cell: share of the swing (supply less headroom) that the top of the learning window uses, at "
        "the threshold stage's output and at the accumulator (which sets the accumulator gain)",
        above=0,
        maximum=1,
    )
    threshold_bandwidth_hz: float = param(
        1e6,
        unit="Hz",
        help="analog cell: threshold stage -3 dB bandwidth (GBW / gain)",
        above=0,
        flag="--threshold-bandwidth",
    )
    threshold_quiescent_a: float = param(
        20e-6, unit="A", help="analog cell: threshold stage quiescent current per rail", minimum=0
    )
    integrator_gain: float = param(1e5, help="analog cell: op-amp open-loop DC gain", above=1)
    integrator_gbw_hz: float = param(
        10e6, unit="Hz", help="analog cell: op-amp gain-bandwidth", above=0, flag="--integrator-gbw"
    )
    integrator_slew_v_per_s: float = param(
        10e6, unit="V/s", help="analog cell: op-amp slew rate", above=0, flag="--integrator-slew"
    )
    integrator_r_ohm: float = param(
        10e3, unit="ohm", help="analog cell: integrator input resistor R_int (C_int follows)", above=0
    )
    integrator_quiescent_a: float = param(
        20e-6, unit="A", help="analog cell: op-amp quiescent current per rail", minimum=0
    )

    def check(self) -> None:
        if not self.rail_headroom_v < self.supply_v:
            raise ConfigError(
                f"rail_headroom_v ({self.rail_headroom_v:g} V) must be below supply_v ({self.supply_v:g} V)",
                field="rail_headroom_v",
            )

    @property
    def swing_v(self) -> float:
        """Largest output magnitude of a stage, volts."""
        return self.supply_v - self.rail_headroom_v


@dataclass(frozen=True, kw_only=True)
class FeedbackCellConfig(Checked):
    """The per-edge integral-feedback cell: squarer -> series C_K/R_K -> threshold -> accumulator.

    The squarer writes s = A (V_a - V_b)^2 as a voltage (A = ``signal_gain`` V per V^2). The series C_K, R_K
    branch gives u = v(R_K) ~ tau_k * ds/dt with zero DC gain (perfect adaptation). The accumulator is a 1 F
    capacitor charged by a current -accumulator_gain / (A tau_k) * g(u), so at the end of a cycle in the
    learning window v(acc) ~ -accumulator_gain * (s_clamped - s_free) / A, whatever A; a gain A lifts u (and
    the threshold a calibration places, volts on u) over R_K's noise.
    """

    tau_k_s: float = param(5e-6, unit="s", help="kernel time R_K*C_K (needs tau_k << tau_rise)", above=0)
    r_k_ohm: float = param(1e3, unit="ohm", help="feedback resistor R_K (C_K = tau_k / R_K)", above=0)
    signal_gain: float = param(
        1.0,
        unit="1",
        help="squarer gain A, s = A (V_a - V_b)^2 x 1 V per V^2: u and the automatic threshold scale by A, "
        "R_K's noise on u does not; the window in contrast and the per-edge accumulator gain are divided by A",
        above=0,
        maximum=1e6,
    )
    threshold_v: float | None = param(
        1e-5,
        unit="V",
        help="threshold theta on u; learning window in contrast: theta*tau_rise/(A*tau_k) < |ds| < "
        "theta*tau_fall/(A*tau_k), A the signal gain",
        flag="--threshold",
        above=0,
        none="auto: top of the window at threshold_headroom x the largest initial contrasts",
    )
    threshold_headroom: float | None = param(
        0.4,
        help="auto threshold: window top / 99th percentile of the initial contrasts",
        above=0,
        maximum=100,
        none="auto: 20 for teacher tasks, 2 for classification (iris, digits, mnist)",
    )
    per_group_threshold: bool = param(
        True,
        help="auto threshold: place each edge group's window over that group's own contrasts (the paper "
        "thresholds each parameter group separately; a network's groups are its layers)",
    )
    threshold_shape: ThresholdShape = param(ThresholdShape.HARD, help="shape of g(u)")
    kind: CellKind = param(
        CellKind.BEHAVIOURAL,
        help="behavioural (ideal sources, the reference) or analog (macro-model stages with supplies; ngspice)",
        flag="--cell",
    )
    analog: AnalogCellConfig = param(AnalogCellConfig())
    accumulator_gain: float = param(
        100.0,
        help="accumulator volts per V^2 of contrast (keeps the accumulator O(0.01..1) V; the analog cell sizes "
        "its own to its rails)",
        above=0,
    )
    spread_r_k: float = param(
        0.0, help="mismatch: log-normal sigma of each edge's R_K (drawn once per run)", minimum=0, maximum=1
    )
    spread_c_k: float = param(0.0, help="mismatch: log-normal sigma of each edge's C_K", minimum=0, maximum=1)
    spread_threshold: float = param(
        0.0, help="mismatch: log-normal sigma of each edge's threshold", minimum=0, maximum=1
    )
    spread_gain: float = param(
        0.0, help="mismatch: log-normal sigma of each edge's accumulator gain", minimum=0, maximum=1
    )
    threshold_offset_v: float = param(
        0.0,
        unit="V",
        help="input offset of the threshold comparison, referred to u (both cells; CMOS comparators 1-10 mV, "
        "auto-zeroed ~1-10 uV)",
    )
    spread_offset_v: float = param(
        0.0,
        unit="V",
        help="mismatch: sigma of each edge's extra threshold offset (normal, seeded by --spread-seed)",
        minimum=0,
    )
    spread_seed: int = param(
        0, help="seed of the mismatch draw (one Monte Carlo trial per seed)", minimum=0, maximum=SEED_MAX
    )
    spread_clamp: float = param(
        0.0,
        help="mismatch: log-normal sigma of each output's clamp conductance G_c (the controller converts with the "
        "nominal G_c)",
        minimum=0,
        maximum=1,
    )
    noise_temperature_k: float = param(
        0.0,
        unit="K",
        help="thermal noise of every R_K (4kT/R_K, kT/C_K on u) at this temperature, the same seeded samples in "
        "both engines (0: noiseless)",
        flag="--noise-temperature",
        minimum=0,
        maximum=1e5,
    )
    noise_flicker_corner_hz: float = param(
        0.0,
        unit="Hz",
        help="1/f noise of every R_K: its thermal noise's density times (1 + corner/f), from 1/period up to the "
        "noise's band (0: white)",
        flag="--noise-flicker-corner",
        minimum=0,
        maximum=1e9,
    )

    SPREAD_FIELDS = ("spread_r_k", "spread_c_k", "spread_threshold", "spread_gain")
    RETIRED = {
        "group_thresholds_v": "the thresholds a calibration places are the run's cell design (design.json), "
        "not a setting"
    }
    """Settings older config files hold: read and dropped at their old default (empty), refused otherwise."""

    @property
    def has_mismatch(self) -> bool:
        """Whether any mismatch is drawn; without one, ``spread_seed`` changes nothing."""
        return any(getattr(self, name) for name in (*self.SPREAD_FIELDS, "spread_offset_v", "spread_clamp"))

    def check(self) -> None:
        if self.threshold_shape is ThresholdShape.CUBIC:
            raise ConfigError(
                "threshold_shape cubic has no circuit form; use hard or dead_zone", field="threshold_shape"
            )

    @property
    def c_k_f(self) -> float:
        """Capacitance of the feedback element, farads."""
        return self.tau_k_s / self.r_k_ohm

    @property
    def theta_v(self) -> float:
        """The threshold, volts (ConfigError while it is still 'auto')."""
        if self.threshold_v is None:
            raise ConfigError(
                "the threshold is 'auto': calibrate it on samples first (learning.rules.calibrate_cell)",
                field="threshold_v",
            )
        return self.threshold_v


POINTS_PER_RAMP_LINEAR = 200
POINTS_PER_RAMP_DIODES = 50
"""Default caps of the native grid per ramp (``SimulatorConfig.max_points_per_ramp``): a DRN's update
converges with far fewer points (no edge above the window on the slow ramp), and its cycles cost the most."""


def points_per_ramp(sim: SimulatorConfig, has_diodes: bool) -> int:
    """The native grid's cap per ramp: the configured one, else the default for the kind of network."""
    if sim.max_points_per_ramp is not None:
        return sim.max_points_per_ramp
    return POINTS_PER_RAMP_DIODES if has_diodes else POINTS_PER_RAMP_LINEAR


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig(Checked):
    """Transient settings shared by every backend."""

    points_per_tau_k: float = param(
        1.0,
        help="maximum time step = max(tau_k / points_per_tau_k, period / points_per_cycle)",
        above=0,
        maximum=1000,
    )
    points_per_cycle: float = param(
        400.0,
        help="long cycles: the maximum step may grow to period / points_per_cycle (ngspice's error control still "
        "resolves the fast ramp; measured <= 1.5 % on the update at a 90x window)",
        above=0,
        maximum=1e7,
    )
    timeout_s: float | None = param(
        None,
        unit="s",
        help="ngspice: wall-time limit of one run before its worker is replaced",
        flag="--timeout",
        above=0,
        none="auto: scaled by the deck's size and time points",
    )
    reltol: float = param(1e-4, help="ngspice relative tolerance", above=0, below=0.1)
    abstol_a: float = param(
        1e-11,
        unit="A",
        help="ngspice absolute current tolerance: the feedback cells' currents are pA..nA and a hard threshold "
        "switching at ngspice's own 1 pA can stall the time step (seen on diode networks)",
        above=0,
        below=1e-6,
        flag="--abstol",
    )
    verify_every: int = param(
        0, help="with the native engine, re-run every k-th training sample in ngspice (0: never)", minimum=0
    )
    node_capacitance_f: float = param(
        0.0,
        unit="F",
        help="capacitance from every free network node to ground (0: the network settles instantly)",
        minimum=0,
    )
    network_noise_temperature_k: float = param(
        0.0,
        unit="K",
        help="thermal (4kTG) noise of every network resistor at this temperature, seeded per sample as the "
        "cells' (0: none; linear networks)",
        flag="--network-noise-temperature",
        minimum=0,
        maximum=1e6,
    )
    network_noise_flicker_corner_hz: float = param(
        0.0,
        unit="Hz",
        help="1/f noise of every network resistor: its thermal noise's density times (1 + corner/f), from "
        "1/period up (0: white)",
        flag="--network-noise-flicker-corner",
        minimum=0,
        maximum=1e9,
    )
    max_points_per_ramp: int | None = param(
        None,
        help="native engine: at most this many time steps per ramp of the sawtooth, longer ones where tau_k "
        "would need more (0: no cap); measured error of the update vs 1,600 steps: <= 0.4 % on 16x16 "
        "lattices at 200, <= 0.06 % on MNIST and digits DRNs at 50, 0.1 % on a drn:8-16-4 (docs/native.md)",
        minimum=0,
        maximum=100_000,
        none=f"auto: {POINTS_PER_RAMP_LINEAR} for linear networks, {POINTS_PER_RAMP_DIODES} for networks with diodes",
    )
    max_time_points: int = param(
        200_000,
        help="native engine: most time points one cycle may take (guards against a tiny tau_k or a huge period)",
        minimum=2,
        maximum=100_000_000,
    )


@dataclass(frozen=True, kw_only=True)
class LearningConfig(Checked):
    """The training loop: rule, step size, epochs, checkpoints.

    All rules share one step size: Delta G_e = -learning_rate * dC/dG_e, with C = sum_o (V_o - V_target)^2
    in V^2 and G in siemens, hence units S^2/V^2. TCL and explicit contrastive estimate dC/dG_e as
    (s_clamped - s_free) / (beta_max * clamp_conductance_s).
    """

    rule: RuleKind = param(RuleKind.TCL, help="learning rule")
    learning_rate_s2_per_v2: float | None = param(
        5e-6,
        unit="S^2/V^2",
        help="step size: Delta G = -lr * dC/dG",
        flag="--lr",
        above=0,
        none="auto: 5e-6 for teacher tasks, 1e-6 for classification (iris, digits, mnist); for memristors the "
        "rate that puts the in-cycle loop gain at 0.5",
    )
    epochs: int = param(5, help="passes over the training samples", minimum=1, maximum=100_000)
    lr_decay: float = param(
        1.0,
        help="resistor runs: factor on the step size after each epoch (the controller's write scale; 1: constant)",
        above=0,
        maximum=1,
    )
    seed: int = param(
        0, help="seed of the task, the initial conductances and the sample order", minimum=0, maximum=SEED_MAX
    )
    checkpoint_every: int = param(25, help="samples between checkpoints (also at every epoch end)", minimum=1)
    alignment_every: int = param(
        10,
        help="resistor runs: every k-th sample also gets the explicit contrastive update and the gradient, and "
        "records the cosine of its own update with each (0: never)",
        minimum=0,
    )


class GateMode(Enum):
    """The learn-enable gate of the programming drive.

    CYCLES: open only during the sawtooth cycles (closed while inputs and targets move); ALWAYS: never
    closed (transitions program the devices too); CLOSED: never open (reads only: programming disabled).
    """

    CYCLES = "cycles"
    ALWAYS = "always"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True)
class StreamConfig(Checked):
    """How samples follow each other inside one long transient."""

    chunk_samples: int = param(
        50,
        help="memristor stream: samples per ngspice run (a checkpoint after each)",
        minimum=1,
        maximum=100_000,
    )
    transition_s: float = param(
        5e-5, unit="s", help="ramp time of inputs and targets from one sample to the next", above=0, cli=False
    )
    settle_s: float = param(
        5e-5, unit="s", help="hold after the transition, gate closed (>> tau_k)", above=0, cli=False
    )
    gate_ramp_s: float = param(
        1e-5, unit="s", help="rise and fall time of the learn-enable gate", above=0, cli=False
    )
    gate: GateMode = param(GateMode.CYCLES, help="when the programming drive is enabled", cli=False)

    def sample_period_s(self, drive: SawtoothConfig) -> float:
        return self.transition_s + self.settle_s + 2 * self.gate_ramp_s + drive.period_s

    def cycle_offset_s(self) -> float:
        """Start of the sawtooth within a sample's slot."""
        return self.transition_s + self.settle_s + self.gate_ramp_s


@dataclass(frozen=True, kw_only=True)
class WindowConfig(Checked):
    """How a bench keeps edges in the TCL learning window as the error shrinks (both off: fixed theta and beta)

    Adaptive threshold: after every sample theta is multiplied by exp(rate * (f - target) / target), f the
    fraction of edges whose accumulator moved: what a bench can count. Fewer edges updating than the target
    lowers theta (contrasts shrink as the student learns); more raises it (the largest contrasts leak through
    the slow ramp). Nudge tracking: beta_max grows as (e0 / e)^exponent, e the running RMS output error of the
    free state (what the bench sees at the start of each cycle) and e0 its first value, at most by beta_cap:
    the contrast is proportional to beta times the output error.
    """

    threshold_adaptation: float = param(
        0.0,
        help="adaptive threshold: rate of theta's multiplicative steps (0: fixed threshold)",
        minimum=0,
        maximum=2,
    )
    target_updated: float = param(
        0.5, help="adaptive threshold: fraction of edges it keeps updating", above=0, below=1
    )
    beta_tracking: float = param(
        0.0,
        help="nudge tracking: exponent of beta's growth as the output error shrinks (0: fixed beta)",
        minimum=0,
        maximum=2,
    )
    beta_cap: float = param(
        10.0, help="nudge tracking: largest factor beta may grow by", minimum=1, maximum=1000
    )

    @property
    def active(self) -> bool:
        """Whether the bench moves the threshold or the nudge at all (either rate above 0)."""
        return self.threshold_adaptation > 0 or self.beta_tracking > 0


@dataclass(frozen=True, kw_only=True)
class WriteConfig(Checked):
    """How the controller writes an update into a resistor network's devices: exactly by default; with
    ``conductance_bits`` to the nearest of 2^bits levels spanning each edge's bounds (the devices, initial
    conductances included, hold only those levels); with ``write_noise`` each written change off by a
    log-normal factor of mean one (programming variability, seeded by the run's seed and the sample); with
    ``write_asymmetry`` a the devices' up/down mismatch: a requested rise lands sqrt(a) times larger, a fall
    sqrt(a) times smaller (the memristor's ``rate_asymmetry`` for a device the controller programs); with
    ``dead_fraction`` that share of the devices, drawn once per run from its seed, never takes a write; with
    ``range_spread`` each device's range [g_min, g_max] is its own: both bounds times one log-normal factor per
    device, drawn once per run (device-to-device spread; the controller still thinks in the nominal bounds)."""

    conductance_bits: int | None = param(
        None,
        help="conductance resolution: 2^bits levels over each edge's [g_min, g_max]",
        minimum=1,
        maximum=32,
        none="analog: any value",
    )
    write_noise: float = param(
        0.0,
        help="log-normal sigma of each written conductance change (mean-one factor)",
        minimum=0,
        maximum=1,
    )
    write_asymmetry: float = param(
        1.0,
        help="up/down asymmetry of the devices: a rise's written size over a fall's for the same request "
        "(1: matched; the geometric mean of the two stays the request)",
        minimum=0.01,
        maximum=100,
    )
    dead_fraction: float = param(
        0.0,
        help="share of the devices that never take a write (stuck at their initial conductance; drawn once "
        "per run from its seed; measured HfO2 arrays: 10-13 %)",
        minimum=0,
        below=1,
    )
    rounding: Rounding = param(
        Rounding.NEAREST,
        help="how a write lands on the levels (with conductance_bits): nearest, or stochastic (the upper level with "
        "the probability of the fraction, seeded by the run's seed and the sample)",
    )
    range_spread: float = param(
        0.0,
        help="device-to-device spread: log-normal sigma of each device's range (both bounds times one factor per "
        "device, drawn once per run from its seed; pulsed ReRAM 0.2, measured HfO2 arrays 0.7-0.8)",
        minimum=0,
        maximum=2,
    )
