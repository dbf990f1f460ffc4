"""The native engine: the circuit IR simulated without SPICE (scipy for the network, compiled loops for the
cells), for large training runs.

It reads the same ``Circuit`` the netlist writer reads and reproduces the writer's element semantics:

- ``Resistor`` (single or in a ``ResistorArray``): a linear conductance; ``VoltageSource`` (to ground):
  DC, or PWL in time (held flat outside its breakpoints; at the DC operating point and in a DC sweep a PWL
  source takes its t = 0 value, like ngspice's); ``Clamp``: I = G * v(beta) * (v(node) - v(target)) with
  ``beta`` a source-driven node.
- ``FeedbackCell`` (single or in a ``FeedbackCellArray``): v(s) = (v(a) - v(b))^2; series C_K from s to u,
  R_K from u to ground, so du/dt = ds/dt - u / (R_K C_K); threshold g(x) of x = u - offset, the kernel's
  ``THRESHOLD_PIECES`` (HARD: x where |x| >= theta; DEAD_ZONE: sign(x) max(|x| - theta, 0));
  accumulator dv(w)/dt = -gain * g(u - offset) on 1 F. At t = 0 (beta at its t = 0
  value) every C_K is charged to the operating-point s, so u(0) = 0, and v(w)(0) = 0 (the writer's ``.ic``).

The network has no capacitance, so its node voltages are quasi-static: at every time point they are the
exact DC solution for that point's source values and clamp conductances (``quasistatic.LowRankNetwork``:
one factorisation per run, the clamps as a rank-K update). The cells are integrated edge by edge over the
grid (``cell_dynamics``), with s piecewise linear between grid points and the high-pass and the thresholded
integral exact under that assumption (see docs/native.md for the measured discretisation error).

Results come back as a ``SimResult`` under the vector names ngspice uses: node names (``n3``, ``t0``,
``beta``), cell nodes (``s<e>``, ``u<e>``, ``w<e>``), and ``time`` or ``v-sweep``; each vector is a row of
one of five blocks (``BlockVectors``), so ``SimResult.rows`` hands out all s, u or w of a run without a copy.
Branch currents are not produced.
"""

from __future__ import annotations

import math
import sys
import time

import numba
import numpy as np

from tcl_circuits.backends.base import BlockVectors, SimResult
from tcl_circuits.backends.native import allocator
from tcl_circuits.backends.native.cell_dynamics import NoiseCurrents, integrate_cells
from tcl_circuits.backends.native.network_noise import noise_injection
from tcl_circuits.backends.native.node_dynamics import GAMMA, relaxing_free_voltages
from tcl_circuits.backends.native.parsed import NETWORK_NOISE_LIMIT, ParsedCircuit, finite_value
from tcl_circuits.blas import single_blas_thread
from tcl_circuits.circuit.ir import (
    Circuit,
    DcSweep,
    Transient,
)
from tcl_circuits.config import POINTS_PER_RAMP_DIODES, POINTS_PER_RAMP_LINEAR
from tcl_circuits.errors import ConfigError, SimulationError
from tcl_circuits.memo import BoundedCache
from tcl_circuits.physics.drops import squared_drops
from tcl_circuits.physics.nonlinear import DiodeArrays, NodalEquations
from tcl_circuits.physics.quasistatic import (
    LowRankNetwork,
    NetworkTopology,
    QuasiStaticSolution,
)

TIME_VECTOR = "time"
SWEEP_VECTOR = "v-sweep"
_TOPOLOGY_CACHE = 8
"""Network topologies remembered per backend (a training run uses one)."""


MIN_POINTS_PER_SEGMENT = 20
"""With a capped grid, every ramp gets at least this many steps: the maximum step may be set by a long slow
ramp (``SimulatorConfig.points_per_cycle``), which ngspice's error control can afford and a fixed grid cannot."""


def segment_points(steps_at_max_step: int, cap: int) -> int:
    """Steps of one segment on the capped grid: those of the maximum step, at least MIN_POINTS_PER_SEGMENT,
    at most ``cap`` (0: no cap)."""
    n = max(steps_at_max_step, MIN_POINTS_PER_SEGMENT)
    return min(n, cap) if cap else n


