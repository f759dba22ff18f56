"""``grade build hwN``: write the student files from the reference (or check they match)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from .. import build as build_mod
from .. import manifest as manifest_mod
from ..errors import GraderError


def run(name: str, *, check: bool, validate: bool, root: Path | None, console: Console, out: Path | None = None) -> int:
    root = root.resolve() if root else manifest_mod.find_root()
    assignment = manifest_mod.find(name, root)
    built = build_mod.build(assignment)  # every file built before any is written
    stale = build_mod.drift(assignment, built)
    shown = [os.path.relpath(p) for p in stale]
    if check:
        for path in shown:
            console.print(f"[red]{path} differs from what reference/{name} builds[/] (run `grade build {name}`)")
        if not stale:
            console.print(f"{name}: the student files match the reference")
        return 1 if stale else 0
    if validate:
        from ..sandbox.backend import start

        console.print(f"{name}: grading the reference and the stubs before writing anything…")
        zygote = start()
        try:
            problems = build_mod.validate(assignment, built, zygote)
        finally:
            zygote.close()
        if problems:
            raise GraderError(f"{name} was not built: " + "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
    for path in stale:
        path.write_text(built[path], encoding="utf-8")
    console.print(f"{name}: wrote {', '.join(shown)}" if stale else f"{name}: already up to date")
    if out is not None:
        from ..release import ship

        release, bundle = ship(assignment, out)
        console.print(f"{name}: student release in {os.path.relpath(release)}, autograder bundle in {os.path.relpath(bundle)}")
    return 0
