"""The documentation tells the truth about the code: README.md, docs/*.md and netlists/README.md name only
files that exist, and every ``tcl-circuits`` command line they show parses.

**Which words are repository paths.** Every word of a document is read (prose, inline code, code blocks,
link targets) as a run of ``[\\w.*<>-]`` characters and slashes; a leading ``./`` is dropped.

- A word with a folder part (``a/b``) is a repository path when its first segment is an entry of the
  repository's root (``tcl_circuits/...``, ``docs/...``, ``scripts/...``, ``netlists/...``, ``sweeps/...``,
  ``tests/...``), of the package (``learning/loop.py`` is ``tcl_circuits/learning/loop.py``) or of the
  document's own folder (``figures/window_map.png`` in docs/). It must exist; ``<name>`` and ``*`` match any
  name, and a module named without ``.py`` (``physics/quasistatic``, ``kernels/synapse.sawtooth_breakpoints``)
  needs its ``.py`` file. A first segment ``..`` points outside the repository and is an error.
- A first segment that the repository's .gitignore ignores (``runs/``, ``out/``, ``.venv/``) is where runs
  and scripts write: not a repository path. Any other word with a slash is not a path either (``ds/dt``,
  ``S²/V²``, ``DIR/``, ``<out>/.lock``, ``tcp://host:8786``).
- A bare file name (no folder) in prose or inline code with a file extension (``.py``, ``.md``, ``.toml``,
  ``.cir``, ``.json``, ``.jsonl``, ``.csv``, ``.png``, ``.npy``, ``.txt``) names a file a run writes when the
  package or a script spells that name (``"summary.json"``, ``"epochs.csv"``, ``"report.md"``); otherwise it
  must be the name of a file in the repository (``test_native_parity.py``, ``learning-at-scale.md``). A
  name in capitals other than README (``SPEC.toml``) is a placeholder, as in ``--help``. Bare names inside
  code blocks are command arguments the user chooses (``-o x.cir``) and are not checked.

**Which command lines parse.** Every line of a code block (fenced or indented) that starts with
``tcl-circuits``, joined with its ``\\`` continuation lines, ``#`` comments dropped. ``...`` stands for the
arguments of the block's first complete command with the same subcommand (``tcl-circuits train ...
--resume``). A command parses when ``cli.main.parse_command`` accepts it: the parser takes the flags and the
configuration they imply validates (a sweep spec is read and its points checked), with nothing simulated or
written. ``--config FILE`` names a saved run's config; when FILE is not in the repository (a run folder such
as ``runs/tcl/config.json``) the parser must accept the whole line, and the configuration is then checked
without the file, from the defaults and the other flags. Lines that run a repository script
(``./scripts/demo``, ``python scripts/soak.py``) must name one that exists, which the path rule covers.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest

from tcl_circuits.cli.main import build_parser, parse_command
from tcl_circuits.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tcl_circuits"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "netlists" / "README.md"]
EXTENSIONS = ("py", "md", "toml", "cir", "json", "jsonl", "csv", "png", "npy", "txt")

_WORD = re.compile(r"(?<![\w.*<>/-])[\w.*<>/-]+")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _doc_id(doc: Path) -> str:
    return str(doc.relative_to(ROOT))


def split_blocks(text: str) -> tuple[str, list[list[str]]]:
    """The prose of a markdown text (code blocks blanked) and its code blocks, fenced or indented by 4."""
    prose: list[str] = []
    blocks: list[list[str]] = []
    fenced: list[str] | None = None
    indented: list[str] | None = None
    previous_blank = True
    for line in text.splitlines():
        if fenced is not None:
            if _FENCE.match(line):
                blocks.append(fenced)
                fenced = None
            else:
                fenced.append(line)
            prose.append("")
            continue
        if _FENCE.match(line):
            fenced = []
            prose.append("")
            indented = None
            continue
        if line.startswith("    ") and line.strip() and (indented is not None or previous_blank):
            if indented is None:
                indented = []
                blocks.append(indented)
            indented.append(line[4:])
            prose.append("")
            continue
        if line.strip():
            indented = None
        previous_blank = not line.strip()
        prose.append(line)
    return "\n".join(prose), blocks


@cache
def ignored_folders() -> tuple[str, ...]:
    """The folder patterns .gitignore ignores (``runs/``, ``/out/``, ``__pycache__/``): where runs, scripts
    and tools write."""
    lines = (line.strip() for line in (ROOT / ".gitignore").read_text().splitlines())
    return tuple(line.strip("/") for line in lines if line.endswith("/") and not line.startswith("#"))


def _ignored(name: str) -> bool:
    return name.startswith(".") or any(fnmatch(name, pattern) for pattern in ignored_folders())


@cache
def repository_file_names() -> frozenset[str]:
    """The names of the repository's files (hidden and ignored folders left out)."""
    names = set()
    for _folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not _ignored(name)]
        names.update(files)
    return frozenset(names)


