"""Submissions as a notebook, a .py of any name, or a folder all go down one path."""

from __future__ import annotations

import nbformat
import pytest

from grader import submission
from grader.errors import SubmissionError
from tests.conftest import REPO


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# HW1")] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def test_notebook_with_magics_grades_like_the_py(grade_source, reference_source, tmp_path, hw1, zygote):
    from grader.grading import grade

    cells = ["%matplotlib inline\n!pip install nothing\nimport torch", "%%time\nx = 1", reference_source]
    path = tmp_path / "hw1.ipynb"
    path.write_text(_notebook(cells))
    nb_report = grade(hw1, path, zygote=zygote)
    py_report = grade_source(reference_source, hidden=True)
    assert nb_report.score == py_report.score == 6
    assert [c.status for c in nb_report.checks] == [c.status for c in py_report.checks]


def test_notebook_syntax_error_names_the_cell(tmp_path, hw1, zygote):
    from grader.grading import grade

    cells = ["import torch", "def predict(x, w, b):\n    return x @ w +\n"]
    path = tmp_path / "hw1.ipynb"
    path.write_text(_notebook(cells))
    report = grade(hw1, path, include_hidden=False, zygote=zygote)
    assert report.score == 0
    message = report.checks[0].message
    assert message.startswith("hw1.ipynb has a syntax error in cell 3, line 2"), message


def test_missing_function_in_notebook(tmp_path, hw1, zygote):
    from grader.grading import grade

    path = tmp_path / "hw1.ipynb"
    path.write_text(_notebook(["import torch\ndef predict(x, w, b):\n    return x @ w + b"]))
    report = grade(hw1, path, include_hidden=False, zygote=zygote)
    by_name = {c.name: c for c in report.checks}
    assert by_name["test_predict_small_example"].status == "pass"
    assert by_name["test_mse_small_example"].message == "`mse_loss` is not defined in hw1.ipynb (define it in a code cell)"


def test_missing_function_in_py(grade_source, reference_source):
    source = reference_source.replace("def mse_loss(", "def mse_loss_renamed(")
    report = grade_source(source)
    check = next(c for c in report.checks if c.name == "test_mse_small_example")
    assert check.message == "`mse_loss` is not defined in regression.py"


def test_exception_names_student_line(grade_source, reference_source):
    report = grade_source(reference_source.replace("return (pred - y).abs().mean()", "return (pred - y).abs().mean() / 0 + None"))
    check = next(c for c in report.checks if c.name == "test_mae_small_example")
    assert check.message.startswith("`mae_loss` raised TypeError") and "regression.py, line" in check.message


def test_subtly_wrong_loses_points_on_the_right_task(grade_source, reference_source):
    wrong = reference_source.replace("dw = 2.0 * (x.T @ err) / n", "dw = (x.T @ err) / n")
    report = grade_source(wrong, hidden=True)
    scores = {t.id: t.score for t in report.tasks}
    assert scores["gradients"] < 2 and scores["predict"] == 1 and scores["losses"] == 1


def test_bad_notebook_is_one_line(tmp_path, hw1):
    path = tmp_path / "hw1.ipynb"
    path.write_text("{not json")
    with pytest.raises(SubmissionError, match=r"^hw1.ipynb is not a valid Jupyter notebook"):
        submission.load(path, hw1)


def test_unknown_kind_is_refused(tmp_path, hw1):
    path = tmp_path / "answer.txt"
    path.write_text("x")
    with pytest.raises(SubmissionError, match="submit a folder, a .py file or a .ipynb notebook"):
        submission.load(path, hw1)


def test_folder_skips_links(tmp_path, hw1):
    (tmp_path / "regression.py").write_text("x = 1")
    (tmp_path / "leak.py").symlink_to(REPO / "reference" / "hw1" / "regression.py")
    sub = submission.load(tmp_path, hw1)
    assert [rel for rel, _ in sub.files] == ["regression.py"]


def test_slow_notebook_import_says_to_guard_training(tmp_path, hw1, zygote):
    from grader.grading import grade

    cells = ["import time\ntime.sleep(30)  # training at the top level", "def predict(x, w, b):\n    return x @ w + b"]
    path = tmp_path / "hw1.ipynb"
    path.write_text(_notebook(cells))
    report = grade(hw1, path, include_hidden=False, zygote=zygote)
    message = next(c for c in report.checks if c.task == "predict").message
    assert "took longer than 1 s to import" in message and 'if __name__ == "__main__":' in message, message


def test_a_cached_import_failure_does_not_grow_its_traceback(tmp_path, hw1, zygote):
    """Each check that meets a broken file re-raises the cached failure; a traceback that
    grew with every raise made pytest's formatting quadratic (80 s for 100 checks)."""
    from grader import submission as submission_mod
    from grader.sandbox.errors import StudentImportError
    from grader.session import GradingSession

    path = tmp_path / "regression.py"
    path.write_text("def predict(:\n")
    session = GradingSession(hw1, submission_mod.load(path, hw1), zygote, hide=())
    depths = []
    try:
        for _ in range(5):
            try:
                session.call("predict", (), {}, timeout=5, seed=0)
            except StudentImportError as e:
                tb, n = e.__traceback__, 0
                while tb is not None:
                    n, tb = n + 1, tb.tb_next
                depths.append(n)
    finally:
        session.close()
    assert len(depths) == 5 and len(set(depths[1:])) == 1, depths


@pytest.mark.parametrize("source", [5, [1, 2], {"a": "b"}], ids=["a_number", "a_list_of_numbers", "a_dict"])
def test_a_cell_whose_source_is_not_text_is_one_line(tmp_path, hw1, source):
    """nbformat only logs a schema error: the grader must not crash on the cell."""
    import json

    nb = json.loads(_notebook(["def predict(x, w, b):\n    return x @ w + b"]))
    nb["cells"][1]["source"] = source  # the code cell, after the title
    path = tmp_path / "hw1.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(SubmissionError, match=r"^hw1.ipynb is not a valid Jupyter notebook \((cell 2's source is not text|sequence item 0)"):
        submission.load(path, hw1)
