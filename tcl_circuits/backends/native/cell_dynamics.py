"""The feedback cell of every edge integrated exactly over a time grid: the native engine's per-edge work.

Cell of one edge (the writer's ``FeedbackCell``): s = (v(a) - v(b))^2; series C_K / shunt R_K high-pass,
du/dt = ds/dt - u/tau with tau = R_K C_K and u(0) = 0; threshold g(u - offset), the pieces of
``kernels.nonlinearity.ThresholdPieces`` given by each cell's ``shift`` (x - shift * theta sign(x) where
|x| >= theta, else 0: 0 hard, 1 dead zone); accumulator dw/dt = -gain * g(u - offset), w(0) = 0. The
offset shifts u by a constant, so every closed form below holds for u - offset.

With s linear on each step (first-order hold), everything is a closed form:
- u(t + x) = u_inf + (u(t) - u_inf) e^{-x/tau}, u_inf = tau * slope, so u at the grid points is exact;
- u is monotone on the step, so a step whose ends lie on the same side of +-theta lies there entirely:
  inside the band it adds nothing to w, outside it int u = tau * (delta s - delta u) (charge balance of C_K);
- a step whose ends straddle a threshold needs the crossing time, also closed form
  (``threshold_step_integral``).

The loops are compiled with numba: one pass over each edge's samples, with no temporaries, instead of a
dozen numpy passes over (edges x points) arrays (scripts/bench_engines.py measures the engine).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from tcl_circuits.errors import SimulationError
from tcl_circuits.kernels.nonlinearity import threshold_scalar


@numba.njit(cache=True, inline="always")
def _step_integral(u0: float, u_inf: float, h: float, tau: float, theta: float, shift: float) -> float:
    """int_0^h g(u(x)) dx for u(x) = u_inf + (u0 - u_inf) e^{-x/tau} (see ``threshold_step_integral``)."""
    rho = math.exp(-h / tau)
    amplitude = u0 - u_inf
    u1 = u_inf + amplitude * rho
    total = 0.0
    for sign in (1.0, -1.0):
        level = sign * theta
        beyond0 = sign * u0 >= theta
        beyond1 = sign * u1 >= theta
        crossing = 0.0
        if beyond0 != beyond1:  # u passes the level inside the step: amplitude != 0
            ratio = min(max((level - u_inf) / amplitude, rho), 1.0)
            crossing = -tau * math.log(ratio)
        x1 = 0.0 if beyond0 else crossing  # the part past the level is [x1, x2]
        x2 = h if beyond1 else crossing
        part = u_inf * (x2 - x1) + amplitude * tau * (math.exp(-x1 / tau) - math.exp(-x2 / tau))
        if shift:  # the outer piece is u - shift * level
            part -= shift * level * (x2 - x1)
        total += part
    return total


@numba.njit(cache=True)
def _threshold_step_integrals(u0, u_inf, h, tau, theta, shift, out):
    for k in range(out.size):
        out[k] = _step_integral(u0[k], u_inf[k], h[k], tau[k], theta[k], shift[k])


def threshold_step_integral(
    u0: np.ndarray,
    u_inf: np.ndarray,
    h_s: np.ndarray,
    tau_s: np.ndarray,
    theta_v: np.ndarray,
    shift: np.ndarray,
) -> np.ndarray:
    """Exact integral over one step of g(u(x)) for u(x) = u_inf + (u0 - u_inf) e^{-x/tau}, 0 <= x <= h.

    g is the pieces of ``ThresholdPieces(shift)``: u - shift * theta sign(u) where |u| >= theta, else 0
    (shift 0 hard, 1 dead zone). u is monotone on the step, so {u >= theta} and {u <= -theta}
    are intervals touching the ends of the step; their ends are found in closed form and
    F(x) = int_0^x u = u_inf x + (u0 - u_inf) tau (1 - e^{-x/tau}) integrates u over them. Arguments are
    arrays of one shape (one entry per step); units V, s, V*s.
    """
    arrays = np.broadcast_arrays(u0, u_inf, h_s, tau_s, theta_v)
    u0, u_inf, h_s, tau_s, theta_v = (np.ascontiguousarray(a, dtype=float).ravel() for a in arrays)
    shifts = np.ascontiguousarray(np.broadcast_to(shift, arrays[0].shape), dtype=float).ravel()
    out = np.empty(u0.size)
    _threshold_step_integrals(u0, u_inf, h_s, tau_s, theta_v, shifts, out)
    return out.reshape(arrays[0].shape)


@numba.njit(cache=True)
def _integrate(signal, step_s, tau_s, theta_v, gain_s, shifts, offset_v, feedback, accumulator):
    edges, points = signal.shape
    for e in range(edges):
        tau, theta, gain, shift, vos = tau_s[e], theta_v[e], gain_s[e], shifts[e], offset_v[e]
        s, u_row, w_row = signal[e], feedback[e], accumulator[e]
        u = 0.0
        w = 0.0
        u_row[0] = 0.0
        w_row[0] = 0.0
        side = (1 if u - vos >= theta else 0) - (1 if u - vos <= -theta else 0)
        h_last = -1.0
        rho = drive = 0.0
        for n in range(points - 1):
            h = step_s[n]
            if h != h_last:  # steps come in runs of equal length: one exponential per run
                rho = math.exp(-h / tau)
                drive = tau * (1.0 - rho) / h  # u(t+h) = rho u(t) + drive * delta s
                h_last = h
            ds = s[n + 1] - s[n]
            u_next = rho * u + drive * ds
            side_next = (1 if u_next - vos >= theta else 0) - (1 if u_next - vos <= -theta else 0)
            if side_next == side:
                if side != 0:  # the whole step beyond the threshold: int (u - vos) = tau (ds - du) - vos h
                    area = tau * (ds - (u_next - u)) - vos * h
                    if shift:  # less the outer piece's shift * theta
                        area -= shift * side * theta * h
                    w -= gain * area
            else:  # u - vos has the same exponential form, shifted
                w -= gain * _step_integral(u - vos, tau * ds / h - vos, h, tau, theta, shift)
            u, side = u_next, side_next
            u_row[n + 1] = u
            w_row[n + 1] = w


class NoiseCurrents(NamedTuple):
    """The noise current each cell's R_K injects into its feedback node (``circuit.noise.CellNoise``)."""

    c_k_f: np.ndarray
    """(E,) C_K of each cell, farads."""
    samples_a: np.ndarray
    """(E, K) the currents at times k * step_s, amperes, linear between."""
    step_s: float


