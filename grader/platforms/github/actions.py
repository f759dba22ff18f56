"""``--format actions``: what the plain GitHub Actions workflow shows a student.

Two kinds of line, which the workflow's grade step splits: workflow commands
(``::error file=...,line=...::``, one per failing check, at the student's file and at
the line where the message names one) go to the step's log, where GitHub turns them
into annotations; everything else is the Markdown job summary (``render/summary.py``)
for ``$GITHUB_STEP_SUMMARY``. No summary line starts with ``::``, and text in a
command is escaped as the runner expects, so a student's message cannot issue
commands of its own. Rendered from the student view, like every student-facing output.
"""

from __future__ import annotations

import re

from ...manifest import Assignment
from ...render import summary
from ...results import Report

MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step
# where a message names the student's line: "(at layers.py, line 130: ...)" (an exception),
# "layers.py, line 12" (a forbidden use), "layers.py has a syntax error in line 3"
LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*\.py)(?:, line | has a syntax error (?:at|in) line )(\d+)")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: Report, assignment: Assignment) -> list[str]:
    files = {t.id: t.file for t in assignment.tasks}
    lines = []
    for task in report.tasks:
        for c in task.checks:
            if c.status not in ("fail", "error"):
                continue
            file = files.get(task.id, "")
            where = LINE.search(c.message)
            props = []
            if where and where.group(1) in set(files.values()):
                file, line = where.group(1), where.group(2)
                props = [f"line={line}"]
            if file:
                props.insert(0, f"file={escape_property(f'assignments/{assignment.name}/{file}')}")
            props.append(f"title={escape_property(f'{task.title}: {c.name}')}")
            lines.append(f"::error {','.join(props)}::{escape_data(' '.join((c.message or 'failed').split()))}")
    return lines[:MAX_ANNOTATIONS]


def render(report: Report, assignment: Assignment) -> str:
    return "\n".join([*annotations(report, assignment), summary.render(report).rstrip("\n")])


def fallback(assignment: Assignment, reason: str) -> str:
    return f"::error title={escape_property(assignment.title)}::{escape_data(reason)}\n" + summary.not_graded(assignment.title, reason).rstrip("\n")