@cache
def names_the_code_writes() -> frozenset[str]:
    """Every file name a string of the package or the scripts spells out, alone or as the last part of a
    path (``"summary.json"``, ``out / "epochs.csv"``, ``f"{out}/report.md"``); text with spaces (docstrings,
    messages) does not count."""
    names = set()
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "scripts").glob("*.py")]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and not re.search(r"\s", node.value)
            ):
                names.add(node.value.rsplit("/", 1)[-1])
    return frozenset(names)


def _exists(base: Path, parts: list[str]) -> bool:
    """Whether the path ``parts`` exists under ``base``; ``<name>`` and ``*`` match any name, and a last part
    ``module.name`` without a known extension names ``module.py``."""
    parts = [p for p in parts if p]
    last = parts[-1] if parts else ""
    stem, dot, extension = last.partition(".")
    if dot and extension not in EXTENSIONS and extension.split(".")[-1] not in EXTENSIONS and stem:
        parts[-1] = stem + ".py"
    pattern = "/".join(re.sub(r"<[^>]*>", "*", p) for p in parts)
    if "*" in pattern:
        return any(base.glob(pattern))
    return (base / pattern).exists() or (not dot and (base / f"{pattern}.py").is_file())


def path_problem(word: str, doc: Path, *, in_code: bool) -> str | None:
    """Why ``word`` in ``doc`` names a repository path that does not exist (None: it exists, or is no path)."""
    word = word.rstrip(".")
    if word.startswith("./"):
        word = word[2:]
    if "/" in word:
        first, *rest = word.split("/")
        if first == "..":
            return f"{word}: points outside the repository"
        if _ignored(first) or not rest:
            return None
        for base in (ROOT, PACKAGE, doc.parent):
            if first and (base / first).exists():
                return None if _exists(base, [first, *rest]) else f"{word}: no such file or folder"
        return None
    stem, dot, extension = word.rpartition(".")
    if in_code or not dot or not stem or extension not in EXTENSIONS or "<" in word or "*" in word:
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", stem) and stem != "README":
        return None  # a placeholder in capitals, as --help's metavars (SPEC.toml)
    if word in names_the_code_writes():
        return None
    if word in repository_file_names():
        return None
    return f"{word}: no file of this name in the repository"


def path_problems(doc: Path) -> list[str]:
    prose, blocks = split_blocks(doc.read_text())
    problems = [
        problem for word in _WORD.findall(prose) if (problem := path_problem(word, doc, in_code=False))
    ]
    for block in blocks:
        for line in block:
            problems.extend(
                problem for word in _WORD.findall(line) if (problem := path_problem(word, doc, in_code=True))
            )
    return sorted(set(problems))


def command_lines(doc: Path) -> list[list[str]]:
    """The ``tcl-circuits`` command lines of ``doc``'s code blocks, as argv lists (program name dropped),
    ``...`` replaced by the arguments of the block's first complete command of the same subcommand."""
    _, blocks = split_blocks(doc.read_text())
    commands = []
    for block in blocks:
        complete: dict[str, list[str]] = {}
        joined: list[str] = []
        for line in block:
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1] + " " + line.strip()
            else:
                joined.append(line.strip())
        for line in joined:
            if line.startswith("$ "):
                line = line[2:]
            if not line.startswith("tcl-circuits "):
                continue
            argv = shlex.split(line, comments=True)[1:]
            command = argv[0]
            elided = [i for i, word in enumerate(argv) if word in ("...", "…")]
            if not elided:
                complete.setdefault(command, argv[1:])
            else:
                assert command in complete, f"{_doc_id(doc)}: {line!r} elides a command not shown before it"
                i = elided[0]
                argv = argv[:i] + complete[command] + argv[i + 1 :]
            commands.append(argv)
    return commands


def test_documents_are_found():
    assert len(DOCS) >= 10 and all(doc.is_file() for doc in DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=_doc_id)
def test_every_repository_path_a_document_names_exists(doc):
    assert path_problems(doc) == []


