"""The native engine: the circuit IR simulated in numpy/scipy, without SPICE, for large training runs.

It reads the same ``Circuit`` the netlist writer reads and reproduces the writer's element semantics:

- ``Resistor``: a linear conductance; ``VoltageSource`` (to ground): DC, or PWL in time (held flat outside
  its breakpoints; at the DC operating point and in a DC sweep a PWL source takes its t = 0 value, like
  ngspice's); ``Clamp``: I = G * v(beta) * (v(node) - v(target)) with ``beta`` a source-driven node.
- ``FeedbackCell``: v(s) = (v(a) - v(b))^2; series C_K from s to u, R_K from u to ground, so
  du/dt = ds/dt - u / (R_K C_K); threshold g(u) (HARD: u where |u| >= theta; DEAD_ZONE:
  sign(u) max(|u| - theta, 0)); accumulator dv(w)/dt = -gain * g(u) on 1 F. At t = 0 (beta at its t = 0
  value) every C_K is charged to the operating-point s, so u(0) = 0, and v(w)(0) = 0 (the writer's ``.ic``).

The network has no capacitance, so its node voltages are quasi-static: at every time point they are the
exact DC solution for that point's source values and clamp conductances (``quasistatic.LowRankNetwork``:
one factorisation per run, the clamps as a rank-K update). The cells are integrated over the whole grid at
once, vectorised over edges, with s piecewise linear between grid points and the high-pass and the
thresholded integral exact under that assumption (see docs/native.md for the measured discretisation error).

Results come back as a ``SimResult`` under the vector names ngspice uses: node names (``n3``, ``t0``,
``beta``), cell nodes (``s<e>``, ``u<e>``, ``w<e>``), and ``time`` or ``v-sweep``. Branch currents are not
produced.
"""

from __future__ import annotations

import math
import operator
import sys
import time
from operator import attrgetter

import numpy as np

from ..circuit import Circuit, Clamp, DcSweep, FeedbackCell, Resistor, Transient, VoltageSource
from ..config import ThresholdShape
from ..errors import ConfigError, NetlistError, SimulationError
from ..quasistatic import (
    GROUND,
    LowRankNetwork,
    NetworkTopology,
    accumulate_rows,
    highpass_foh,
    threshold_area,
)
from .base import SimResult

TIME_VECTOR = "time"
SWEEP_VECTOR = "v-sweep"
_TOPOLOGY_CACHE = 8
"""Network topologies remembered per backend (a training run uses one)."""


def _finite(value: float, what: str, *, positive: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        expected = "a finite number > 0" if positive else "a finite number"
        raise NetlistError(f"{what} must be {expected}, got {value!r}")
    return value


def _checked(values: list, items: list, what: str, *, positive: bool = False, nonnegative: bool = False):
    """Floats of many elements as an array, refusing non-finite (or non-positive / negative) values."""
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError):
        array = np.array([v if isinstance(v, int | float) else np.nan for v in values], dtype=float)
    bad = ~np.isfinite(array)
    if positive:
        bad |= array <= 0
    if nonnegative:
        bad |= array < 0
    if np.any(bad):
        at = int(np.argmax(bad))
        first = items[at]
        label = getattr(first, "name", None) or f"cell {getattr(first, 'index', '?')}"
        expected = "> 0" if positive else ">= 0" if nonnegative else "finite"
        raise NetlistError(f"{what} of {label} must be {expected}, got {values[at]!r}")
    return array


def _indices(index: dict[str, int], names: list[str]) -> np.ndarray:
    return np.fromiter(map(index.__getitem__, names), dtype=int, count=len(names))


def _columns(items: list, *attributes: str) -> list[list]:
    """Several attributes of many elements, one list per attribute (C-level passes over the items)."""
    return [list(map(attrgetter(attribute), items)) for attribute in attributes]


