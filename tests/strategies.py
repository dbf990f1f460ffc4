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
    "µ": 1e-6,  # U+00B5 micro sign
    "μ": 1e-6,  # U+03BC Greek mu
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
    "g": 1e9,
    "t": 1e12,
}
UNITS = {"": [], "s": ["s", "S"], "V": ["v", "V"], "F": ["f", "F"], "ohm": ["ohm", "Ohm", "Ω", "Ω"]}
"""The unit symbols a number may end with, by the unit of the value it gives."""
CONFUSABLE = [
    "١",  # Arabic-Indic one: int() and float() read it as 1
    "١٠",
    "٣٢",
    "１",  # full-width one
    "１e-3",
    "1٠",
    "۱",  # extended Arabic-Indic one
    "१",  # Devanagari one
    "1K",  # Kelvin sign, which case-insensitive matching folds to k
    "1ſ",  # long s, folded to s
    "1Μ",  # Greek capital mu (not micro)
    "2−",  # minus sign
    "−1",
    "1·",
]
"""Characters that look like digits, signs or suffixes but are not ASCII: refused, never read."""
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
def quantities(draw, unit: str = ""):
    """(text, value or None): numbers as a designer writes them for a value in ``unit`` (a SPICE suffix, then
    perhaps the unit: ``1ms``), and malformed or ambiguous ones (``10MHz``, ``1f`` on farads)."""
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
        if suffix.isascii() and draw(st.booleans()):
            suffix = suffix.upper()
        symbol = draw(st.sampled_from(["", *UNITS[unit]]))
        text += suffix + symbol
        letters = {u.lower() for u in UNITS[unit]}
        if symbol and suffix == "M":  # SPICE reads 10MHz as millihertz: refused
            return text, None
        tail = (suffix + symbol).lower()
        if tail in letters & set(SCALE):  # 1f on farads: femto or farad, refused
            return text, None
        return text, value * SCALE[suffix.lower()]
    bad = draw(
        st.sampled_from(
            [
                "0_8",
                "1_0e-3",
                "1_0u",
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
                "1mx",
                "5 u",
                "1 ms",
                "1e400",
                "1e300t",
                "1e-400",
                "-1e-320",
                "1e-310",
                "1e-300f",
                "½",
                *CONFUSABLE,
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
                "outside_bounds",
                "micro_conductance",
                "resistance",
                "bare_suffix",
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
    elif defect == "outside_bounds":  # every conductance is >= 2.5e-4 S
        lines[-1] += draw(st.sampled_from([" g_max=1e-4", " g_min=1e-2 g_max=2e-2"]))
        expected = None
    elif defect == "micro_conductance":  # 500 µS, written with either micro character and the unit
        (a, b), _ = list(edges.items())[-1]
        lines[-1] = f"{a} {b} 500{draw(st.sampled_from(['µS', 'μs', 'uS']))}"
        expected["edges"] = {**edges, (a, b): 5e-4}  # type: ignore[index]
    elif defect == "resistance":  # 2 kΩ, a resistance by its unit: 0.5 mS
        (a, b), _ = list(edges.items())[-1]
        lines[-1] = f"{a} {b} 2{draw(st.sampled_from(['kohm', 'kOhm', 'kΩ', 'kΩ', '000ohm']))}"
        expected["edges"] = {**edges, (a, b): 5e-4}  # type: ignore[index]
    elif defect == "bare_suffix":  # 1 kΩ to a SPICE user, 1 kS to the file: refused, not guessed
        (a, b), _ = list(edges.items())[-1]
        lines[-1] = f"{a} {b} {draw(st.sampled_from(['1k', '500u', '500µ', '500μ', '2m', '1meg', '0ohm']))}"
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


FLAG_UNITS = {
    "--tau-rise": "s",
    "--tau-fall": "s",
    "--tau-k": "s",
    "--threshold": "V",
    "--node-capacitance": "F",
}
"""The unit each of FLAGS takes after its number (the others take none)."""


@st.composite
def train_options(draw):
    """(argv, flag, expected value or None): one option of ``tcl-circuits train`` given a value."""
    if draw(st.booleans()):
        flag = draw(st.sampled_from(sorted(FLAGS)))
        text, value = draw(quantities(FLAG_UNITS.get(flag, "")))
        return ["--" + flag.lstrip("-"), text], flag, value
    flag = draw(st.sampled_from(sorted(INT_FLAGS)))
    text = draw(
        st.sampled_from(
            ["0", "1", "7", "-1", "1.5", "1e3", "1_000", "", "abc", str(2**40), "00012", "1_0", *CONFUSABLE]
        )
    )
    value = int(text) if text.isascii() and text.lstrip("-").isdigit() else None
    return [flag, text], flag, value


# --- MNIST IDX folders ---------------------------------------------------------------------------------
@st.composite
def sweep_settings(draw):
    """(argv, flag, expected value or None): one ``sweep --set KEY=VALUE``, the value drawn as
    ``train_options`` draws it for the field's flag (``flag`` names the field), or a malformed setting."""
    (_, text), flag, value = draw(train_options())
    key = ".".join((FLAGS | INT_FLAGS)[flag])
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        bad = [
            key,
            f"{key}=",
            f"={text}",
            f"{key}.x={text}",
            f"{key.split('.')[0]}={text}",
            f"no.such={text}",
        ]
        return ["--set", draw(st.sampled_from(bad))], flag, None
    return ["--set", f"{key}={text}"], flag, value


SWEEP_SPEC = "[base]\n"
"""The spec ``sweep_settings`` are applied to: the default run, no axis."""


def idx_bytes(array, *, dims=None, gz=False) -> bytes:
    """An IDX file of unsigned bytes holding ``array`` (``dims`` overrides the header's dimension count)."""
    import gzip
    import struct

    import numpy as np

    array = np.asarray(array)
    ndim = array.ndim if dims is None else dims
    shape = list(array.shape) + [1] * max(0, ndim - array.ndim)
    raw = bytes([0, 0, 8, ndim]) + struct.pack(f">{ndim}I", *shape[:ndim]) + array.astype(np.uint8).tobytes()
    return gzip.compress(raw) if gz else raw


IDX_DEFECTS = [
    None,
    "standard_split",
    "zero_images",
    "zero_train_images",
    "absurd_dimensions",
    "two_dimensional_images",
    "small_train_images",
    "train_images_without_labels",
    "train_labels_without_images",
    "raw_and_gz",
    "truncated",
    "bad_magic",
    "bad_gzip",
    "label_ten",
    "count_mismatch",
    "too_few_test_images",
]


@st.composite
def idx_folders(draw):
    """({file name: bytes}, defect, expected (train, test) sizes or None): an MNIST folder for
    ``datasets.mnist(folder, train=20, test=6)``."""
    import gzip

    import numpy as np

    defect = draw(st.sampled_from(IDX_DEFECTS))
    gz = draw(st.booleans())
    suffix = ".gz" if gz else ""
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**16)))
    x, y = rng.integers(0, 256, (30, 28, 28)), rng.integers(0, 10, 30)
    files = {
        f"t10k-images-idx3-ubyte{suffix}": idx_bytes(x, gz=gz),
        f"t10k-labels-idx1-ubyte{suffix}": idx_bytes(y, gz=gz),
    }
    expected: tuple | None = None
    train_x, train_y = rng.integers(0, 256, (25, 28, 28)), rng.integers(0, 10, 25)
    if defect is None:
        expected = (20, 6)
    elif defect == "standard_split":
        files["train-images-idx3-ubyte"] = idx_bytes(train_x)
        files["train-labels-idx1-ubyte"] = idx_bytes(train_y)
        expected = (20, 6)
    elif defect == "zero_images":
        files[f"t10k-images-idx3-ubyte{suffix}"] = idx_bytes(np.zeros((0, 28, 28)), gz=gz)
        files[f"t10k-labels-idx1-ubyte{suffix}"] = idx_bytes(np.zeros(0), gz=gz)
    elif defect == "zero_train_images":
        files["train-images-idx3-ubyte"] = idx_bytes(np.zeros((0, 28, 28)))
        files["train-labels-idx1-ubyte"] = idx_bytes(np.zeros(0))
    elif defect == "absurd_dimensions":
        files[f"t10k-images-idx3-ubyte{suffix}"] = idx_bytes(
            np.zeros(1), dims=draw(st.sampled_from([4, 9, 64, 255])), gz=gz
        )
    elif defect == "two_dimensional_images":
        files[f"t10k-images-idx3-ubyte{suffix}"] = idx_bytes(x.reshape(30, -1), gz=gz)
    elif defect == "small_train_images":
        files["train-images-idx3-ubyte"] = idx_bytes(train_x[:, :8, :8])
        files["train-labels-idx1-ubyte"] = idx_bytes(train_y)
    elif defect == "train_images_without_labels":
        files["train-images-idx3-ubyte"] = idx_bytes(train_x)
    elif defect == "train_labels_without_images":
        files["train-labels-idx1-ubyte"] = idx_bytes(train_y)
    elif defect == "raw_and_gz":
        files["t10k-images-idx3-ubyte"] = idx_bytes(x)
        files["t10k-images-idx3-ubyte.gz"] = idx_bytes(x, gz=True)
    elif defect == "truncated":
        raw = idx_bytes(x)
        cut = raw[: draw(st.integers(min_value=0, max_value=len(raw) - 1))]
        files[f"t10k-images-idx3-ubyte{suffix}"] = gzip.compress(cut) if gz else cut
    elif defect == "bad_magic":
        files[f"t10k-labels-idx1-ubyte{suffix}"] = b"\x00\x00\x0d\x01" + b"\x00" * 8
    elif defect == "bad_gzip":
        files["t10k-images-idx3-ubyte"] = b"\x1f\x8bnot gzip"
        files.pop("t10k-images-idx3-ubyte.gz", None)
    elif defect == "label_ten":
        files[f"t10k-labels-idx1-ubyte{suffix}"] = idx_bytes(np.full(30, 10), gz=gz)
    elif defect == "count_mismatch":
        files[f"t10k-labels-idx1-ubyte{suffix}"] = idx_bytes(y[:29], gz=gz)
    elif defect == "too_few_test_images":
        files["train-images-idx3-ubyte"] = idx_bytes(train_x)
        files["train-labels-idx1-ubyte"] = idx_bytes(train_y)
        files[f"t10k-images-idx3-ubyte{suffix}"] = idx_bytes(x[:5], gz=gz)
        files[f"t10k-labels-idx1-ubyte{suffix}"] = idx_bytes(y[:5], gz=gz)
    return files, defect, expected


