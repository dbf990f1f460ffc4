"""Shared fixtures: small graphs, configs, and one ngspice backend per test session."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig


@pytest.fixture
def triangle() -> nx.Graph:
    """input -- hidden -- output, plus ground, with fixed conductances (``network.triangle``)."""
    return network.triangle()


@pytest.fixture
def drive() -> SawtoothConfig:
    return SawtoothConfig()


@pytest.fixture
def cell() -> FeedbackCellConfig:
    return FeedbackCellConfig()


@pytest.fixture(scope="session")
def ngspice():
    from tcl_circuits.backends.ngspice import NgspiceBackend

    backend = NgspiceBackend(timeout_s=60)
    yield backend
    backend.close()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
