"""``grade new NAME``: scaffold an assignment, then build it (stub and notebook)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from .. import manifest as manifest_mod
from ..scaffold import create
from . import build


def run(name: str, *, root: Path | None, console: Console) -> int:
    root = root.resolve() if root else manifest_mod.find_root()
    written = create(root, name)
    console.print(f"{name}: wrote {', '.join(os.path.relpath(p) for p in written)}")
    build.run(name, check=False, validate=True, root=root, console=console)
    console.print(f"next: edit reference/{name}/exercises.py and the manifest, then `grade build {name}`; `grade {name} --reference` should give full marks")
    return 0
