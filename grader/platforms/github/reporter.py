"""``--format github``: results for GitHub Classroom's autograding grading reporter.

The reporter reads, for each runner named in its ``runners`` input, the environment
variable ``<RUNNER>_RESULTS``: base64 of ``{"version", "status", "max_score", "tests"}``.
It awards the sum of the tests' ``score`` out of the sum of ``max_score``, but its
console table prints ``passed tests / all tests * max_score``. The two agree only if
every test of a runner is worth the same, so each task is its own runner and a check
of weight w is listed w times (weights are whole numbers in practice; otherwise the
points, which Classroom records, win).

Output is ``name=value`` lines for ``$GITHUB_OUTPUT``: one per task, ``runners``, and
``grader_summary`` (score, isolation, ignored edits) for the job summary.
"""

from __future__ import annotations

import base64
import json
import re

from ...results import Report, TaskResult
from ...render import notes


def unscored(task: TaskResult) -> bool:
    """Every check skipped on purpose (a sealed private leaderboard, no GPU): nothing
    failed, and nothing is scored yet."""
    return bool(task.checks) and all(c.status == "skip" for c in task.checks)


def _entries(task: TaskResult) -> list[dict]:
    counted = [c for c in task.checks if c.status != "skip"]
    if not counted:
        reasons = "; ".join(sorted({c.message for c in task.checks if c.message}))
        # a sealed leaderboard is not a failure: a passing line worth nothing (its runner's
        # max_score is 0, so the reporter leaves it out of the total) that says why
        return [{
            "name": f"{task.id}: not scored yet" if unscored(task) else f"{task.id}: not scored",
            "status": "pass" if unscored(task) else "error",
            "message": reasons or "no check ran for this task",
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
                # multiples of 1/1024 add up exactly in the reporter's running float sum
                "score": round(c.score / copies * 1024) / 1024,
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
    return {"version": 1, "status": status, "max_score": 0 if unscored(task) else task.points, "tests": tests}


def runner_names(task_ids: list[str]) -> dict[str, str]:
    """Task id -> runner name. The reporter accepts only [a-zA-Z0-9]+ in its `runners`
    input (and reads <RUNNER>_RESULTS), so underscores go and clashes get a number."""
    names: dict[str, str] = {}
    for task_id in task_ids:
        base = re.sub(r"[^a-z0-9]", "", task_id.lower()) or "task"
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}{n}", n + 1
        names[task_id] = name
    return names


def _lines(payloads: dict[str, dict]) -> str:
    names = runner_names(list(payloads))
    lines = [f"{names[t]}={base64.b64encode(json.dumps(p, separators=(',', ':')).encode()).decode()}" for t, p in payloads.items()]
    lines.append("runners=" + ",".join(names.values()))
    return "\n".join(lines)


# Not a runner name (those are [a-z0-9]+): the score and how far to trust it, one line,
# for the workflow to put in the job summary.
SUMMARY = "grader_summary"


def render(report: Report) -> str:
    summary = " · ".join([f"{report.title}: {report.score:g}/{report.max_score:g}", *notes.lines(report)])
    return _lines({task.id: task_payload(task) for task in report.tasks}) + f"\n{SUMMARY}={_one_line(summary)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def fallback(assignment, reason: str) -> str:
    """What the workflow sends when grading crashed or timed out: every task, 0 points,
    the reason; valid for the reporter, so Classroom records a 0 rather than nothing."""
    payloads = {}
    for task in assignment.tasks:
        test = {"name": f"{task.id}: not graded", "status": "error", "message": reason[:500], "score": 0,
                "line_no": 0, "test_code": "", "filename": "", "duration": 0}  # fmt: skip
        payloads[task.id] = {"version": 1, "status": "error", "max_score": task.points, "tests": [test]}
    return _lines(payloads)
