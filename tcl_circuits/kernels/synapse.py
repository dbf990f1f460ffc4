"""Single-synapse TCL analysis: the weight update of one periodic sawtooth through a memory kernel.

Owns the sawtooth protocol, the nonlinearity g, the update Δw = ∫_period g(K ⊛ s) dt (periodic
convolution as in the paper's single-synapse code), response curves Δw(A) and their three regimes, the
learning window A_min/A_max and its map over (τ_f/τ_K, τ_s/τ_f), the offset fit of Δw vs A, and the
paper's Fig. 6B experiment over random Markov (ESA) kernels.

Conventions. The amplitude A = s_clamped − s_free is signed; free = s̄ − A/2 and clamped = s̄ + A/2. One
period is: fast ramp free → clamped over τ_f, then slow ramp back over τ_s. A negative A is the same
waveform as a "reversed" sawtooth (slow rise, fast fall) up to a time shift, and gives Δw ≈ −|A|. Times
are in the kernel's time unit. The period is sampled on N uniform points, t_n = n·T/N; Δw is the periodic
trapezoid rule dt·Σ g(u_n). u is exact at the grid points when the ramp corners lie on the grid (first-
order-hold taps, see :mod:`tcl_circuits.kernels.kernel`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tcl_circuits.errors import ConfigError
from tcl_circuits.kernels.kernel import Kernel, periodic_convolve
from tcl_circuits.kernels.nonlinearity import ThresholdShape, threshold_g

__all__ = [
    "ThresholdShape",
    "Sawtooth",
    "sawtooth_breakpoints",
    "apply_nonlinearity",
    "default_dt",
    "delta_w",
    "delta_w_periodic",
    "response_curve",
    "classify_regimes",
    "learning_window",
    "window_map",
    "fit_offset",
    "DissipationSweep",
    "markov_dissipation_sweep",
]

_MAX_POINTS = 2_000_000
_CHUNK_ELEMENTS = 4_000_000


def _finite(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")


def _positive(name: str, value: float) -> None:
    _finite(name, value)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")


def sawtooth_breakpoints(
    low: float,
    high: float,
    tau_fast: float,
    tau_slow: float,
    starts: Sequence[float] = (0.0,),
    origin: float = 0.0,
) -> tuple[tuple[float, float], ...]:
    """The sawtooth as PWL breakpoints (t, value): the one definition of the protocol's shape.

    Each cycle starts at ``low`` at its start time, reaches ``high`` after ``tau_fast`` (the fast ramp) and is
    back at ``low`` after ``tau_fast + tau_slow``; the waveform holds ``low`` from ``origin`` to the first start
    and between cycles. Starts must increase by at least one period.
    """
    _positive("tau_fast", tau_fast)
    _positive("tau_slow", tau_slow)
    points: list[tuple[float, float]] = []
    period = tau_fast + tau_slow
    for t0 in starts:
        t0 = float(t0)
        if points and t0 < points[-1][0] - 1e-12 * period:
            raise ConfigError(f"sawtooth cycles overlap: a cycle starts at {t0!r} before {points[-1][0]!r}")
        if not points and t0 > origin:
            points.append((float(origin), float(low)))
        if not points or t0 > points[-1][0]:
            points.append((t0, float(low)))
        points += [(t0 + tau_fast, float(high)), (t0 + period, float(low))]
    return tuple(points)


@dataclass(frozen=True)
class Sawtooth:
    """Periodic sawtooth s(t): fast ramp free → clamped over ``tau_fast``, slow ramp back over ``tau_slow``.

    Attributes
    ----------
    amplitude
        A = s_clamped − s_free (signed).
    mean
        s̄ = (s_free + s_clamped)/2.
    tau_fast, tau_slow
        Ramp durations τ_f and τ_s (kernel time units).
    """

    amplitude: float
    mean: float
    tau_fast: float
    tau_slow: float

    def __post_init__(self) -> None:
        _finite("amplitude", self.amplitude)
        _finite("mean", self.mean)
        _positive("tau_fast", self.tau_fast)
        _positive("tau_slow", self.tau_slow)

    @property
    def period(self) -> float:
        """τ_f + τ_s."""
        return self.tau_fast + self.tau_slow

    def shape(self, t: np.ndarray) -> np.ndarray:
        """Unit-amplitude, zero-mean waveform φ(t) ∈ [−½, ½]; s = s̄ + A·φ."""
        times, values = zip(*sawtooth_breakpoints(-0.5, 0.5, self.tau_fast, self.tau_slow), strict=True)
        return np.interp(np.mod(np.asarray(t, dtype=float), self.period), times, values)

    def breakpoints(self, cycles: int = 1) -> tuple[tuple[float, float], ...]:
        """PWL breakpoints (t, s) of ``cycles`` periods from s_free at t = 0."""
        low, high = self.mean - self.amplitude / 2, self.mean + self.amplitude / 2
        starts = [k * self.period for k in range(cycles)]
        return sawtooth_breakpoints(low, high, self.tau_fast, self.tau_slow, starts)

    def grid(self, dt: float) -> tuple[np.ndarray, float]:
        """Sample times over one period, t_n = n·T/N with N = round(T/dt), and the actual step T/N."""
        _positive("dt", dt)
        n = int(round(self.period / dt))
        if n < 4:
            raise ConfigError(f"dt={dt!r} is too coarse for period {self.period!r}: fewer than 4 points")
        if n > _MAX_POINTS:
            raise ConfigError(f"dt={dt!r} gives {n} points per period (limit {_MAX_POINTS}); use a larger dt")
        step = self.period / n
        return np.arange(n) * step, step

    def sample(self, dt: float) -> tuple[np.ndarray, np.ndarray, float]:
        """(t, s(t), step) over one period."""
        t, step = self.grid(dt)
        return t, self.mean + self.amplitude * self.shape(t), step


def _as_shape(kind: ThresholdShape | str) -> ThresholdShape:
    try:
        return kind if isinstance(kind, ThresholdShape) else ThresholdShape(kind)
    except ValueError:
        choices = ", ".join(k.value for k in ThresholdShape)
        raise ConfigError(f"nonlinearity must be one of {choices}, got {kind!r}") from None


def apply_nonlinearity(
    u: np.ndarray, threshold: float, kind: ThresholdShape | str = ThresholdShape.HARD
) -> np.ndarray:
    """g(u) of ``nonlinearity.threshold_g`` (kind by enum or by its value: hard, dead_zone, cubic)."""
    return threshold_g(u, threshold, _as_shape(kind))


def default_dt(kernel: Kernel, tau_fast: float, tau_slow: float) -> float:
    """Grid step resolving the kernel (τ_K/100) and the fast ramp (τ_f/200), kept to ≤ 2e5 points."""
    scales = [tau_fast / 200.0]
    if kernel.timescale > 0:
        scales.append(kernel.timescale / 100.0)
    return max(min(scales), (tau_fast + tau_slow) / 200_000)


def delta_w_periodic(
    signal: np.ndarray,
    dt: float,
    kernel: Kernel,
    threshold: float,
    kind: ThresholdShape | str = ThresholdShape.HARD,
) -> float:
    """Δw = ∫ g(K ⊛ s) dt over one period of an arbitrary periodic signal sampled at step ``dt``."""
    s = np.asarray(signal, dtype=float)
    if s.ndim != 1 or s.size < 4 or not np.all(np.isfinite(s)):
        raise ConfigError("signal must be a finite 1-D array of at least 4 samples (one period)")
    _positive("dt", dt)
    u = periodic_convolve(kernel, s, dt)
    return float(np.sum(apply_nonlinearity(u, threshold, kind)) * dt)


def delta_w(
    kernel: Kernel,
    sawtooth: Sawtooth,
    threshold: float,
    dt: float | None = None,
    kind: ThresholdShape | str = ThresholdShape.HARD,
) -> float:
    """Weight update of one sawtooth period (see module docstring)."""
    step_req = default_dt(kernel, sawtooth.tau_fast, sawtooth.tau_slow) if dt is None else dt
    _, s, step = sawtooth.sample(step_req)
    return delta_w_periodic(s, step, kernel, threshold, kind)


def _unit_response(
    kernel: Kernel, tau_fast: float, tau_slow: float, dt: float | None
) -> tuple[np.ndarray, float]:
    """K ⊛ φ for the unit zero-mean sawtooth, and the grid step."""
    proto = Sawtooth(1.0, 0.0, tau_fast, tau_slow)
    step_req = default_dt(kernel, tau_fast, tau_slow) if dt is None else dt
    t, step = proto.grid(step_req)
    return periodic_convolve(kernel, proto.shape(t), step), step


def response_curve(
    kernel: Kernel,
    amplitudes: Sequence[float] | np.ndarray,
    mean: float,
    tau_fast: float,
    tau_slow: float,
    threshold: float,
    dt: float | None = None,
    kind: ThresholdShape | str = ThresholdShape.HARD,
) -> np.ndarray:
    """Δw for each amplitude, using linearity: u = I·s̄ + A·(K ⊛ φ), so one convolution serves all A."""
    amps = np.asarray(amplitudes, dtype=float)
    if amps.ndim != 1 or amps.size == 0 or not np.all(np.isfinite(amps)):
        raise ConfigError("amplitudes must be a non-empty finite 1-D sequence")
    _finite("mean", mean)
    b, step = _unit_response(kernel, tau_fast, tau_slow, dt)
    return _curve_from_unit(b, step, kernel.area * mean, amps, threshold, kind)


def _curve_from_unit(
    b: np.ndarray, step: float, c: float, amps: np.ndarray, threshold: float, kind: ThresholdShape | str
) -> np.ndarray:
    """Δw(A) = step·Σ g(c + A·b) for every amplitude, in memory-bounded chunks."""
    out = np.empty(amps.size)
    chunk = max(1, _CHUNK_ELEMENTS // b.size)
    for lo in range(0, amps.size, chunk):
        u = c + amps[lo : lo + chunk, None] * b[None, :]
        out[lo : lo + chunk] = apply_nonlinearity(u, threshold, kind).sum(axis=1) * step
    return out


def classify_regimes(
    amplitudes: np.ndarray, threshold: float, tau_fast: float, tau_slow: float
) -> np.ndarray:
    """Ideal-derivative regime of each amplitude: 1 (|A| < θτ_f, nothing passes), 2 (θτ_f ≤ |A| ≤ θτ_s,
    only the fast ramp passes: Δw ≈ A), 3 (|A| > θτ_s, the slow ramp passes too: Δw ≈ 0)."""
    a = np.abs(np.asarray(amplitudes, dtype=float))
    return np.where(a < threshold * tau_fast, 1, np.where(a <= threshold * tau_slow, 2, 3))


def learning_window(amplitudes: np.ndarray, dw: np.ndarray, fraction: float = 0.5) -> tuple[float, float]:
    """(A_min, A_max): the first contiguous range of increasing A > 0 where Δw/A ≥ ``fraction``.

    The edges are linearly interpolated in Δw/A between the bracketing samples. Returns (nan, nan) when
    no amplitude reaches the fraction.
    """
    a = np.asarray(amplitudes, dtype=float)
    d = np.asarray(dw, dtype=float)
    if a.shape != d.shape or a.ndim != 1 or a.size < 2:
        raise ConfigError("amplitudes and dw must be 1-D arrays of the same length >= 2")
    if np.any(np.diff(a) <= 0) or a[0] <= 0:
        raise ConfigError("amplitudes must be positive and strictly increasing")
    if not 0 < fraction < 1:
        raise ConfigError(f"fraction must lie in (0, 1), got {fraction!r}")
    r = d / a - fraction
    inside = np.nonzero(r >= 0)[0]
    if inside.size == 0:
        return math.nan, math.nan
    i0 = inside[0]
    outside_after = np.nonzero(r[i0:] < 0)[0]
    i1 = i0 + outside_after[0] - 1 if outside_after.size else a.size - 1

    def cross(j: int) -> float:  # zero of r between samples j and j+1
        return float(a[j] + (a[j + 1] - a[j]) * r[j] / (r[j] - r[j + 1]))

    a_min = float(a[0]) if i0 == 0 else cross(i0 - 1)
    a_max = float(a[-1]) if i1 == a.size - 1 else cross(i1)
    return a_min, a_max


def window_map(
    kernel_factory: Callable[[], Kernel],
    fast_over_kernel: Sequence[float],
    slow_over_fast: Sequence[float],
    n_amplitudes: int = 300,
    points_per_kernel_time: float = 40.0,
    progress: bool = False,
) -> np.ndarray:
    """ln(A_max/A_min) over a grid of τ_f/τ_K (rows) × τ_s/τ_f (columns), Fig. 4C style.

    θ = A_ref/τ_s with A_ref = 100, so the ideal window is [A_ref·τ_f/τ_s, A_ref] and its log-ratio
    ln(τ_s/τ_f). Amplitudes are log-spaced over [0.3·θτ_f, 1.3·θτ_s]; the window uses fraction ½.
    """
    kernel = kernel_factory()
    tau_k = kernel.timescale
    if tau_k <= 0:
        raise ConfigError("window_map needs a kernel with a positive timescale")
    a_ref = 100.0
    rows = list(fast_over_kernel)
    cols = list(slow_over_fast)
    out = np.full((len(rows), len(cols)), np.nan)
    cells = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    iterator = cells
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cells, desc="window map")
    for i, j in iterator:
        tf = rows[i] * tau_k
        ts = cols[j] * tf
        theta = a_ref / ts
        amps = np.geomspace(0.3 * theta * tf, 1.3 * theta * ts, n_amplitudes)
        dt = max(tau_k / points_per_kernel_time, (tf + ts) / 400_000)
        dw = response_curve(kernel, amps, 0.0, tf, ts, theta, dt=dt)
        a_min, a_max = learning_window(amps, dw)
        out[i, j] = math.log(a_max / a_min) if math.isfinite(a_min) else 0.0
    return out


def fit_offset(amplitudes: np.ndarray, dw: np.ndarray, a_min: float, a_max: float) -> tuple[float, float]:
    """Least-squares line Δw ≈ slope·A + offset over a_min ≤ A ≤ a_max; returns (slope, offset)."""
    a = np.asarray(amplitudes, dtype=float)
    d = np.asarray(dw, dtype=float)
    sel = (a >= a_min) & (a <= a_max)
    if np.count_nonzero(sel) < 2:
        raise ConfigError(f"fewer than 2 amplitudes in [a_min, a_max] = [{a_min!r}, {a_max!r}]")
    slope, offset = np.polyfit(a[sel], d[sel], 1)
    return float(slope), float(offset)


@dataclass(frozen=True)
class DissipationSweep:
    """Per-kernel results of :func:`markov_dissipation_sweep` (arrays of equal length).

    ``offset`` is the paper's intercept of the Δw-vs-A regression on [A_min, A_max]; it also absorbs the
    threshold edge losses near A_min. ``background_offset`` is the mean over the same amplitudes of
    Δw(A; s̄) − Δw(A; 0) at the same θ: the part of the update caused by the background signal through
    the kernel area, predicted ≈ I·s̄·τ_f. NaN where no amplitude passes.
    """

    gamma: np.ndarray
    rate_factor: np.ndarray
    step_um: np.ndarray
    dissipation_kt_per_time: np.ndarray
    area: np.ndarray
    derivative_like: np.ndarray
    a_min: np.ndarray
    slope: np.ndarray
    offset: np.ndarray
    background_offset: np.ndarray
    mean_signal: float
    a_max: float

    @property
    def log_abs_offset_over_mean(self) -> np.ndarray:
        """ln|offset/s̄|, the paper's Fig. 6B ordinate."""
        with np.errstate(divide="ignore"):
            return np.log(np.abs(self.offset / self.mean_signal))


