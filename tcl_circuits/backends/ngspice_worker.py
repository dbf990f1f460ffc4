"""The ngspice worker process: one NgSpiceShared per process, serving (netlist, wanted) requests.

Run as ``python -m tcl_circuits.backends.ngspice_worker`` with cwd and HOME set to an empty directory.
Requests arrive pickled on stdin; replies leave on the original stdout, which is then pointed at stderr so
that nothing the library prints can corrupt the protocol. This is the only module that imports PySpice.
"""

from __future__ import annotations

import logging
import os
import signal
from multiprocessing.connection import Connection

import numpy as np


def _quiet(call, *args) -> None:
    try:
        call(*args)
    except Exception:  # PySpice raises on any 'error' in the output; the caller reads the text instead
        pass


def main() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the worker, which must not print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reply = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    requests = Connection(0, writable=False)
    logging.getLogger("PySpice").setLevel(logging.CRITICAL + 1)
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared

    ng = NgSpiceShared.new_instance()
    reply.send(("ready", os.getpid()))
    while True:
        try:
            request = requests.recv()
        except EOFError:
            break
        if request is None:
            break
        netlist, wanted = request
        log: list[str] = []
        _quiet(ng.load_circuit, netlist)
        log += [ng.stdout, ng.stderr]
        _quiet(ng.run)
        log += [ng.stdout, ng.stderr]
        vectors: dict[str, np.ndarray] = {}
        plot_name = ng.last_plot
        if plot_name != "const":
            for key, vector in ng.plot(None, plot_name).items():
                key = key.lower()
                if wanted is None or key in wanted or key in ("time", "v-sweep"):
                    vectors[key] = np.real(np.asarray(vector._data)).astype(float)
        for command in ("destroy all", "remcirc"):
            _quiet(ng.exec_command, command)
        reply.send(("done", vectors, "\n".join(part for part in log if part)))


if __name__ == "__main__":
    main()
