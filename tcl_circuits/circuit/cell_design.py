"""CellDesign: the feedback cells as built, edge by edge, resolved once from the configuration and the calibration.

``FeedbackCellConfig`` says what the user asked (a kernel time, a threshold or 'auto', spreads, an analog cell);
``Calibration`` holds the thresholds a calibration placed on samples; ``resolve`` turns the two into a
``CellDesign``: every edge's R_K, C_K, threshold, offset and accumulator gain with its mismatch drawn, the clamps'
spread, and for the analog cell the accumulator gain sized to its rails and each edge's stage gain and C_int.
The compiler reads only the design, so a design can be searched, costed, stored and compiled as one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcl_circuits.config import CellKind, FeedbackCellConfig, SawtoothConfig
from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.nonlinearity import ThresholdShape
from tcl_circuits.kernels.window import LearningWindow, check_timescales
from tcl_circuits.memo import BoundedCache
from tcl_circuits.network.spec import NetworkSpec

SPREAD_STREAMS = FeedbackCellConfig.SPREAD_FIELDS
"""The per-edge mismatch factors, each on its own seeded stream (in this order; the offset and the clamps
take the next two), so changing one spread leaves the others' draws as they were."""


_GROUP_CODES: BoundedCache[tuple] = BoundedCache(16)
"""(edge groups, distinct groups, each edge's index among them) by the tuple's identity: a bench scaling the
thresholds re-resolves the design every sample, and sorting 10^5 labels each time cost 11 ms on MNIST's
network. The entry holds the tuple, so its id stays its own while it is kept."""


