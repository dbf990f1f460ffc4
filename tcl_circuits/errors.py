"""The exception tree: every error raised on purpose by tcl_circuits derives from TclCircuitsError."""

from __future__ import annotations


class TclCircuitsError(Exception):
    """Root of every error raised by tcl_circuits."""


class ConfigError(TclCircuitsError, ValueError):
    """A configuration value is invalid (out of range, wrong combination, unknown name).

    ``field`` names the config field at fault when there is one (``tau_rise_s``), so the command line can
    name its flag instead.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class GraphError(TclCircuitsError, ValueError):
    """A graph cannot be compiled: missing or bad role, self-loop, floating node, bad conductance."""


class NetlistError(TclCircuitsError):
    """A netlist would be unsafe or unrepresentable (forbidden directive, non-finite number, name clash)."""


class SimulationError(TclCircuitsError):
    """The simulator failed. Carries the netlist and the simulator's own output text."""

    def __init__(self, message: str, *, netlist: str = "", log: str = "") -> None:
        super().__init__(message)
        self.netlist = netlist
        self.log = log


class ConvergenceError(SimulationError):
    """ngspice could not converge: 'Timestep too small', singular matrix, aborted run."""


class WorkerCrashedError(SimulationError):
    """The simulator worker process died (segfault, kill) or exceeded its time limit."""


class SimulationTimeoutError(WorkerCrashedError):
    """The simulation exceeded its time limit; the worker was killed (a retry would only time out again)."""


class LearningError(TclCircuitsError, ArithmeticError):
    """A learning update is non-finite or the run state is inconsistent."""


class DataError(TclCircuitsError, ValueError):
    """A data file or dataset is missing, malformed or inconsistent."""
