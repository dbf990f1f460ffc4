"""Progress bars render as widgets in notebooks and as text in terminals: every tqdm comes from tqdm.auto."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_progress_bars_are_notebook_aware():
    plain = []
    for source in [*(ROOT / "tcl_circuits").rglob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.ImportFrom) and node.module == "tqdm":
                plain.append(f"{source.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(alias.name == "tqdm" for alias in node.names):
                plain.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    assert plain == [], "import tqdm from tqdm.auto"
