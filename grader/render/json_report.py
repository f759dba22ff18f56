"""``--format json``: the whole report as one JSON object."""

from __future__ import annotations

import json
from dataclasses import asdict

from ..results import Report


def as_dict(report: Report) -> dict:
    return {
        "assignment": report.assignment,
        "title": report.title,
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "isolation": report.isolation,
        "isolation_reason": report.isolation_reason,
        "backend": report.backend,
        "weak_isolation_accepted": report.weak_isolation_accepted,
        "modified": list(report.modified),
        "refused": report.refused,
        "environment": report.environment,
        "hidden_checks": report.hidden,
        "errors": list(report.errors),
        "duration": report.duration,
        "tasks": [
            {"id": t.id, "title": t.title, "score": t.score, "max_score": t.points, "passed": t.passed}
            for t in report.tasks
        ],
        "tests": [
            {
                "name": c.name,
                "nodeid": c.nodeid,
                "task": c.task,
                "status": c.status,
                "score": c.score,
                "max_score": c.max_score,
                "message": c.message,
                "visibility": c.visibility,
                "duration": c.duration,
                "output": c.output,
            }
            for c in report.checks
        ],
        # sealed private numbers are None in the summary, so nothing private is written
        "competition": asdict(report.competition) if report.competition is not None else None,
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2)
