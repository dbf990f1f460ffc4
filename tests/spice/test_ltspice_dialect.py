"""compile --dialect ltspice: the same circuit in constructs LTspice documents, checked by running it in
ngspice's LTspice compatibility mode (``ltpsa``, set by the batch backend's .spiceinit, never by the deck)."""

import re

import numpy as np
import pytest

from tcl_circuits import examples
from tcl_circuits.backends.ngspice_batch import NgspiceBatchBackend
from tcl_circuits.config import CellKind, FeedbackCellConfig
from tcl_circuits.errors import SimulationError
from tcl_circuits.spice.syntax import Dialect, check_deck

ANALOG = FeedbackCellConfig(kind=CellKind.ANALOG, threshold_v=None)
DECKS = {
    # the reviewed decks' networks (netlists/), then the analog cell and a drn's diodes and amplifiers
    "triangle_tcl": (examples.triangle_tcl, "w"),
    "lattice3x3_tcl": (examples.lattice3x3_tcl, "w"),
    "memristor_vteam_cycle": (examples.memristor_vteam_cycle, "x"),
    "analog_lattice3x3": (lambda d: examples.cycle_netlist("lattice:3x3", cell=ANALOG, dialect=d).text, "w"),
    "drn_2_3_2": (lambda d: examples.cycle_netlist("drn:2-3-2", dialect=d).text, "w"),
}


def _elements(text: str) -> list[str]:
    return [line for line in text.splitlines()[1:] if not line.startswith("*")]


@pytest.mark.parametrize("deck", DECKS)
def test_ltspice_dialect_writes_only_ltspice_constructs(deck):
    generate, _ = DECKS[deck]
    ngspice, ltspice = generate(Dialect.NGSPICE), generate(Dialect.LTSPICE)
    check_deck(ltspice)
    lines = _elements(ltspice)
    assert not any("?" in line for line in lines)  # no ternary: if(c, a, b)
    assert not any(re.match(r"^b\w* \w+ \w+ [IV] = ", line) for line in lines)  # B sources as V=<expr>
    amplifiers = [line for line in lines if line.startswith("f")]
    assert all(line.split()[3].startswith("v") for line in amplifiers)  # F senses a voltage source
    if "?" in ngspice:
        assert "if(" in ltspice
    assert len(lines) == len(_elements(ngspice)) + len(amplifiers)


def test_ngspice_dialect_is_the_reviewed_decks():
    assert examples.triangle_tcl() == examples.triangle_tcl(Dialect.NGSPICE)
    assert examples.check() == {}


@pytest.mark.ngspice
@pytest.mark.parametrize("deck", DECKS)
def test_ltspice_deck_in_ngspice_lt_mode_gives_the_ngspice_updates(deck):
    """Every edge's accumulator (memristor: state) at the end of the cycle, LTspice form in ngspice's LTspice
    mode against the ngspice form: within 1e-6 relative of the largest (measured: 0 but for the drn's
    amplifiers, whose current sense is a 0 V source, 1.2e-11)."""
    generate, prefix = DECKS[deck]
    ngspice = NgspiceBatchBackend().run_netlist(generate(Dialect.NGSPICE), points=1000)
    ltspice = NgspiceBatchBackend(behavior="ltpsa").run_netlist(generate(Dialect.LTSPICE), points=1000)
    assert "Compatibility modes selected: ps lt a" in ltspice.log
    edges = sorted((k for k in ngspice.vectors if re.fullmatch(prefix + r"\d+", k)), key=lambda k: int(k[1:]))
    assert edges and edges == sorted(
        (k for k in ltspice.vectors if re.fullmatch(prefix + r"\d+", k)), key=lambda k: int(k[1:])
    )
    a = np.array([ngspice.vectors[k][-1] for k in edges])
    b = np.array([ltspice.vectors[k][-1] for k in edges])
    assert np.count_nonzero(a) >= 3
    assert np.max(np.abs(b - a)) <= 1e-6 * np.max(np.abs(a))


@pytest.mark.ngspice
def test_ltspice_deck_needs_the_compatibility_mode():
    """Control: plain ngspice has no if(), so the test above really ran the LTspice mode."""
    with pytest.raises(SimulationError) as refused:
        NgspiceBatchBackend().run_netlist(examples.triangle_tcl(Dialect.LTSPICE))
    assert "no such function 'if'" in refused.value.log


def test_batch_backend_takes_known_behaviors_only():
    with pytest.raises(SimulationError, match="ltpsa"):
        NgspiceBatchBackend(behavior="lt\nshell touch x")
