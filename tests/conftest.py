"""Shared fixtures: small graphs, configs, and one ngspice backend per test session."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig


@pytest.fixture
def triangle() -> nx.Graph:
    """input -- hidden -- output, plus ground, with fixed conductances."""
    g = nx.Graph()
    g.add_node("in", role="input", voltage=1.0)
    g.add_node("h", role="hidden")
    g.add_node("out", role="output", target=0.3)
    g.add_node("gnd", role="ground")
    g.add_edge("in", "h", conductance=1e-3)
    g.add_edge("h", "out", conductance=2e-3)
    g.add_edge("out", "gnd", conductance=1e-3)
    g.add_edge("h", "gnd", conductance=5e-4)
    return g


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
