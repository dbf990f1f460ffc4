"""The README's "Use it from Python" block runs as written."""

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_python_example_in_the_readme_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    section = text.split("## Use it from Python", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)  # the block writes its run folder relative to the working directory
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["summary"]["samples"] == 40
    assert (tmp_path / "runs" / "readme" / "summary.json").is_file()
    assert (
        namespace["update"].shape == (12,) and ".tran" in namespace["deck"] and "bs11 " in namespace["deck"]
    )
    assert float(capsys.readouterr().out) == namespace["summary"]["loss_ratio"]
    assert namespace["curve"].iloc[-1] == namespace["summary"]["final_test_loss"]


def test_every_public_name_resolves():
    import tcl_circuits

    for name in tcl_circuits.__all__:
        assert getattr(tcl_circuits, name) is not None, name