def integrate_cells(
    signal: np.ndarray,
    step_s: np.ndarray,
    tau_s: np.ndarray,
    theta_v: np.ndarray,
    gain: np.ndarray,
    shift: np.ndarray,
    feedback: np.ndarray | None = None,
    accumulator: np.ndarray | None = None,
    offset_v: np.ndarray | float = 0.0,
    noise: NoiseCurrents | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """u and v(w) of every cell at the grid points, from s at the grid points.

    Without ``noise`` everything is exact (the closed forms above). With it, s and the noise are both linear
    between the noise's knots, so u is still exact, du/dt = ds/dt + i_n / C_K - u / tau; the threshold
    integral is then the trapezoid on those sub-steps (step_s = tau_k / 10), which misplaces a hard
    threshold's jump by at most one sub-step.

    Parameters
    ----------
    signal : (E, T) s of each edge at the grid points, V^2.
    step_s : (T - 1,) step lengths, seconds.
    tau_s, theta_v, gain : (E,) R_K C_K (s), threshold (V), accumulator gain (A/V on 1 F, i.e. 1/s).
    shift : (E,) each threshold's ``ThresholdPieces.shift`` (0 hard, 1 dead zone).
    feedback, accumulator : optional (E, T) float arrays to fill (C-contiguous).
    offset_v : (E,) or scalar offset of the threshold comparison, V: g(u - offset).
    noise : optional noise current of each cell's R_K.

    Returns
    -------
    (feedback, accumulator), (E, T) each: u in V and v(w) in V.
    """
    per_edge = (tau_s, theta_v, gain, shift, offset_v) + (() if noise is None else (noise.c_k_f,))
    signal, steps, columns, feedback, accumulator = _prepared(signal, step_s, per_edge, feedback, accumulator)
    edges, points = signal.shape
    if not points:
        return feedback, accumulator
    tau, theta, gain_s, shifts, offset = columns[:5]
    if noise is None:
        _integrate(signal, steps, tau, theta, gain_s, shifts, offset, feedback, accumulator)
        return feedback, accumulator
    samples = np.ascontiguousarray(noise.samples_a, dtype=float)
    if (  # past the last knot (a cycle that is not a whole number of steps) the current holds
        samples.shape[0] != edges
        or samples.shape[1] < 2
        or samples.shape[1] * noise.step_s < steps.sum() * (1 - 1e-9)
    ):
        raise SimulationError(
            f"cell noise of shape {samples.shape} does not cover {edges} cells over the transient"
        )
    _integrate_noisy(
        signal,
        steps,
        tau,
        theta,
        gain_s,
        shifts,
        offset,
        columns[5],
        samples,
        noise.step_s,
        feedback,
        accumulator,
    )
    return feedback, accumulator


def _prepared(signal, step_s, per_edge, feedback, accumulator):
    """The integrators' inputs as contiguous arrays (``per_edge`` broadcast to one value per cell) and their
    output buffers."""
    signal = np.ascontiguousarray(signal, dtype=float)
    edges, points = signal.shape
    feedback = np.empty((edges, points)) if feedback is None else feedback
    accumulator = np.empty((edges, points)) if accumulator is None else accumulator
    columns = [np.ascontiguousarray(np.broadcast_to(a, (edges,)), dtype=float) for a in per_edge]
    steps = np.ascontiguousarray(step_s, dtype=float)
    if points and steps.shape != (points - 1,):
        raise SimulationError(f"need {points - 1} step lengths for {points} points, got shape {steps.shape}")
    return signal, steps, columns, feedback, accumulator


_g = numba.njit(cache=True)(threshold_scalar)
"""g(x) of the kernel's pieces for one float, compiled (``kernels.nonlinearity.threshold_scalar``)."""


@numba.njit(cache=True)
def _noise_substeps(step_s, noise_step, knots):
    """The grid steps cut at the noise knots: per grid step its number of sub-steps, and per sub-step the knot
    interval k it lies in, its length d and where it starts within the interval (frac); past the last knot
    (a cycle that is not a whole number of noise steps) k is the last knot, whose current holds. The same for
    every cell, so the cells' loop only reads them."""
    bound = 2 * (step_s.size + knots) + 2
    count = np.zeros(step_s.size, dtype=np.int64)
    k_of = np.empty(bound, dtype=np.int64)
    d_of = np.empty(bound)
    frac_of = np.empty(bound)
    j = 0
    t = 0.0
    last_knot_s = (knots - 1) * noise_step * (1 - 1e-12)
    for n in range(step_s.size):
        end = t + step_s[n]
        a = t
        while a < end:
            if a >= last_knot_s:  # past the last knot the current holds, as a PWL source's does
                k_of[j] = knots - 1
                d_of[j] = end - a
                frac_of[j] = 0.0
                count[n] += 1
                j += 1
                break
            k = min(int(a / noise_step * (1 + 1e-12)), knots - 2)
            b = min(end, (k + 1) * noise_step)
            if b <= a:  # a sits on a knot within rounding: step to the next one
                b = min(end, (k + 2) * noise_step)
            k_of[j] = k
            d_of[j] = b - a
            frac_of[j] = a / noise_step - k
            count[n] += 1
            j += 1
            a = b
        t = end
    return count, k_of[:j], d_of[:j], frac_of[:j]


@numba.njit(cache=True)
def _integrate_noisy(
    signal,
    step_s,
    tau_s,
    theta_v,
    gain_s,
    shifts,
    offset_v,
    c_k_f,
    noise_a,
    noise_step,
    feedback,
    accumulator,
):
    edges, points = signal.shape
    count, k_of, d_of, frac_of = _noise_substeps(step_s, noise_step, noise_a.shape[1])
    last = noise_a.shape[1] - 1
    rho_of = np.empty(d_of.size)
    rho_tau = -1.0  # the tau rho_of was computed for: cells mostly share one
    for e in range(edges):
        tau, theta, gain, shift, vos, c = tau_s[e], theta_v[e], gain_s[e], shifts[e], offset_v[e], c_k_f[e]
        s, noise, u_row, w_row = signal[e], noise_a[e], feedback[e], accumulator[e]
        if tau != rho_tau:
            for j in range(d_of.size):
                rho_of[j] = math.exp(-d_of[j] / tau)
            rho_tau = tau
        u = 0.0
        w = 0.0
        u_row[0] = 0.0
        w_row[0] = 0.0
        g_a = _g(u - vos, theta, shift)
        j = 0
        for n in range(points - 1):
            slope = (s[n + 1] - s[n]) / step_s[n]
            for _ in range(count[n]):
                k, d, rho = k_of[j], d_of[j], rho_of[j]
                if k == last:  # past the last knot: its current holds
                    i_a, beta = noise[k], 0.0
                else:
                    i_a = noise[k] + (noise[k + 1] - noise[k]) * frac_of[j]
                    beta = (noise[k + 1] - noise[k]) / (noise_step * c)
                f_a = slope + i_a / c
                u_b = u * rho + tau * (f_a - beta * tau) * (1.0 - rho) + beta * tau * d
                g_b = _g(u_b - vos, theta, shift)
                w -= gain * 0.5 * d * (g_a + g_b)
                u, g_a = u_b, g_b
                j += 1
            u_row[n + 1] = u
            w_row[n + 1] = w
