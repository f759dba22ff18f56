"""Hostile submissions: each must gain nothing, leak nothing, and leave a valid report.

Every hostile module is the reference solution with ``predict`` replaced (or with
something done at import), so a correct ``predict`` would score; the hostile one
must not, and grading must carry on.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from grader.render import json_report
from tests.conftest import REPO, SECRET
from tests.own_processes import no_worker_processes_left


@pytest.fixture(scope="session")
def zygote(fork_zygote):
    """This file tests the fork backend's sandbox, whatever GRADER_BACKEND says
    (tests/test_portable.py has the portable backend's own)."""
    return fork_zygote


def _with_predict(reference: str, body: str, prelude: str = "") -> str:
    indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return reference + "\n\n" + prelude + "\n\ndef predict(x, w, b):\n" + indented + "\n"


def _task(report, task_id):
    return next(t for t in report.tasks if t.id == task_id)


def _predict_check(report):
    return next(c for c in report.checks if c.task == "predict")


HOSTILE_CALLS = {
    "infinite_loop": ("while True:\n    pass", "took longer than 1 s"),
    "sleep_ignoring_signals": (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(60)",
        "took longer than 1 s",
    ),
    "sys_exit_in_call": ("import sys\nsys.exit(0)", "sys.exit(0)"),
    "os_exit_in_call": ("import os\nos._exit(0)", "exited with status 0"),
    "keyboard_interrupt_in_call": ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    "custom_base_exception": ("class Boom(BaseException):\n    pass\nraise Boom('x')", "raised Boom"),
    "segfault": ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
    "tensor_4x_memory_limit": ("import torch\nbig = torch.ones(4 * 1024**3 // 4)\nreturn x @ w + b", "memory"),
    "bytearray_4x_memory_limit": ("big = bytearray(4 * 1024**3)\nreturn x @ w + b", "MemoryError"),
    "shared_mmap_4x_memory_limit": ("import mmap\nm = mmap.mmap(-1, 4 * 1024**3, flags=mmap.MAP_SHARED)\nm[:] = b'x' * len(m)\nreturn x @ w + b", "memory"),
    "tensor_subclass_always_equal": (
        "import torch\nclass Eq(torch.Tensor):\n    def __eq__(self, o): return True\nreturn (x @ w + b).as_subclass(Eq)",
        "subclass",
    ),
    "object_eq_always_true": ("class Eq:\n    def __eq__(self, o): return True\nreturn Eq()", "only tensors"),
    "nan_result": ("return (x @ w + b) * float('nan')", "NaN"),
    "broadcastable_wrong_shape": ("return (x @ w + b).unsqueeze(1)", "shape"),
    "wrong_dtype": ("return (x @ w + b).double()", "dtype"),
    "monkeypatch_comparisons": (
        "import torch, torch.testing\n"
        "torch.allclose = lambda *a, **k: True\ntorch.testing.assert_close = lambda *a, **k: None\n"
        "torch.equal = lambda *a, **k: True\n"
        "import _pytest.reports\n_pytest.reports.TestReport.passed = property(lambda s: True)\n"
        "return x @ w + b + 1",
        "is wrong at index",
    ),
    "read_expected_from_stack_and_gc": (
        "import gc, sys, torch\n"
        "f = sys._getframe()\nfound = []\n"
        "while f is not None:\n    found += [v for v in f.f_locals.values() if torch.is_tensor(v)]\n    f = f.f_back\n"
        "found += [o for o in gc.get_objects() if torch.is_tensor(o) and o.shape == (3,) and o is not x]\n"
        "return found[0] if found else torch.zeros(3)",
        "predict(x, w, b)",
    ),
    # a frame of its own on the call socket (fd 3), claiming 4 GiB: refused from its header,
    # before the trusted side allocates anything for it
    "huge_reply_frame": (
        "import json, os, struct, sys\nf = sys._getframe()\n"
        "while 'header' not in f.f_locals:\n    f = f.f_back\n"
        "head = json.dumps({'seq': f.f_locals['header']['seq'], 'ok': True}).encode()\n"
        "os.write(3, struct.pack('!II', len(head), 1) + head + struct.pack('!Q', 4 << 30))\n"
        "while True:\n    os.write(3, bytes(1 << 20))",
        "larger than the allowed",
    ),
    # a header of 60 MiB of `{}`: parsed, it would be ~1.5 GiB in the trusted process
    "huge_reply_header": (
        "import json, os, struct, sys\nf = sys._getframe()\n"
        "while 'header' not in f.f_locals:\n    f = f.f_back\n"
        "head = b'{\"seq\":' + str(f.f_locals['header']['seq']).encode() + b',\"ok\":true,\"x\":[' + b'{},' * (20 << 20) + b'{}]}'\n"
        "os.write(3, struct.pack('!II', len(head), 0))\nos.write(3, head)\nimport time\ntime.sleep(60)",
        "header too large",
    ),
    # replies whose fields have the wrong shapes: an unreadable reason, never a crash of grade
    **{
        f"forged_error_{name}": (
            "import json, os, struct, sys, time\nf = sys._getframe()\n"
            "while 'header' not in f.f_locals:\n    f = f.f_back\n"
            f"head = json.dumps({{'seq': f.f_locals['header']['seq'], 'ok': False, 'error': {error}}}).encode()\n"
            "os.write(3, struct.pack('!II', len(head), 0) + head)\ntime.sleep(60)",
            said,
        )
        for name, error, said in [
            ("uses_not_a_list", "{'kind': 'forbidden', 'uses': 5}", "forbids"),
            ("use_line_not_a_number", "{'kind': 'forbidden', 'uses': [{'api': 'x', 'path': 'a.py', 'line': 'x'}]}", "forbids"),
            ("frames_not_a_list", "{'kind': 'exception', 'type': 'E', 'message': 'm', 'frames': 5}", "raised E"),
            ("frame_line_not_a_number", "{'kind': 'exception', 'type': 'E', 'message': 'm', 'frames': [['a.py', 'x', 'f', 'c']]}", "raised E"),
            ("syntax_line_not_a_number", "{'kind': 'syntax', 'lineno': 'x', 'message': 'm', 'path': 'regression.py'}", "syntax error"),
            ("message_not_text", "{'kind': 'exception', 'type': 5, 'message': [1]}", "raised"),
        ]
    },
    "forged_reply_with_a_5000_digit_number": (
        "import os, struct, sys, time\nf = sys._getframe()\n"
        "while 'header' not in f.f_locals:\n    f = f.f_back\n"
        "head = b'{\"seq\":' + str(f.f_locals['header']['seq']).encode() + b',\"ok\":false,\"x\":' + b'9' * 5000 + b'}'\n"
        "os.write(3, struct.pack('!II', len(head), 0) + head)\ntime.sleep(60)",
        "unreadable",
    ),
    "reply_out_of_turn": (
        "import json, os, struct\nhead = json.dumps({'seq': 10**6, 'ok': True}).encode()\n"
        "os.write(3, struct.pack('!II', len(head), 1) + head + struct.pack('!Q', 8) + bytes(8))\nreturn x @ w + b",
        "out of turn",
    ),
    "open_reference_file": ("open(COURSE + '/reference/hw1/regression.py').read()\nreturn x @ w + b", "Error"),
    "list_hidden_tests": ("import os\nprint(os.listdir(COURSE + '/reference/hw1/tests'))\nreturn x @ w + b", "Error"),
    "import_reference_module": (
        "import sys\nsys.path.insert(0, COURSE)\nimport importlib\nref = importlib.import_module('reference.hw1.regression')\nreturn ref.predict(x, w, b)",
        "Error",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CALLS))
def test_hostile_call_gains_nothing(case, grade_source, reference_source, course):
    body, expected = HOSTILE_CALLS[case]
    # the per-call time limit is enforced from outside: a call that hangs reads "took longer
    # than", which the expected message of every case here rules out
    report = grade_source(_with_predict(reference_source, body, prelude=f"COURSE = {str(course)!r}"))
    assert _task(report, "predict").score == 0, _predict_check(report).message
    check = _predict_check(report)
    assert check.status == "fail", check.message
    assert expected in check.message, check.message
    # grading went on: a task that does not call predict still scores
    assert _task(report, "losses").score == 1, [c.message for c in _task(report, "losses").checks]
    assert no_worker_processes_left() == []


HOSTILE_IMPORTS = {
    "sys_exit_at_import": ("import sys\nsys.exit(0)", "sys.exit(0) while being imported"),
    "os_exit_at_import": ("import os\nos._exit(0)", "exited with status 0"),
    "keyboard_interrupt_at_import": ("raise KeyboardInterrupt", "KeyboardInterrupt while being imported"),
    "exception_at_import": ("raise ValueError('broken on purpose')", "ValueError while being imported: broken on purpose"),
    "infinite_loop_at_import": ("while True:\n    pass", "to import"),
    "atexit_exit_zero": ("import atexit, os\natexit.register(lambda: os._exit(0))\nraise SystemExit(0)", "sys.exit(0)"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_IMPORTS))
def test_hostile_import_scores_zero_quickly(case, grade_source, reference_source, hw1):
    prelude, expected = HOSTILE_IMPORTS[case]
    started = time.monotonic()
    report = grade_source(reference_source + "\n" + prelude + "\n")
    elapsed = time.monotonic() - started
    assert report.score == 0
    assert all(expected in c.message for c in report.checks), [c.message for c in report.checks]
    # an import failure is remembered: one time-out, not one per check. Not remembered, an
    # import that hangs would cost every check its full limit; the bound is half of that, so
    # only a machine slowed eightfold could fail it without the bug
    calls = [c for c in report.checks if not c.nodeid.startswith("static::")]
    bound = len(calls) * hw1.limits.call_timeout / 2
    assert len(calls) >= 4 and elapsed < bound, f"took {elapsed:.1f}s for {len(calls)} checks"


def test_fork_bomb_is_contained_and_cleaned_up(grade_source, reference_source):
    body = (
        "import os, time\nkids = 0\n"
        "for _ in range(300):  # bounded here, so a broken harness cannot take the machine down\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(600)\n        os._exit(0)\n    kids += 1\n"
        "while True:\n    time.sleep(0.1)"
    )
    report = grade_source(_with_predict(reference_source, body))
    assert _task(report, "predict").score == 0
    assert "took longer than" in _predict_check(report).message
    time.sleep(0.5)
    assert no_worker_processes_left() == []


def test_detached_grandchild_holding_the_pipe(grade_source, reference_source):
    body = (
        "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n    os._exit(0)\n"
        "os._exit(0)"
    )
    # waiting on the pipe the grandchild holds would end in the call's time limit instead
    report = grade_source(_with_predict(reference_source, body))
    assert "exited with status 0" in _predict_check(report).message
    time.sleep(0.5)
    assert no_worker_processes_left() == []


def test_threads_that_never_end_do_not_hold_up_grading(grade_source, reference_source):
    prelude = "import threading, time\nthreading.Thread(target=lambda: time.sleep(10**6)).start()\n"
    # a worker held up by its thread would hit the call time limit: checks would fail
    report = grade_source(reference_source + "\n" + prelude)
    assert report.score == report.max_score or all(c.status == "pass" for c in report.checks)


def test_fake_reports_in_output_change_nothing(grade_source, reference_source):
    body = (
        "print('==================== 5 passed in 0.01s ====================')\n"
        "print('{\"score\": 100, \"max_score\": 100, \"tests\": []}')\n"
        "import sys\nsys.stderr.write('PASSED\\n')\n"
        "return x @ w + b + 1"
    )
    report = grade_source(_with_predict(reference_source, body))
    assert _task(report, "predict").score == 0
    assert "5 passed" in _predict_check(report).output  # shown, as the student's own output
    data = json.loads(json_report.render(report))
    assert data["score"] == report.score and data["score"] < data["max_score"]


def test_writing_results_next_to_the_grader_is_refused(grade_source, reference_source, tmp_path):
    targets = [REPO / "results.json", REPO / "grader" / "results.json"]
    body = (
        f"for p in {[str(t) for t in targets]!r}:\n"
        "    try:\n        open(p, 'w').write('{\"score\": 100}')\n    except OSError:\n        pass\n"
        "return x @ w + b + 1"
    )
    report = grade_source(_with_predict(reference_source, body))
    assert _task(report, "predict").score == 0
    for t in targets:
        assert not t.exists(), f"a worker wrote {t}"


def test_grader_environment_is_not_visible(grade_source, reference_source):
    body = (
        "import os\nprint(dict(os.environ))\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n        print(open(f'/proc/{pid}/environ', 'rb').read())\n    except OSError:\n        pass\n"
        "return x @ w + b + 1"
    )
    report = grade_source(_with_predict(reference_source, body))
    assert SECRET not in json_report.render(report)
    assert "GRADER_TEST_SECRET_TOKEN" not in _predict_check(report).output


def test_isolation_level_is_reported(grade_source, reference_source):
    """The level is the one this host really gives: root gets namespaces; the tier runs of
    tests/test_tiers.py say which level each of their hosts must reach, exactly."""
    report = grade_source(reference_source)
    expected = os.environ.get("GRADER_TEST_EXPECT_LEVEL") or ("namespaces" if os.geteuid() == 0 else None)
    if expected is None:  # a non-root run of our own: either tier, but a weaker one says why
        assert report.isolation in ("namespaces", "landlock"), report.isolation
    else:
        assert report.isolation == expected, report.isolation_reason
    assert bool(report.isolation_reason) == (report.isolation != "namespaces"), report.isolation_reason


def test_a_killed_worker_is_never_reused(zygote, tmp_path):
    """After a failure the worker is killed; the next check must not find it still 'alive'
    in the moment before the kernel has finished it (a call there dies with SIGKILL)."""
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.limits import Limits

    worker = zygote.worker(WorkerSpec(files=(), limits=Limits(memory_bytes=1 << 30)))
    try:
        assert worker.alive
        worker.kill()
        assert not worker.alive  # at once, not only after the exit is reaped
    finally:
        worker.close()


def test_a_failed_call_keeps_no_reply_alive(hw1, zygote, tmp_path, reference_source):
    """pytest keeps every failed check's exception: none may hold the reply that failed
    (a hostile one can be large) through its traceback or its context."""
    import torch

    from grader import submission as submission_mod
    from grader.sandbox.errors import StudentError
    from grader.session import GradingSession

    body = (
        "import json, os, struct, sys\nf = sys._getframe()\n"
        "while 'header' not in f.f_locals:\n    f = f.f_back\n"
        "head = json.dumps({'seq': f.f_locals['header']['seq'], 'ok': True, 'result': {'no such node': 1}}).encode()\n"
        "os.write(3, struct.pack('!II', len(head), 1) + head + struct.pack('!Q', 1 << 20) + bytes(1 << 20))\n"
        "return x @ w + b"
    )
    path = tmp_path / "regression.py"
    path.write_text(_with_predict(reference_source, body))
    session = GradingSession(hw1, submission_mod.load(path, hw1), zygote, hide=())
    try:
        with pytest.raises(StudentError) as info:
            session.call("predict", (torch.ones(2, 3), torch.ones(3), torch.zeros(())), {}, timeout=10, seed=0)
    finally:
        session.close()
    assert "could not be read back" in str(info.value)
    held, chain = [], [info.value]
    while chain:  # the exception, what it was raised from or during, and all their frames
        error = chain.pop()
        tb = error.__traceback__
        while tb is not None:
            held += [f"{tb.tb_frame.f_code.co_name}:{n}" for n in ("reply", "rbuf", "buffers") if n in tb.tb_frame.f_locals]
            tb = tb.tb_next
        chain += [e for e in (error.__context__, error.__cause__) if e is not None]
    assert held == []


def test_without_an_address_space_limit_a_memory_bomb_is_stopped_by_its_resident_size(fork_zygote, tmp_path):
    """On a GPU host workers run without RLIMIT_AS (CUDA would not start under one): the
    trusted side polls the worker tree's resident size, kills it past the limit and says so."""
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.errors import StudentCrash
    from grader.sandbox.limits import Limits

    (tmp_path / "bomb.py").write_text("def grow():\n    kept = []\n    while True:\n        kept.append(bytearray(b'x' * (32 << 20)))\n")
    worker = fork_zygote.worker(
        WorkerSpec(files=(("bomb.py", str(tmp_path / "bomb.py")),), limits=Limits(memory_bytes=256 << 20, address_space=False))
    )
    try:
        worker.load("bomb", "bomb.py", timeout=30)
        with pytest.raises(StudentCrash, match="used more than 256 MiB of memory"):
            worker.call("bomb", "bomb.py", "grow", (), {}, timeout=60, seed=0)
    finally:
        worker.close()


@pytest.mark.parametrize("call", ["shmget(0, 4096, 0o1666)", "semget(0, 1, 0o1666)", "msgget(0, 0o1666)"])
def test_system_v_ipc_is_refused(fork_zygote, tmp_path, call):
    """At `landlock` System V IPC is the host's: a segment one worker leaves is there for
    the next (a channel across `student.restart()` and between submissions) and outlives
    the grader. Refused at every tier."""
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.limits import Limits

    (tmp_path / "ipc.py").write_text(
        "import ctypes\n\ndef try_it():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
        f"    got = libc.{call}\n    return [got, ctypes.get_errno()]\n"
    )
    worker = fork_zygote.worker(WorkerSpec(files=(("ipc.py", str(tmp_path / "ipc.py")),), limits=Limits(memory_bytes=1 << 30)))
    try:
        worker.load("ipc", "ipc.py", timeout=30)
        got, errno_ = worker.call("ipc", "ipc.py", "try_it", (), {}, timeout=30, seed=0)
    finally:
        worker.close()
    import errno

    assert got == -1 and errno_ == errno.EPERM, (got, errno_)


@pytest.mark.parametrize("backend", ["fork", "spawn"])
def test_memory_grown_between_calls_stops_the_worker_at_the_next(backend, tmp_path):
    """Polling runs while a reply is awaited; a thread that grows the worker after its call
    has returned is caught when the next request is sent, not never."""
    import time

    from grader.sandbox.backend import start
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.errors import StudentCrash
    from grader.sandbox.limits import Limits

    (tmp_path / "grow.py").write_text(
        "import threading, time\nkept = []\n\ndef _grow():\n    for _ in range(40):\n        kept.append(bytearray(b'x' * (16 << 20)))\n"
        "\ndef start():\n    threading.Thread(target=_grow, daemon=True).start()\n    return 1\n\ndef ping():\n    return 2\n"
    )
    zygote = start(backend)
    try:
        worker = zygote.worker(
            WorkerSpec(files=(("grow.py", str(tmp_path / "grow.py")),), limits=Limits(memory_bytes=256 << 20, address_space=False))
        )
        try:
            worker.load("grow", "grow.py", timeout=60)
            assert worker.call("grow", "grow.py", "start", (), {}, timeout=30, seed=0) == 1
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _rss(worker.pid) < (700 << 20):  # the thread has grown it
                time.sleep(0.1)
            with pytest.raises(StudentCrash, match="used more than 256 MiB of memory"):
                worker.call("grow", "grow.py", "ping", (), {}, timeout=30, seed=0)
        finally:
            worker.close()
    finally:
        zygote.close()


def _rss(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


@pytest.mark.parametrize("backend", ["fork", "spawn"])
def test_torchscript_works_in_a_worker_where_no_task_forbids_an_api(backend, tmp_path):
    """The forbidden-API guards are Python closures, which torch.jit.script cannot compile:
    a worker gets them only where a task forbids something, so a training program (or an
    assignment without rules) may script its model."""
    from grader.sandbox.backend import start
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.limits import Limits

    (tmp_path / "jit.py").write_text(
        "import torch\n\ndef scripted():\n    model = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))\n"
        "    return model(torch.ones(1, 2)).shape[1]\n"
    )
    zygote = start(backend)
    try:
        for guards in (False, True):
            worker = zygote.worker(WorkerSpec(files=(("jit.py", str(tmp_path / "jit.py")),), limits=Limits(memory_bytes=1 << 30), guards=guards))
            try:
                worker.load("jit", "jit.py", timeout=60)
                if guards:  # where guards are in place scripting fails (a known limit, documented)
                    with pytest.raises(Exception, match="raised"):
                        worker.call("jit", "jit.py", "scripted", (), {}, timeout=60, seed=0)
                else:
                    assert worker.call("jit", "jit.py", "scripted", (), {}, timeout=60, seed=0) == 2
            finally:
                worker.close()
    finally:
        zygote.close()
