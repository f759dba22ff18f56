"""Drivers: check code that runs in the worker around the student's functions, for
functions that take objects no check can send (a model, a loader, an optimizer)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import manifest
from grader.grading import grade

MANIFEST = """title = "Driven"
[limits]
call_timeout = 5
[[tasks]]
id = "fit"
points = 2
file = "fit.py"
functions = ["fit"]

[[tasks]]
id = "scale"
points = 1
file = "fit.py"
functions = ["scale"]
forbidden = ["torch.nn.functional"]
"""

REFERENCE = '''
import torch


def fit(model, steps):
    """Takes ``steps`` SGD steps of lr 0.1 on the sum of the model's outputs at ones."""
    # BEGIN SOLUTION
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.ones(1, 2)).sum().backward()
        opt.step()
    # END SOLUTION


def scale(module, x):
    """module(x) * 2."""
    # BEGIN SOLUTION
    return module(x) * 2
    # END SOLUTION
'''

DRIVER = '''
import torch


def run_fit(fns, steps):
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    fns.fit(model, steps)
    return [p.detach().clone() for p in model.parameters()]


def run_scale(fns, x):
    return fns.scale(torch.nn.Identity(), x)


def raw(fns):
    return fns.fit(torch.nn.Linear(2, 1), 1)


def packed(fns):
    model = torch.nn.Linear(2, 1)
    fns.fit(model, 1)
    return _pack([p.detach() for p in model.parameters()])


def _pack(params):
    return {"params": params}
'''

CHECKS = '''
import pytest, torch
from grader.checks import assert_close


@pytest.mark.task("fit")
def test_fit(student, ref, drivers):
    assert_close(student.drive(drivers.tools.run_fit, 3), drivers.tools.run_fit(ref, 3), name="the parameters")


@pytest.mark.task("scale")
def test_scale(student, ref, drivers):
    x = torch.tensor([-1.0, 2.0])
    assert_close(student.drive(drivers.tools.run_scale, x), drivers.tools.run_scale(ref, x))
