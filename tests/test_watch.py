"""`grade hwN --watch`: every round reports what a cold `grade hwN` reports, on each save."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import manifest, watch
from grader.errors import GraderError
from grader.grading import grade
from grader.render import json_report
from tests.conftest import REPO
from tests.variants import partly_solved

STUB = (REPO / "assignments" / "hw4" / "normalization.py").read_text()
SOLUTION = (REPO / "reference" / "hw4" / "normalization.py").read_text()
GRADE = [sys.executable, "-m", "grader.cli"]
WAIT_S = 120  # only a broken watcher waits this long


def _untimed(report: dict) -> dict:
    """A report as JSON, less what differs between two runs of the same files: timings."""
    report = dict(report, duration=None)
    report["tests"] = [dict(t, duration=None) for t in report["tests"]]
    return report


def _cold(folder: Path) -> dict:
    """What `grade hw4` says in a process of its own."""
    done = subprocess.run(
        [*GRADE, "hw4", "--root", str(REPO), "--submission", str(folder), "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "student"
    path.mkdir()
    (path / "normalization.py").write_text(STUB)
    return path


def test_each_round_reports_what_a_cold_run_reports(folder, zygote):
    hw4 = manifest.find("hw4", REPO)
    target = folder / "normalization.py"
    edits = [
        partly_solved(STUB, SOLUTION, {"standardize", "batchnorm_forward"}),  # half right
        SOLUTION,
        SOLUTION.replace("def batchnorm_backward(dout, cache):", "def batchnorm_backward(dout, cache:"),  # a syntax error
        SOLUTION + "\n# tidied\n",  # right again
    ]
    rounds = watch.rounds(lambda: grade(hw4, folder, zygote=zygote), watch.student_files(hw4, folder), timeout=WAIT_S)
    seen = [next(rounds)]  # the stub, as it stands when watching starts
    for text in edits:
        target.write_text(text)
        seen.append(next(rounds))
    rounds.close()
    scores = [r.score for r in seen]
    assert scores[0] == 0 and 0 < scores[1] < scores[2] == hw4.max_score and scores[3] == 0 and scores[4] == hw4.max_score
    assert "syntax error" in seen[3].checks[0].message
    # each round against a cold run of the files it graded (the last state is on disk now)
    target.write_text(edits[-1])
    assert _untimed(json_report.as_dict(seen[-1])) == _untimed(_cold(folder))
    for report, text in zip(seen[:-1], [STUB, *edits[:-1]]):
        target.write_text(text)
        assert _untimed(json_report.as_dict(report)) == _untimed(_cold(folder))


MINI_MANIFEST = """title = "Mini"
public_tests = "tests"

[[tasks]]
id = "double"
title = "Double a number"
points = 1
file = "mini.py"
functions = ["double"]
"""

# A check with module-level state, as a cache of reference values would have: a
# round that reused the module of the round before sees the state it left.
MINI_CHECK = """
import pytest

CALLS = []


@pytest.mark.task("double")
def test_double_on_a_fresh_module(student):
    CALLS.append(1)
    assert len(CALLS) == 1, "this check module was not imported afresh"
    assert student.double(2) == 4
