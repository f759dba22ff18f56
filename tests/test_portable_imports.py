"""No Linux-only code on the student's path: with os.fork, os.pidfd_open,
signal.pidfd_send_signal and fd passing gone, and ``resource`` and ``fcntl`` hidden from
grader code (tests/portable/sitecustomize.py, in the grader and in its workers alike),
every grader module but the Linux backend's imports, `grade --help`, `grade list` and
`pytest assignments/hw2/tests` work, the portable backend is chosen by itself and
grades hw2's reference to full marks, and a memory bomb is stopped by polling alone
(no rlimits to fall back on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.test_portable import TOUCHED_MEMORY, roomy_course  # noqa: F401 - a fixture
from tests.test_hostile import _with_predict

HOOK = REPO / "tests" / "portable"


def _python(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(HOOK))
    env.pop("GRADER_BACKEND", None)  # the choice must be automatic
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def _grade_here(*args: str) -> dict:
    done = _python(str(HOOK / "grade_here.py"), *args)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_hook_hides_the_linux_apis():
    probe = (
        "import os, signal, socket\n"
        "print(any(hasattr(os, n) for n in ('fork', 'pidfd_open')), hasattr(signal, 'pidfd_send_signal'), hasattr(socket, 'send_fds'))\n"
        "try:\n    import grader.sandbox.isolation\nexcept ModuleNotFoundError as e:\n    print(e.name)\n"
    )
    done = _python("-c", probe)
    assert done.stdout.split() == ["False", "False", "False", "resource"], done.stderr[-2000:]


def test_grade_help_and_list():
    cli = "import sys; from grader.cli import main; sys.argv[0] = 'grade'; main()"
    helped = _python("-c", cli, "--help")
    assert helped.returncode == 0 and "Usage: grade" in helped.stdout, helped.stderr[-2000:]
    listed = _python("-c", cli, "list", "--root", str(REPO))
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert all(name in listed.stdout for name in ("hw1", "hw2", "hw3", "hw4")), listed.stdout


def test_pytest_runs_the_student_tests():
    done = _python("-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "assignments" / "hw2" / "tests"), cwd=str(REPO))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]  # the stubs fail, nothing crashes
    assert "`linear_forward` is not implemented yet" in done.stdout and "INTERNALERROR" not in done.stdout
    assert "grader: isolation: none · backend: spawn" in done.stdout, done.stdout[-2000:]


def test_portable_grading_gives_the_reference_full_marks():
    result = _grade_here(str(REPO), "hw2", "reference")
    assert result["chosen"] == "spawn"
    assert result["linux_only"] == []  # none of the Linux backend's modules was loaded
    report = result["report"]
    assert (report["score"], report["max_score"]) == (12, 12)
    assert (report["backend"], report["isolation"]) == ("spawn", "none")
    assert "this Python has no os.fork" in report["isolation_reason"]
    assert "no rlimits on this platform" in report["isolation_reason"]  # the worker ran hooked too


def test_a_memory_bomb_is_stopped_by_polling(roomy_course, reference_source, tmp_path):
    body, _ = TOUCHED_MEMORY
    path = tmp_path / "regression.py"
    path.write_text(_with_predict(reference_source, body))
    report = _grade_here(str(roomy_course), "hw1", str(path), "public")["report"]
    predict = [t for t in report["tests"] if t["task"] == "predict"]
    assert predict and all(t["status"] == "fail" for t in predict)
    assert all("used more than 1024 MiB of memory" in t["message"] for t in predict), [t["message"] for t in predict]
    assert report["score"] > 0  # the other tasks still scored
