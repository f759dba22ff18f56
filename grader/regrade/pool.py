"""A pool of forked grading processes in which a dead child takes down its own job only.

``concurrent.futures.ProcessPoolExecutor`` turns one killed child (the kernel's OOM
killer, a stray signal) into BrokenProcessPool for every job still queued: the whole
batch stops. Here each child holds one job at a time over its own pipe; when a child
dies, the job it held comes back as dead (with how it died), a fresh child is forked
in its place, and every other job goes on.

Children are forked from the caller, which has imported torch and the grader but run
no torch op, so each starts warm. Fork only from a process with no other thread
running: the caller keeps none (its progress display refreshes on each result).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any


@dataclass(frozen=True)
class Outcome:
    job: Any
    result: Any = None
    died: str = ""  # how the child that held the job died; empty when it finished


class _Child:
    def __init__(self, context, start: Callable[[], None], run: Callable[[Any], Any]):
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, start, run), daemon=True)
        self.process.start()
        theirs.close()
        self.conn = ours
        self.job: Any = None


def _serve(conn, start, run) -> None:
    try:
        start()
        while True:
            job = conn.recv()
            if job is None:
                return
            conn.send(run(job))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return  # Ctrl-C (or the parent's SIGINT) unwound the grading and cleaned up its workers


def death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the kernel kills with SIGKILL when memory runs out)" if -exitcode == signal.SIGKILL else ""
        return f"the grading process was killed by {name}{hint}"
    return f"the grading process exited with status {exitcode}"


def run_all(
    jobs: Iterable[Any], size: int, run: Callable[[Any], Any], start: Callable[[int], Callable[[], None]]
) -> Iterator[Outcome]:
    """Runs ``run(job)`` for every job in ``size`` forked children; yields each Outcome as
    it comes. ``start(n)`` is called in the parent before the n-th child is forked (0, 1,
    ... and on for replacements) and returns what that child runs first."""
    if "fork" not in multiprocessing.get_all_start_methods():  # Windows: one job after another, here
        start(0)()
        for job in jobs:
            yield Outcome(job, run(job))
        return
    context = multiprocessing.get_context("fork")
    todo = deque(jobs)
    forked = 0

    def fork() -> _Child:
        nonlocal forked
        child = _Child(context, start(forked), run)
        forked += 1
        return child

    children = [fork() for _ in range(min(size, len(todo)))]
    try:
        for child in children:
            child.job = todo.popleft()
            child.conn.send(child.job)
        while any(c.job is not None for c in children):
            busy = [c for c in children if c.job is not None]
            ready = set(wait([c.conn for c in busy] + [c.process.sentinel for c in busy]))
            for i, child in enumerate(children):
                if child.job is None or not ({child.conn, child.process.sentinel} & ready):
                    continue
                outcome = _collect(child)
                if outcome is None:
                    continue  # woken by the pipe before the result was whole
                yield outcome
                if outcome.died:
                    child.conn.close()
                    child = children[i] = fork()
                if todo:
                    child.job = todo.popleft()
                    child.conn.send(child.job)
    finally:
        for child in children:  # stopped early (Ctrl-C, SIGTERM): busy children unwind as on Ctrl-C
            if child.job is not None and child.process.is_alive():
                os.kill(child.process.pid, signal.SIGINT)
        for child in children:
            _stop(child)


def _collect(child: _Child) -> Outcome | None:
    job = child.job
    try:
        if child.conn.poll():
            result = child.conn.recv()
            child.job = None
            return Outcome(job, result)
    except (EOFError, OSError):
        pass
    if child.process.is_alive():
        return None
    child.process.join()
    child.job = None
    return Outcome(job, died=death(child.process.exitcode))


def _stop(child: _Child) -> None:
    try:
        child.conn.send(None)
    except OSError:
        pass
    child.process.join(timeout=5)
    if child.process.is_alive():
        child.process.kill()
        child.process.join()
    child.conn.close()
