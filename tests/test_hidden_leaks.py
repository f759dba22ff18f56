"""What a hidden check says of itself, other than its verdict, reaches no student.

``test_hidden_feedback.py`` covers the verdicts of hidden checks; these cover the two
other ways a hidden check's text can travel: the reason of a skipped one (a check's own
``pytest.skip(...)``, or an xfail, which pytest reports as skipped with the failure's
whole traceback: the check's source, inputs and expected values), and the one line a
run that stops with (a hidden check file that does not load) leaves on stderr, which
CI shows in the step's log and the workflows copy into the fallback result.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.render import feedback
from tests.conftest import REPO

SECRET = "7.123456"  # an input only the hidden check knows

XFAIL_CHECK = f'''
import pytest
import torch


@pytest.mark.task("linear_forward")
@pytest.mark.xfail(reason="being reworked")
def test_edge_case_kept_secret(student):
    x = torch.full((2, 3), {SECRET}, dtype=torch.float64)
    out, _ = student.linear_forward(x, torch.eye(3, 2, dtype=x.dtype), torch.zeros(2, dtype=x.dtype))
    assert out.sum().item() == -1.0, "expected -1.0 for the input {SECRET}"


@pytest.mark.task("linear_forward")
def test_author_skip_kept_secret(student):
    pytest.skip("the case {SECRET} is not ready")
'''

FAILING_CHECK = f'''
import pytest
import torch


@pytest.mark.task("linear_forward")
def test_edge_case_kept_secret(student):
    x = torch.full((2, 3), {SECRET}, dtype=torch.float64)
    out, _ = student.linear_forward(x, torch.eye(3, 2, dtype=x.dtype), torch.zeros(2, dtype=x.dtype))
    assert out.sum().item() == -1.0, "expected -1.0 for the input {SECRET}"
'''

BROKEN_CHECK = f'CASES = {{"edge": {SECRET}}}\nraise KeyError("no expected value for " + str(CASES))\n'


def _course(tmp_path, hidden_file: str, text: str):
    """hw2 with only ``text`` as its hidden checks and no public ones (a short run)."""
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw2", tmp_path / part / "hw2")
    shutil.rmtree(tmp_path / "assignments" / "hw2" / "tests")
    (tmp_path / "assignments" / "hw2" / "tests").mkdir()
    shutil.rmtree(tmp_path / "reference" / "hw2" / "tests")
    (tmp_path / "reference" / "hw2" / "tests").mkdir()
    (tmp_path / "reference" / "hw2" / "tests" / hidden_file).write_text(text)
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(REPO / "reference" / "hw2" / "layers.py", submission / "layers.py")
    return manifest.find("hw2", tmp_path), submission


def test_a_skipped_or_xfailed_hidden_check_says_nothing_of_itself(tmp_path, zygote):
    from grader.grading import grade

    hw2, submission = _course(tmp_path, "test_flaky_hidden.py", XFAIL_CHECK)
    report = grade(hw2, submission, zygote=zygote)
    skipped = [c for c in report.checks if c.status == "skip"]
    assert len(skipped) == 2 and all(SECRET in c.message for c in skipped)  # the instructor's report has them
    for level in ("summary", "none"):
        view = feedback.student_view(report, replace(hw2, hidden_feedback=level))
        said = " ".join(f"{c.name} {c.message} {c.output}" for c in view.checks)
        assert SECRET not in said and "test_edge_case_kept_secret" not in said and "assert" not in said
        assert [c.message for c in view.checks if c.visibility == "hidden"] == [feedback.SKIPPED]  # skipped, and no more


def test_the_graders_own_reasons_to_skip_are_still_said(tmp_path, zygote):
    from grader.grading import grade
    from grader.plugin import NO_CUDA

    device_check = 'import pytest\n\n\n@pytest.mark.task("linear_forward")\ndef test_on(device):\n    assert device.type\n'
    hw2, submission = _course(tmp_path, "test_devices_hidden.py", device_check)
    view = feedback.student_view(grade(hw2, submission, zygote=zygote), hw2)
    if any(c.status == "skip" for c in view.checks):  # no GPU here: its check is skipped, and says why
        assert [c.message for c in view.checks if c.status == "skip"] == [NO_CUDA]


@pytest.mark.parametrize("fmt, args", [("actions", []), ("classroom50", []), ("gradescope", []), ("terminal", ["--hidden"])])
def test_a_hidden_check_file_that_does_not_load_is_not_quoted_to_students(tmp_path, fmt, args):
    _, submission = _course(tmp_path / "course", "test_broken_hidden.py", BROKEN_CHECK)
    root = tmp_path / "course"
    if args:  # a run with a bundle (the course's copy serves as one) and a student's clone
        root = tmp_path / "student"
        (root / "assignments").mkdir(parents=True)
        shutil.copytree(submission, root / "assignments" / "hw2")
        args = ["--hidden", str(tmp_path / "course")]
    out = tmp_path / "out.txt"
    result = CliRunner().invoke(main, ["hw2", "--root", str(root), *args, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output and "test_broken_hidden" not in result.output and "KeyError" not in result.output
    assert feedback.HIDDEN_FILE_ERROR in result.output
    assert not out.exists()


def test_the_instructor_still_sees_why_a_hidden_check_file_does_not_load(tmp_path):
    _course(tmp_path, "test_broken_hidden.py", BROKEN_CHECK)
    for fmt in ("json", "terminal"):
        result = CliRunner().invoke(main, ["hw2", "--root", str(tmp_path), "--format", fmt])
        assert result.exit_code == 2
        assert "test_broken_hidden.py" in result.output and SECRET in result.output
    full = tmp_path / "assignments" / "hw2" / "assignment.toml"
    full.write_text('hidden_feedback = "full"\n' + full.read_text())
    result = CliRunner().invoke(main, ["hw2", "--root", str(tmp_path), "--format", "actions"])
    assert result.exit_code == 2 and SECRET in result.output  # the instructor chose to show them


def test_watching_with_a_bundle_shows_what_grade_with_it_shows(tmp_path, monkeypatch):
    """``grade hw2 --watch --hidden BUNDLE`` is ``grade hw2 --hidden BUNDLE`` on every save:
    the same student view, not the instructor's report."""
    import io

    from rich.console import Console

    from grader.commands import watch as watch_verb

    _, submission = _course(tmp_path / "course", "test_flaky_hidden.py", FAILING_CHECK)
    student = tmp_path / "student"
    (student / "assignments").mkdir(parents=True)
    shutil.copytree(submission, student / "assignments" / "hw2")
    monkeypatch.setattr(watch_verb.watch, "rounds", lambda grade_once, files: iter([grade_once()]))  # one round
    shown = io.StringIO()
    watch_verb.run("hw2", submission=None, reference=False, hidden=tmp_path / "course", public_only=False, root=student,
                   isolate=True, console=Console(file=shown, width=200))  # fmt: skip
    said = shown.getvalue()
    assert SECRET not in said and "test_edge_case_kept_secret" not in said
    assert "hidden checks: 1 failed" in said
