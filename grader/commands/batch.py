"""``grade batch hwN DIR``: regrade a class in parallel; resumable; gradebook.csv."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import bundle, grading, policy
from .. import manifest as manifest_mod
from ..errors import GraderError
from ..regrade import batch, fingerprint, pool, shards


def run(
    name: str, folder: Path, *, jobs: int, out: Path | None, hidden: Path | None, show_summary: bool, root: Path | None,
    console: Console, allow_weak: bool = False, shard: str | None = None, report: Path | None = None,
) -> int:
    if report is not None:  # before grading: a missing plotting library is said at once
        from ..regrade import charts

        charts.require()
    part = shards.parse(shard)
    if hidden is not None:  # the bundle defines the assignment: manifest, checks, data, labels
        assignment = bundle.locate(name, hidden)
    else:
        assignment = manifest_mod.find(name, (root.resolve() if root else manifest_mod.find_root()))
    folder = folder.resolve()
    inside = grading.trusted_place(assignment, folder, assignment.reference_dir if hidden else None, as_reference=False)
    if inside is not None:
        raise GraderError(f"{folder} lies inside {inside}: put the submissions somewhere else")
    default = f"{folder.name}-{name}-grades" if part == shards.WHOLE else f"{folder.name}-{name}-shard-{part.index}-of-{part.count}"
    out = (out or folder.parent / default).resolve()
    out.mkdir(parents=True, exist_ok=True)
    batch.claim(out, assignment, part)
    batch.clear_scratch(out)
    current = fingerprint.of(assignment)
    todo_all = [j for j in batch.find_submissions(folder) if j.path.resolve() != out and part.holds(j.student)]
    students = [j.student for j in todo_all]
    shards.write(out, batch.shard_record(assignment, part, current, students, complete=False))
    if part != shards.WHOLE:
        console.print(f"shard {part}: {len(todo_all)} of the submissions in {os.path.relpath(folder)}")
    todo = [j for j in todo_all if not batch.done(out, j, current)]
    skipped = len(todo_all) - len(todo)
    if skipped:
        console.print(f"{skipped} of {len(todo_all)} already graded (unchanged since): going on with the rest")
    regraded = sum(batch.stale(out, j, current) for j in todo)
    if regraded:
        console.print(f"{regraded} graded before a change to {name}'s definition or to the grader: graded again")
    errors = []
    if todo:
        jobs = max(1, min(jobs, len(todo)))
        try:
            level, reason, accepted = batch.prepare(
                assignment, assignment.reference_dir if hidden else None, out, jobs, current, allow_weak=allow_weak
            )
            if accepted:
                console.print(f"[yellow]! {escape(policy.accepted_note(level))}: {escape(reason or policy.meaning(level))} (recorded in every result)[/]")
            # no refresh thread: the pool may fork a replacement child at any time
            progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, auto_refresh=False
            )
            with progress:
                bar = progress.add_task(f"grading {name}", total=len(todo))
                for outcome in pool.run_all(todo, jobs, batch.grade_one, batch.child_start):
                    result = outcome.result if not outcome.died else batch.record_death(out, outcome.job, current, outcome.died)
                    if result["error"]:
                        errors.append(f"{result['student']}: {result['error']}")
                    progress.advance(bar)
                    progress.refresh()
        except KeyboardInterrupt:
            book = batch.gradebook(out, batch.shard_record(assignment, part, current, students, complete=False))
            console.print(f"interrupted: what was graded is kept in {os.path.relpath(book)}; run the same command to go on")
            raise
        finally:
            batch.close()
    record = batch.shard_record(assignment, part, current, students, complete=True)
    book = batch.gradebook(out, record)
    shards.write(out, record)
    for line in errors:
        console.print(f"[magenta]! {escape(line)}[/] (recorded; graded again on the next run)")
    console.print(f"{len(todo_all)} submissions: gradebook in {os.path.relpath(book)}, one result per student in {os.path.relpath(out / 'results')}")
    if show_summary:
        table = Table(title="Checks by how many students failed them")
        for column in ("task", "check", "failed", "of"):
            table.add_column(column, justify="right" if column in ("failed", "of") else "left")
        for task, check, failed, ran in batch.summary(out, students):
            table.add_row(task, escape(check), str(failed), str(ran))
        console.print(table)
    if report is not None:
        from ..regrade import report as report_mod

        console.print(f"class report in {os.path.relpath(report_mod.write(out, report, assignment))}")
    return 0
