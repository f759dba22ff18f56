"""The helper that finds surviving student processes finds ours, and only the living."""

from __future__ import annotations

import os
import signal
import time

import pytest

from grader.sandbox.isolation import worker_uids
from tests.own_processes import no_worker_processes_left, worker_processes


def _as_worker_uid(then) -> int:
    """A child running as this process's last worker uid, doing ``then()``."""
    pid = os.fork()
    if pid == 0:
        try:
            uid = worker_uids(os.getppid())[-1]
            os.setgid(uid)
            os.setuid(uid)
            then()
        finally:
            os._exit(0)
    return pid


@pytest.mark.skipif(os.geteuid() != 0, reason="worker uids are those of a root grader")
def test_a_living_process_of_our_worker_uids_is_found_and_a_dead_one_is_not():
    pid = _as_worker_uid(lambda: time.sleep(60))
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith(f"{pid} ") for line in worker_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)  # until its setuid took effect
        assert [line.split()[0] for line in worker_processes()] == [str(pid)]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[-1].split()[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker_processes() == []  # a zombie runs no code
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert no_worker_processes_left(patience=1) == []
