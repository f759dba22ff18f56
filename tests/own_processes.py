"""The student processes this test process's grader started, and no one else's.

A root grader runs each worker as a uid of its own block (``isolation.worker_uids(pid)``),
so a process of that uid is ours, unless this pid was reused from an earlier grading
run whose workers outlived it: those started before this process did, and are left out.
Another run on the machine (a second suite at once) has a block of its own. Dead
processes (zombies awaiting their parent) run no code and are left out too.
"""

from __future__ import annotations

import os
import time

from grader.sandbox.isolation import worker_uids


def _stat(pid: str) -> tuple[str, int]:
    """(state, start time in clock ticks since boot) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[-1].split()
    return fields[0], int(fields[19])  # fields 3 and 22 of proc(5), counted after the name


def worker_processes() -> list[str]:
    """Live processes of this test process's worker uids, as "pid state command"."""
    ours = worker_uids(os.getpid())
    _, since = _stat(str(os.getpid()))
    left = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid not in ours:
                continue
            state, started = _stat(name)
            if state in ("Z", "X") or started < since:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
            left.append(f"{name} {state} {command}")
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return left


def no_worker_processes_left(patience: float = 60) -> list[str]:
    """Those still alive after the asynchronous kills had their time; returns as soon as
    none is left, so a generous patience costs a loaded machine nothing when all is well."""
    deadline = time.monotonic() + patience
    while True:
        left = worker_processes()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)
