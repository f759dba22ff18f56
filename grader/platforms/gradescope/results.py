"""``--format gradescope``: Gradescope's results.json.

Rendered from the student view (``render/feedback.py``): public checks and the summary
lines standing for hidden checks are "visible"; under ``hidden_feedback = "full"`` the
hidden checks themselves are "after_published", so students see them once the
instructor publishes grades. A task none of whose checks ran is one entry worth 0 that
says why; a task skipped on purpose (a sealed private leaderboard) is worth 0 of 0,
not a failure. The public leaderboard score, if any, goes to Gradescope's leaderboard.
"""

from __future__ import annotations

import json

from ...manifest import HIGHER_IS_BETTER
from ...results import Report
from ...render import notes
from ...render.feedback import is_summary


def as_dict(report: Report) -> dict:
    tests = []
    for task in report.tasks:
        ran = [c for c in task.checks if c.status != "skip"]
        if not ran:
            reasons = "; ".join(sorted({c.message for c in task.checks if c.message})) or "no check ran for this task"
            if task.checks:  # skipped on purpose: nothing failed, nothing is scored yet
                tests.append({"name": f"{task.title}: not scored yet", "score": 0.0, "max_score": 0.0,
                              "output": reasons, "visibility": "visible", "tags": [task.id]})  # fmt: skip
            else:
                tests.append({"name": f"{task.title}: not scored", "score": 0.0, "max_score": task.points,
                              "status": "failed", "output": reasons, "visibility": "visible", "tags": [task.id]})  # fmt: skip
            continue
        for c in ran:
            output = c.message if c.status != "pass" else ""
            if c.output.strip() and c.status != "pass":
                output += f"\n\nyour output:\n{c.output.strip()[-2000:]}"
            tests.append({
                "name": f"{task.title}: {c.name}",
                "score": c.score,
                "max_score": c.max_score,
                "status": "passed" if c.status == "pass" else "failed",
                "output": output,
                "visibility": "after_published" if c.visibility == "hidden" and not is_summary(c) else "visible",
                "tags": [task.id],
            })  # fmt: skip
    result = {
        "score": report.score,
        "output": "\n".join([f"{report.title}: {report.score:g}/{report.max_score:g} (hidden checks: {report.hidden})", *notes.lines(report)]),
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    comp = report.competition
    if comp is not None and comp.public is not None:
        result["leaderboard"] = [{"name": f"public {comp.metric}", "value": comp.public, "order": "desc" if comp.metric in HIGHER_IS_BETTER else "asc"}]
    return result


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2)


def fallback(assignment, reason: str) -> str:
    """What run_autograder records when grading crashed, timed out or was refused: every
    task at 0 with the reason, so Gradescope shows why rather than a bare failure."""
    tests = [{"name": f"{t.title}: not graded", "score": 0.0, "max_score": t.points, "status": "failed",
              "output": reason[:2000], "visibility": "visible", "tags": [t.id]} for t in assignment.tasks]  # fmt: skip
    return json.dumps({"score": 0.0, "output": reason[:2000], "stdout_visibility": "hidden", "tests": tests}, indent=2)
