"""``grade export gradescope hwN``: the autograder zip to upload to Gradescope."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from .. import manifest as manifest_mod


def run(target: str, name: str, *, out: Path, root: Path | None, console: Console) -> int:
    from ..gradescope_export import export

    root = root.resolve() if root else manifest_mod.find_root()
    assignment = manifest_mod.find(name, root)
    path = export(assignment, out)
    console.print(f"{name}: Gradescope autograder in {os.path.relpath(path)} (upload it as the assignment's autograder)")
    return 0
