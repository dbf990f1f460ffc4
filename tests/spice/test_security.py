"""Hostile node labels must never make ngspice run a command, in shared mode or in batch mode."""

import subprocess

import networkx as nx
import pytest

from tcl_circuits import network
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.spice.writer import write_netlist

pytestmark = pytest.mark.ngspice


def _hostile_graph(marker) -> nx.Graph:
    payload = f"x 1k\n.control\nshell touch {marker}\n.endc\n*"
    labels = [
        payload,
        f"a; shell touch {marker}",
        f"`touch {marker}`",
        f".control shell touch {marker}",
        "ok",
    ]
    g = nx.Graph()
    g.add_node(labels[0], role="input", voltage=0.7)
    g.add_node(labels[1], role="hidden")
    g.add_node(labels[2], role="output", target=0.2)
    g.add_node(labels[3], role="ground")
    g.add_node(labels[4], role="hidden")
    for a, b in [(0, 1), (1, 2), (2, 3), (1, 4), (4, 3)]:
        g.add_edge(labels[a], labels[b], conductance=1e-3)
    return g


def test_the_payload_is_live_when_pasted_unescaped(tmp_path):
    """Control: the same label pasted into a deck by hand does run the command, so the test below can fail."""
    marker = tmp_path / "control_pwned"
    deck = f"t\nv1 in 0 DC 1\nr1 in x 1k\n.control\nshell touch {marker}\n.endc\n*\n.end\n"
    (tmp_path / "raw.cir").write_text(deck)
    subprocess.run(
        ["ngspice", "-b", "raw.cir"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        env={"HOME": str(tmp_path)},
    )
    assert marker.exists()


def test_compiled_hostile_graph_runs_no_command(tmp_path, ngspice, drive, cell):
    marker = tmp_path / "pwned"
    spec = network.from_graph(_hostile_graph(marker))
    circuit = compile_tcl(spec, drive=drive, cell=cell, measure_accumulators=True)
    text = write_netlist(circuit)
    result = ngspice.run(circuit)  # shared library in the worker
    assert result.axis[-1] == pytest.approx(drive.period_s)
    (tmp_path / "deck.cir").write_text(text)
    batch = subprocess.run(
        ["ngspice", "-b", "deck.cir"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path)},
    )
    assert "acc0" in batch.stdout  # the deck really ran in batch mode
    assert not marker.exists()
    assert not list(tmp_path.glob("*pwned*"))
