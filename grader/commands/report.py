"""``grade report OUT``: the class report of a batch folder, as one self-contained HTML file."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from .. import bundle
from .. import manifest as manifest_mod
from ..errors import GraderError
from ..regrade import report as report_mod


def run(out: Path, *, output: Path | None, hidden: Path | None, root: Path | None, console: Console) -> int:
    if not out.is_dir():
        raise GraderError(f"{out} is not a folder: give the folder `grade batch` wrote (its --out)")
    target = output if output is not None else out / "report.html"
    written = report_mod.write(out, target, _assignment(out, hidden, root))
    console.print(f"class report in {os.path.relpath(written)}")
    return 0


def _assignment(out: Path, hidden: Path | None, root: Path | None) -> manifest_mod.Assignment | None:
    """The manifest the results were graded against (task titles, the baselines), or
    None when it is not to be found here and none was asked for."""
    name = next((str(d["assignment"]) for d in report_mod.read_results(out).values() if d.get("assignment")), None)
    if name is None:
        return None
    if hidden is not None:
        return bundle.locate(name, hidden)
    if root is not None:
        return manifest_mod.find(name, root.resolve())
    try:
        return manifest_mod.find(name, manifest_mod.find_root())
    except GraderError:  # not in a course repository: the page says what it lacks
        return None