class NativeBackend:
    """Simulates the circuit IR quasi-statically in numpy (see the module docstring for the semantics).

    One run at a time per instance (it keeps its work arrays between runs); use one backend per thread or
    process.

    Parameters
    ----------
    refine : time-grid steps per ``Transient.max_step_s`` (the grid step is max_step_s / refine, with every
        PWL breakpoint on the grid). 1 matches the step ngspice is given; the update then differs from the
        converged one by at most about 0.2 % on the measured cases, shrinking 4x per doubling
        (docs/native.md).
    keep_freed_memory : raise glibc's malloc thresholds for this process (``allocator.keep_freed_memory``),
        so that each sample's large temporaries reuse memory instead of faulting in fresh pages.
    max_time_points : most grid points one run may take (ConfigError beyond: a tiny tau_k or a huge period
        would otherwise allocate gigabytes).
    max_points_per_segment : with a transient and no node capacitance, at most this many equal steps
        between consecutive PWL breakpoints (each ramp of the sawtooth); a longer ramp then takes steps
        longer than max_step_s / refine. The cells are integrated exactly for s linear within a step and s is
        smooth within a ramp, so long steps cost only the curvature of s (docs/native.md measures it).
        0: no cap; None: by the network (``config.points_per_ramp``: fewer for networks with diodes).
    """

    def __init__(
        self,
        *,
        refine: int = 1,
        keep_freed_memory: bool = True,
        max_time_points: int = 200_000,
        max_points_per_segment: int | None = 0,
    ) -> None:
        if not isinstance(refine, int) or refine < 1:
            raise ConfigError(f"refine must be an int >= 1, got {refine!r}")
        self.max_time_points = max_time_points
        if max_points_per_segment is not None and (
            not isinstance(max_points_per_segment, int) or max_points_per_segment < 0
        ):
            raise ConfigError(f"max_points_per_segment must be an int >= 0, got {max_points_per_segment!r}")
        self.max_points_per_segment = max_points_per_segment
        if keep_freed_memory:
            allocator.keep_freed_memory()
        self.refine = refine
        self.runs = 0
        self._topologies: BoundedCache[NetworkTopology] = BoundedCache(_TOPOLOGY_CACHE)
        self._buffers: dict[str, np.ndarray] = {}
        self._previous: ParsedCircuit | None = None
        self._indices: tuple | None = None

    def close(self) -> None:
        """Nothing to release (kept for the Backend protocol)."""

    def __enter__(self) -> NativeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running -----------------------------------------------------------------------------
    def run(self, circuit: Circuit) -> SimResult:
        """Simulate the circuit's analysis (Transient or DcSweep) and return its vectors by SPICE name.

        BLAS runs single-threaded meanwhile: the products here are too small to gain from threads, and on a
        busy machine a threaded one took 50x longer (docs/native.md).
        """
        with single_blas_thread():
            return self._run(circuit)

    def _run(self, circuit: Circuit) -> SimResult:
        started = time.perf_counter()
        parsed = self._previous = ParsedCircuit(circuit, self._previous)
        analysis = circuit.analysis
        if isinstance(analysis, Transient):
            capacitive = bool(parsed.cap_f.size) and bool(np.any(parsed.cap_f > 0))
            # TR-BDF2 factorises once per step length and resolves node time constants: uniform steps there
            axis, step = self.time_grid(analysis, parsed, per_segment=0 if capacitive else None)
            axis_name = TIME_VECTOR
            driven_v = parsed.source_values(axis, axis.size)
        elif isinstance(analysis, DcSweep):
            axis_name, axis = SWEEP_VECTOR, _sweep_values(analysis)
            driven_v = parsed.source_values(None, axis.size)
            swept = parsed.sources.get(analysis.source)
            if swept is None:
                raise SimulationError(f"DC sweep of {analysis.source!r}: no voltage source of that name")
            driven_v[:, np.searchsorted(parsed.driven, parsed.index[swept.pos])] = axis
        else:
            raise SimulationError(f"the native engine cannot run analysis {analysis!r}")
        topology = self._topology(parsed)
        points, edges = axis.size, len(parsed.cells)
        n_nodes = topology.n_nodes
        voltages = self._buffer("voltages", (n_nodes + 1 + parsed.n_amplified, points))
        network_rows = voltages[: n_nodes + 1]
        capacitance = _free_capacitance(parsed, topology)
        transient_c = isinstance(analysis, Transient) and bool(np.any(capacitance > 0))
        network_noise = parsed.network_noise if isinstance(analysis, Transient) else None
        if network_noise is not None and transient_c:
            raise SimulationError(NETWORK_NOISE_LIMIT)
        if parsed.diode_a.size:
            if transient_c:
                raise SimulationError(
                    "the native engine does not integrate node capacitance together with diodes"
                )
            _diode_voltages(parsed, topology, driven_v, network_rows)
        elif transient_c:
            _relaxing_voltages(parsed, topology, capacitance, axis, step, driven_v, network_rows)
        else:  # no capacitance (or a DC sweep, where capacitors are open): quasi-static
            injected = None if network_noise is None else noise_injection(parsed, topology, axis)
            _network_solution(parsed, driven_v, topology, injected).node_voltages(out=network_rows)
        position = _positions(parsed, topology)
        for k, (_, source, gain) in enumerate(parsed.amplified):
            np.multiply(voltages[position[source]], gain, out=voltages[n_nodes + 1 + k])
        # one row per distinct cell: each cell's samples are contiguous for the integration along time
        ends_a, ends_b = position[parsed.cell_a], position[parsed.cell_b]
        network_done = time.perf_counter()
        noise = parsed.noise if isinstance(analysis, Transient) else None
        # every cell draws its own noise: none equals another
        kept, shared = (
            (None, None)
            if noise or network_noise
            else _distinct_cells(parsed, topology, driven_v, ends_a, ends_b)
        )
        stored = edges if kept is None else kept.size
        signal, feedback, accumulator = (
            self._buffer(name, (stored, points)) for name in ("signal", "feedback", "accumulator")
        )
        if edges:
            pick = slice(None) if kept is None else kept
            squared_drops(voltages, ends_a[pick], ends_b[pick], out=signal)
            gains = parsed.signal_gain[pick]
            if np.any(gains != 1.0):  # s = A (v(a) - v(b))^2
                signal *= gains[:, None]
            if isinstance(analysis, Transient):
                integrate_cells(
                    signal,
                    step,
                    parsed.tau_s[pick],
                    parsed.theta_v[pick],
                    parsed.gain[pick],
                    parsed.shift[pick],
                    offset_v=parsed.offset_v[pick],
                    feedback=feedback,
                    accumulator=accumulator,
                    noise=None
                    if noise is None
                    else NoiseCurrents(parsed.c_k_f, noise.samples(), noise.step_s),
                )
            else:
                feedback[...] = 0.0
                accumulator[...] = 0.0
        self.runs += 1
        finished = time.perf_counter()
        stats = {
            "seconds": finished - started,
            "seconds_network": network_done - started,  # parsing, the network's states over the axis
            "seconds_cells": finished - network_done,  # squarers, kernels, thresholds, accumulators
            "points": float(points),
            "cells_integrated": stored,
        }
        blocks = (axis[None, :], voltages, signal, feedback, accumulator)
        whole = ((parsed.signal, 2), (parsed.feedback, 3), (parsed.accumulator, 4))
        index, memo = self._index(parsed, topology, axis_name)
        row_maps = None if shared is None else {2: shared, 3: shared, 4: shared}
        vectors = BlockVectors(index, blocks, whole, memo, row_maps)
        return SimResult(vectors=vectors, stats=stats)

    def _index(self, parsed: ParsedCircuit, topology: NetworkTopology, axis_name: str) -> tuple[dict, dict]:
        """Name -> (block, row) for the blocks of ``run`` (axis, node voltages, s, u, w) and the memo of
        located name lists, both kept while the topology stays."""
        cached = self._indices
        if (
            cached is not None
            and cached[0] == axis_name
            and cached[1] is parsed.names
            and cached[2] is parsed.accumulator
        ):
            return cached[3], cached[4]
        index = {axis_name: (0, 0)}
        index.update(zip(parsed.names, ((1, p) for p in topology.position[:-1].tolist()), strict=True))
        n_nodes = topology.n_nodes
        index.update((name, (1, n_nodes + 1 + k)) for k, (name, _, _) in enumerate(parsed.amplified))
        for block, names in enumerate((parsed.signal, parsed.feedback, parsed.accumulator), start=2):
            index.update(zip(names, ((block, e) for e in range(len(names))), strict=True))
        self._indices = (axis_name, parsed.names, parsed.accumulator, index, {})
        return index, self._indices[4]

    def _buffer(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """A 2-D array for this run, reusing the last run's when nothing refers to it any more.

        A result's vectors are views of these arrays, so an array is reused only when every earlier result
        built on it is gone (its reference count is back to this dict's own). Fresh multi-megabyte arrays
        cost page faults, which measured up to ~1.5 ms per MB on the shared development VM.
        """
        buffer = self._buffers.get(name)
        # references: the dict, ``buffer`` here, and getrefcount's argument
        if buffer is None or buffer.shape != shape or sys.getrefcount(buffer) > 3:
            buffer = self._buffers[name] = np.empty(shape)
        return buffer

    def _topology(self, parsed: ParsedCircuit) -> NetworkTopology:
        """The network's topology, built once and reused while samples only change values."""
        key = (
            len(parsed.names),
            *(
                array.tobytes()
                for array in (
                    parsed.res_a,
                    parsed.res_b,
                    parsed.driven,
                    parsed.clamp_a,
                    parsed.clamp_b,
                    parsed.res_coef_a,
                    parsed.res_coef_b,
                )
            ),
        )
        return self._topologies.get(
            key,
            lambda: NetworkTopology(
                len(parsed.names),
                parsed.res_a,
                parsed.res_b,
                parsed.driven,
                parsed.clamp_a,
                parsed.clamp_b,
                names=parsed.names,
                coef_a=parsed.res_coef_a,
                coef_b=parsed.res_coef_b,
            ),
        )

    def time_grid(
        self, analysis: Transient, parsed: ParsedCircuit | None = None, *, per_segment: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Times from 0 to stop_s through every PWL breakpoint, and the step lengths: uniform between
        breakpoints, at most max_step_s / refine, and at most ``per_segment`` steps per segment
        (``max_points_per_segment`` by default; 0: no cap)."""
        if per_segment is None:
            per_segment = self.max_points_per_segment
        if per_segment is None:  # auto: by the kind of network
            has_diodes = parsed is not None and bool(parsed.diode_a.size)
            per_segment = POINTS_PER_RAMP_DIODES if has_diodes else POINTS_PER_RAMP_LINEAR
        stop = finite_value(analysis.stop_s, "transient stop time", positive=True)
        step = finite_value(analysis.max_step_s, "transient maximum step", positive=True) / self.refine
        corners = {0.0, stop}
        if parsed is not None:
            for source in parsed.pwl_sources:
                corners.update(t for t, _ in source.pwl or () if 0.0 < t < stop)
        corners_sorted = sorted(corners)
        counts = [
            segment_points(math.ceil((t1 - t0) / step * (1 - 1e-12)), per_segment * self.refine)
            if per_segment
            else max(1, math.ceil((t1 - t0) / step * (1 - 1e-12)))
            for t0, t1 in zip(corners_sorted[:-1], corners_sorted[1:], strict=True)
        ]
        count = sum(counts)
        knots: np.ndarray = np.zeros(0)
        knot_step = 0.0
        if parsed is not None and parsed.network_noise is not None:  # the noise currents' knots
            knot_step = parsed.network_noise.step_s
            knots = knot_step * np.arange(1, parsed.network_noise.knots)
            knots = knots[knots < stop * (1 - 1e-12)]
            count += knots.size
        if count + 1 > self.max_time_points:
            raise ConfigError(
                f"the transient would take {count + 1:,} time points (stop {stop:g} s, step {step:g} s), over the limit "
                f"of {self.max_time_points:,}: raise tau_k_s or points_per_tau_k, shorten the ramps, or raise max_time_points",
                field="max_time_points",
            )
        times, steps = [np.zeros(1)], []
        for t0, t1, n in zip(corners_sorted[:-1], corners_sorted[1:], counts, strict=True):
            times.append(t0 + (t1 - t0) * np.arange(1, n + 1) / n)
            times[-1][-1] = t1
            steps.append(np.full(n, (t1 - t0) / n))
        if knots.size:  # the network follows the noise linearly between its knots: each knot a grid point
            grid = np.concatenate(times)
            at = np.clip(np.searchsorted(grid, knots), 1, grid.size - 1)
            near = np.minimum(knots - grid[at - 1], grid[at] - knots) < 1e-6 * knot_step
            merged = np.union1d(grid, knots[~near])
            return merged, np.diff(merged)
        return np.concatenate(times), np.concatenate(steps)


def _positions(parsed: ParsedCircuit, topology: NetworkTopology) -> np.ndarray:
    """Row of every node number in the voltages block: the topology's internal order, then one row per
    amplifier output after ground; index -1 (ground) maps to the ground row."""
    n_nodes = topology.n_nodes
    position = np.empty(n_nodes + parsed.n_amplified + 1, dtype=int)
    position[:n_nodes] = topology.position[:n_nodes]
    position[n_nodes : n_nodes + parsed.n_amplified] = n_nodes + 1 + np.arange(parsed.n_amplified)
    position[-1] = n_nodes
    return position


SHARED_CELL_SHARE = 0.2
"""Cells are deduplicated when at least this share of them has an end on a constant source."""


def _distinct_cells(
    parsed: ParsedCircuit,
    topology: NetworkTopology,
    driven_v: np.ndarray,
    ends_a: np.ndarray,
    ends_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """(kept, shared): the cells to integrate and, for every cell, the row of the kept cell it equals; or
    (None, None) when each cell is its own.

    Two cells are equal by construction when their parameters are equal and their squarers read the same pair
    of node waveforms. Constant sources at the same voltage give the same waveform, so in a network whose
    inputs are many such sources (a DRN on MNIST: 1,570 input nodes, a few hundred distinct pixel voltages)
    most first-layer cells repeat another: (input value, hidden node) decides their whole cycle.
    """
    edges = ends_a.size
    n_free, n_nodes = topology.n_free, topology.n_nodes
    if edges == 0 or driven_v.shape[1] == 0:
        return None, None
    constant = np.all(driven_v == driven_v[:1], axis=0)  # per driven column (internal driven order)
    on_constant = ((ends_a >= n_free) & (ends_a < n_nodes)) | ((ends_b >= n_free) & (ends_b < n_nodes))
    if np.count_nonzero(on_constant) < SHARED_CELL_SHARE * edges or not constant.any():
        return None, None
    rows = n_nodes + 1 + parsed.n_amplified
    canonical = np.arange(rows)
    columns = np.flatnonzero(constant)
    values = np.append(driven_v[0, columns], 0.0)  # ... and ground, at 0 V
    members = np.append(n_free + columns, n_nodes)
    _, first, group = np.unique(values, return_index=True, return_inverse=True)
    canonical[members] = members[first][group]
    return equal_cells(canonical[ends_a], canonical[ends_b], parsed.cell_class)


def equal_cells(
    a: np.ndarray, b: np.ndarray, cell_class: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """(kept, shared) of cells whose squarers read nodes ``a``, ``b`` (node ids, equal waveforms already
    given one id) with parameter class ``cell_class``: cells with the same unordered pair and class are one.
    (None, None) when every cell is distinct."""
    edges = a.size
    used = np.zeros(int(max(a.max(), b.max())) + 1, dtype=bool)
    used[a] = True
    used[b] = True
    compact = np.cumsum(used) - 1  # the used ids numbered 0..U-1
    count = int(compact[-1]) + 1
    classes = int(cell_class.max()) + 1
    a, b = compact[a], compact[b]
    low, high = np.minimum(a, b), np.maximum(a, b)  # s = (v(a) - v(b))^2 does not care about the order
    key = (low.astype(np.int64) * count + high) * classes + cell_class
    if count * count * classes <= _KEY_TABLE_LIMIT:
        kept, shared = _first_occurrences(key, count * count * classes)
    else:
        _, kept, shared = np.unique(key, return_index=True, return_inverse=True)
    if kept.size == edges:
        return None, None
    return kept, shared.astype(np.int64)


_KEY_TABLE_LIMIT = 1 << 24
"""Largest key range deduplicated through a direct table (4 bytes per key); larger ones are sorted."""


def _first_occurrences(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, shared) as np.unique's return_index and return_inverse would give, in first-occurrence order,
    in one pass through a table of ``size`` entries."""
    return _first_occurrence_pass(key, np.full(size, -1, dtype=np.int32))


@numba.njit(cache=True)
def _first_occurrence_pass(key, table):
    kept = np.empty(key.size, dtype=np.int64)
    shared = np.empty(key.size, dtype=np.int64)
    count = 0
    for e in range(key.size):
        row = table[key[e]]
        if row < 0:
            row = count
            table[key[e]] = row
            kept[count] = e
            count += 1
        shared[e] = row
    return kept[:count], shared


def _diode_voltages(
    parsed: ParsedCircuit, topology: NetworkTopology, driven_v: np.ndarray, out: np.ndarray
) -> None:
    """Node voltages (n_nodes + 1, P) of a network with diodes: damped Newton at every point, warm-started
    from the previous point (``physics.nonlinear``)."""
    position = topology.position
    diodes = DiodeArrays(
        anode=position[parsed.diode_a],
        cathode=position[parsed.diode_c],
        anode_coef=parsed.diode_coef_a,
        cathode_coef=parsed.diode_coef_c,
        is_a=parsed.diode_is,
        n=parsed.diode_n,
        rs_ohm=parsed.diode_rs,
    )
    beta_columns = np.searchsorted(parsed.driven, parsed.clamp_beta)
    clamp_s = (
        driven_v[:, beta_columns] * parsed.clamp_g if parsed.clamps else np.zeros((driven_v.shape[0], 0))
    )
    n_free, n_nodes = topology.n_free, topology.n_nodes
    out[:n_free] = NodalEquations(topology, parsed.res_g, diodes).solve(
        driven_v, np.ascontiguousarray(clamp_s)
    )
    out[n_free:n_nodes] = driven_v.T
    out[n_nodes] = 0.0


def _free_capacitance(parsed: ParsedCircuit, topology: NetworkTopology) -> np.ndarray:
    """Capacitance to ground of every free node (in the topology's free order), farads."""
    capacitance = np.zeros(topology.n_free)
    rows = topology.position[parsed.cap_node]
    on_free = rows < topology.n_free  # a capacitor on a driven node changes no voltage
    np.add.at(capacitance, rows[on_free], parsed.cap_f[on_free])
    return capacitance


def _relaxing_voltages(
    parsed: ParsedCircuit,
    topology: NetworkTopology,
    capacitance_f: np.ndarray,
    axis: np.ndarray,
    step: np.ndarray,
    driven_v: np.ndarray,
    out: np.ndarray,
) -> None:
    """Node voltages (n_nodes + 1, P) of a network with node capacitance (``node_dynamics``), starting from
    the DC operating point at the first point (capacitors open), as ngspice does."""
    n_free, n_nodes = topology.n_free, topology.n_nodes
    beta_columns = np.searchsorted(parsed.driven, parsed.clamp_beta)
    stage_driven_v = parsed.source_values(axis[:-1] + GAMMA * step, axis.size - 1)
    initial = _network_solution(parsed, driven_v[:1], topology).node_voltages()[:n_free, 0]
    out[:n_free] = relaxing_free_voltages(
        topology,
        parsed.res_g,
        capacitance_f,
        initial,
        step,
        driven_v,
        driven_v[:, beta_columns] * parsed.clamp_g,
        stage_driven_v,
        stage_driven_v[:, beta_columns] * parsed.clamp_g,
    )
    out[n_free:n_nodes] = driven_v.T
    out[n_nodes] = 0.0


def _sweep_values(analysis: DcSweep) -> np.ndarray:
    start = finite_value(analysis.start, "DC sweep start")
    stop = finite_value(analysis.stop, "DC sweep stop")
    step = finite_value(analysis.step, "DC sweep step")
    if step == 0 or (stop - start) / step < -1e-9:
        raise SimulationError(
            f"DC sweep from {start!r} to {stop!r} in steps of {step!r} never reaches its end"
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return start + step * np.arange(count)


def _network_solution(
    parsed: ParsedCircuit,
    driven_v: np.ndarray,
    topology: NetworkTopology,
    injected_a: np.ndarray | None = None,
) -> QuasiStaticSolution:
    """The quasi-static network state at every point (low-rank form, ``quasistatic.QuasiStaticSolution``),
    with ``injected_a`` (n_free, P) currents into the free nodes when given (the network's noise)."""
    network = LowRankNetwork(topology, parsed.res_g)
    if not parsed.clamps:
        return network.solve(driven_v, injected_a=injected_a)
    beta_columns: np.ndarray = np.searchsorted(parsed.driven, parsed.clamp_beta)
    if np.all(beta_columns == beta_columns[0]) and np.all(parsed.clamp_g > 0):
        waveform = driven_v[:, beta_columns[0]]
        return network.solve(
            driven_v, waveform=waveform, clamp_conductance_s=parsed.clamp_g, injected_a=injected_a
        )
    return network.solve(driven_v, driven_v[:, beta_columns] * parsed.clamp_g, injected_a=injected_a)
