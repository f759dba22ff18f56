"""``grade batch hwN DIR``: regrade a class in parallel; resumable; gradebook.csv."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import bundle, policy
from ..regrade import batch
from .. import manifest as manifest_mod


def run(
    name: str, folder: Path, *, jobs: int, out: Path | None, hidden: Path | None, show_summary: bool, root: Path | None,
    console: Console, allow_weak: bool = False,
) -> int:
    if hidden is not None:  # the bundle defines the assignment: manifest, checks, data, labels
        assignment = bundle.locate(name, hidden)
    else:
        assignment = manifest_mod.find(name, (root.resolve() if root else manifest_mod.find_root()))
    folder = folder.resolve()
    out = (out or folder.parent / f"{folder.name}-{name}-grades").resolve()
    out.mkdir(parents=True, exist_ok=True)
    batch.clear_scratch(out)
    todo_all = [j for j in batch.find_submissions(folder) if j.path.resolve() != out]
    todo = [j for j in todo_all if not batch.done(out, j)]
    skipped = len(todo_all) - len(todo)
    if skipped:
        console.print(f"{skipped} of {len(todo_all)} already graded (unchanged since): going on with the rest")
    errors = []
    if todo:
        jobs = max(1, min(jobs, len(todo)))
        try:
            level, reason, accepted = batch.prepare(assignment, assignment.reference_dir if hidden else None, out, jobs, allow_weak=allow_weak)
        except BaseException:
            batch.close()
            raise
        if accepted:
            console.print(f"[yellow]! {escape(policy.accepted_note(level))}: {escape(reason or policy.meaning(level))} (recorded in every result)[/]")
        context = multiprocessing.get_context("fork")
        counter = context.Value("i", 0)
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=batch._take_zygote, initargs=(counter,))
        try:
            # every job submitted (and so every child forked) before the progress bar's thread starts
            futures = [pool.submit(batch.grade_one, job) for job in todo]
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
                bar = progress.add_task(f"grading {name}", total=len(todo))
                for future in as_completed(futures):
                    result = future.result()
                    if result["error"]:
                        errors.append(f"{result['student']}: {result['error']}")
                    progress.advance(bar)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            book = batch.gradebook(assignment, out)
            console.print(f"interrupted: what was graded is kept in {os.path.relpath(book)}; run the same command to go on")
            raise
        finally:
            pool.shutdown()
            batch.close()
    book = batch.gradebook(assignment, out)
    for line in errors:
        console.print(f"[magenta]! {escape(line)}[/] (recorded; graded again on the next run)")
    console.print(f"{len(todo_all)} submissions: gradebook in {os.path.relpath(book)}, one result per student in {os.path.relpath(out / 'results')}")
    if show_summary:
        table = Table(title="Checks by how many students failed them")
        for column in ("task", "check", "failed", "of"):
            table.add_column(column, justify="right" if column in ("failed", "of") else "left")
        for task, check, failed, ran in batch.summary(out):
            table.add_row(task, escape(check), str(failed), str(ran))
        console.print(table)
    return 0
