"""What every report says about how far it can be trusted, in the same words everywhere:
the isolation level (with its meaning and the sandbox's reason below the top), an
accepted weak isolation, the student's edits that were ignored, why a refused
submission was not graded at all, and what the declared grading environment lacks."""

from __future__ import annotations

from .. import policy
from ..results import Report


def isolation_line(report: Report) -> str:
    backend = f" · backend: {report.backend}" if report.backend else ""
    if report.isolation == policy.NO_STUDENT_CODE:
        return f"isolation: {report.isolation}{backend}"
    line = f"isolation: {report.isolation}"
    if policy.below_top(report.isolation):
        line += f" — {policy.meaning(report.isolation)}"
        if report.isolation_reason:
            line += f" (why not stronger: {report.isolation_reason})"
    return line + backend


def accepted_line(report: Report) -> str:
    return policy.accepted_note(report.isolation) if report.weak_isolation_accepted else ""


def modified_line(report: Report) -> str:
    if not report.modified:
        return ""
    return "modified (ignored for scoring; the trusted copies were used): " + ", ".join(report.modified)


def refused_line(report: Report) -> str:
    return f"not graded: {report.refused}" if report.refused else ""


def environment_line(report: Report) -> str:
    return report.environment


def lines(report: Report) -> list[str]:
    found = (refused_line(report), isolation_line(report), accepted_line(report), modified_line(report), environment_line(report))
    return [line for line in found if line]
