"""``--format github``: results for GitHub Classroom's autograding grading reporter.

The reporter reads, for each runner named in its ``runners`` input, the environment
variable ``<RUNNER>_RESULTS``: base64 of ``{"version", "status", "max_score", "tests"}``.
It awards the sum of the tests' ``score`` out of the sum of ``max_score``, but its
console table prints ``passed tests / all tests * max_score``. The two agree only if
every test of a runner is worth the same, so each task is its own runner and a check
of weight w is listed w times (weights are whole numbers in practice; otherwise the
points, which Classroom records, win).

Output is ``name=value`` lines for ``$GITHUB_OUTPUT``: one per task plus ``runners``.
"""

from __future__ import annotations

import base64
import json

from ..results import Report, TaskResult


def _entries(task: TaskResult) -> list[dict]:
    counted = [c for c in task.checks if c.status != "skip"]
    if not counted:
        # e.g. a sealed private leaderboard: say why, worth nothing until it is scored
        reasons = sorted({c.message for c in task.checks if c.message})
        return [{
            "name": f"{task.id}: not scored",
            "status": "fail" if reasons else "error",
            "message": "; ".join(reasons) or "no check ran for this task",
            "score": 0,
            "line_no": 0,
            "test_code": "",
            "filename": "",
            "duration": 0,
        }]
    entries = []
    for c in counted:
        copies = int(c.weight) if float(c.weight).is_integer() and c.weight >= 1 else 1
        for k in range(copies):
            entries.append({
                "name": c.name if copies == 1 else f"{c.name} ({k + 1}/{copies})",
                "status": "pass" if c.status == "pass" else ("error" if c.status == "error" else "fail"),
                "message": c.message,
                "score": c.score / copies,
                "line_no": 0,
                "test_code": c.nodeid,
                "filename": c.nodeid.split("::")[0],
                "duration": int(c.duration * 1000),
            })
    # rounded shares may not add up; the last passing entry takes the remainder so the
    # points Classroom records are exactly the task's score
    passing = [e for e in entries if e["status"] == "pass"]
    if passing:
        passing[-1]["score"] = task.score - sum(e["score"] for e in passing[:-1])
    return entries


def task_payload(task: TaskResult) -> dict:
    tests = _entries(task)
    status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": task.points, "tests": tests}


def runner_name(task_id: str) -> str:
    return task_id  # manifest ids are [a-z][a-z0-9_]*: valid as step outputs and env names


def render(report: Report) -> str:
    lines = []
    for task in report.tasks:
        blob = json.dumps(task_payload(task), separators=(",", ":")).encode()
        lines.append(f"{runner_name(task.id)}={base64.b64encode(blob).decode()}")
    lines.append("runners=" + ",".join(runner_name(t.id) for t in report.tasks))
    return "\n".join(lines)
