"""``grade gradebook merge|roster``: the class-level side of a sharded regrade."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rich.console import Console

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


def roster(path: Path, shard: str | None) -> int:
    """One line per student of the shard: student, repository, what to clone (tab-separated),
    for a shell loop to read; nothing else on stdout."""
    part = shards.parse(shard)
    for entry in roster_mod.of_shard(roster_mod.read(path), part):
        sys.stdout.write(f"{entry.student}\t{entry.repository}\t{entry.clone_url}\n")
    return 0