def _adaptive_threshold(rule: str, area: float, a_max: float, mean: float, tau_slow: float) -> float:
    if rule == "paper":
        return abs(-a_max / tau_slow + area * (mean + a_max / 2))
    if rule == "slow-ramp":
        ends = (-a_max / tau_slow + area * (mean + a_max / 2), -a_max / tau_slow + area * (mean - a_max / 2))
        return 1.05 * max(abs(e) for e in ends)
    raise ConfigError(f"threshold_rule must be 'paper' or 'slow-ramp', got {rule!r}")


def markov_dissipation_sweep(
    gammas: Sequence[float] | np.ndarray,
    seed: int = 0,
    randomise_kernel_inputs: bool = False,
    tau_fast: float = 3.0,
    tau_slow: float = 15.0,
    a_max: float = 50.0,
    mean_signal: float = 10.0,
    n_amplitudes: int = 500,
    dt: float = 2e-3,
    threshold_rule: str = "slow-ramp",
    progress: bool = False,
) -> DissipationSweep:
    """The Fig. 6B experiment: for each γ, build the ESA kernel, sweep A ∈ [0, 1.25·A_max) at mean s̄ with
    an adaptive θ, take A_min = first A with Δw/A_max > 0.05, and fit the offset (intercept) of Δw vs A on
    [A_min, A_max]; also measure the background offset (see :class:`DissipationSweep`).

    ``threshold_rule``: ``"paper"`` is the code's θ = |−A_max/τ_s + I·(s̄ + A_max/2)|, |u| at the clamped end
    of the slow ramp in the approximation u ≈ I·s + ds/dt; it lets the other end of the slow ramp pass
    the threshold whenever I > 0. ``"slow-ramp"`` (default) takes 1.05 × the larger |u| of the two ends of
    the slow ramp at A = A_max, so the slow ramp stays sub-threshold for every A ≤ A_max and the fitted
    offset measures the kernel area (≈ I·s̄·τ_f) rather than slow-ramp leakage.

    With ``randomise_kernel_inputs`` the kernel is built with RF ~ 1..99 and step s ~ 5..249 µM per kernel
    as in the paper's runs (seeded); otherwise RF = 25 and s = 200 µM. σ is always evaluated at RF = 25,
    s = 0, as in the paper.
    """
    from tcl_circuits.kernels.markov import entropy_production, esa_kernel

    _adaptive_threshold(threshold_rule, 0.0, 1.0, 1.0, 1.0)  # validates the rule name early
    g = np.asarray(gammas, dtype=float)
    if g.ndim != 1 or g.size == 0:
        raise ConfigError("gammas must be a non-empty 1-D sequence")
    _positive("mean_signal", mean_signal)
    _positive("a_max", a_max)
    rng = np.random.default_rng(seed)
    if randomise_kernel_inputs:
        rf = rng.integers(1, 100, size=g.size).astype(float)
        steps = rng.integers(5, 250, size=g.size).astype(float)
    else:
        rf = np.full(g.size, 25.0)
        steps = np.full(g.size, 200.0)
    amps = np.linspace(0.0, 1.25 * a_max, n_amplitudes, endpoint=False)
    fields: dict[str, list[float]] = {
        k: [] for k in ("sigma", "area", "dlike", "a_min", "slope", "offset", "background")
    }
    iterator = range(g.size)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="Markov kernels")
    for i in iterator:
        mk = esa_kernel(float(g[i]), float(rf[i]), float(steps[i]))
        area = mk.area
        theta = _adaptive_threshold(threshold_rule, area, a_max, mean_signal, tau_slow)
        b, step = _unit_response(mk.kernel, tau_fast, tau_slow, dt)
        dw = _curve_from_unit(b, step, area * mean_signal, amps, theta, ThresholdShape.HARD)
        dw0 = _curve_from_unit(b, step, 0.0, amps, theta, ThresholdShape.HARD)
        above = np.nonzero(dw / a_max > 0.05)[0]
        a_lo = float(amps[above[0]]) if above.size else math.nan
        in_fit = (amps >= a_lo) & (amps <= a_max) if above.size else np.zeros(amps.size, dtype=bool)
        if np.count_nonzero(in_fit) >= 2:
            slope, offset = fit_offset(amps, dw, a_lo, a_max)
            background = float(np.mean(dw[in_fit] - dw0[in_fit]))
        else:
            slope, offset, background = math.nan, math.nan, math.nan
        fields["sigma"].append(entropy_production(float(g[i])))
        fields["area"].append(area)
        fields["dlike"].append(float(mk.derivative_like))
        fields["a_min"].append(a_lo)
        fields["slope"].append(slope)
        fields["offset"].append(offset)
        fields["background"].append(background)
    return DissipationSweep(
        gamma=g,
        rate_factor=rf,
        step_um=steps,
        dissipation_kt_per_time=np.array(fields["sigma"]),
        area=np.array(fields["area"]),
        derivative_like=np.array(fields["dlike"]).astype(bool),
        a_min=np.array(fields["a_min"]),
        slope=np.array(fields["slope"]),
        offset=np.array(fields["offset"]),
        background_offset=np.array(fields["background"]),
        mean_signal=float(mean_signal),
        a_max=float(a_max),
    )