# --- element values in graphs ------------------------------------------------------------------------
ELEMENT_VALUES = {
    "gain": [
        ("4", 4.0),
        ("-4", -4.0),
        ("1meg", 1e6),
        ("2μ", 2e-6),
        ("1µ", 1e-6),
        ("1e200", None),
        ("-1e7", None),
        ("1e-9", None),
        ("0", None),
        ("inf", None),
        ("1_0", None),
        ("١", None),
        ("1e-320", None),
    ],
    "rs_ohm": [
        ("10", 10.0),
        ("1μ", 1e-6),
        ("1e-300", 1e-300),
        ("2.2kohm", 2.2e3),
        ("1e-320", None),
        ("0", None),
        ("-1", None),
        ("1e400", None),
        ("1_0", None),
        ("١", None),
    ],
    "is_a": [("1e-14", 1e-14), ("1fA", 1e-15), ("1e-400", None), ("0", None), ("nan", None)],
    "n": [("1", 1.0), ("1.5", 1.5), ("0", None), ("1e-320", None), ("１", None)],
}
"""(text, value or None) for an amplifier's gain and a diode's attributes, as a graph file gives them."""


@st.composite
def element_values(draw):
    """(attribute, text, value or None): one amplifier or diode attribute of a drn:2-3-2 set to a text."""
    name = draw(st.sampled_from(sorted(ELEMENT_VALUES)))
    text, value = draw(st.sampled_from(ELEMENT_VALUES[name]))
    return name, text, value


