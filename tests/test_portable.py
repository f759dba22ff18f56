"""The student's path on the portable backend (what macOS and Windows get), run here on
Linux: the stubs score 0, the reference full marks, a notebook grades like its .py, and
the hostile cases that make sense without a sandbox fail their check, name the limit,
and leave no process behind. Every report names its backend and isolation level."""

from __future__ import annotations

import json
import shutil
import time

import psutil
import pytest
from click.testing import CliRunner

from grader import manifest
from grader.errors import GraderError
from grader.grading import grade
from grader.render import json_report, junit
from tests.conftest import REPO
from tests.test_hostile import HOSTILE_CALLS, HOSTILE_IMPORTS, _predict_check, _task, _with_predict
from tests.test_submissions import _notebook


@pytest.fixture(scope="module")
def spawn():
    from grader.sandbox.backend import start

    backend = start("spawn")
    yield backend
    backend.close()


@pytest.fixture
def grade_spawn(hw1, spawn, tmp_path):
    def run(source: str, *, hidden: bool = False, name: str = "regression.py"):
        path = tmp_path / name
        path.write_text(source)
        return grade(hw1, path, include_hidden=hidden, zygote=spawn)

    return run


def _workers_left(spawn) -> list[str]:
    """Our own spawned worker interpreters still running, but the backend's one spare."""
    spare = spawn._spare.proc.pid if spawn._spare is not None else None
    deadline = time.monotonic() + 5
    while True:
        left = []
        for process in psutil.Process().children(recursive=True):
            try:
                if process.pid != spare and "grader.sandbox.spawned" in " ".join(process.cmdline()):
                    left.append(f"{process.pid} {process.status()}")
            except psutil.Error:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def test_reference_full_marks_and_stubs_zero(spawn):
    assignment = manifest.find("hw2", REPO)
    ref = grade(assignment, assignment.reference_dir, zygote=spawn)
    assert ref.score == ref.max_score == 12, [(c.name, c.message) for c in ref.checks if c.status != "pass" and c.status != "skip"]
    stubs = grade(assignment, assignment.directory, zygote=spawn)
    assert stubs.score == 0
    assert {c.message for c in stubs.checks if c.status == "fail"} >= {"`mse_loss` is not implemented yet"}
    for report in (ref, stubs):  # every report says which backend ran it, and how contained
        assert (report.backend, report.isolation) == ("spawn", "none")
        assert "no sandbox" in report.isolation_reason
    data = json.loads(json_report.render(ref))
    assert (data["backend"], data["isolation"]) == ("spawn", "none")
    assert '<property name="backend" value="spawn" />' in junit.render(ref)


def test_notebook_grades_like_the_py(grade_spawn, reference_source, tmp_path, hw1, spawn):
    path = tmp_path / "hw1.ipynb"
    path.write_text(_notebook(["%matplotlib inline\nimport torch", reference_source]))
    nb_report = grade(hw1, path, zygote=spawn)
    py_report = grade_spawn(reference_source, hidden=True)
    assert nb_report.score == py_report.score == 6
    assert [c.status for c in nb_report.checks] == [c.status for c in py_report.checks]


HUGE_OUTPUT = ("print('x' * (50 << 20))\nreturn x @ w + b + 1", "is wrong at index")
# a memory bomb that writes every page: caught by RLIMIT_AS where it works (Linux), by
# polling the tree's resident size where it does not
# held for a while, as a real bomb would: a poll every 0.25 s must see it, however slowly it was built
TOUCHED_MEMORY = ("import time, torch\nkeep = [torch.ones(32 << 20) for _ in range(12)]\ntime.sleep(3)\nreturn x @ w + b", "memory")
CALLS = {
    **{case: HOSTILE_CALLS[case] for case in ("infinite_loop", "os_exit_in_call", "segfault", "bytearray_4x_memory_limit")},
    "huge_output": HUGE_OUTPUT,
}


@pytest.fixture
def roomy_course(course, tmp_path):
    """The test course with time for a memory bomb to touch its pages (10 s calls)."""
    root = tmp_path / "course"
    shutil.copytree(course / "assignments", root / "assignments")
    manifest_path = root / "assignments" / "hw1" / "assignment.toml"
    manifest_path.write_text(manifest_path.read_text().replace("call_timeout = 1", "call_timeout = 10"))
    return root


@pytest.mark.parametrize("case", sorted(CALLS))
def test_hostile_call_gains_nothing(case, grade_spawn, reference_source, spawn):
    body, expected = CALLS[case]
    report = grade_spawn(_with_predict(reference_source, body))
    check = _predict_check(report)
    assert _task(report, "predict").score == 0 and check.status == "fail", check.message
    assert expected in check.message, check.message
    # grading went on in a fresh worker: a task that does not call predict still scores
    assert _task(report, "losses").score == 1, [c.message for c in _task(report, "losses").checks]
    if case == "huge_output":
        assert "output truncated at" in check.output and len(check.output) < 20_000
    assert _workers_left(spawn) == []


def test_a_memory_bomb_is_stopped(roomy_course, reference_source, spawn, tmp_path):
    path = tmp_path / "regression.py"
    path.write_text(_with_predict(reference_source, TOUCHED_MEMORY[0]))
    report = grade(manifest.find("hw1", roomy_course), path, include_hidden=False, zygote=spawn)
    check = _predict_check(report)
    assert _task(report, "predict").score == 0 and "memory" in check.message, check.message
    assert _task(report, "losses").score == 1
    assert _workers_left(spawn) == []


