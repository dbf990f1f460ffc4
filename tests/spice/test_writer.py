import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcl_circuits import examples, network
from tcl_circuits.circuit.compile import compile_tcl
from tcl_circuits.config import FeedbackCellConfig, SawtoothConfig, ThresholdShape
from tcl_circuits.errors import ConfigError, NetlistError
from tcl_circuits.spice.decks import first_difference
from tcl_circuits.spice.syntax import check_deck, comment, name, number
from tcl_circuits.spice.writer import write_netlist


def test_generated_decks_match_the_reviewed_copies_within_tolerance():
    """Every generated deck of netlists/ (triangle TCL cycle, triangle phases, 3x3 lattice, memristor cycle)
    is what the code writes now, numbers within 1e-9 relative; ``tcl-circuits netlists regenerate`` rewrites
    them, never a test."""
    assert examples.check() == {}


def test_deck_comparison_tolerates_last_digits_only():
    deck = "t\nr1 a b 8.37406248245274e-06\n.end\n"
    assert first_difference(deck.replace("45274e", "45453e"), deck) is None
    assert "line 2" in first_difference(deck.replace("8.374", "8.375"), deck)
    note = "* window 0.0004401 < contrast\n"
    assert first_difference(note.replace("4401", "4402"), note) is None  # one unit in the last digit shown
    assert first_difference(note.replace("4401", "4403"), note) is not None
    assert "line 2" in first_difference(deck.replace("r1 a b", "r1 a c"), deck)
    assert first_difference(deck + "x\n", deck) == "4 lines, expected 3"


def test_dead_zone_threshold_expression(triangle, drive):
    cell = FeedbackCellConfig(threshold_shape=ThresholdShape.DEAD_ZONE, threshold_v=2e-5)
    text = write_netlist(compile_tcl(network.from_graph(triangle), drive=drive, cell=cell))
    assert "I = 20000000*(max(v(u0)-2e-05,0)-max(-v(u0)-2e-05,0))" in text


def test_numbers_are_plain_floats_never_suffixes():
    assert number(1e6) == "1000000" and number(1e-3) == "0.001" and number(5) == "5"
    assert number(8.374062482454533e-06) == "8.37406248245453e-06"  # 15 significant digits
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(NetlistError, match="non-finite"):
            number(bad)


@pytest.mark.parametrize("bad", ["N1", "1n", "n 1", "n1;", "a" * 40, "", "v(x)", "x\n.control"])
def test_identifiers_are_checked(bad):
    with pytest.raises(NetlistError, match="identifier"):
        name(bad)


@given(st.text())
def test_comments_never_carry_dangerous_characters(text):
    line = comment(text)
    assert "\n" not in line and "\r" not in line
    assert not any(ch in line[2:] for ch in ";`${}\\")
    assert not re.search(r"(?<![0-9])\.|\.(?![0-9])", line[2:])  # only decimal points: no '.control'
    check_deck(line)


def test_comments_keep_decimal_points():
    assert comment("threshold 1.5e-05 V, rails +-2.5 V") == "* threshold 1.5e-05 V, rails +-2.5 V"
    assert comment("1.control .lib a.b 3.") == "* 1_control _lib a_b 3_"


@pytest.mark.parametrize("group", ["*#:", "$(rm)", "a;b`c\\d", ".control", "x\n.include /etc/passwd", "*#"])
def test_hostile_group_names_reach_only_sanitised_comments(triangle, drive, group):
    """Edge group names are user text: their thresholds are listed in sanitised comments, never in a note,
    and the deck passes the safety scan."""
    from tcl_circuits.learning.rules import calibrate_cell

    g = triangle.copy()
    g.edges["in", "h"]["group"] = group
    g.edges["h", "out"]["group"] = "ok"
    spec = network.from_graph(g)
    x, y = spec.input_voltage_v[None], spec.target_v[None]
    design = calibrate_cell(FeedbackCellConfig(threshold_v=None, threshold_headroom=1.0), spec, x, y, drive)
    assert len(design.calibration.group_thresholds_v) == 3
    text = write_netlist(compile_tcl(spec, drive=drive, cell=design))
    check_deck(text)
    notes = [line for line in text.splitlines() if line.startswith("* feedback cells")]
    assert notes == [notes[0]] and "per edge group (listed below)" in notes[0]
    listed = [line for line in text.splitlines() if line.startswith("* threshold of ")]
    assert len(listed) == 3 and any(line.startswith("* threshold of edge group 'ok': ") for line in listed)
    for line in listed:
        assert line == comment(line[2:])  # already in the comment alphabet


@pytest.mark.parametrize(
    "deck",
    [
        "t\n.control\nshell touch x\n.endc\n.end\n",
        "t\n.include /etc/passwd\n.end\n",
        "t\n.lib models.lib tt\n.end\n",
        "t\nR1 a b `touch x`\n.end\n",
        "t\nR1 a b 1 ; shell touch x\n.end\n",
        "t\ncodemodel /tmp/evil.cm\n.end\n",
        "t\n  .CONTROL\n.end\n",
    ],
)
def test_check_deck_refuses_command_execution_paths(deck):
    with pytest.raises(NetlistError, match="line 2"):
        check_deck(deck)


