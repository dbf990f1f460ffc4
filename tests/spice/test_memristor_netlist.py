"""The SPICE form of memristor cells: expressions agree with the numpy device physics in ngspice, decks are
safe with hostile labels, and the reviewed example netlist runs standalone and shows one learning cycle."""

import re
import subprocess
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from tcl_circuits.devices import (
    BIOLEK_2009,
    JOGLEKAR_2009,
    LINEAR_DRIFT_STRUKOV_2008,
    VTEAM_KVATINSKY_2015,
    YAKOPCIC_2011,
)
from tcl_circuits.examples import memristor_cycle
from tcl_circuits.spice.memristor_cells import read_current, state_rate
from tcl_circuits.spice.syntax import check_deck, number

NETLISTS = Path(__file__).parents[2] / "netlists"


def _deck(device, drive_points, x0, v_read, stop):
    pwl = " ".join(f"{number(t)} {number(v)}" for t, v in drive_points)
    lines = [
        "device expression check",
        f"vp p 0 PWL({pwl})",
        f"bx 0 x I = {state_rate(device, 'v(p)', 'v(x)')}",
        "cx x 0 1",
        f"vr a 0 DC {number(v_read)}",
        f"bm a 0 I = {read_current(device, '(v(a)-0)', 'v(x)')}",
        f".ic v(x)={number(x0)}",
        ".options reltol=1e-6",
        f".tran {number(stop / 600)} {number(stop)} 0 {number(stop / 600)}",
        ".end",
    ]
    text = "\n".join(lines) + "\n"
    check_deck(text)
    return text


CASES = [
    (
        VTEAM_KVATINSKY_2015.with_rate_trim(6e-4, 3e-8),
        [(0, 0.0), (2e-3, 0.06), (4e-3, -0.5), (6e-3, 0.0)],
        0.4,
        0.05,
    ),
    (
        LINEAR_DRIFT_STRUKOV_2008.with_rate_trim(5.0, 5.0),
        [(0, 0.0), (2e-3, 2e-3), (4e-3, -3e-3), (6e-3, 0.0)],
        0.3,
        1.0,
    ),
    (BIOLEK_2009.with_rate_trim(5.0, 5.0), [(0, 0.0), (2e-3, 3e-3), (4e-3, -3e-3), (6e-3, 0.0)], 0.3, 1.0),
    (
        JOGLEKAR_2009.with_rate_trim(5.0, 5.0),
        [(0, 0.0), (2e-3, 3e-3), (4e-3, -3e-3), (6e-3, 0.0)],
        0.3,
        1.0,
    ),
    (YAKOPCIC_2011.with_rate_trim(0.05, 0.2), [(0, 0.0), (2e-3, 0.5), (4e-3, -0.5), (6e-3, 0.0)], 0.4, 0.3),
]


@pytest.mark.ngspice
@pytest.mark.parametrize(
    "device, points, x0, v_read", CASES, ids=["vteam", "hp", "biolek", "joglekar", "yakopcic"]
)
def test_spice_state_equation_and_read_current_match_numpy(ngspice, device, points, x0, v_read):
    result = ngspice.run_netlist(_deck(device, points, x0, v_read, 6e-3))
    t_pts, v_pts = zip(*points, strict=True)
    sol = solve_ivp(
        lambda t, x: device.rate_per_s(np.array([np.interp(t, t_pts, v_pts)]), x),
        (0, 6e-3),
        [x0],
        rtol=1e-10,
        atol=1e-12,
        max_step=1e-6,
        dense_output=True,
    )
    t = result.axis
    x_spice = result.v("x")
    x_ref = sol.sol(t)[0]
    assert np.ptp(x_ref) > 0.02  # the drive really moves the state
    np.testing.assert_allclose(x_spice, x_ref, atol=2e-3 * np.ptp(x_ref))
    current = -result.vectors["vr#branch"]
    np.testing.assert_allclose(current, device.current_a(np.full_like(t, v_read), x_spice), rtol=1e-5)


def test_cell_lines_name_every_part_from_the_index_and_keep_labels_in_comments():
    g = nx.Graph()
    hostile = "x\n.control\nshell touch /tmp/pwned\n.endc"
    g.add_node(hostile, role="input", voltage=1.0)
    g.add_node("h;`rm`", role="hidden")
    g.add_node("out", role="output", target=0.3)
    g.add_node("g", role="ground")
    for a, b in ((hostile, "h;`rm`"), ("h;`rm`", "out"), ("out", "g"), ("h;`rm`", "g")):
        g.add_edge(a, b, conductance=1e-3)
    text, _ = memristor_cycle(graph=g)
    check_deck(text)
    for line in text.splitlines():
        if not line.startswith("*"):
            assert "pwned" not in line and "rm" not in line.replace("rk", "")
    assert re.search(r"^bm0 n0 n1 I = ", text, re.M)
    assert re.search(r"^bx3 0 x3 I = ", text, re.M)
    assert re.search(r"^\.ic v\(x0\)=", text, re.M)


@pytest.mark.ngspice
def test_example_netlist_is_current_and_shows_one_learning_cycle():
    deck = NETLISTS / "memristor_vteam_cycle.cir"
    _, expected = memristor_cycle()  # examples.check (tests/test_netlists_dir.py) holds the deck to this code
    run = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True, timeout=120)
    assert "Error" not in run.stdout + run.stderr
    m = {k: float(v) for k, v in re.findall(r"^(\w+)\s+=\s+(\S+)", run.stdout, re.M)}
    before = np.array([m[f"x{e}_before"] for e in range(4)])
    after = np.array([m[f"x{e}_after"] for e in range(4)])
    np.testing.assert_allclose(before, expected["states_before"], rtol=1e-6)  # .meas prints 7 digits
    moved = np.abs(after - before) > 1e-5
    assert moved.sum() >= 3 and expected["loop_gain"] < 1
    # the state moves so that G follows -(s_clamped - s_free): VTEAM's G falls as x rises
    sign = np.sign(after - before)[moved]
    np.testing.assert_array_equal(sign, np.sign(expected["contrast"])[moved])