def drn_with(name: str, text: str):
    """drn:2-3-2 with every amplifier's gain (keeping its sign) or every diode's ``name`` set to ``text``."""
    from tcl_circuits import network

    graph = network.build("drn:2-3-2", seed=2)
    for _, data in graph.nodes(data=True):
        if name == "gain" and data.get("role") == "amplified":
            data["gain"] = text
    for _, _, data in graph.edges(data=True):
        if name != "gain" and data.get("element") == "diode":
            data[name] = text
    return graph


# --- config files and run.json --------------------------------------------------------------------------
CONFIG_CASES = [
    ('{"learning": {"epochs": 3}}', ("learning", "epochs", 3)),
    ('{"config": {"learning": {"epochs": 4}}}', ("learning", "epochs", 4)),
    (
        '{"cell": {"group_thresholds_v": []}}',
        ("cell", "tau_k_s", 5e-7),
    ),  # a retired setting at its old default
    ('{"cell": {"group_thresholds_v": [["w1", 2e-5]]}}', None),
    ('{"drive": {"tau_fall_s": 1e-3}}', ("drive", "tau_fall_s", 1e-3)),
    ('{"learning": {"epochs": 2, "epochs": 3}}', None),
    ('{"config": {}, "config": {}}', None),
    ('{"cell": {"group_thresholds_v": [["a", "x"]]}}', None),
    ('{"cell": {"group_thresholds_v": "abc"}}', None),
    ('{"cell": {"group_thresholds_v": [[1, 2, 3]]}}', None),
    ('{"cell": {"group_thresholds_v": [["a"]]}}', None),
    ('{"cell": {"group_thresholds_v": [["a", -1]]}}', None),
    ('{"cell": {"group_thresholds_v": [["a", 1e-5], ["a", 2e-5]]}}', None),
    ('{"cell": {"group_thresholds_v": {"a": 1}}}', None),
    ('{"cell": {"group_thresholds_v": [["a", NaN]]}}', None),
    ('{"cell": {"group_thresholds_v": [["a", true]]}}', None),
    ('{"cell": 5}', None),
    ('{"cell": {"tau_k_s": "1u"}}', None),
    ('{"learning": {"epochs": 1.5}}', None),
    ('{"learning": {"epochs": true}}', None),
    ('{"task": {"diode_rs_ohm": 1e-320}}', None),
    ('{"drive": {"tau_fall_s": 1e300}}', None),
    ('{"drive": {"tau_fall_s": Infinity}}', None),
    ('{"nonsense": 1}', None),
    ("[1]", None),
    ("1", None),
    ('"abc"', None),
    ("null", None),
    ("{", None),
    ("", None),
]
"""(JSON text of a --config file, (table, field, value) it sets or None when it must be refused)."""

