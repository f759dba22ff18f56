"""Plain GitHub Actions: the release's workflow, and its Grade step run for real in bash.

The step's output splits in two: workflow commands (annotations) for the log, the
rest for the job summary; a grader that does not finish still leaves a summary that
says why, and the job fails unless every check passed.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest

from grader import manifest, release
from grader.platforms.github import actions
from grader.platforms.github.workflow import FALLBACK_FILE, WORKFLOW_FILE, actions_workflow, fallback_file
from grader.results import CheckResult, Report, score_tasks
from tests.conftest import REPO

WRONG_MSE = (REPO / "reference" / "hw2" / "layers.py").read_text().replace("(diff * diff).mean(), 2", "(diff * diff).sum(), 2")
SYNTAX = (REPO / "reference" / "hw2" / "layers.py").read_text().replace("def relu_forward", "def relu_forward(:\n", 1)


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


def test_the_workflow_is_safe_and_current(hw2):
    text = actions_workflow(hw2)
    uses = re.findall(r"uses: (\S+)", text)
    assert uses == ["actions/checkout@v7", "actions/setup-python@v7", "actions/checkout@v7"]  # node24 majors
    assert text.count("persist-credentials: false") == 2  # no token left in either checkout
    assert "sparse-checkout: |\n            assignments/hw2\n            reference/hw2\n" in text  # this assignment only
    assert re.search(r"concurrency:\n  group: grade-\$\{\{ github.ref \}\}\n  cancel-in-progress: true", text)
    assert re.search(r"timeout-minutes: \d+", text) and "permissions:\n  contents: read\n" in text
    assert 'run=(sudo -n "$grader")' in text and "--format actions" in text
    assert "secrets." not in text.split("Fetch this assignment's bundle")[1].split("- name: Grade")[1]  # the grade step sees no secret


def test_the_release_carries_it_and_nothing_hidden(hw2, tmp_path):
    student, _ = release.ship(hw2, tmp_path)
    assert (student / WORKFLOW_FILE).read_text() == actions_workflow(hw2)
    assert (student / FALLBACK_FILE).is_file() and not (student / ".github" / "workflows" / "classroom.yml").exists()


def _grade_step(tmp_path, hw2, fake_grade: str, layers: str | None = None) -> tuple[int, str, str]:
    """Runs the workflow's Grade step in bash in a clone of the release, with `grade`
    replaced by ``fake_grade``: (exit status, the step's log, the job summary)."""
    script = re.search(r"- name: Grade\n        run: \|\n((?:          .*\n|\n)+)", actions_workflow(hw2)).group(1)
    script = "\n".join(line[10:] for line in script.splitlines())
    student, bundle = release.ship(hw2, tmp_path / "dist")
    repo = tmp_path / "repo"
    student.rename(repo)
    bundle.rename(repo / ".autograder")  # where the workflow checks it out
    if layers is not None:
        (repo / "assignments" / "hw2" / "layers.py").write_text(layers)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "grade"
    fake.write_text(fake_grade)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    summary = tmp_path / "step_summary"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GITHUB_STEP_SUMMARY=str(summary))
    done = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, summary.read_text() if summary.exists() else ""


REAL = f'#!/bin/bash\nexec {sys.executable} -m grader.cli "$@"\n'


def test_a_graded_push_gets_a_summary_table_and_annotations(tmp_path, hw2):
    status, log, summary = _grade_step(tmp_path, hw2, REAL, WRONG_MSE)
    assert status != 0  # a check failed: the job says so
    assert summary.startswith("### HW2: forward and backward passes by hand: ")
    assert "| task | points | failing checks |" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| Mean squared error"))
    assert "/1 |" in row and "hidden checks:" in row and "wrong values" in row
    assert "| Linear layer: forward | 1/1 |  |" in summary
    assert not any(line.startswith("::") for line in summary.splitlines())
    errors = [line for line in log.splitlines() if line.startswith("::error ")]
    assert errors and all("file=assignments/hw2/layers.py" in line for line in errors)
    assert all("Mean squared error" in line for line in errors)


RAISES = (REPO / "reference" / "hw2" / "layers.py").read_text() + "\n\ndef softmax(x):\n    return x[100000]\n"


@pytest.mark.parametrize("layers, culprit", [(SYNTAX, "def relu_forward(:"), (RAISES, "    return x[100000]")], ids=["syntax", "raises"])
def test_a_failure_is_annotated_at_the_students_line(tmp_path, hw2, layers, culprit):
    status, log, summary = _grade_step(tmp_path, hw2, REAL, layers)
    assert status != 0
    line = next(n for n, text in enumerate(layers.splitlines(), 1) if text == culprit)
    assert any(f"file=assignments/hw2/layers.py,line={line}," in entry for entry in log.splitlines()), log


def test_a_killed_grader_leaves_a_summary_that_says_why(tmp_path, hw2):
    fake = f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" --root {REPO} ;;
  *) echo '| forged | 12/12 |' > grade-output.txt; kill -9 $$ ;;
esac
"""
    status, log, summary = _grade_step(tmp_path, hw2, fake)
    assert status != 0 and "forged" not in summary
    assert summary.startswith("### HW2: forward and backward passes by hand: not graded") and "exit status 137" in summary
    assert log.startswith("::error title=HW2%3A forward and backward passes by hand::the grader did not finish")


def test_without_any_grader_the_built_fallback_is_shown(tmp_path, hw2):
    status, log, summary = _grade_step(tmp_path, hw2, "#!/bin/bash\nexit 127\n")
    assert status != 0
    expected = fallback_file(hw2)
    assert summary == "".join(line + "\n" for line in expected.splitlines() if not line.startswith("::"))


def test_a_message_cannot_issue_workflow_commands(hw2):
    evil = "bad\n::add-mask::x\r\n::set-env name=A::1 100% done, see: here"
    checks = [CheckResult(nodeid="n", name="c,d:e", task="mse", status="fail", message=evil, visibility="public", duration=0.0)]
    tasks = score_tasks(hw2, checks)
    report = Report("hw2", hw2.title, "x", tasks, 0.0, hw2.max_score, "namespaces", "run")
    text = actions.render(report, hw2)
    commands = [line for line in text.splitlines() if line.startswith("::")]
    assert len(commands) == 1 and commands[0].startswith("::error file=assignments/hw2/layers.py,title=")
    assert "::bad ::add-mask::x ::set-env name=A::1 100%25 done" in commands[0]  # one line, % escaped
    assert actions.escape_data("a\r\nb%") == "a%0D%0Ab%25" and actions.escape_property("a:b,c") == "a%3Ab%2Cc"
    assert "title=Mean squared error and its gradient%3A c%2Cd%3Ae::" in commands[0]
