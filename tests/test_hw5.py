"""hw5 as a whole: every function task, the driven loops included, graded the same from
the notebook as from the .py files."""

from __future__ import annotations

from grader import manifest
from grader.build import notebook, student_files
from grader.grading import grade
from tests.conftest import REPO


def _function_scores(report):
    """(score, points) of every function task (Part B's run and leaderboards aside)."""
    hw5 = manifest.find("hw5", REPO)
    functions = {t.id for t in hw5.tasks if t.kind == "checks"}
    return {t.id: (t.score, t.points) for t in report.tasks if t.id in functions}


def test_the_notebook_grades_like_the_py_drivers_included(zygote, tmp_path):
    hw5 = manifest.find("hw5", REPO)
    solved = {f: path.read_text() for f, path in student_files(hw5).items()}
    path = tmp_path / "hw5.ipynb"
    path.write_text(notebook(hw5, solved))
    as_notebook = _function_scores(grade(hw5, path, zygote=zygote, run_program=False))
    assert len(as_notebook) == 9, as_notebook
    assert all(score == points for score, points in as_notebook.values()), as_notebook
    stubs = _function_scores(grade(hw5, hw5.directory / "hw5.ipynb", zygote=zygote, run_program=False))
    assert all(score == 0 for score, _ in stubs.values()), stubs
