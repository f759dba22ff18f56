"""A training run's budget: CPU seconds of its process tree, with a wall-clock cap.

Wall-clock time measures the machine as much as the program: on a busy shared
machine an honest run takes several times longer by the clock than on an idle one.
CPU seconds measure what the program asked for, the same on a loaded machine as on
an idle one (with one thread per process, see grader/threads.py). So the budget
counts the CPU time of the worker and everything it started (threads, child
processes, those already finished), read from ``/proc`` every half second by a
watcher thread in the trusted process, which stops the run once the budget is
spent. A program that waits instead of computing (a sleep, input that never comes)
spends no CPU; the manifest's ``wall_limit`` (default 5 x the budget) stops it.

Where ``/proc`` is missing (not Linux) the clock is all there is: elapsed time
counts as CPU time.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

INTERVAL = 0.5  # seconds between two looks at the process tree
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()  # the name in parentheses may hold spaces
    # after the name: state, ppid, ... utime (11), stime, cutime, cstime (14), in clock ticks
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / _TICKS


def tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds used by ``root`` and every process below it; None when ``root`` is gone
    or this system has no ``/proc``."""
    own = _stat(root)
    if own is None:
        return None
    below: dict[int, list[tuple[int, float]]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return own[1]
    for name in names:
        if name.isdigit() and int(name) != root:
            found = _stat(int(name))
            if found is not None:
                below.setdefault(found[0], []).append((int(name), found[1]))
    total, todo = own[1], [root]
    while todo:
        for pid, cpu in below.pop(todo.pop(), ()):
            total += cpu
            todo.append(pid)
    return total


def last_lines(path: str, count: int = 1, width: int = 160) -> list[str]:
    """The last ``count`` non-empty lines of a log a program is writing, control codes
    removed (a progress bar redraws its line with carriage returns: the latest state wins)."""
    try:
        with open(path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            f.seek(max(0, end - 16384))
            data = f.read()
    except OSError:
        return []
    lines = []
    for raw in re.split(r"[\r\n]", data.decode("utf-8", "replace")):
        line = _CONTROL.sub("", raw).strip()
        if line:
            lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return lines[-count:]


@dataclass(frozen=True)
class Progress:
    """How far a run has got, for a live line."""

    program: str
    elapsed: float  # wall-clock seconds since the worker started
    cpu: float  # CPU seconds of its process tree
    budget: float  # the CPU budget
    last_line: str  # the last line it printed ("" before any)


class Watch:
    """Stops a worker once its tree has used ``budget`` CPU seconds or ``wall_cap``
    seconds have passed, whichever comes first; reports progress meanwhile."""

    def __init__(self, worker, program: str, *, budget: float, wall_cap: float, progress: Callable[[Progress], None] | None = None):
        self.worker = worker
        self.program = program
        self.budget = budget
        self.wall_cap = wall_cap
        self.progress = progress
        self.started = time.monotonic()
        self.cpu = 0.0
        self.stopped_for: str | None = None  # "cpu" or "wall" once it stopped the run
        self._measured = True
        # on the fork backend the worker's keeper: what the worker leaves behind is re-parented to it
        self._root = worker.tree_root
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grader-budget", daemon=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def measure(self) -> float:
        """CPU seconds so far (never less than measured before: a child's time shows in
        its parent only once reaped)."""
        used = tree_cpu_seconds(self._root) if self._root else None
        if used is None and self.worker.pid:
            used = tree_cpu_seconds(self.worker.pid)
        if used is None:
            self._measured = False
            used = self.elapsed
        self.cpu = max(self.cpu, used)
        return self.cpu

    @property
    def measured(self) -> bool:
        """Whether CPU time could be read (else elapsed time stood in for it)."""
        return self._measured

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.wait(INTERVAL):
            cpu = self.measure()
            if cpu >= self.budget or self.elapsed >= self.wall_cap:
                self.stopped_for = "cpu" if cpu >= self.budget else "wall"
                self.worker.kill()
                return
            if self.progress is not None:
                last = last_lines(self.worker.output_path)
                try:
                    self.progress(Progress(self.program, self.elapsed, cpu, self.budget, last[0] if last else ""))
                except Exception:  # noqa: BLE001 - a display problem never stops grading
                    self.progress = None