RUN_JSON_CASES = [
    "[1]",
    "1",
    "null",
    '"run"',
    "{}",
    '{"fingerprint": [1]}',
    '{"fingerprint": null}',
    '{"fingerprint": "x"}',
    '{"fingerprint": {"config": {}}, "fingerprint": {"config": {}}}',
    "{",
    "",
    "\\u0000",
    '{"fingerprint": {"config": {"learning": {"epochs": 99}}}}',
]
"""Contents of a damaged or foreign run.json: ``train --resume`` must refuse every one in one line."""


# --- readers of the cases above: "accepted", "refused" or "misread: ..."; any other exception is a traceback
def read_idx_folder(case, folder) -> str:
    """Write an idx_folders() case into the empty ``folder`` and read it as ``--data``."""
    from tcl_circuits.errors import TclCircuitsError
    from tcl_circuits.learning import datasets

    files, defect, expected = case
    for name, data in files.items():
        (folder / name).write_bytes(data)
    try:
        data = datasets.mnist(folder, train=20, test=6)
    except TclCircuitsError as error:
        if "\n" in str(error):
            return f"misread: {defect}: a message of several lines"
        return "refused" if expected is None else f"misread: {defect} refused ({error})"
    if expected is None:
        return f"misread: {defect} accepted"
    if (len(data.x_train), len(data.x_test)) != expected or data.x_train.shape[1] != data.x_test.shape[1]:
        return f"misread: {defect} read as {data.x_train.shape} / {data.x_test.shape}"
    return "accepted"


def read_element_value(case) -> str:
    """Build the element_values() case's graph and read it; the value must come back exactly or be refused."""
    from tcl_circuits import network
    from tcl_circuits.errors import TclCircuitsError

    name, text, value = case
    try:
        spec = network.from_graph(drn_with(name, text))
    except TclCircuitsError as error:
        if "\n" in str(error):
            return f"misread: {name}={text}: a message of several lines"
        return "refused" if value is None else f"misread: {name}={text} refused ({error})"
    if value is None:
        return f"misread: {name}={text} accepted"
    got = abs(spec.amplifiers[0].gain) if name == "gain" else getattr(spec.diodes[0], name)
    return "accepted" if _same(got, abs(value)) else f"misread: {name}={text} read as {got!r}"


def read_config_file(case, path) -> str:
    """Write a CONFIG_CASES entry to ``path`` and load it as ``--config``."""
    from tcl_circuits.cli.output import load_config_file as _load_config_file
    from tcl_circuits.errors import TclCircuitsError

    text, expected = case
    path.write_text(text)
    try:
        config = _load_config_file(str(path))
    except TclCircuitsError as error:
        if "\n" in str(error):
            return f"misread: {text}: a message of several lines"
        return "refused" if expected is None else f"misread: {text} refused ({error})"
    if expected is None:
        return f"misread: {text} accepted"
    table, name, value = expected
    got = getattr(getattr(config, table), name)
    return "accepted" if got == value else f"misread: {text} read as {got!r}"


RUN_FINGERPRINT = {"config": {"a": 1}, "data_sha256": "x", "code_version": "0"}


def read_run_json(text, folder) -> str:
    """Write ``text`` as the run.json of the empty ``folder`` and resume from it: it must be refused."""
    from tcl_circuits.errors import TclCircuitsError
    from tcl_circuits.learning.run_folder import RunFolder

    (folder / "run.json").write_text(text)
    try:
        RunFolder(folder, RUN_FINGERPRINT, resume=True).close()
    except TclCircuitsError as error:
        return "refused" if "\n" not in str(error) else f"misread: {text}: a message of several lines"
    return f"misread: run.json {text!r} accepted"