def _group_codes(edge_groups: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    names, codes = np.unique(np.array(edge_groups, dtype=str), return_inverse=True)
    return tuple(str(n) for n in names), np.asarray(codes, dtype=int)


@dataclass(frozen=True)
class Calibration:
    """The thresholds a calibration placed, volts: the global one and each edge group's (where set)."""

    threshold_v: float
    group_thresholds_v: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        groups = [group for group, _ in self.group_thresholds_v]
        if len(set(groups)) < len(groups):
            twice = next(g for g in groups if groups.count(g) > 1)
            raise ConfigError(f"calibration: group {twice!r} has two thresholds")
        for group, theta in (("", self.threshold_v), *self.group_thresholds_v):
            if not (isinstance(theta, int | float) and np.isfinite(theta) and theta > 0):
                where = f"group {group!r}" if group else "the global threshold"
                raise ConfigError(f"calibration: {where} must be a finite number > 0 V, got {theta!r}")

    @property
    def thresholds_v(self) -> tuple[float, ...]:
        """The global threshold and each group's."""
        return (self.threshold_v, *(theta for _, theta in self.group_thresholds_v))

    def scaled(self, factor: float) -> Calibration:
        """Every threshold times ``factor`` (a bench's common gain knob)."""
        return Calibration(
            self.threshold_v * factor,
            tuple((group, theta * factor) for group, theta in self.group_thresholds_v),
        )

    def edge_thresholds_v(self, edge_groups: tuple[str, ...], count: int) -> np.ndarray:
        """Each edge's threshold: its group's where one was set, else the global one."""
        by_group = dict(self.group_thresholds_v)
        if not by_group or not edge_groups:
            return np.full(count, float(self.threshold_v))
        _, names, codes = _GROUP_CODES.get(id(edge_groups), lambda: (edge_groups, *_group_codes(edge_groups)))
        return np.array([by_group.get(g, self.threshold_v) for g in names], dtype=float)[codes]

    def to_dict(self) -> dict:
        return {
            "threshold_v": self.threshold_v,
            "group_thresholds_v": [list(g) for g in self.group_thresholds_v],
        }


def mismatch_factors(cell: FeedbackCellConfig, count: int) -> dict[str, np.ndarray]:
    """Each edge's factor on R_K, C_K, threshold and accumulator gain: exp(sigma * z), z ~ N(0, 1) seeded by
    ``spread_seed`` (ones without a spread). The controller keeps using the nominal values: mismatch is what
    it does not know."""
    out = {}
    for stream, name in enumerate(SPREAD_STREAMS):
        sigma = getattr(cell, name)
        z = np.random.default_rng([cell.spread_seed, stream]).standard_normal(count) if sigma else 0.0
        out[name] = np.exp(sigma * z) * np.ones(count)
    return out


def edge_offsets_v(cell: FeedbackCellConfig, count: int) -> np.ndarray:
    """Each edge's offset of the threshold comparison on u, volts (g(u - offset)): the nominal offset plus a
    seeded normal spread, on the stream after the mismatch factors'."""
    sigma = cell.spread_offset_v
    z = (
        np.random.default_rng([cell.spread_seed, len(SPREAD_STREAMS)]).standard_normal(count)
        if sigma
        else np.zeros(count)
    )
    return cell.threshold_offset_v + sigma * z


def clamp_factors(cell: FeedbackCellConfig, count: int) -> np.ndarray:
    """Each output's factor on the clamp conductance: exp(sigma z), on a stream of its own."""
    if not cell.spread_clamp:
        return np.ones(count)
    z = np.random.default_rng([cell.spread_seed, len(SPREAD_STREAMS) + 1]).standard_normal(count)
    return np.exp(cell.spread_clamp * z)


def sized_accumulator_gain(
    cell: FeedbackCellConfig, calibration: Calibration, drive: SawtoothConfig
) -> float:
    """The accumulator's volts per V^2 of contrast. The analog cell's puts the top of the widest window (the
    largest threshold's) at window_top_fraction of its swing, so no update in the window saturates the
    integrator; the behavioural cell's 1 F accumulator has no rails and keeps the configured gain."""
    if cell.kind is not CellKind.ANALOG:
        return cell.accumulator_gain
    window = LearningWindow(
        max(calibration.thresholds_v), drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s, cell.signal_gain
    )
    return cell.analog.window_top_fraction * cell.analog.swing_v / float(window.upper_v2)


@dataclass(frozen=True, eq=False)
class CellDesign:
    """Every edge's feedback cell as built (see the module docstring). Arrays have one entry per edge, except
    ``clamp_factors`` (one per output); nominal values (``tau_k_s``, ``accumulator_gain``,
    ``nominal_threshold_v``) are what the controller knows, the arrays what the mismatch made of them."""

    config: FeedbackCellConfig
    calibration: Calibration
    drive: SawtoothConfig
    edge_groups: tuple[str, ...]
    accumulator_gain: float
    nominal_threshold_v: np.ndarray
    r_k_ohm: np.ndarray
    c_k_f: np.ndarray
    threshold_v: np.ndarray
    gain_a_per_v: np.ndarray
    offset_v: np.ndarray
    clamp_factors: np.ndarray
    stage_gain: np.ndarray | None = None
    """Analog cell: each edge's threshold-stage gain (with the accumulator gain's mismatch)."""
    integrator_c_f: np.ndarray | None = None
    """Analog cell: each edge's integrator capacitor C_int, farads."""

    @property
    def kind(self) -> CellKind:
        return self.config.kind

    @property
    def shape(self) -> ThresholdShape:
        return self.config.threshold_shape

    @property
    def tau_k_s(self) -> float:
        """Nominal kernel time R_K C_K, seconds."""
        return self.config.tau_k_s

    @property
    def theta_v(self) -> float:
        """The global threshold (the summary's reference where groups have their own), volts."""
        return self.calibration.threshold_v

    @property
    def signal_gain(self) -> float:
        """The squarer's gain A: s = A (V_a - V_b)^2, volts per V^2."""
        return self.config.signal_gain

    @property
    def n_edges(self) -> int:
        return len(self.r_k_ohm)

    def window(self) -> LearningWindow:
        """Each edge's nominal learning window (the one a designer placed)."""
        return LearningWindow(
            self.nominal_threshold_v,
            self.drive.tau_rise_s,
            self.drive.tau_fall_s,
            self.tau_k_s,
            self.signal_gain,
        )

    def reference_window(self) -> LearningWindow:
        """The global threshold's window (one threshold for every edge, as the memristor cells use)."""
        return LearningWindow(
            self.theta_v, self.drive.tau_rise_s, self.drive.tau_fall_s, self.tau_k_s, self.signal_gain
        )

    def redesigned(self, *, calibration: Calibration | None = None, **changes: object) -> CellDesign:
        """The cells rebuilt with some settings changed (``FeedbackCellConfig`` fields) or another calibration,
        keeping this design's accumulator gain: a bench turning a knob, or two cell kinds compared at one gain."""
        return resolve(
            self.config.replace(**changes) if changes else self.config,
            self.calibration if calibration is None else calibration,
            self.drive,
            self.edge_groups,
            outputs=len(self.clamp_factors),
            count=self.n_edges,
            accumulator_gain=self.accumulator_gain,
        )

    def with_threshold_scaled(self, factor: float) -> CellDesign:
        """Every threshold times ``factor`` (a bench's common gain knob); mismatch and accumulator gain as built."""
        return self.redesigned(calibration=self.calibration.scaled(factor))

    def with_noise(self, temperature_k: float, flicker_corner_hz: float = 0.0) -> CellDesign:
        """R_K's thermal noise at ``temperature_k`` (1/f up to the corner): what the cells suffer, not how they
        were sized."""
        return self.redesigned(noise_temperature_k=temperature_k, noise_flicker_corner_hz=flicker_corner_hz)

    def summary(self) -> dict:
        """The design's scalars and per-edge ranges, for a run folder's design.json."""
        out: dict = {
            "kind": self.kind.value,
            "threshold_shape": self.shape.value,
            "tau_k_s": self.tau_k_s,
            "signal_gain": self.signal_gain,
            "accumulator_gain": self.accumulator_gain,
            "calibration": self.calibration.to_dict(),
            "edges": self.n_edges,
            "outputs": len(self.clamp_factors),
        }
        window = self.window()
        columns = {
            "r_k_ohm": self.r_k_ohm,
            "c_k_f": self.c_k_f,
            "threshold_v": self.threshold_v,
            "offset_v": self.offset_v,
            "gain_a_per_v": self.gain_a_per_v,
            "clamp_factor": self.clamp_factors,
            "window_lower_v2": np.broadcast_to(window.lower_v2, (self.n_edges,)),
            "window_upper_v2": np.broadcast_to(window.upper_v2, (self.n_edges,)),
        }
        if self.stage_gain is not None and self.integrator_c_f is not None:
            columns.update(stage_gain=self.stage_gain, integrator_c_f=self.integrator_c_f)
        out["per_edge"] = {
            name: {"min": float(np.min(v)), "max": float(np.max(v))} if len(v) else None
            for name, v in columns.items()
        }
        return out


def resolve(
    cell: FeedbackCellConfig,
    calibration: Calibration,
    drive: SawtoothConfig,
    edge_groups: tuple[str, ...],
    *,
    outputs: int,
    count: int | None = None,
    accumulator_gain: float | None = None,
) -> CellDesign:
    """The design of ``count`` edges (default: one per entry of ``edge_groups``) and ``outputs`` clamps from
    what was asked and what the calibration placed; ``accumulator_gain`` keeps one already sized. Thresholds
    are volts on u: a squarer gain A lifts u by A, so the per-edge gain is divided by A to keep v(w) per V^2
    of contrast (and the analog integrator's C_int grows by A)."""
    count = len(edge_groups) if count is None else count
    check_timescales(cell.tau_k_s, drive.tau_rise_s, drive.tau_fall_s)
    gain = sized_accumulator_gain(cell, calibration, drive) if accumulator_gain is None else accumulator_gain
    nominal = calibration.edge_thresholds_v(edge_groups, count)
    factor = mismatch_factors(cell, count)
    signal_gain = cell.signal_gain
    per_edge_gain = gain / (signal_gain * cell.tau_k_s) * factor["spread_gain"]
    stage_gain: np.ndarray | None = None
    integrator_c_f: np.ndarray | None = None
    if cell.kind is CellKind.ANALOG:
        # sized with the nominal thresholds (a designer's); the accumulator gain's mismatch becomes the stage
        # gain's (the same factor on the update)
        analog = cell.analog
        window = LearningWindow(nominal, drive.tau_rise_s, drive.tau_fall_s, cell.tau_k_s, signal_gain)
        nominal_stage = (
            np.full(count, analog.threshold_gain)
            if analog.threshold_gain is not None
            else analog.window_top_fraction
            * analog.swing_v
            / (analog.multiplier_scale_per_v * window.top_u_v)
        )
        stage_gain = nominal_stage * per_edge_gain / (gain / (signal_gain * cell.tau_k_s))
        integrator_c_f = np.asarray(
            nominal_stage
            * analog.multiplier_scale_per_v
            * signal_gain
            * cell.tau_k_s
            / (gain * analog.integrator_r_ohm)
        )
    return CellDesign(
        config=cell,
        calibration=calibration,
        drive=drive,
        edge_groups=tuple(edge_groups),
        accumulator_gain=gain,
        nominal_threshold_v=nominal,
        r_k_ohm=cell.r_k_ohm * factor["spread_r_k"],
        c_k_f=cell.c_k_f * factor["spread_c_k"],
        threshold_v=nominal * factor["spread_threshold"],
        gain_a_per_v=per_edge_gain,
        offset_v=edge_offsets_v(cell, count),
        clamp_factors=clamp_factors(cell, outputs),
        stage_gain=stage_gain,
        integrator_c_f=integrator_c_f,
    )


_FIXED_DESIGNS: BoundedCache[CellDesign] = BoundedCache(8)


def as_design(cell: CellDesign | FeedbackCellConfig, drive: SawtoothConfig, spec: NetworkSpec) -> CellDesign:
    """``cell`` if it is a design, else the design of a configuration with a fixed threshold on ``spec``'s
    edges (the Python API takes either wherever cells are built), resolved once per network topology: a
    loop compiling every sample from the same configuration reuses it, and the compiler's per-topology
    cells with it."""
    if isinstance(cell, CellDesign):
        return cell
    return _FIXED_DESIGNS.get(
        (cell, drive, spec.topology_key),
        lambda: fixed_design(cell, drive, spec.edge_groups, len(spec.output_nodes)),
    )


def fixed_design(
    cell: FeedbackCellConfig, drive: SawtoothConfig, edge_groups: tuple[str, ...], outputs: int
) -> CellDesign:
    """The design of a cell whose threshold is fixed in its configuration (ConfigError while it is 'auto')."""
    return resolve(cell, Calibration(cell.theta_v), drive, edge_groups, outputs=outputs)
