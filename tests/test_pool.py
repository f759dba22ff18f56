"""The batch's process pool: a child that dies takes its own job down, nothing else."""

from __future__ import annotations

import os
import signal

from grader.regrade import pool


def _run(job):
    if job == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if job == "exits":
        os._exit(3)
    return job.upper()


def test_a_dead_child_fails_only_its_own_job_and_is_replaced():
    forked = []

    def start(n):
        forked.append(n)
        return lambda: None

    jobs = ["a", "killed", "b", "exits", "c", "d"]
    outcomes = {o.job: o for o in pool.run_all(jobs, 2, _run, start)}
    assert set(outcomes) == set(jobs)  # every job comes back once
    assert {j: o.result for j, o in outcomes.items() if not o.died} == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert "killed by SIGKILL" in outcomes["killed"].died and "memory runs out" in outcomes["killed"].died
    assert outcomes["exits"].died == "the grading process exited with status 3"
    assert forked == [0, 1, 2, 3]  # two children, and one fresh child for each that died
