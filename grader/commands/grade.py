"""``grade hwN``: grade a submission (by default the assignment folder as it stands)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from .. import manifest as manifest_mod
from ..errors import GraderError
from ..render import github, gradescope, json_report, junit, terminal

FORMATS = ("terminal", "json", "github", "junit", "gradescope")


def run(
    name: str,
    *,
    submission: Path | None,
    reference: bool,
    fmt: str,
    output: Path | None,
    hidden: Path | None,
    public_only: bool,
    root: Path | None,
    isolate: bool,
    run_program: bool = True,
    reveal_private: bool = False,
    fallback: str | None = None,
) -> int:
    """Grades and renders; returns the exit code (0 all passed, 1 something failed)."""
    from ..sandbox.client import Zygote

    root = root.resolve() if root else manifest_mod.find_root()
    assignment = manifest_mod.find(name, root)
    if fallback is not None:  # the workflow's safety net: no grading, no torch
        text = github.fallback(assignment, fallback)
        (output.write_text(text + "\n", encoding="utf-8") if output else sys.stdout.write(text + "\n"))
        return 0
    if reference and submission is not None:
        raise GraderError("give either --reference or --submission, not both")
    if reference:
        if not assignment.reference_dir.is_dir():
            raise GraderError(f"--reference needs {assignment.reference_dir}, the instructor's copy of the solution")
        submission = assignment.reference_dir
    zygote = Zygote()  # started now, so its `import torch` overlaps ours
    try:
        from ..grading import grade

        report = grade(
            assignment,
            submission,
            hidden_dir=hidden.resolve() if hidden else None,
            include_hidden=not public_only,
            isolate=isolate,
            run_program=run_program,
            reveal_private=reveal_private,
            zygote=zygote,
        )
    finally:
        zygote.close()

    if fmt == "terminal":
        if output:
            with open(output, "w", encoding="utf-8") as f:
                terminal.render(report, Console(file=f, width=120))
        else:
            terminal.render(report, Console())
    else:
        text = {"json": json_report.render, "github": github.render, "junit": junit.render, "gradescope": gradescope.render}[fmt](report)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
    return 0 if report.all_passed else 1
