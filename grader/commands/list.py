"""``grade list``: the assignments in this course repository."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from .. import manifest as manifest_mod


def run(root: Path | None, console: Console) -> int:
    root = root.resolve() if root else manifest_mod.find_root()
    names = manifest_mod.available(root)
    if not names:
        console.print(f"no assignments in {root / 'assignments'}")
        return 0
    table = Table("assignment", "title", "tasks", "points", "hidden checks")
    for name in names:
        a = manifest_mod.find(name, root)
        hidden = "here" if a.hidden_tests.is_dir() else "not here"
        table.add_row(name, a.title, str(len(a.tasks)), f"{a.max_score:g}", hidden)
    console.print(table)
    return 0
