"""``grade gradebook merge|clone``: the class-level side of a sharded regrade."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .. import atomic
from ..regrade import merge as merge_mod
from ..regrade import roster as roster_mod
from ..regrade import shards


def merge(out: Path, shard_dirs: list[Path], *, console: Console) -> int:
    book, record = merge_mod.merge(out, shard_dirs)
    console.print(
        f"{record.assignment}: {len(record.students)} students from {record.merged_from} shards: gradebook in "
        f"{os.path.relpath(book)}, one result per student in {os.path.relpath(book.parent / 'results')}"
    )
    return 0


def clone(roster: Path, dest: Path, *, shard: str | None, before: str, commits: Path | None, console: Console) -> int:
    """Clones the shard's repositories; the token for github.com comes from GH_TOKEN."""
    part = shards.parse(shard)
    entries = roster_mod.of_shard(roster_mod.read(roster), part)
    cloned = roster_mod.clone(entries, dest, before=before, token=os.environ.get("GH_TOKEN", ""))
    if commits is not None:  # what was graded, for a commit status per student
        lines = [f"{c.entry.student}\t{c.entry.repository}\t{c.commit}\t{c.problem}\n" for c in cloned]
        atomic.write_text(commits, "".join(lines))
    for c in cloned:
        if c.problem:
            console.print(f"[yellow]! {escape(c.entry.student)} ({escape(c.entry.repository)}): not cloned: {escape(c.problem)}[/]")
    got = sum(1 for c in cloned if c.commit)
    where = f"shard {part}" if part != shards.WHOLE else "the roster"
    console.print(f"{got} of {len(cloned)} repositories of {where} cloned into {os.path.relpath(dest)}")
    return 0
