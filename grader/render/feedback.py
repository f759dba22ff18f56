"""What a student may see of the hidden checks: the manifest's ``hidden_feedback``.

``student_view`` turns a report into the one every student-facing output renders
(the terminal of a graded CI run, job summaries, annotations, Classroom 50's result
and release body, Gradescope's tests, the reporter's payload). Scores never change;
only what is said about hidden checks does:

- ``full``: every hidden check by name, with its message and output;
- ``summary`` (the default): per task, how many hidden checks passed and failed, and
  of what kind the failures were (wrong values, wrong shape or dtype, time limit,
  crash, forbidden API...) -- no names, inputs, got/expected values or output;
- ``none``: per task, only the points the hidden checks gave.

Instructors keep the full report (``--format json``, ``grade batch``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from ..manifest import Assignment
from ..results import CheckResult, Report, TaskResult

# (kind, what the message of a failed check says) in the order they are tried; the
# messages are the sandbox's and assert_close's own sentences (tests pin each kind)
KINDS = (
    ("forbidden API", re.compile(r"used an API its task forbids")),
    ("time limit", re.compile(r"took longer than .* and was stopped|did not finish within its time budget")),
    ("crash", re.compile(r"^the process running |memory limit was reached")),
    ("not implemented or missing", re.compile(r"is not implemented yet|is not defined in |, not a function|is missing from the submission")),
    ("wrong shape, dtype or type", re.compile(
        r" has shape \S.* but should have shape | has dtype \S+ but should have | should be a torch\.Tensor, got "
        r"| should be a \w+ of \d+ items| should have \d+ items, got | is on \S+ but should be on "
        r"| should be a number, got |returned a value the grader cannot accept"
    )),
    ("raised an exception", re.compile(r"^`[^`]+` raised |^`[^`]+` called sys\.exit|has a syntax error (?:at|in) line |could not be read: ")),
)
WRONG_VALUES = "wrong values"
CHECK_ERROR = "the check itself failed"
HIDDEN_FILE_ERROR = "a hidden check file could not be loaded (your instructor has the details)"
SKIPPED = "skipped by the check"  # in place of a reason a hidden check gave itself


SUMMARY_PREFIX = "hidden::"


def is_summary(check: CheckResult) -> bool:
    """A line ``student_view`` wrote in place of hidden checks (it names none of them)."""
    return check.nodeid.startswith(SUMMARY_PREFIX)


def kind(check: CheckResult) -> str:
    """What kind of failure ``check`` is, in words that reveal nothing of its inputs."""
    if check.violation:
        return "forbidden API"
    if check.status == "error":
        return CHECK_ERROR
    for name, pattern in KINDS:
        if pattern.search(check.message):
            return name
    return WRONG_VALUES


def student_view(report: Report, assignment: Assignment, level: str | None = None) -> Report:
    """``report`` as students may see it under ``level`` (default: the manifest's)."""
    level = level or assignment.hidden_feedback
    if level == "full":
        return report
    hidden_files = _hidden_file_names(assignment)
    errors = tuple(HIDDEN_FILE_ERROR if any(f in e for f in hidden_files) else e for e in report.errors)
    return replace(report, tasks=tuple(_task(t, level) for t in report.tasks), errors=tuple(dict.fromkeys(errors)))


def student_error(message: str, assignment: Assignment, level: str | None = None) -> str:
    """``message`` (why a run stopped: a check file that does not load, a check written
    wrongly) as students may see it. Such a line names the check or its file and quotes
    the failing line, so one about a hidden check file says only that it did not load."""
    if (level or assignment.hidden_feedback) == "full":
        return message
    return HIDDEN_FILE_ERROR if any(f in message for f in _hidden_file_names(assignment)) else message


def _hidden_file_names(assignment: Assignment) -> set[str]:
    folder = assignment.hidden_tests
    return {p.name for p in folder.rglob("*.py")} if folder.is_dir() else set()


def _task(task: TaskResult, level: str) -> TaskResult:
    hidden = [c for c in task.checks if c.visibility == "hidden"]
    if not hidden:
        return task
    shown = [c for c in task.checks if c.visibility != "hidden"]
    return replace(task, checks=tuple(shown + _collapse(task.id, hidden, level)))


def _collapse(task_id: str, hidden: list[CheckResult], level: str) -> list[CheckResult]:
    ran = [c for c in hidden if c.status != "skip"]
    skipped = [c for c in hidden if c.status == "skip"]
    out = []
    if skipped:  # a reason to skip (a sealed leaderboard, no GPU) is the grader's, not a check's
        reasons = "; ".join(sorted({_skip_reason(c) for c in skipped if c.message})) or "skipped"
        out.append(_entry(task_id, "skipped", f"hidden checks: {len(skipped)} skipped", "skip", reasons, skipped))
    if not ran:
        return out
    passed = [c for c in ran if c.status == "pass"]
    failed = [c for c in ran if c.status != "pass"]
    if level == "none":
        status = "pass" if not failed else "fail"
        message = "" if not failed else "details of hidden checks are not shown for this assignment"
        return out + [_entry(task_id, "all", "hidden checks", status, message, ran)]
    if passed:
        out.append(_entry(task_id, "passed", f"hidden checks: {len(passed)} passed", "pass", "", passed))
    if failed:
        kinds = Counter(kind(c) for c in failed)
        said = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        message = f"{said} (of {len(ran)} hidden checks)"
        out.append(_entry(task_id, "failed", f"hidden checks: {len(failed)} failed", "fail", message, failed))
    return out


def _skip_reason(check: CheckResult) -> str:
    """The grader's own reasons to skip, as they are; any other is the check's (its
    author's ``pytest.skip(...)``, or an xfail's whole traceback) and may quote it."""
    from ..competition.evaluate import SEALED
    from ..plugin import NO_CUDA, NO_REFERENCE

    ours = check.nodeid.startswith("competition::") or check.message in (NO_CUDA, NO_REFERENCE, SEALED)
    return check.message if ours else SKIPPED


def _entry(task_id: str, part: str, name: str, status: str, message: str, checks: list[CheckResult]) -> CheckResult:
    """One line standing for ``checks``: their weight and points together, nothing else of them."""
    return CheckResult(
        nodeid=f"{SUMMARY_PREFIX}{task_id}::{part}",
        name=name,
        task=task_id,
        status=status,
        message=message,
        visibility="hidden",
        duration=round(sum(c.duration for c in checks), 4),
        weight=sum(c.weight for c in checks),
        score=sum(c.score for c in checks),
        max_score=sum(c.max_score for c in checks),
        violation=any(c.violation for c in checks),
    )