COMMANDS = [(doc, argv) for doc in DOCS for argv in command_lines(doc)]


def test_the_readme_shows_commands():
    assert sum(doc.name == "README.md" and doc.parent == ROOT for doc, _ in COMMANDS) >= 15


@pytest.mark.parametrize(
    ("doc", "argv"), COMMANDS, ids=[f"{_doc_id(d)}: {' '.join(a)[:60]}" for d, a in COMMANDS]
)
def test_every_command_line_a_document_shows_parses(doc, argv, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # files the commands name (sweeps/window_map.toml) are relative to a checkout
    checked = list(argv)
    for flag in ("--config", "--design"):
        if flag in checked and not Path(checked[checked.index(flag) + 1]).is_file():
            # a file a run or a search writes (runs/tcl/config.json, runs/design/recommended.toml): the whole
            # line must parse; the configuration is then checked without the file, from the defaults and the
            # other flags
            build_parser().parse_args(argv)
            i = checked.index(flag)
            checked = checked[:i] + checked[i + 2 :]
    try:
        resolved = parse_command(checked)
    except SystemExit as stop:
        pytest.fail(
            f"{_doc_id(doc)}: tcl-circuits {' '.join(argv)}: {capsys.readouterr().err.strip()} ({stop})"
        )
    except ConfigError as error:
        pytest.fail(f"{_doc_id(doc)}: tcl-circuits {' '.join(argv)}: {error}")
    assert resolved is not None


def test_the_path_rule():
    docs = ROOT / "docs" / "x.md"
    assert path_problem("tcl_circuits/learning/loop.py", docs, in_code=False) is None
    assert path_problem("learning/loop.py", docs, in_code=False) is None
    assert path_problem("kernels/synapse.sawtooth_breakpoints", docs, in_code=False) is None
    assert path_problem("figures/window_map.png", docs, in_code=False) is None
    assert path_problem("netlists/<name>.cir", docs, in_code=False) is None
    assert path_problem("physics/quasistatic", docs, in_code=True) is None
    assert path_problem("SPEC.toml", docs, in_code=False) is None
    assert path_problem("learning-at-scale.md", docs, in_code=False) is None
    assert path_problem("summary.json", docs, in_code=False) is None  # a file a run writes
    for not_a_path in ("runs/tcl/config.json", "out/devices", "ds/dt", "DIR/x.csv", "<out>/.lock", "x.cir"):
        assert path_problem(not_a_path, docs, in_code=not_a_path == "x.cir") is None, not_a_path
    for stale in ("tcl_circuits/devices.py", "learning/stream.py", "scripts/missing.py", "missing_module.py"):
        assert path_problem(stale, docs, in_code=False), stale
    assert path_problem("../shared/docs/physics.md", docs, in_code=False)


def test_commands_and_their_elisions_are_read_from_code_blocks(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Text `tcl-circuits train --bad` inline is not a command line.\n\n"
        "```\n"
        "tcl-circuits train --network lattice:3x3 \\\n    --epochs 2 --out runs/a   # a comment\n"
        "tcl-circuits train ... --resume\n"
        "./scripts/demo\n"
        "```\n\n"
        "    tcl-circuits compare --network lattice:3x3\n"
    )
    assert command_lines(doc) == [
        ["train", "--network", "lattice:3x3", "--epochs", "2", "--out", "runs/a"],
        ["train", "--network", "lattice:3x3", "--epochs", "2", "--out", "runs/a", "--resume"],
        ["compare", "--network", "lattice:3x3"],
    ]


def test_parse_command_validates_without_running(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = parse_command(["train", "--network", "lattice:3x3", "--epochs", "2", "--out", "run"])
    assert config.learning.epochs == 2 and config.task.network == "lattice:3x3"
    with pytest.raises(ConfigError, match="--tau-fall"):
        parse_command(["compile", "lattice:3x3", "--tau-rise", "1e-3", "--tau-fall", "1e-4"])
    with pytest.raises(ConfigError, match="--amplitude is required"):
        parse_command(["kernel", "update", "--tau-fast", "1", "--tau-slow", "9", "--threshold", "1"])
    with pytest.raises(SystemExit):
        parse_command(["train", "--epochs", "zero", "--out", "run"])
    assert "--epochs" in capsys.readouterr().err
    assert parse_command(["netlists", "check"]).is_dir()
    assert list(tmp_path.iterdir()) == []  # nothing written
