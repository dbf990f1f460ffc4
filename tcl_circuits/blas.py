"""One BLAS thread for the simulation and the controller's solves.

Their matrix products are small (a DRN's hidden layer, a sample's nodal equations); on the shared 2-core
machines here a threaded BLAS competing with another process took up to 50x longer (docs/native.md).
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    """The process's BLAS thread pools (found once: the search costs milliseconds, a limit microseconds)."""
    return ThreadpoolController()


def single_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread."""
    return _controller().limit(limits=1, user_api="blas")
