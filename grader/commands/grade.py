"""``grade hwN``: grade a submission (by default the assignment folder as it stands).

With ``--hidden BUNDLE`` the bundle defines the assignment (manifest, public and hidden
checks, data, labels) and the student's folder supplies only their own files. An
authoritative format is refused below the manifest's ``min_isolation``, probed before
any student code runs. The result file is written only here, once every worker is
gone, and atomically.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from rich.console import Console

from .. import atomic, bundle, policy
from .. import manifest as manifest_mod
from ..errors import GraderError
from ..platforms.classroom50 import result as classroom50
from ..platforms.github import actions
from ..platforms.github import reporter as github
from ..platforms.gradescope import results as gradescope
from ..render import feedback, json_report, junit, terminal
from ..render.live import LiveLine

FORMATS = ("terminal", "json", "github", "actions", "junit", "gradescope", "classroom50")
# What a platform records when grading crashed, timed out or was refused: 0 and the reason
FALLBACK_FORMATS = {
    "github": github.fallback,
    "actions": actions.fallback,
    "gradescope": gradescope.fallback,
    "classroom50": lambda assignment, reason: classroom50.fallback(assignment, reason, _identity(assignment)),
}
# Shown to students: rendered from the student view (the manifest's hidden_feedback);
# --format json keeps every detail, for instructors
STUDENT_FACING = ("github", "actions", "junit", "gradescope", "classroom50")


def grade_with(assignment, submission, zygote, *, hidden, public_only, isolate, run_program, reveal_private, reference, progress=None):
    """One grading of a resolved assignment and submission, as ``grade hwN`` and each
    ``--watch`` round do it."""
    from ..grading import grade

    return grade(
        assignment,
        submission,
        hidden_dir=assignment.reference_dir if hidden is not None else None,
        include_hidden=not public_only,
        isolate=isolate,
        run_program=run_program,
        reveal_private=reveal_private,
        zygote=zygote,
        as_reference=reference,  # only --reference may grade what lies in the reference or the bundle
        progress=progress,
    )


def run(
    name: str,
    *,
    submission: Path | None,
    reference: bool,
    fmt: str,
    output: Path | None,
    hidden: Path | None,
    public_only: bool,
    root: Path | None,
    isolate: bool,
    run_program: bool = True,
    reveal_private: bool = False,
    fallback: str | None = None,
    allow_weak: bool = False,
    console: Console | None = None,
) -> int:
    """Grades and renders; returns the exit code (0 all passed, 1 something failed).
    ``console``: where the terminal format goes (default: stdout)."""
    from ..sandbox.backend import start

    if output is not None:
        atomic.discard(output)  # a run that dies leaves no result behind, stale or forged
        if fmt == "classroom50":
            atomic.discard(output.parent / classroom50.RELEASE_BODY)
    assignment, submission = resolve(name, submission=submission, reference=reference, hidden=hidden, root=root)
    if fallback is not None:  # a platform's safety net: no grading, no torch
        if fmt not in FALLBACK_FORMATS:
            raise GraderError(f"--fallback works with --format {', '.join(FALLBACK_FORMATS)}, not {fmt}")
        _emit(FALLBACK_FORMATS[fmt](assignment, fallback), output)
        if fmt == "classroom50" and output is not None:
            atomic.write_text(output.parent / classroom50.RELEASE_BODY, classroom50.fallback_body(assignment, fallback))
        return 0
    authoritative = fmt in policy.AUTHORITATIVE_FORMATS
    student_facing = fmt in STUDENT_FACING or (fmt == "terminal" and hidden is not None)  # a CI run's log is the student's
    minimum = assignment.limits.min_isolation
    what = f"--format {fmt}"
    zygote = start()  # started now, so its `import torch` overlaps ours
    console = console or Console()
    live = LiveLine.open(console, fmt=fmt, to_file=output is not None)  # a terminal only
    try:
        if authoritative:  # before any student code runs
            level, reason = policy.probe(zygote, isolate=isolate)
            policy.require(name, what, level, reason, minimum, allow_weak=allow_weak, isolate=isolate)
        report = grade_with(
            assignment, submission, zygote, hidden=hidden, public_only=public_only, isolate=isolate,
            run_program=run_program, reveal_private=reveal_private, reference=reference,
            progress=live.update if live else None,
        )  # fmt: skip
    except GraderError as e:  # a hidden check file that does not load: its line is the instructor's
        said = feedback.student_error(str(e), assignment) if student_facing else str(e)
        if said != str(e):
            raise GraderError(said) from None
        raise
    finally:
        if live:
            live.close()
        zygote.close()  # every worker goes with it, before anything is written
    if authoritative:
        report = policy.settle(report, name, what, minimum, allow_weak=allow_weak)
    if student_facing:
        report = feedback.student_view(report, assignment)

    if fmt == "classroom50":
        _emit(classroom50.render(report, _identity(assignment)), output)
        if output is not None:  # Classroom 50 publishes both files, side by side
            atomic.write_text(output.parent / classroom50.RELEASE_BODY, classroom50.release_body(report))
    elif fmt == "actions":
        _emit(actions.render(report, assignment), output)
    elif fmt == "terminal":
        buffer = io.StringIO() if output else None
        terminal.render(report, Console(file=buffer, width=120) if buffer else console)
        if buffer is not None:
            _emit(buffer.getvalue().rstrip("\n"), output)
    else:
        _emit({"json": json_report.render, "github": github.render, "junit": junit.render, "gradescope": gradescope.render}[fmt](report), output)
    return 0 if report.all_passed else 1


def _identity(assignment) -> classroom50.Identity:
    return classroom50.identity(os.environ, assignment.name)


def resolve(name: str, *, submission: Path | None, reference: bool, hidden: Path | None, root: Path | None):
    """(assignment, submission) as ``grade NAME`` means them: the bundle's definition
    with the student's folder, or the course repository's; the reference for --reference."""
    if reference and submission is not None:
        raise GraderError("give either --reference or --submission, not both")
    assignment = _assignment(name, hidden, root)
    if hidden is not None and submission is None and not reference:
        submission = _student_folder(name, root)
    if reference:
        if not assignment.reference_dir.is_dir():
            raise GraderError(f"--reference needs {assignment.reference_dir}, the instructor's copy of the solution")
        submission = assignment.reference_dir
    return assignment, submission


def _assignment(name: str, hidden: Path | None, root: Path | None) -> manifest_mod.Assignment:
    if hidden is not None:
        return bundle.locate(name, hidden)
    return manifest_mod.find(name, root.resolve() if root else manifest_mod.find_root())


def _student_folder(name: str, root: Path | None) -> Path:
    """The student's copy of the assignment: only their files are taken from it."""
    root = root.resolve() if root else manifest_mod.find_root()
    folder = root / "assignments" / name
    if not folder.is_dir():
        raise GraderError(f"no {folder} to grade; pass --submission PATH")
    return folder


def _emit(text: str, output: Path | None) -> None:
    if output:
        atomic.write_text(output, text + "\n")
    else:
        sys.stdout.write(text + "\n")
