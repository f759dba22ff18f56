"""The trusted pytest run loads nothing of the student's: no conftest.py from the
checkout around the bundle, no options or plugins from the environment."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from grader import manifest, release
from grader.cli import main
from tests.conftest import REPO

# Loaded by pytest, this would turn every value comparison into a pass and leave a mark.
CHEAT = """
import pathlib
pathlib.Path({mark!r}).write_text("conftest ran in the trusted process")
import grader.checks, grader.gradcheck
grader.checks.assert_close = lambda *a, **k: None
grader.gradcheck.assert_gradients = lambda *a, **k: None
"""
ZEROS = "import torch\n\ndef __getattr__(name):\n    return lambda *a, **k: torch.zeros(1)\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release.ship(manifest.find("hw2", REPO), tmp_path_factory.mktemp("dist"))


def _checkout(bundle, tmp_path):
    """A CI runner's layout: the student's clone, the bundle checked out inside it, and
    a conftest.py planted at every level above the bundle's checks."""
    student, autograder = bundle
    repo = tmp_path / "repo"
    shutil.copytree(student, repo)
    (repo / "assignments" / "hw2" / "layers.py").write_text(ZEROS)  # earns points only if comparisons are patched
    shutil.copytree(autograder, repo / "autograder")
    marks = []
    # above the bundle (the runner's workspace, the student's clone) and the student's own tests folder
    for level in (tmp_path, repo, repo / "assignments" / "hw2" / "tests"):
        mark = tmp_path / "marks" / f"mark-{len(marks)}"
        mark.parent.mkdir(exist_ok=True)
        (level / "conftest.py").write_text(CHEAT.format(mark=str(mark)))
        marks.append(mark)
    return repo, marks


@pytest.mark.parametrize("private", [True, False], ids=["private-copy", "in-place"])
def test_a_conftest_around_the_bundle_never_runs(bundle, tmp_path, monkeypatch, private):
    """In place is how a non-root grader reads the bundle (root reads a private copy)."""
    from grader import private_copy

    if not private:
        monkeypatch.setattr(private_copy, "needed", lambda: False)
    repo, marks = _checkout(bundle, tmp_path)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["hw2", "--root", str(repo), "--hidden", "autograder", "--format", "json"], catch_exceptions=False)
    data = json.loads(result.output)
    assert data["score"] == 0, "zeros scored: a planted conftest.py ran in the trusted process"
    assert [m for m in marks if m.exists()] == []


def test_pytest_options_from_the_environment_are_ignored(bundle, tmp_path, monkeypatch):
    repo, marks = _checkout(bundle, tmp_path)
    plugin = tmp_path / "cheatplugin.py"
    plugin.write_text(CHEAT.format(mark=str(tmp_path / "mark-env")))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTEST_PLUGINS", "cheatplugin")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p cheatplugin")
    result = CliRunner().invoke(main, ["hw2", "--root", str(repo), "--hidden", str(repo / "autograder"), "--format", "json"], catch_exceptions=False)
    assert json.loads(result.output)["score"] == 0
    assert not (tmp_path / "mark-env").exists()
