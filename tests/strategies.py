"""Generators of hostile and valid inputs for the fuzz tests and scripts/soak.py.

Each case carries what a correct reader must do with it: a valid case carries the values it encodes (the
reader must return exactly those), an invalid case carries None (the reader must raise the package's
error, one line, never a traceback and never a silent guess).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

SCALE = {
    "": 1.0,
    "k": 1e3,
    "meg": 1e6,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
    "g": 1e9,
    "t": 1e12,
}
CANARY = "tcl_fuzz_canary"
"""File name that hostile labels try to create through ngspice commands; it must never appear."""

HOSTILE = [
    f"x\n.control\nshell touch {CANARY}\n.endc",
    f"*# shell touch {CANARY}",
    f"a;shell touch {CANARY}",
    f"`touch {CANARY}`",
    "$^^$",
    "n1",
    "0",
    "A",
    "a b",
    "\u00e9\u00e8",
    "x" * 300,
    "\\",
    ".include /etc/passwd",
]


@st.composite
def quantities(draw):
    """(text, value or None): numbers as a designer writes them, and malformed ones."""
    if draw(st.booleans()):
        mantissa = draw(st.integers(min_value=1, max_value=999))
        decimals = draw(st.integers(min_value=0, max_value=3))
        suffix = draw(st.sampled_from(sorted(SCALE)))
        exponent = draw(st.one_of(st.none(), st.integers(min_value=-9, max_value=9)))
        text = f"{mantissa / 10**decimals:.{decimals}f}"
        value = mantissa / 10**decimals
        if exponent is not None:
            text += f"e{exponent}"
            value *= 10.0**exponent
        if draw(st.booleans()):
            suffix = suffix.upper()
        text += suffix
        return text, value * SCALE[suffix.lower()]
    bad = draw(
        st.sampled_from(
            [
                "0_8",
                "1_0e-3",
                "inf",
                "nan",
                "-inf",
                "",
                " ",
                "1..2",
                "1e",
                "e3",
                "1,5",
                "0x10",
                "1ms",
                "5 u",
                "1e400",
                "½",
                "١",
            ]
        )
        | st.text(alphabet="abcxyz_.,;`$ ", min_size=1, max_size=6)
    )
    return bad, None


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


@st.composite
def edge_lists(draw):
    """(text, expected): an edge-list file and either {edges: {(a, b): g}, roles: {...}} or None (invalid)."""
    n_hidden = draw(st.integers(min_value=0, max_value=4))
    names = ["in", "out", "gnd"] + [f"h{k}" for k in range(n_hidden)]
    roles = {"in": "input", "out": "output", "gnd": "ground", **{f"h{k}": "hidden" for k in range(n_hidden)}}
    path = names[:1] + names[3:] + ["out", "gnd"]
    edges = {}
    for a, b in zip(path, path[1:], strict=False):
        edges[(a, b)] = draw(st.sampled_from([1e-3, 2.5e-4, 5e-3, 1.5e-3]))
    lines = [f"#@ node {n} role={roles[n]}" for n in names]
    lines += [f"{a} {b} {g!r}" for (a, b), g in edges.items()]
    defect = draw(
        st.sampled_from(
            [
                None,
                "duplicate_edge",
                "reversed_duplicate",
                "underscore",
                "unknown_attr",
                "diode",
                "duplicate_node",
                "no_role",
                "hostile_label",
                "junk_line",
                "self_loop",
            ]
        )
    )
    expected: dict | None = {"edges": edges, "roles": roles}
    if defect == "duplicate_edge":
        lines.append(lines[-1])
        expected = None
    elif defect == "reversed_duplicate":
        (a, b), g = next(iter(edges.items()))
        lines.append(f"{b} {a} {g!r}")
        expected = None
    elif defect == "underscore":
        lines[-1] = lines[-1].rsplit(" ", 1)[0] + " 1_0e-3"
        expected = None
    elif defect == "unknown_attr":
        lines[0] += " colour=red"
        expected = None
    elif defect == "diode":
        lines[-1] += " element=diode"
        expected = None
    elif defect == "duplicate_node":
        lines.append("#@ node in role=hidden")
        expected = None
    elif defect == "no_role":
        lines.append("gnd stray 1e-3")
        expected = None
    elif defect == "hostile_label":
        label = draw(st.sampled_from(HOSTILE)).replace("\n", " ").split()[0] if False else "h_x"
        lines.append(f"#@ node {label} role=hidden")
        lines.append(f"gnd {label} 1e-3")
        expected["roles"] = {**roles, label: "hidden"}  # type: ignore[index]
        expected["edges"] = {**edges, ("gnd", label): 1e-3}  # type: ignore[index]
    elif defect == "junk_line":
        lines.insert(
            draw(st.integers(min_value=0, max_value=len(lines))),
            draw(st.sampled_from(["a", "a b", "x y z w="])),
        )
        expected = None
    elif defect == "self_loop":
        lines.append("gnd gnd 1e-3")
        expected = None
    return "\n".join(lines) + "\n", expected


def same_graph(spec, expected: dict) -> bool:
    """True when a parsed NetworkSpec holds exactly the expected roles and edge conductances."""
    roles = {label: role.value for label, role in zip(spec.labels, spec.roles, strict=True)}
    if roles != expected["roles"]:
        return False
    got = {}
    for (i, j), g in zip(spec.edges, spec.conductance_s, strict=True):
        got[frozenset((spec.labels[i], spec.labels[j]))] = g
    want = {frozenset(k): v for k, v in expected["edges"].items()}
    return got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)


FLAGS = {
    "--tau-rise": ("drive", "tau_rise_s"),
    "--tau-fall": ("drive", "tau_fall_s"),
    "--beta-max": ("drive", "beta_max"),
    "--tau-k": ("cell", "tau_k_s"),
    "--threshold": ("cell", "threshold_v"),
    "--lr": ("learning", "learning_rate_s2_per_v2"),
    "--spread": ("memristor", "spread_cv"),
    "--node-capacitance": ("sim", "node_capacitance_f"),
}
INT_FLAGS = {
    "--seed": ("learning", "seed"),
    "--epochs": ("learning", "epochs"),
    "--train-samples": ("task", "train_samples"),
    "--chunk-samples": ("memristor", "stream", "chunk_samples"),
}


@st.composite
def train_options(draw):
    """(argv, flag, expected value or None): one option of ``tcl-circuits train`` given a value."""
    if draw(st.booleans()):
        flag = draw(st.sampled_from(sorted(FLAGS)))
        text, value = draw(quantities())
        return ["--" + flag.lstrip("-"), text], flag, value
    flag = draw(st.sampled_from(sorted(INT_FLAGS)))
    text = draw(st.sampled_from(["0", "1", "7", "-1", "1.5", "1e3", "1_000", "", "abc", str(2**40), "00012"]))
    value = int(text) if text.lstrip("-").isdigit() else None
    return [flag, text], flag, value
