"""The Markdown summary a platform shows a student: per task its points and the one-line
reason of each failing check, then how far the run can be trusted. The plain GitHub
Actions workflow appends it to the job summary; Classroom 50 publishes it as the
submission's release body. Rendered from the student view (``feedback.student_view``).
"""

from __future__ import annotations

from ..results import Report, TaskResult
from . import notes

MAX_REASON = 300  # characters of one reason in a table cell


def _pts(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def cell(text: str) -> str:
    """One table cell: a single line, no `|` to break the row, no HTML."""
    text = " ".join(str(text).split())
    text = text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _row(task: TaskResult) -> str:
    if task.checks and all(c.status == "skip" for c in task.checks):
        reasons = "; ".join(sorted({c.message for c in task.checks if c.message})) or "skipped"
        return f"| {cell(task.title)} | not scored yet (of {_pts(task.points)}) | {cell(reasons)} |"
    failing = [c for c in task.checks if c.status in ("fail", "error")]
    if not task.checks:
        why = "no check ran for this task"
    else:
        why = "<br>".join(f"{cell(c.name)}: {cell(c.message)}" if c.message else cell(c.name) for c in failing)
    return f"| {cell(task.title)} | {_pts(task.score)}/{_pts(task.points)} | {why} |"


def render(report: Report, *, heading: str = "###", footer: tuple[str, ...] = ()) -> str:
    lines = [f"{heading} {cell(report.title)}: {_pts(report.score)}/{_pts(report.max_score)}", ""]
    if report.refused:
        lines += [f"Not graded: {cell(report.refused)}", ""]
    lines += ["| task | points | failing checks |", "|---|---|---|", *(_row(t) for t in report.tasks), ""]
    lines += [f"- {cell(e)}" for e in report.errors]
    lines += [f"- {cell(line)}" for line in notes.lines(report) if line != notes.refused_line(report)]
    lines += [f"- {cell(line)}" for line in footer]
    return "\n".join(lines).rstrip("\n") + "\n"


def not_graded(title: str, reason: str, *, heading: str = "###") -> str:
    """What a platform shows when grading did not finish: 0 points, and why."""
    return f"{heading} {cell(title)}: not graded\n\n{cell(reason)}\n"
