"""``--format classroom50``: the ``result.json`` of Classroom 50 (schema
``classroom50/result/v1``), and the ``release-body.md`` published beside it.

The schema wants whole numbers, so scores are in hundredths of a point (``SCALE``): a
task worth 2.5 points has max-score 250. Each check's share of its task is rounded by
largest remainder so that the shares add up exactly to the task's points, and the
tasks exactly to the assignment's; a check scores its whole share or nothing, so
``score`` is exactly the sum of the tests' scores and ``max-score`` of their
max-scores (the score may differ from the exact one by a few hundredths).

A task skipped on purpose (a sealed private leaderboard) is no test and counts in
neither total: it is not a failure, and it is not graded until the instructor's
regrade reveals it; the release body says so. The identity fields come from the
environment Classroom 50's runner gives ``autograder.py`` (``CLASSROOM``,
``ASSIGNMENT``, ``OWNER``/``USERNAME``, ``ASSIGNMENT_TYPE``, ``SUBMISSION_TAG``,
``COMMIT_URL``, ``RELEASE_URL``, ``REVIEW_URL``); the runner re-stamps ``owner``,
``assignment_type``, ``datetime`` and ``graded_at`` itself.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ...manifest import PRIVATE_TASK, Assignment
from ...render import summary
from ...results import Report, TaskResult

SCHEMA = "classroom50/result/v1"
SCALE = 100  # result.json scores are hundredths of a point
TYPES = ("individual", "group", "team")
RELEASE_BODY = "release-body.md"
MAX_MESSAGE = 500


@dataclass(frozen=True)
class Identity:
    classroom: str
    assignment: str
    owner: str
    assignment_type: str
    submission: str
    commit: str
    release: str
    review: str


def identity(env: Mapping[str, str], assignment: str) -> Identity:
    """From the runner's environment; outside Classroom 50 (a local try), placeholders
    that keep the result valid and say where it came from."""
    commit = env.get("COMMIT_URL") or "local"
    tag = env.get("SUBMISSION_TAG") or ""
    kind = (env.get("ASSIGNMENT_TYPE") or "").strip().lower()
    return Identity(
        classroom=env.get("CLASSROOM") or "local",
        assignment=env.get("ASSIGNMENT") or assignment,
        owner=env.get("OWNER") or env.get("USERNAME") or "local",
        assignment_type=kind if kind in TYPES else "individual",
        submission=tag if tag.startswith("submit/") else "submit/local",
        commit=commit,
        release=env.get("RELEASE_URL") or commit,
        review=env.get("REVIEW_URL") or commit,
    )


def largest_remainder(values: list[float], total: int) -> list[int]:
    """Whole numbers, each within 1 of its value, that add up to exactly ``total``."""
    values = [round(v, 9) for v in values]  # float noise (33.33333333334) must not decide
    floors = [math.floor(v) for v in values]
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    return floors


def unscored(task: TaskResult) -> bool:
    return bool(task.checks) and all(c.status == "skip" for c in task.checks)


def _task_maxima(points: list[float]) -> list[int]:
    return largest_remainder([p * SCALE for p in points], round(sum(points) * SCALE))


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def tests(report: Report) -> list[dict]:
    scored = [t for t in report.tasks if not unscored(t)]
    out = []
    for task, task_max in zip(scored, _task_maxima([t.points for t in scored])):
        ran = [c for c in task.checks if c.status != "skip"]
        if not ran:
            out.append(_test(task, "not scored", False, 0, task_max, "no check ran for this task"))
            continue
        shares = largest_remainder([c.max_score * SCALE for c in ran], task_max)
        for c, share in zip(ran, shares):
            passed = c.status == "pass"
            out.append(_test(task, c.name, passed, share if passed and c.score > 0 else 0, share, c.message))
    return out


def _test(task: TaskResult, name: str, passed: bool, score: int, maximum: int, message: str) -> dict:
    entry = {"test-name": f"{task.title}: {name}", "passed": passed, "score": score, "max-score": maximum, "task": task.id}
    if message:
        entry["message"] = _one_line(message)
    return entry


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def result(who: Identity, entries: list[dict]) -> dict:
    """The whole document; ``score`` and ``max-score`` are the sums of the tests'."""
    now = _now()
    return {
        "schema": SCHEMA,
        "classroom": who.classroom,
        "assignment": who.assignment,
        "assignment_type": who.assignment_type,
        "owner": who.owner,
        "submission": who.submission,
        "commit": who.commit,
        "release": who.release,
        "review": who.review,
        "datetime": now,  # the runner replaces it with the commit's date
        "graded_at": now,
        "score": sum(t["score"] for t in entries),
        "max-score": sum(t["max-score"] for t in entries),
        "tests": entries,
    }


def as_dict(report: Report, who: Identity) -> dict:
    return result(who, tests(report))


def render(report: Report, who: Identity) -> str:
    return json.dumps(as_dict(report, who), indent=2)


def release_body(report: Report) -> str:
    entries = tests(report)
    recorded = f"{sum(t['score'] for t in entries)}/{sum(t['max-score'] for t in entries)}"
    footer = [f"Classroom 50 records this as {recorded} (hundredths of a point)."]
    if any(unscored(t) for t in report.tasks):
        footer.append("A task not scored yet counts in neither total; your instructor's regrade scores it.")
    return summary.render(report, footer=tuple(footer))


def fallback_tests(assignment: Assignment) -> list[dict]:
    """Every task at 0, one test each: what a run that did not finish records. A sealed
    private leaderboard is left out, as in a graded run."""
    tasks = [t for t in assignment.tasks if not (t.id == PRIVATE_TASK and _sealed(assignment))]
    return [
        {"test-name": f"{t.title}: not graded", "passed": False, "score": 0, "max-score": m, "task": t.id}
        for t, m in zip(tasks, _task_maxima([t.points for t in tasks]))
    ]


def _sealed(assignment: Assignment) -> bool:
    return assignment.competition is not None and not assignment.competition.reveal_private


def fallback_body(assignment: Assignment, reason: str) -> str:
    return summary.not_graded(assignment.title, reason)


def fallback(assignment: Assignment, reason: str, who: Identity) -> str:
    entries = [dict(t, message=_one_line(reason)) for t in fallback_tests(assignment)]
    return json.dumps(result(who, entries), indent=2)