"""


def _mini_course(root: Path) -> Path:
    folder = root / "assignments" / "mini"
    (folder / "tests").mkdir(parents=True)
    (folder / "assignment.toml").write_text(MINI_MANIFEST)
    (folder / "tests" / "test_mini.py").write_text(MINI_CHECK)
    (folder / "mini.py").write_text("def double(x):\n    return 2 * x\n")
    return folder


def test_a_round_imports_the_check_modules_afresh(tmp_path, zygote):
    mini = manifest.load(_mini_course(tmp_path))
    rounds = watch.rounds(lambda: grade(mini, zygote=zygote), watch.student_files(mini, mini.directory), timeout=WAIT_S)
    first = next(rounds)
    (mini.directory / "mini.py").write_text("def double(x):\n    return x + x\n")
    second = next(rounds)
    rounds.close()
    assert first.all_passed, [c.message for c in first.checks]
    assert second.all_passed, [c.message for c in second.checks]


def test_torch_settings_a_round_changed_are_put_back(tmp_path, zygote):
    import torch

    mini = manifest.load(_mini_course(tmp_path))
    check = mini.directory / "tests" / "test_mini.py"
    check.write_text(check.read_text().replace("CALLS = []", "CALLS = []\ntorch_default = __import__('torch').set_default_dtype(__import__('torch').float64)"))
    fresh = watch.FreshModules()
    with fresh:
        grade(mini, zygote=zygote)
        assert torch.get_default_dtype() == torch.float64  # the check module did change it
    assert torch.get_default_dtype() == torch.float32


def test_a_save_that_changes_nothing_grades_nothing(folder):
    calls = []

    def count():
        calls.append(target.read_text())
        return len(calls)

    target = folder / "normalization.py"
    rounds = watch.rounds(count, (target,), timeout=WAIT_S)
    assert next(rounds) == 1
    target.write_text(STUB)  # saved as it was: no round
    os.utime(target)
    target.write_text(SOLUTION)
    assert next(rounds) == 2
    assert calls == [STUB, SOLUTION]


def test_reading_or_saving_other_files_starts_no_round(folder):
    target = folder / "normalization.py"
    with watch.Saves((target,)) as saves:
        target.read_text()
        (folder / "notes.txt").write_text("not a student file")
        (folder / "pred.csv").write_text("id,y\n")
        assert not saves.wait(timeout=1.0)
        target.write_text(SOLUTION)
        assert saves.wait(timeout=WAIT_S)


def test_a_grader_error_is_shown_and_watching_goes_on(folder):
    answers = iter([GraderError("hw4.ipynb is not a valid Jupyter notebook"), 2.0])

    def once():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    target = folder / "normalization.py"
    rounds = watch.rounds(once, (target,), timeout=WAIT_S)
    first = next(rounds)
    assert isinstance(first, GraderError)
    target.write_text(SOLUTION)
    assert next(rounds) == 2.0


def test_watched_files_are_the_student_files_only(folder, tmp_path):
    hw2 = manifest.find("hw2", REPO)
    assert watch.student_files(hw2, REPO / "assignments" / "hw2") == (REPO / "assignments" / "hw2" / "layers.py",)
    notebook = tmp_path / "hw2.ipynb"
    assert watch.student_files(hw2, notebook) == (notebook,)


def test_watch_refuses_a_machine_format():
    from click.testing import CliRunner

    from grader.cli import main

    result = CliRunner().invoke(main, ["hw4", "--root", str(REPO), "--watch", "--format", "json"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: --watch shows results on the terminal: leave out --format, --output and --fallback"


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return found


def _started(pid: int) -> str | None:
    """A process's start time: the same pid alive later is the same process only if it matches."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _tree(pid: int) -> dict[int, str | None]:
    """Every descendant of ``pid`` (a process this test started), with its start time."""
    out, todo = {}, _children(pid)
    while todo:
        child = todo.pop()
        out[child] = _started(child)
        todo += _children(child)
    return out


def _read_until(proc, text: str, lines: list[str]) -> None:
    while True:
        line = proc.stdout.readline()
        assert line, "grade --watch ended early:\n" + "".join(lines)
        lines.append(line)
        if text in line:
            return


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_ctrl_c_mid_round_exits_130_with_every_worker_gone(folder):
    proc = subprocess.Popen(
        [*GRADE, "hw4", "--root", str(REPO), "--submission", str(folder), "--watch"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    lines: list[str] = []
    try:
        _read_until(proc, "save to grade again", lines)
        assert any("Score: 0/" in line for line in lines)
        (folder / "normalization.py").write_text(SOLUTION)
        _read_until(proc, "save to grade again", lines)
        shown = "".join(lines).split("graded at")[-1]
        assert "score 0 → 8" in shown and "newly passing" in shown and "newly failing" not in shown
        # a save whose code sleeps: a worker is busy when Ctrl-C comes
        sleepy = partly_solved(STUB, SOLUTION, {"standardize"})
        stub_line = 'raise NotImplementedError("batchnorm_forward'
        (folder / "normalization.py").write_text(sleepy.replace(stub_line, '__import__("time").sleep(60)\n    ' + stub_line))
        deadline = time.monotonic() + WAIT_S
        tree = {}
        while time.monotonic() < deadline:  # the zygote, and a worker under it
            tree = _tree(proc.pid)
            if any(_children(child) for child in tree):
                break
            time.sleep(0.05)
        assert any(_children(child) for child in tree), "no worker started"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=WAIT_S)
        lines.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, "".join(lines)
    assert "grade: interrupted" in lines[-1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_started(p) == t for p, t in tree.items()):
        time.sleep(0.05)
    assert not [p for p, t in tree.items() if _started(p) == t], "a grading process outlived grade --watch"


def _report(statuses: dict[str, str]):
    from grader.results import CheckResult, Report, TaskResult

    checks = tuple(CheckResult(nodeid=f"t.py::{n}", name=n, task="t", status=s, message="", visibility="public", duration=0.0) for n, s in statuses.items())
    score = float(sum(s == "pass" for s in statuses.values()))
    return Report(assignment="a", title="A", submission="s", tasks=(TaskResult("t", "T", 3, score, checks),), score=score, max_score=3, isolation="none", hidden="run")


def test_changes_name_checks_newly_passing_and_newly_failing():
    before = _report({"test_a": "pass", "test_b": "fail", "test_c": "error", "test_d": "pass"})
    after = _report({"test_a": "fail", "test_b": "pass", "test_c": "error", "test_d": "pass", "test_new": "pass"})
    found = watch.changes(before, after)
    assert found.newly_failing == ("test_a",)
    assert found.newly_passing == ("test_b",)  # a check new this round is no change
    assert (found.score_before, found.score_after) == (2.0, 3.0)