def test_a_killed_worker_is_never_reused(spawn):
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.limits import Limits

    worker = spawn.worker(WorkerSpec(files=(), limits=Limits(memory_bytes=1 << 30)))
    try:
        assert worker.alive
        assert worker.tree_root == worker.pid == worker.proc.pid  # a CPU budget counts its own tree
        worker.kill()
        assert not worker.alive  # at once, not only once the exit is seen
    finally:
        worker.close()
    assert _workers_left(spawn) == []


@pytest.mark.parametrize("case", ["exception_at_import", "os_exit_at_import"])
def test_hostile_import_scores_zero(case, grade_spawn, reference_source, spawn):
    prelude, expected = HOSTILE_IMPORTS[case]
    report = grade_spawn(reference_source + "\n" + prelude + "\n")
    assert report.score == 0
    assert all(expected in c.message for c in report.checks), [c.message for c in report.checks]
    assert _workers_left(spawn) == []


def test_a_stub_keeps_its_worker_and_any_other_failure_replaces_it(hw1, spawn, tmp_path, reference_source):
    import torch

    from grader import submission as submission_mod
    from grader.sandbox.errors import StudentException, StudentNotImplemented
    from grader.session import GradingSession

    path = tmp_path / "regression.py"
    source = reference_source + "\n\ndef mse_loss(pred, target):\n    raise NotImplementedError('mse_loss')\n"
    path.write_text(_with_predict(source, "raise ValueError('wrong on purpose')"))
    session = GradingSession(hw1, submission_mod.load(path, hw1), spawn, hide=())
    args = (torch.ones(2, 3), torch.ones(3), torch.zeros(()))
    try:
        with pytest.raises(StudentNotImplemented):
            session.call("mse_loss", (torch.ones(3), torch.ones(3)), {}, timeout=10, seed=0)
        first = session.worker
        assert first.alive  # a stub: nothing but the raise ran, no new interpreter
        with pytest.raises(StudentException, match="wrong on purpose"):
            session.call("predict", args, {}, timeout=10, seed=0)
        assert not first.alive
        with pytest.raises(StudentException):
            session.call("predict", args, {}, timeout=10, seed=0)
        assert session.worker is not first  # replaced after the failure
    finally:
        session.close()


def test_backend_choice(monkeypatch):
    from grader.sandbox import backend

    monkeypatch.setenv("GRADER_BACKEND", "spawn")
    assert backend.choose() == "spawn"
    monkeypatch.setenv("GRADER_BACKEND", "vm")
    with pytest.raises(GraderError, match=r"^GRADER_BACKEND must be fork or spawn, not 'vm'; unset it to choose automatically$"):
        backend.choose()
    monkeypatch.setattr(backend, "fork_missing", lambda: "it needs Linux (this host is darwin)")
    monkeypatch.setenv("GRADER_BACKEND", "fork")
    with pytest.raises(GraderError, match=r"^GRADER_BACKEND=fork cannot run here: it needs Linux \(this host is darwin\); unset"):
        backend.choose()
    monkeypatch.delenv("GRADER_BACKEND")
    assert backend.choose() == "spawn"  # automatic: no fork backend, the portable one


def test_a_bad_backend_is_one_line(monkeypatch):
    from grader.cli import main

    monkeypatch.setenv("GRADER_BACKEND", "vm")
    result = CliRunner().invoke(main, ["hw2", "--reference", "--root", str(REPO)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: GRADER_BACKEND must be fork or spawn, not 'vm'; unset it to choose automatically"]


def test_authoritative_formats_refuse_the_portable_backend(monkeypatch, tmp_path):
    from grader.cli import main

    monkeypatch.setenv("GRADER_BACKEND", "spawn")
    out = tmp_path / "report.xml"
    result = CliRunner().invoke(main, ["hw2", "--reference", "--root", str(REPO), "--format", "junit", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "isolation none is below the minimum landlock" in result.output and "GRADER_BACKEND=spawn" in result.output
    assert not out.exists()


def test_batch_without_fork_grades_one_after_another(monkeypatch, tmp_path):
    """Where multiprocessing has no fork (Windows), `grade batch` grades in its own process."""
    import csv
    import multiprocessing

    from grader.cli import main

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text((REPO / "reference" / "hw4" / "normalization.py").read_text())
    (folder / "bob.py").write_text((REPO / "assignments" / "hw4" / "normalization.py").read_text())
    monkeypatch.setenv("GRADER_BACKEND", "spawn")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: pytest.fail(f"a {method} pool was started"))
    out = tmp_path / "grades"
    args = ["batch", "hw4", str(folder), "--root", str(REPO), "-j", "2", "--out", str(out), "--allow-weak-isolation"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with open(out / "gradebook.csv", newline="") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    assert (book["alice"]["total"], book["bob"]["total"]) == ("8", "0")
    assert {row["backend"] for row in book.values()} == {"spawn"} and {row["isolation"] for row in book.values()} == {"none"}


def test_a_program_runs_with_one_thread_and_a_cpu_budget(tmp_path, monkeypatch, spawn):
    """A training run on the portable backend: the thread policy reaches it, and its CPU
    is counted under the worker itself (the trusted process is not its parent in the tree)."""
    from tests.test_competition import LINEAR, _check, _run_in

    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    shows = "import os, torch\nprint(f'threads={torch.get_num_threads()} omp={os.environ.get(\"OMP_NUM_THREADS\")}')\n" + LINEAR
    report = _run_in(tmp_path, spawn, shows)
    check = _check(report, "train.py runs to the end")
    assert "threads=1 omp=1" in check.output, check.message
    assert report.competition is not None and 0 < report.competition.run_cpu_seconds < 30
    assert report.backend == "spawn"