def test_hostile_labels_reach_only_sanitised_comments(drive, cell):
    hostile = [
        "x 1k\n.control\nshell touch pwned\n.endc\n*",
        "a;b",
        "`rm -rf /`",
        ".include /etc/passwd",
        "$HOME{}",
    ]
    g = nx.Graph()
    g.add_node(hostile[0], role="input", voltage=0.5)
    g.add_node(hostile[1], role="hidden")
    g.add_node(hostile[2], role="output", target=0.2)
    g.add_node(hostile[3], role="ground")
    g.add_node(hostile[4], role="hidden")
    g.add_edge(hostile[0], hostile[1], conductance=1e-3)
    g.add_edge(hostile[1], hostile[2], conductance=1e-3)
    g.add_edge(hostile[2], hostile[3], conductance=1e-3)
    g.add_edge(hostile[4], hostile[1], conductance=1e-3)
    text = write_netlist(compile_tcl(network.from_graph(g), drive=drive, cell=cell))
    check_deck(text)
    for line in text.splitlines()[1:]:
        if not line.startswith("*"):
            assert "pwned" not in line and "passwd" not in line and "HOME" not in line


def test_compiler_requires_inputs_and_targets(triangle, drive, cell):
    g = triangle.copy()
    del g.nodes["out"]["target"]
    spec = network.from_graph(g)
    with pytest.raises(ConfigError, match="output node 'out' has no finite target"):
        compile_tcl(spec, drive=drive, cell=cell)
    with pytest.raises(ConfigError, match="need 1 input voltages"):
        compile_tcl(spec, drive=drive, cell=cell, inputs_v=np.array([1.0, 2.0]), targets_v=np.array([0.1]))
    with pytest.raises(ConfigError, match="need 1 targets"):
        compile_tcl(spec, drive=drive, cell=cell, targets_v=np.array([0.1, 0.2]))
    g2 = triangle.copy()
    del g2.nodes["in"]["voltage"]
    with pytest.raises(ConfigError, match="input node 'in' has no finite voltage"):
        compile_tcl(network.from_graph(g2), drive=drive, cell=cell)


@pytest.mark.parametrize(("rise", "fall"), [(1e-6, 2e-6), (1e-6, 1e-3), (1e-3, 1e-6)])
def test_compiler_refuses_kernel_slower_than_either_ramp(triangle, rise, fall):
    drive = SawtoothConfig(tau_rise_s=rise, tau_fall_s=fall)
    with pytest.raises(ConfigError, match="tau_k_s"):
        compile_tcl(network.from_graph(triangle), drive=drive, cell=FeedbackCellConfig(tau_k_s=1e-5))


def test_generated_comments_are_written_as_they_read(monkeypatch):
    """Every comment of the generated decks (TCL cycle, phases, analog cell with noise, memristor, a drn with
    diodes, biases and amplifiers) is already in the comment alphabet, so the sanitiser changes nothing: no
    '(a - b)^2' written as '(a - b)_2'."""
    from tcl_circuits.config import CellKind, SimulatorConfig
    from tcl_circuits.spice import writer

    seen: list[str] = []

    def recording(text):
        seen.append(str(text))
        return comment(text)

    monkeypatch.setattr(writer, "comment", recording)
    analog = FeedbackCellConfig(
        kind=CellKind.ANALOG, threshold_v=None, noise_temperature_k=300.0, tau_k_s=2.5e-7
    )
    examples.triangle_tcl()
    examples.triangle_phases()
    examples.memristor_vteam_cycle()
    examples.cycle_netlist("lattice:3x3", cell=analog, sim=SimulatorConfig(node_capacitance_f=1.5e-12))
    examples.cycle_netlist("drn:2-3-2")
    assert len(seen) > 50
    garbled = [text for text in seen if comment(text) != "* " + text[:200]]
    assert garbled == []


def test_a_refused_deck_names_itself_the_line_and_the_element(triangle, drive, cell):
    """Should anything unsafe reach a deck, the error names the deck (its title), the line and the element."""
    import dataclasses

    from tcl_circuits.circuit.ir import Behavioural

    circuit = compile_tcl(
        network.from_graph(triangle), drive=drive, cell=cell, title="TCL cycle of net.edges"
    )
    bad = dataclasses.replace(circuit, elements=(*circuit.elements, Behavioural("x", "s0", "0", "V", "1;2")))
    with pytest.raises(NetlistError) as refused:
        write_netlist(bad)
    message = str(refused.value)
    assert message.startswith("the deck 'TCL cycle of net_edges': line ") and "'bx s0 0 V = 1;2'" in message
    assert "\n" not in message