class _Parsed:
    """The IR as index arrays: node numbering, resistors, sources, clamps, cells.

    Network nodes (those of resistors, sources and clamps) are numbered in order of appearance; ``GROUND``
    stands for node 0. Cell-internal nodes (s, u, w) are not network nodes.
    """

    def __init__(self, circuit: Circuit, previous: _Parsed | None = None) -> None:
        buckets: dict[type, list] = {Resistor: [], VoltageSource: [], Clamp: [], FeedbackCell: []}
        for element in circuit.elements:
            bucket = buckets.get(type(element))
            if bucket is None:
                label = getattr(element, "name", None) or f"index {getattr(element, 'index', '?')}"
                raise SimulationError(
                    f"the native engine cannot simulate {type(element).__name__} elements ({label}); it "
                    "supports Resistor, VoltageSource (to ground), Clamp and FeedbackCell"
                )
            bucket.append(element)
        resistors, sources, clamps, cells = (
            buckets[k] for k in (Resistor, VoltageSource, Clamp, FeedbackCell)
        )
        for source in sources:
            if source.neg != "0" or source.pos == "0":
                raise SimulationError(
                    f"voltage source {source.name}: the native engine supports only sources from a node to "
                    f"ground, got {source.pos!r} -> {source.neg!r}"
                )
        res_a, res_b, resistance = _columns(resistors, "a", "b", "resistance_ohm")
        clamp_nodes = [c.node for c in clamps], [c.target for c in clamps], [c.beta for c in clamps]
        self.connections = (res_a, res_b, [s.pos for s in sources], *clamp_nodes)
        if previous is not None and previous.connections == self.connections:
            # same connections as the previous circuit (a training run): reuse the node numbering
            self.names, self.index = previous.names, previous.index
            self.res_a, self.res_b = previous.res_a, previous.res_b
            self.clamp_a, self.clamp_b, self.clamp_beta = (
                previous.clamp_a,
                previous.clamp_b,
                previous.clamp_beta,
            )
        else:
            previous = None
            order = dict.fromkeys(
                res_a + res_b + [s.pos for s in sources] + [n for part in clamp_nodes for n in part]
            )
            order.pop("0", None)
            self.names = list(order)
            index = {name: i for i, name in enumerate(self.names)}
            index["0"] = GROUND
            self.index = index
            self.res_a, self.res_b = _indices(index, res_a), _indices(index, res_b)
            self.clamp_a, self.clamp_b, self.clamp_beta = (_indices(index, part) for part in clamp_nodes)
        self.res_g = 1.0 / _checked(resistance, resistors, "resistance", positive=True)
        self._sources(sources)
        self.clamps = clamps
        self.clamp_g = _checked([c.conductance_s for c in clamps], clamps, "conductance")
        for clamp, beta in zip(clamps, self.clamp_beta, strict=True):
            if beta not in self.driven_by:
                raise SimulationError(
                    f"clamp {clamp.name}: its beta node {clamp.beta!r} must be driven by a voltage source "
                    "(the native engine treats the clamp as a time-varying linear conductance)"
                )
        self._cells(cells, previous)

    def _sources(self, sources: list[VoltageSource]) -> None:
        self.sources: dict[str, VoltageSource] = {}
        self.driven_by: dict[int, VoltageSource] = {}
        for source in sources:
            if source.name in self.sources:
                raise NetlistError(f"two voltage sources are named {source.name!r}")
            node = self.index[source.pos]
            if node in self.driven_by:
                raise SimulationError(
                    f"node {source.pos!r} is driven by both {self.driven_by[node].name} and {source.name} "
                    "(a voltage-source loop)"
                )
            if source.pwl is None:
                _finite(source.dc_v, f"DC value of {source.name}")
            else:
                times = np.array([_finite(t, f"PWL time of {source.name}") for t, _ in source.pwl])
                for _, v in source.pwl:
                    _finite(v, f"PWL value of {source.name}")
                if times.size == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
                    raise NetlistError(
                        f"PWL of {source.name} needs increasing times >= 0, got {source.pwl!r}"
                    )
            self.sources[source.name] = source
            self.driven_by[node] = source
        self.driven = np.array(sorted(self.driven_by), dtype=int)

    _CELL_FIELDS = (
        "cell_a",
        "cell_b",
        "signal",
        "feedback",
        "accumulator",
        "tau_s",
        "theta_v",
        "gain",
        "dead_zone",
    )

    def _cells(self, cells: list[FeedbackCell], previous: _Parsed | None) -> None:
        self.cells = cells
        if (
            previous is not None
            and len(previous.cells) == len(cells)
            and all(map(operator.is_, cells, previous.cells))
        ):
            # the very same (immutable) cell objects on the same nodes: the compiler reuses them per topology
            for field in self._CELL_FIELDS:
                setattr(self, field, getattr(previous, field))
            return
        index = self.index
        a, b, signal, feedback, accumulator, c_k, r_k, theta, gain, shapes = _columns(
            cells,
            "a",
            "b",
            "signal",
            "feedback",
            "accumulator",
            "c_k_f",
            "r_k_ohm",
            "threshold_v",
            "gain_a_per_v",
            "shape",
        )
        try:
            self.cell_a = np.fromiter(map(index.__getitem__, a), dtype=int, count=len(cells))
            self.cell_b = np.fromiter(map(index.__getitem__, b), dtype=int, count=len(cells))
        except KeyError as missing:
            raise NetlistError(
                f"a feedback cell senses node {missing}, which no network element connects"
            ) from None
        self.signal, self.feedback, self.accumulator = signal, feedback, accumulator
        inner = signal + feedback + accumulator
        if len(set(inner)) != len(inner) or not index.keys().isdisjoint(inner):
            seen: set[str] = set()
            for name in inner:
                if name in seen or name in index:
                    raise NetlistError(f"feedback cell node {name!r} is used twice")
                seen.add(name)
        self.tau_s = _checked(r_k, cells, "R_K", positive=True) * _checked(c_k, cells, "C_K", positive=True)
        self.theta_v = _checked(theta, cells, "threshold", nonnegative=True)
        self.gain = _checked(gain, cells, "gain")
        hard, dead = ThresholdShape.HARD, ThresholdShape.DEAD_ZONE
        self.dead_zone = np.array([shape is dead for shape in shapes], dtype=bool)
        unknown = [shape for shape in shapes if shape is not hard and shape is not dead]
        if unknown:
            raise SimulationError(f"unknown threshold shape {unknown[0]!r}")

    def source_values(self, times_s: np.ndarray | None, points: int) -> np.ndarray:
        """(P, n_driven) driven voltages: PWL sources at ``times_s`` (their t = 0 value when None)."""
        values = np.empty((points, self.driven.size))
        for column, node in enumerate(self.driven):
            source = self.driven_by[node]
            if source.pwl is None:
                values[:, column] = source.dc_v
            else:
                t, v = zip(*source.pwl, strict=True)
                values[:, column] = np.interp(0.0 if times_s is None else times_s, t, v)
        return values


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
    """

    def __init__(self, *, refine: int = 1) -> None:
        if not isinstance(refine, int) or refine < 1:
            raise ConfigError(f"refine must be an int >= 1, got {refine!r}")
        self.refine = refine
        self.runs = 0
        self._topologies: dict[tuple, NetworkTopology] = {}
        self._buffers: dict[str, np.ndarray] = {}
        self._previous: _Parsed | None = None

    def close(self) -> None:
        """Nothing to release (kept for the Backend protocol)."""

    def __enter__(self) -> NativeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running -----------------------------------------------------------------------------
    def run(self, circuit: Circuit) -> SimResult:
        """Simulate the circuit's analysis (Transient or DcSweep) and return its vectors by SPICE name."""
        started = time.perf_counter()
        parsed = self._previous = _Parsed(circuit, self._previous)
        analysis = circuit.analysis
        if isinstance(analysis, Transient):
            axis, step = self.time_grid(analysis, parsed)
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
        voltages = self._buffer("voltages", (topology.n_nodes + 1, points))
        _network_voltages(parsed, driven_v, topology, voltages)  # one row per node, internal order
        # every vector is a row view of one block: no per-vector copies
        rows = list(voltages)
        vectors: dict[str, np.ndarray] = {axis_name: axis}
        vectors.update(zip(parsed.names, (rows[p] for p in topology.position[:-1].tolist()), strict=True))
        if edges:
            position = topology.position
            # edge drops gathered as whole rows (E, T); mode="clip" (indices are valid) lets np.take write
            # into ``out`` without an extra buffer. The recursions over time run on (T, E) work arrays; the
            # results are handed out as (E, T) so that every cell's vectors are contiguous rows.
            signal = self._buffer("signal", (edges, points))
            np.take(voltages, position[parsed.cell_a], axis=0, out=signal, mode="clip")
            ends_b = self._buffer("scratch_b", (edges, points))
            signal -= np.take(voltages, position[parsed.cell_b], axis=0, out=ends_b, mode="clip")
            signal *= signal
            feedback = self._buffer("feedback", (edges, points))
            accumulator = self._buffer("accumulator", (edges, points))
            if isinstance(analysis, Transient):
                work_s, work_u, work_w = (
                    self._buffer(name, (points, edges)) for name in ("work_s", "work_u", "work_w")
                )
                work_s[...] = signal.T
                _cells_transient(parsed, step, work_s, work_u, work_w)
                feedback[...] = work_u.T
                accumulator[...] = work_w.T
            else:
                feedback[...] = 0.0
                accumulator[...] = 0.0
            vectors.update(zip(parsed.signal, signal, strict=True))
            vectors.update(zip(parsed.feedback, feedback, strict=True))
            vectors.update(zip(parsed.accumulator, accumulator, strict=True))
        self.runs += 1
        stats = {"seconds": time.perf_counter() - started, "points": float(points)}
        return SimResult(vectors=vectors, stats=stats)

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

    def _topology(self, parsed: _Parsed) -> NetworkTopology:
        """The network's topology, built once and reused while samples only change values."""
        key = (
            len(parsed.names),
            *(
                array.tobytes()
                for array in (parsed.res_a, parsed.res_b, parsed.driven, parsed.clamp_a, parsed.clamp_b)
            ),
        )
        topology = self._topologies.get(key)
        if topology is None:
            topology = NetworkTopology(
                len(parsed.names),
                parsed.res_a,
                parsed.res_b,
                parsed.driven,
                parsed.clamp_a,
                parsed.clamp_b,
                names=parsed.names,
            )
            if len(self._topologies) >= _TOPOLOGY_CACHE:
                self._topologies.pop(next(iter(self._topologies)))
            self._topologies[key] = topology
        return topology

    def time_grid(self, analysis: Transient, parsed: _Parsed | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times from 0 to stop_s through every PWL breakpoint, and the step lengths (uniform between
        breakpoints, <= max_step_s / refine)."""
        stop = _finite(analysis.stop_s, "transient stop time", positive=True)
        step = _finite(analysis.max_step_s, "transient maximum step", positive=True) / self.refine
        corners = {0.0, stop}
        if parsed is not None:
            for source in parsed.sources.values():
                corners.update(t for t, _ in source.pwl or () if 0.0 < t < stop)
        corners_sorted = sorted(corners)
        times, steps = [np.zeros(1)], []
        for t0, t1 in zip(corners_sorted[:-1], corners_sorted[1:], strict=True):
            n = max(1, math.ceil((t1 - t0) / step * (1 - 1e-12)))
            times.append(t0 + (t1 - t0) * np.arange(1, n + 1) / n)
            times[-1][-1] = t1
            steps.append(np.full(n, (t1 - t0) / n))
        return np.concatenate(times), np.concatenate(steps)


def _sweep_values(analysis: DcSweep) -> np.ndarray:
    start = _finite(analysis.start, "DC sweep start")
    stop = _finite(analysis.stop, "DC sweep stop")
    step = _finite(analysis.step, "DC sweep step")
    if step == 0 or (stop - start) / step < -1e-9:
        raise SimulationError(
            f"DC sweep from {start!r} to {stop!r} in steps of {step!r} never reaches its end"
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return start + step * np.arange(count)


def _network_voltages(
    parsed: _Parsed, driven_v: np.ndarray, topology: NetworkTopology, out: np.ndarray | None = None
) -> np.ndarray:
    """Quasi-static node voltages at every point, (n_nodes + 1, P), rows in the topology's internal order
    (``topology.position`` maps node index to row)."""
    network = LowRankNetwork(topology, parsed.res_g)
    if not parsed.clamps:
        return network.solve(driven_v, out=out)
    beta_columns = np.searchsorted(parsed.driven, parsed.clamp_beta)
    if np.all(beta_columns == beta_columns[0]) and np.all(parsed.clamp_g > 0):
        waveform = driven_v[:, beta_columns[0]]
        return network.solve(driven_v, waveform=waveform, clamp_conductance_s=parsed.clamp_g, out=out)
    return network.solve(driven_v, driven_v[:, beta_columns] * parsed.clamp_g, out=out)


def _cells_transient(
    parsed: _Parsed, step_s: np.ndarray, signal: np.ndarray, feedback: np.ndarray, accumulator: np.ndarray
) -> None:
    """Fill u and v(w) of every cell at every grid point, (T, E) each, from s (T, E)."""
    highpass_foh(signal, step_s, parsed.tau_s, out=feedback)
    accumulator[0] = 0.0
    threshold_area(
        signal, feedback, step_s, parsed.tau_s, parsed.theta_v, parsed.dead_zone, out=accumulator[1:]
    )
    accumulator[1:] *= -parsed.gain
    accumulate_rows(accumulator)
