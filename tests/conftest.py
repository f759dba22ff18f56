"""Shared fixtures: a small course copy with tight limits, and one zygote for the session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SECRET = "grader-secret-value-7f3a"
# The grader's own environment holds a secret (as CI does); no worker may see it.
os.environ["GRADER_TEST_SECRET_TOKEN"] = SECRET

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def zygote():
    """The backend grading uses here (GRADER_BACKEND=spawn forces the portable one)."""
    from grader.sandbox.backend import start

    z = start()
    yield z
    z.close()


@pytest.fixture(scope="session")
def fork_zygote():
    """The Linux fork backend, whatever GRADER_BACKEND says: for tests of its sandbox."""
    from grader.sandbox.backend import start

    z = start("fork")
    yield z
    z.close()


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A copy of hw1 part A whose limits are tight enough to test quickly (1 s calls, 1 GiB)."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "assignments" / "hw1", root / "assignments" / "hw1")
    shutil.copytree(REPO / "reference" / "hw1", root / "reference" / "hw1")
    manifest = root / "assignments" / "hw1" / "assignment.toml"
    text = manifest.read_text()
    text = text.replace("call_timeout = 10", "call_timeout = 1").replace("memory_mb = 2048", "memory_mb = 1024")
    # part A only: part B's training run has tests of its own (test_competition*.py)
    manifest.write_text(text.split("\n# Part B:")[0] + "\n")
    return root


@pytest.fixture(scope="session")
def hw1(course):
    from grader import manifest

    return manifest.find("hw1", course)


@pytest.fixture
def grade_source(hw1, zygote, tmp_path):
    """Grade a regression.py with the given source; public checks only unless hidden=True."""
    from grader.grading import grade

    def run(source: str, *, hidden: bool = False, name: str = "regression.py"):
        path = tmp_path / name
        path.write_text(source)
        return grade(hw1, path, include_hidden=hidden, zygote=zygote)

    return run


@pytest.fixture(scope="session")
def reference_source() -> str:
    return (REPO / "reference" / "hw1" / "regression.py").read_text()


@pytest.fixture
def grade_file(zygote, tmp_path):
    """``grade_file(assignment, source)``: grade ``source`` as the assignment's student file."""
    from grader.grading import grade

    def run(assignment, source: str):
        path = tmp_path / assignment.files[0]
        path.write_text(source)
        return grade(assignment, path, zygote=zygote)

    return run


def task_scores(report) -> dict[str, float]:
    return {t.id: t.score for t in report.tasks}


def task_points(report) -> dict[str, float]:
    return {t.id: t.points for t in report.tasks}