'''

STUDENT = REFERENCE.replace("    # BEGIN SOLUTION\n", "").replace("    # END SOLUTION\n", "")


def _course(root: Path, checks: str = CHECKS, driver: str = DRIVER) -> manifest.Assignment:
    folder = root / "assignments" / "driven"
    (folder / "tests" / "drivers").mkdir(parents=True)
    (root / "reference" / "driven").mkdir(parents=True)
    (folder / "assignment.toml").write_text(MANIFEST)
    (root / "reference" / "driven" / "fit.py").write_text(REFERENCE)
    (folder / "fit.py").write_text(STUDENT.replace("opt.step()", "raise NotImplementedError"))
    (folder / "tests" / "test_driven.py").write_text(textwrap.dedent(checks))
    (folder / "tests" / "drivers" / "tools.py").write_text(driver)
    return manifest.find("driven", root)


@pytest.fixture
def driven(tmp_path):
    return _course(tmp_path / "course")


@pytest.fixture
def grade_student(driven, zygote, tmp_path):
    def run(source: str, assignment=None, extra: dict | None = None):
        folder = tmp_path / "student"
        folder.mkdir(exist_ok=True)
        (folder / "fit.py").write_text(source)
        for rel, text in (extra or {}).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return grade(assignment or driven, folder, zygote=zygote)

    return run


def _check(report, name):
    return next(c for c in report.checks if c.name == name)


def test_a_driven_function_is_graded_against_the_reference_run_of_the_same_driver(grade_student):
    report = grade_student(STUDENT)
    assert report.score == 3, [(c.name, c.message) for c in report.checks]
    wrong = grade_student(STUDENT.replace("lr=0.1", "lr=0.2"))
    assert _check(wrong, "test_fit").status == "fail" and _check(wrong, "test_scale").status == "pass"
    assert "the parameters" in _check(wrong, "test_fit").message


def test_an_exception_in_the_student_function_points_at_the_student_line_not_the_driver(grade_student):
    source = STUDENT.replace("    opt = torch.optim.SGD", "    raise ValueError('boom')\n    opt = torch.optim.SGD")
    message = _check(grade_student(source), "test_fit").message
    assert message.startswith("`fit` raised ValueError: boom"), message
    assert "fit.py, line" in message and "driver" not in message, message


def test_a_missing_function_reads_as_missing(grade_student):
    message = _check(grade_student(STUDENT.replace("def fit(", "def fitt(")), "test_fit").message
    assert message == "`fit` is not defined in fit.py", message


def test_a_forbidden_api_inside_a_driven_call_costs_its_task(grade_student):
    source = STUDENT.replace("    return module(x) * 2", "    return torch.nn.functional.relu(x) * 2")
    report = grade_student(source)
    scale = _check(report, "test_scale")
    assert scale.status == "fail" and "torch.nn.functional.relu" in scale.message and "forbids" in scale.message, scale.message
    assert {t.id: t.score for t in report.tasks} == {"fit": 2, "scale": 0}


def test_the_driver_the_worker_runs_is_the_trusted_one_never_the_students_copy(grade_student):
    forged = DRIVER.replace("    fns.fit(model, steps)\n", "    fns.fit(model, steps)\n    model.weight.data.fill_(123.0)\n")
    report = grade_student(STUDENT.replace("lr=0.1", "lr=0.2"), extra={"tests/drivers/tools.py": forged})
    assert _check(report, "test_fit").status == "fail"  # the forged file would make both sides 123
    assert "123" not in _check(report, "test_fit").message


def test_a_driver_result_that_cannot_cross_is_the_students_bad_value(tmp_path, zygote):
    checks = CHECKS + """

@pytest.mark.task("fit")
def test_raw(student, drivers):
    student.drive(drivers.tools.raw)
"""
    assignment = _course(tmp_path / "course", checks=checks)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "fit.py").write_text(STUDENT.replace("        opt.step()\n", "        opt.step()\n    return lambda: 0\n"))
    raw = _check(grade(assignment, folder, zygote=zygote), "test_raw")
    assert raw.status == "fail" and raw.message.startswith("`fit` returned a value the grader cannot accept"), raw.message


def test_workers_of_an_assignment_that_trains_keep_their_own_temporary_folder(tmp_path, zygote):
    """The zygote's warm-up (torch._dynamo) fixes tempfile's folder at /tmp; a worker must
    still use the TMPDIR it was given (at landlock, /tmp is not writable)."""
    checks = CHECKS + """

@pytest.mark.task("fit")
def test_tmp(student, drivers):
    where, given = student.drive(drivers.tools.raw)
    assert where == given, (where, given)
"""
    assignment = _course(tmp_path / "course", checks=checks)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "fit.py").write_text("import os, tempfile\n" + STUDENT.replace(
        "        opt.step()\n", "        opt.step()\n    return [tempfile.gettempdir(), os.environ.get('TMPDIR')]\n"))
    check = _check(grade(assignment, folder, zygote=zygote), "test_tmp")
    assert check.status == "pass", check.message


@pytest.mark.parametrize(
    "checks, driver, expected",
    [
        (CHECKS.replace("drivers.tools.run_fit, 3)", "lambda fns: 0)"), DRIVER, "is not a driver"),
        (CHECKS, DRIVER.replace("def run_fit(fns, steps):", "def run_fit(fns, steps)"), "tools.py"),
        (CHECKS.replace("drivers.tools.run_fit", "drivers.missing.run_fit"), DRIVER, "no driver file missing.py"),
        (CHECKS, DRIVER.replace("    fns.fit(model, steps)", "    fns.fitt(model, steps)"), "it asked for `fitt`, which no task of the manifest lists"),
    ],
    ids=["not_a_driver", "driver_syntax_error", "no_such_driver_file", "driver_asks_for_an_unknown_function"],
)
def test_a_broken_driver_is_the_checks_fault(tmp_path, zygote, checks, driver, expected):
    assignment = _course(tmp_path / "course", checks=checks, driver=driver)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "fit.py").write_text(STUDENT)
    try:
        report = grade(assignment, folder, zygote=zygote)
    except Exception as e:  # a check file that does not load stops the run with one line
        assert expected in str(e), str(e)
        return
    fit = _check(report, "test_fit")
    # what the worker says of a driver is the submission's to forge: its failure there is a
    # failed check (a driver bug shows when the reference is graded); the trusted side's own
    # findings about a driver are the check's fault
    status = "fail" if "asked for" in expected else "error"
    assert fit.status == status and expected in fit.message, (fit.status, fit.message)


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="the fork backend's zygote is Linux-only")
def test_a_warm_up_asked_for_while_the_zygote_is_busy_still_starts_the_worker(tmp_path):
    """The warm-up must not be a request of its own: two requests waiting in the zygote's
    socket were read as one (bad JSON), and the worker asked for never started."""
    import os
    import signal
    import threading

    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.fork import Zygote
    from grader.sandbox.limits import Limits

    (tmp_path / "m.py").write_text("def f():\n    return 7\n")
    zygote = Zygote()
    try:
        zygote.wait_ready()
        os.kill(zygote.proc.pid, signal.SIGSTOP)  # busy: whatever is asked now waits in its socket
        started = {}

        def start():
            try:
                started["worker"] = zygote.worker(WorkerSpec(files=(("m.py", str(tmp_path / "m.py")),), limits=Limits(memory_bytes=1 << 30)))
            except Exception as e:  # noqa: BLE001
                started["error"] = e

        zygote.warm_up()
        thread = threading.Thread(target=start)
        thread.start()
        thread.join(0.5)  # the request is written by now
        os.kill(zygote.proc.pid, signal.SIGCONT)
        thread.join(60)
        assert "error" not in started, started.get("error")
        worker = started["worker"]
        try:
            worker.load("m", "m.py", timeout=30)
            assert worker.call("m", "m.py", "f", (), {}, timeout=30, seed=0) == 7
        finally:
            worker.close()
    finally:
        zygote.close()


def test_a_driver_result_changed_in_the_worker_fails_the_check_not_the_author(tmp_path, zygote):
    """A check that trips over a driver's result (a key gone) blames the submission: the
    result was made in the worker, where the submission can change the driver itself."""
    checks = CHECKS + """

@pytest.mark.task("fit")
def test_packed(student, drivers):
    assert len(student.drive(drivers.tools.packed)["params"]) == 2
"""
    assignment = _course(tmp_path / "course", checks=checks)
    folder = tmp_path / "student"
    folder.mkdir()
    forged = "import sys\n" + STUDENT.replace(
        "        opt.step()\n",
        "        opt.step()\n    f = sys._getframe(1)\n    while '_pack' not in f.f_globals:\n        f = f.f_back\n"
        "    f.f_globals['_pack'] = lambda params: {}\n",
    )
    (folder / "fit.py").write_text(forged)
    check = _check(grade(assignment, folder, zygote=zygote), "test_packed")
    assert check.status == "fail" and "the driver's result is not what the driver returns" in check.message, (check.status, check.message)
