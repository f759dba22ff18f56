"""``grade hwN --watch``: grade, then grade again on every save of a student file, until Ctrl-C.

The zygote and this process (torch, pytest and the grader imported) stay up between
rounds; each round has a fresh pytest session, fresh check modules and fresh workers,
so it reports what a cold ``grade hwN`` would (see ``grader.watch``). What changed
since the round before — checks newly passing or failing, the score — comes first.
Only Ctrl-C (exit 130) or SIGTERM (143) ends it, with every worker gone.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .. import watch
from ..errors import GraderError
from ..render import feedback, terminal
from ..results import Report
from . import grade as grade_verb

SHOWN = 8  # checks listed per kind of change; the rest are counted


def run(
    name: str,
    *,
    submission: Path | None,
    reference: bool,
    hidden: Path | None,
    public_only: bool,
    root: Path | None,
    isolate: bool,
    run_program: bool = True,
    reveal_private: bool = False,
    console: Console,
) -> int:
    from ..sandbox.backend import start

    assignment, submission = grade_verb.resolve(name, submission=submission, reference=reference, hidden=hidden, root=root)
    files = watch.student_files(assignment, submission if submission is not None else assignment.directory)
    zygotes = [start()]  # started first: its `import torch` overlaps ours

    def grade_once() -> Report:
        if not zygotes[0].alive:  # it died (killed by hand, out of memory): a new one
            zygotes[0].close()
            zygotes[0] = start()
        return grade_verb.grade_with(
            assignment, submission, zygotes[0], hidden=hidden, public_only=public_only, isolate=isolate,
            run_program=run_program, reveal_private=reveal_private, reference=reference,
        )  # fmt: skip

    try:
        previous: Report | None = None
        for result in watch.rounds(grade_once, files):
            if hidden is not None:  # shown as `grade --hidden` shows a run: what a student may see
                result = _student_view(result, assignment)
            if console.is_terminal:
                console.clear()
            show(result, previous, console)
            console.print(f"\n[dim]watching {escape(', '.join(_shown(f) for f in files))}: save to grade again, Ctrl-C to stop[/]")
            if isinstance(result, Report):
                previous = result
    finally:
        zygotes[0].close()  # every worker goes with it
    return 130  # not reached: only an interrupt ends the loop


def _student_view(result: Report | GraderError, assignment) -> Report | GraderError:
    if isinstance(result, Report):
        return feedback.student_view(result, assignment)
    return GraderError(feedback.student_error(str(result), assignment))


def show(result: Report | GraderError, previous: Report | None, console: Console) -> None:
    """One round: what changed first, then the report as ``grade hwN`` shows it."""
    stamp = time.strftime("%H:%M:%S")
    if isinstance(result, GraderError):
        console.rule(f"[bold]graded at {stamp}[/]")
        console.print(f"[bold magenta]! {escape(str(result))}[/]  [dim](fix it and save again)[/]")
        return
    console.rule(f"[bold]graded at {stamp}[/] [dim]in {result.duration:.1f}s[/]")
    if previous is not None:
        _changes(watch.changes(previous, result), console)
    terminal.render(result, console)


def _changes(found: watch.Changes, console: Console) -> None:
    if found.score_after != found.score_before:
        arrow = "[green]▲[/]" if found.score_after > found.score_before else "[red]▼[/]"
        console.print(f"{arrow} score {_pts(found.score_before)} → [bold]{_pts(found.score_after)}[/]")
    for icon, label, names in (("[green]✓[/]", "newly passing", found.newly_passing), ("[red]✗[/]", "newly failing", found.newly_failing)):
        if names:
            groups = Counter(n.split("[", 1)[0] for n in names)  # parameter variants of a check together
            listed = [escape(g) + (f" [dim]×{k}[/]" if k > 1 else "") for g, k in groups.items()]
            more = f" and {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
            console.print(f"{icon} {len(names)} {label}: {', '.join(listed[:SHOWN])}{more}")
    if not (found.newly_passing or found.newly_failing or found.score_after != found.score_before):
        console.print("[dim]= no check changed since the last run[/]")


def _pts(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
