"""Check files written wrongly: the author learns which one and why, in one line (exit 2).

A check file that does not import, or a check that names no task, is the author's
mistake, not a student's: nothing is graded, and on a platform the fallback's reason
(what every student sees) is that line, not "interrupted".
"""

from __future__ import annotations

import base64
import json
import shutil
import sys

import pytest
from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.render.feedback import HIDDEN_FILE_ERROR  # what students see of a broken hidden check file
from tests.conftest import REPO
from tests.test_classroom import _run_grade_step
from tests.test_gradescope import _run_autograder

PUBLIC = "assignments/hw1/tests/test_regression.py"
HIDDEN = "reference/hw1/tests/test_regression_hidden.py"


def _course_with(course, tmp_path, path: str, text: str):
    root = tmp_path / "c"
    shutil.copytree(course, root)
    with open(root / path, "a") as f:
        f.write(text)
    return root


def _lines_of(path) -> int:
    return len((REPO / path).read_text().splitlines())


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_a_public_check_file_with_a_syntax_error_is_one_line_exit_2(course, tmp_path):
    root = _course_with(course, tmp_path, PUBLIC, "\n\ndef broken(:\n    pass\n")
    result = run("hw1", "--root", str(root), "--reference")
    assert result.exit_code == 2, result.output
    line = _lines_of(PUBLIC) + 3  # after two blank lines
    assert result.stderr == f"Error: the check file {PUBLIC} cannot be loaded: line {line}: SyntaxError: invalid syntax\n"
    assert result.stdout == ""


def test_a_hidden_check_file_whose_import_fails_is_one_line_exit_2(course, tmp_path):
    root = _course_with(course, tmp_path, HIDDEN, "\nimport no_such_module_for_checks\n")
    result = run("hw1", "--root", str(root), "--reference", "--format", "json")
    assert result.exit_code == 2, result.output
    line = _lines_of(HIDDEN) + 2  # after a blank line
    assert result.stderr == (
        f"Error: the check file {HIDDEN} cannot be loaded: line {line}: ModuleNotFoundError: No module named 'no_such_module_for_checks'\n"
    )


def test_a_check_file_that_fails_at_import_names_its_line(course, tmp_path):
    root = _course_with(course, tmp_path, PUBLIC, "\nSIZES = {}['missing']\n")
    result = run("hw1", "--root", str(root), "--reference")
    assert result.exit_code == 2
    assert result.stderr.endswith(f"cannot be loaded: line {_lines_of(PUBLIC) + 2}: KeyError: 'missing'\n")


def test_a_real_interrupt_still_reads_as_one(course, tmp_path):
    """Ctrl-C during the checks (here raised by a check itself) keeps exit 130."""
    root = _course_with(course, tmp_path, PUBLIC, '\n\n@pytest.mark.task("predict")\ndef test_interrupted():\n    raise KeyboardInterrupt\n')
    result = run("hw1", "--root", str(root), "--reference")
    assert result.exit_code == 130
    assert result.stderr == "grade: interrupted\n"


def test_a_check_without_a_task_marker_is_an_error_naming_it(course, tmp_path):
    root = _course_with(course, tmp_path, PUBLIC, "\n\ndef test_forgot_the_marker(student):\n    assert False\n")
    result = run("hw1", "--root", str(root), "--reference")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"Error: {PUBLIC}::test_forgot_the_marker has no @pytest.mark.task(...) marker naming the task it scores for\n"
    )


def test_a_check_naming_an_unknown_task_is_an_error_naming_it(course, tmp_path):
    root = _course_with(course, tmp_path, HIDDEN, '\n\n@pytest.mark.task("no_such_task")\ndef test_misnamed(student):\n    assert False\n')
    result = run("hw1", "--root", str(root), "--reference")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {HIDDEN}::test_misnamed names task 'no_such_task', which assignment.toml does not list\n"


def test_build_catches_a_check_without_a_task_marker(course, tmp_path):
    root = _course_with(course, tmp_path, PUBLIC, "\n\ndef test_forgot_the_marker(student):\n    assert False\n")
    result = run("build", "hw1", "--root", str(root))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {PUBLIC}::test_forgot_the_marker has no @pytest.mark.task(...) marker naming the task it scores for"
    )


@pytest.fixture
def broken_hw2(tmp_path):
    """hw2 as shipped, with a hidden check file that does not import."""
    root = tmp_path / "broken"
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw2", root / part / "hw2")
    with open(root / "reference" / "hw2" / "tests" / "test_layers_hidden.py", "a") as f:
        f.write("\nimport no_such_module_for_checks\n")
    return root




def test_gradescope_fallback_says_a_hidden_check_file_is_broken(tmp_path, broken_hw2):
    hw2 = manifest.find("hw2", broken_hw2)
    reference = (REPO / "reference" / "hw2" / "layers.py").read_text()
    results = _run_autograder(tmp_path, hw2, {"layers.py": reference}, f"{sys.executable} -m grader.cli")
    assert results["score"] == 0
    assert HIDDEN_FILE_ERROR in results["output"], results["output"]
    assert "test_layers_hidden" not in results["output"] and "no_such_module" not in results["output"]


def test_github_fallback_says_a_hidden_check_file_is_broken(tmp_path, broken_hw2):
    hw2 = manifest.find("hw2", REPO)
    fake = f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" --root {REPO} ;;
  *) exec {sys.executable} -m grader.cli hw2 --root {broken_hw2} --reference --format github -o results.txt ;;
esac
"""
    outputs = _run_grade_step(tmp_path, hw2, fake)
    runners = outputs["runners"].split(",")
    messages = [json.loads(base64.b64decode(outputs[r]))["tests"][0]["message"] for r in runners]
    assert all("exit status 2: Error: " + HIDDEN_FILE_ERROR in m for m in messages), messages[0]
    assert not any("test_layers_hidden" in m for m in messages)


def test_a_second_run_in_one_process_imports_its_own_check_files(course, tmp_path, zygote):
    """Check modules are named by their path under the course: a run of another copy
    (a batch over bundles, a check fixed between runs) must not reuse the last one's."""
    from grader.grading import grade

    first = manifest.find("hw1", course)
    assert grade(first, first.reference_dir, zygote=zygote, include_hidden=False).all_passed
    root = _course_with(course, tmp_path, PUBLIC, '\n\n@pytest.mark.task("predict")\ndef test_added_later():\n    assert False\n')
    second = manifest.find("hw1", root)
    report = grade(second, second.reference_dir, zygote=zygote, include_hidden=False)
    assert [c.name for c in report.checks if c.status == "fail"] == ["test_added_later"]


def test_actions_fallback_says_a_hidden_check_file_is_broken(tmp_path, broken_hw2):
    from tests.test_actions import _grade_step

    fake = f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" --root {REPO} ;;
  *) exec {sys.executable} -m grader.cli hw2 --root {broken_hw2} --reference --format actions -o grade-output.txt ;;
esac
"""
    status, log, summary = _grade_step(tmp_path, manifest.find("hw2", REPO), fake)
    assert status != 0
    assert "exit status 2: Error: " + HIDDEN_FILE_ERROR in summary, summary
    assert "test_layers_hidden" not in summary and "test_layers_hidden" not in log
